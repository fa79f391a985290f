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
from rich.text import Text

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


def show_time(value: dt.datetime, zone: ZoneInfo | None, *, seconds: bool = True) -> str:
    """The time in ``zone`` (UTC by default); the column header names the zone."""
    shown = value.astimezone(zone) if zone is not None else value.astimezone(dt.UTC)
    return shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
