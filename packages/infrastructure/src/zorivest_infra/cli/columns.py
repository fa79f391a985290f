"""The columns of each listing (trades, images, accounts), for :mod:`cli.render`.

CSV and JSON carry every field of the entity under its own name (values as
:func:`output.plain` makes them: decimals as plain-notation strings, times ISO 8601 UTC);
tables show the columns people read, in a compact form.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final, TypedDict, Unpack
from zoneinfo import ZoneInfo

from zorivest_core.domain.entities import Account, ImageAttachment, RoundTrip, Trade
from zorivest_infra.cli.output import plain, show_time
from zorivest_infra.cli.render import Cell, Column

_CENT: Final = Decimal("0.01")
GREEN: Final = "32"
RED: Final = "31"


def _field(name: str) -> Callable[[Any], object]:
    return lambda item: plain(getattr(item, name))


def _text(name: str) -> Callable[[Any], str]:
    def cell(item: Any) -> str:
        value = getattr(item, name)
        return "" if value is None else str(getattr(value, "value", value))

    return cell


class _Layout(TypedDict, total=False):
    numeric: bool
    shorten: bool
    min_width: int
    priority: int
    table: bool


def _column(
    key: str,
    header: str,
    cell: Callable[[Any], str | Cell] | None = None,
    **layout: Unpack[_Layout],
) -> Column:
    """The column of field `key`: its plain value for CSV/JSON, `cell` (else its text) in
    tables."""
    return Column(key, header, _field(key), cell or _text(key), **layout)


def _amount(key: str, header: str, *, priority: int = 0) -> Column:
    """A decimal field as :func:`grouped` shows it, right-aligned."""
    return _column(
        key, header, lambda item: grouped(getattr(item, key)), numeric=True, priority=priority
    )


def grouped(value: Decimal, *, places: int = 2) -> str:
    """Grouped thousands, at least ``places`` decimals, never a digit rounded away."""
    exponent = int(value.as_tuple().exponent)
    shown = value if exponent < -places else value.quantize(Decimal(1).scaleb(-places))
    return f"{shown:,f}"


def signed_cell(value: Decimal) -> Cell:
    """Money, green when positive and red when negative (in colour terminals)."""
    return Cell(grouped(value), GREEN if value > 0 else RED if value < 0 else "")


def remaining_fields(
    entity: type, shown: list[Column], exclude: tuple[str, ...] = ()
) -> list[Column]:
    """CSV/JSON-only columns for the entity's fields that ``shown`` does not cover.

    Keeps machine formats complete as entities gain fields.
    """
    keys = {column.key for column in shown} | set(exclude)
    return [
        _column(item.name, item.name, table=False)
        for item in dataclasses.fields(entity)
        if item.name not in keys
    ]


def account_column(*, shown: bool) -> Column:
    """The account id: shown when a listing spans accounts, dropped before the numbers."""
    return _column("account_id", "Account", shorten=True, min_width=7, priority=2, table=shown)


def symbol_column() -> Column:
    return _column("instrument", "Symbol", shorten=True, min_width=6)


def trade_columns(*, zone: ZoneInfo | None, wide: bool, with_account: bool) -> list[Column]:
    """Trades: time, account, exec id, instrument, side, quantity, price, commission, P&L."""

    def time_cell(trade: Trade) -> str:
        return show_time(trade.time, zone, seconds=wide)

    # A long zone name would widen the column: "Time (local)", the zone named in the footer.
    header = "Time (UTC)" if zone is None else "Time (local)"
    table = [
        _column("time", header, time_cell),
        account_column(shown=with_account),
        _column("exec_id", "Exec ID", shorten=True, min_width=11),
        symbol_column(),
        _column(
            "action",
            "Side",
            lambda trade: Cell(trade.action.value, "36" if trade.action.value == "BOT" else "35"),
        ),
        _column("quantity", "Quantity", lambda t: f"{t.quantity:,f}", numeric=True),
        _amount("price", "Price"),
        _amount("commission", "Commission", priority=1),
        _column(
            "realized_pnl", "Realized P&L", lambda t: signed_cell(t.realized_pnl), numeric=True
        ),
    ]
    return table + remaining_fields(Trade, table)


def image_columns() -> list[Column]:
    """Images: id, type, size, bytes, added, caption (never the image bytes)."""

    def added(item: ImageAttachment) -> str:
        return (
            ""
            if item.created_at is None
            else f"{item.created_at.astimezone(dt.UTC):%Y-%m-%d %H:%M}"
        )

    table = [
        _column("id", "ID", numeric=True),
        _column("mime_type", "Type", priority=2),
        _column(
            "width", "Size", lambda item: f"{item.width}x{item.height}", numeric=True, priority=3
        ),
        _column("height", "Height", table=False),
        _column(
            "file_size",
            "Bytes",
            lambda item: "" if item.file_size is None else f"{item.file_size:,}",
            numeric=True,
        ),
        _column("created_at", "Added (UTC)", added, priority=1),
        _column("caption", "Caption", shorten=True, min_width=10),
    ]
    return table + remaining_fields(ImageAttachment, table, exclude=("data", "thumbnail"))


def account_columns(trade_counts: Mapping[str, int]) -> list[Column]:
    """Accounts with their number of trades."""
    table = [
        _column("account_id", "ID", shorten=True, min_width=16),
        _column("name", "Name", shorten=True, min_width=16),
        _column("account_type", "Type"),
        _column("institution", "Institution", shorten=True, min_width=12, priority=1),
        _column("currency", "Currency", priority=2),
        _column(
            "is_tax_advantaged",
            "Tax-advantaged",
            lambda account: "yes" if account.is_tax_advantaged else "no",
            priority=3,
        ),
    ]
    columns = table + remaining_fields(Account, table)
    columns.append(
        Column(
            "trades",
            "Trades",
            lambda account: trade_counts.get(account.account_id, 0),
            lambda account: f"{trade_counts.get(account.account_id, 0):,}",
            numeric=True,
        )
    )
    return columns


__all__ = [
    "account_columns",
    "grouped",
    "image_columns",
    "remaining_fields",
    "signed_cell",
    "trade_columns",
]


def held(seconds: int | None) -> str:
    """A holding period as a person reads it: 45m 07s, 3h 05m, 4d 2h."""
    if seconds is None:
        return ""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {rest % 60:02d}s"


def roundtrip_columns(
    *, zone: ZoneInfo | None, wide: bool, with_account: bool, keys: tuple[str, ...]
) -> list[Column]:
    """Round trips: opened, account, symbol, side (* open), quantity, prices, P&L, held.

    ``keys`` are the fields CSV and JSON carry (the public `roundtrips --json` keys).
    """

    def opened_cell(trip: RoundTrip) -> str:
        shown = show_time(trip.opened_at, zone, seconds=wide)
        return shown if wide else shown[:10]

    def side_cell(trip: RoundTrip) -> Cell:
        side = "long" if trip.direction.value == "BOT" else "short"
        return Cell(
            side if trip.closed_at is not None else f"{side}*", "36" if side == "long" else "35"
        )

    def optional_price(trip: RoundTrip) -> str:
        return "" if trip.exit_avg_price is None else grouped(trip.exit_avg_price)

    table = [
        _column("opened_at", "Opened" if zone is not None else "Opened UTC", opened_cell),
        account_column(shown=with_account),
        symbol_column(),
        _column("direction", "Side", side_cell),
        _column("total_quantity", "Qty", lambda t: f"{t.total_quantity:,f}", numeric=True),
        _amount("entry_avg_price", "Entry"),
        _column("exit_avg_price", "Exit", optional_price, numeric=True),
        _column(
            "realized_pnl",
            "Net P&L",
            lambda t: signed_cell(t.realized_pnl or Decimal(0)),
            numeric=True,
        ),
        _amount("total_commission", "Commission", priority=1),
        _column(
            "holding_period_seconds",
            "Held",
            lambda t: held(t.holding_period_seconds),
            numeric=True,
            priority=3,
        ),
    ]
    shown = [column for column in table if column.key in keys]
    present = {column.key for column in shown}
    return shown + [_column(key, key, table=False) for key in keys if key not in present]
