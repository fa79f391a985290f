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
from typing import Any, Final
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
        Column(
            key=item.name,
            header=item.name,
            value=_field(item.name),
            cell=_text(item.name),
            table=False,
        )
        for item in dataclasses.fields(entity)
        if item.name not in keys
    ]


def account_column(*, shown: bool) -> Column:
    """The account id: shown when a listing spans accounts, dropped before the numbers."""
    return Column(
        "account_id",
        "Account",
        _field("account_id"),
        _text("account_id"),
        shorten=True,
        min_width=7,
        priority=2,
        table=shown,
    )


def symbol_column() -> Column:
    return Column(
        "instrument", "Symbol", _field("instrument"), _text("instrument"), shorten=True, min_width=6
    )


def trade_columns(*, zone: ZoneInfo | None, wide: bool, with_account: bool) -> list[Column]:
    """Trades: time, account, exec id, instrument, side, quantity, price, commission, P&L."""

    def time_cell(trade: Trade) -> str:
        return show_time(trade.time, zone, seconds=wide)

    # A long zone name would widen the column: "Time (local)", the zone named in the footer.
    header = "Time (UTC)" if zone is None else "Time (local)"
    table = [
        Column("time", header, _field("time"), time_cell),
        account_column(shown=with_account),
        Column(
            "exec_id", "Exec ID", _field("exec_id"), _text("exec_id"), shorten=True, min_width=11
        ),
        symbol_column(),
        Column(
            "action",
            "Side",
            _field("action"),
            lambda trade: Cell(trade.action.value, "36" if trade.action.value == "BOT" else "35"),
        ),
        Column(
            "quantity", "Quantity", _field("quantity"), lambda t: f"{t.quantity:,f}", numeric=True
        ),
        Column("price", "Price", _field("price"), lambda t: grouped(t.price), numeric=True),
        Column(
            "commission",
            "Commission",
            _field("commission"),
            lambda t: grouped(t.commission),
            numeric=True,
            priority=1,
        ),
        Column(
            "realized_pnl",
            "Realized P&L",
            _field("realized_pnl"),
            lambda t: signed_cell(t.realized_pnl),
            numeric=True,
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
        Column("id", "ID", _field("id"), _text("id"), numeric=True),
        Column("mime_type", "Type", _field("mime_type"), _text("mime_type"), priority=2),
        Column(
            "width",
            "Size",
            _field("width"),
            lambda item: f"{item.width}x{item.height}",
            numeric=True,
            priority=3,
        ),
        Column("height", "Height", _field("height"), _text("height"), table=False),
        Column(
            "file_size",
            "Bytes",
            _field("file_size"),
            lambda item: "" if item.file_size is None else f"{item.file_size:,}",
            numeric=True,
        ),
        Column("created_at", "Added (UTC)", _field("created_at"), added, priority=1),
        Column(
            "caption", "Caption", _field("caption"), _text("caption"), shorten=True, min_width=10
        ),
    ]
    return table + remaining_fields(ImageAttachment, table, exclude=("data", "thumbnail"))


def account_columns(trade_counts: Mapping[str, int]) -> list[Column]:
    """Accounts with their number of trades."""
    table = [
        Column(
            "account_id",
            "ID",
            _field("account_id"),
            _text("account_id"),
            shorten=True,
            min_width=16,
        ),
        Column("name", "Name", _field("name"), _text("name"), shorten=True, min_width=16),
        Column("account_type", "Type", _field("account_type"), _text("account_type")),
        Column(
            "institution",
            "Institution",
            _field("institution"),
            _text("institution"),
            shorten=True,
            min_width=12,
            priority=1,
        ),
        Column("currency", "Currency", _field("currency"), _text("currency"), priority=2),
        Column(
            "is_tax_advantaged",
            "Tax-advantaged",
            _field("is_tax_advantaged"),
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
        Column(
            "opened_at",
            "Opened" if zone is not None else "Opened UTC",
            _field("opened_at"),
            opened_cell,
        ),
        account_column(shown=with_account),
        symbol_column(),
        Column("direction", "Side", _field("direction"), side_cell),
        Column(
            "total_quantity",
            "Qty",
            _field("total_quantity"),
            lambda t: f"{t.total_quantity:,f}",
            numeric=True,
        ),
        Column(
            "entry_avg_price",
            "Entry",
            _field("entry_avg_price"),
            lambda t: grouped(t.entry_avg_price),
            numeric=True,
        ),
        Column("exit_avg_price", "Exit", _field("exit_avg_price"), optional_price, numeric=True),
        Column(
            "realized_pnl",
            "Net P&L",
            _field("realized_pnl"),
            lambda t: signed_cell(t.realized_pnl or Decimal(0)),
            numeric=True,
        ),
        Column(
            "total_commission",
            "Commission",
            _field("total_commission"),
            lambda t: grouped(t.total_commission),
            numeric=True,
            priority=1,
        ),
        Column(
            "holding_period_seconds",
            "Held",
            _field("holding_period_seconds"),
            lambda t: held(t.holding_period_seconds),
            numeric=True,
            priority=3,
        ),
    ]
    shown = [column for column in table if column.key in keys]
    present = {column.key for column in shown}
    return shown + [
        Column(key, key, _field(key), _text(key), table=False) for key in keys if key not in present
    ]
