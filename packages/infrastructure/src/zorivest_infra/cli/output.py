"""Rendering for people (Rich tables) and for programs (JSON)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum
from typing import Any, Final
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from zorivest_core.domain.entities import Trade
from zorivest_core.domain.validation import decimal_text

# Without a terminal, Rich would wrap tables at 80 columns; piped output stays one row a line.
_PIPE_WIDTH: Final = 200
_CENT: Final = Decimal("0.01")


def stdout_console() -> Console:
    """A console on the current stdout (created per call: tests replace sys.stdout)."""
    console = Console(file=sys.stdout, highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = _PIPE_WIDTH
    return console


def stderr_console() -> Console:
    return Console(file=sys.stderr, highlight=False)


def plain(value: object) -> object:
    """A JSON-ready value: Decimals as plain-notation strings, times ISO 8601, enums as text."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    if isinstance(value, dt.date):  # times, and dates (an option's expiry)
        return value.isoformat()
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return None if isinstance(value, bytes) else value


def entity_to_json(entity: object, *, exclude: Iterable[str] = ()) -> dict[str, object]:
    """An entity's fields keyed by name, with :func:`plain` values."""
    skipped = set(exclude)
    if not dataclasses.is_dataclass(entity) or isinstance(entity, type):
        raise TypeError("entity_to_json needs a dataclass instance")
    return {
        item.name: plain(getattr(entity, item.name))
        for item in dataclasses.fields(entity)
        if item.name not in skipped
    }


def write_json_array(objects: Iterable[dict[str, Any]]) -> int:
    """Stream a JSON array to stdout, one object a line; returns how many were written."""
    out = sys.stdout
    count = 0
    out.write("[")
    for item in objects:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(item, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    out.flush()
    return count


def money(value: Decimal, *, coloured: bool = True) -> Text:
    """At least two decimals, grouped thousands, and never a digit rounded away."""
    shown = value if int(value.as_tuple().exponent) < -2 else value.quantize(_CENT)
    style = ("green" if value > 0 else "red" if value < 0 else "") if coloured else ""
    return Text(f"{shown:,f}", style=style)


def number(value: Decimal) -> str:
    """Plain notation, all significant digits (quantities and prices are exact)."""
    return format(value, "f")


def price(value: Decimal) -> str:
    """At least two decimals (189.10, not 189.1), and never a digit rounded away."""
    shown = value if int(value.as_tuple().exponent) < -2 else value.quantize(_CENT)
    return format(shown, "f")


def show_time(value: dt.datetime, zone: ZoneInfo | None, *, seconds: bool = True) -> str:
    """The time in ``zone`` (UTC by default); the column header names the zone."""
    shown = value.astimezone(zone) if zone is not None else value.astimezone(dt.UTC)
    return shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def trades_table(
    trades: Iterable[Trade],
    *,
    zone: ZoneInfo | None,
    title: str | None,
    compact: bool = False,
) -> Table:
    """A table of trades; ``compact`` leaves out exec_id and commission (fits 80 columns)."""
    table = Table(title=Text(title) if title is not None else None, title_justify="left")
    table.add_column(f"Time ({zone.key})" if zone is not None else "Time (UTC)", no_wrap=True)
    table.add_column("Account", no_wrap=True)
    if not compact:
        table.add_column("Exec ID", overflow="fold")
    table.add_column("Instrument", no_wrap=True)
    table.add_column("Action")
    table.add_column("Quantity", justify="right")
    table.add_column("Price", justify="right")
    if not compact:
        table.add_column("Commission", justify="right")
    table.add_column("Realized P&L", justify="right")
    for trade in trades:
        cells: list[str | Text] = [show_time(trade.time, zone, seconds=not compact)]
        cells.append(Text(trade.account_id))
        if not compact:
            cells.append(Text(trade.exec_id))
        cells.append(Text(trade.instrument))
        cells.append(
            Text(trade.action.value, style="cyan" if trade.action.value == "BOT" else "magenta")
        )
        cells += [number(trade.quantity), price(trade.price)]
        if not compact:
            cells.append(money(trade.commission, coloured=False))
        cells.append(money(trade.realized_pnl))
        table.add_row(*cells)
    return table
