"""`generic`: any CSV of executions, read through a mapping profile.

Without a profile this is the journal's own CSV format (what `zorivest import` has always
read): header names `exec_id, time, instrument, action, quantity, price, account_id`
(account_id optional with --account), optionally `commission`, `realized_pnl` and the
instrument details `multiplier, asset_class, underlying, expiry, strike, right` (or
`option_right`)`, currency, fx_rate`, case-insensitive, any order; other columns are
ignored. `time` is ISO 8601 with an offset, or without one when --tz names the zone (never
assumed UTC). Actions BOT/BUY/B and SLD/SELL/S.

A saved profile (`zorivest profile add`) changes any of that: which header name holds each
field, the date format of `time` (strptime directives), the delimiter, the decimal
separator, the words for buy and sell, the zone of times without an offset, the file's
encoding, the journal account, and the id strategy:

- `column`: the file's own exec id column, kept as written. An id repeated in the file is
  reported with the line it repeats (the later line wins, as brokers correct last).
- `derived`: the file has no unique id; a deterministic one is derived (importers.ids).

With no action column, the sign of the quantity gives the side (negative = sell).
Numbers are exact Decimals; commission as written (paid positive, rebates negative).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from zorivest_core.application.importing import ImportContext, ParsedExecution, ParsedItem
from zorivest_core.application.mapping_profile import FIELDS, MappingProfile
from zorivest_core.domain import zones
from zorivest_core.domain.entities import Trade
from zorivest_core.domain.enums import AssetClass, OptionRight, TradeAction
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers import values
from zorivest_infra.importers.csv_base import Columns, CsvImporter, column_key
from zorivest_infra.importers.csv_reading import DELIMITERS, CsvRecord
from zorivest_infra.importers.ids import DerivedIds, RepeatedIds

_ASSET_CLASSES: Final = frozenset(member.value for member in AssetClass)
_RIGHTS: Final = {
    "C": OptionRight.CALL,
    "CALL": OptionRight.CALL,
    "P": OptionRight.PUT,
    "PUT": OptionRight.PUT,
}


@dataclass(slots=True)
class _FileState:
    derived: DerivedIds
    repeated: RepeatedIds
    zone: ZoneInfo | None


class GenericCsvImporter(CsvImporter[_FileState]):
    """The generic CSV importer, for the default format or one saved profile."""

    name = "generic"
    title = "generic CSV"
    # Plain field names are less distinctive than a broker's own header.
    score = 50
    description = "Zorivest's own CSV, or any CSV through a saved --profile"

    def __init__(self, profile: MappingProfile | None = None) -> None:
        self.profile = profile or MappingProfile()
        needed = ["time", "instrument", "action", "quantity", "price"]
        if self.profile.id_strategy == "column":
            needed.insert(0, "exec_id")
        if not self.profile.has_action:
            needed.remove("action")
        self.required = tuple(self.profile.header(name) for name in needed)
        self._headers = {name: self.profile.header(name) for name in FIELDS}
        self.delimiters = (self.profile.delimiter,) if self.profile.delimiter else DELIMITERS
        self.encoding = self.profile.encoding
        if profile is not None:
            self.title = f"profile {profile.name!r}"

    def check_columns(self, columns: Columns, context: ImportContext) -> None:
        for name in FIELDS:
            header = self._headers[name]
            if any(column_key(part) in columns.repeated for part in header.split("|")):
                raise ValidationError(
                    f"{context.source_name}: line {columns.line}: column {header!r} appears "
                    "twice in the header"
                )
        given = context.account_id or self.profile.account_id
        if given is None and not columns.has(self.profile.header("account_id")):
            raise ValidationError(
                f"{context.source_name}: missing column "
                f"{self.profile.header('account_id')} (or give --account)"
            )

    def start(self, columns: Columns, context: ImportContext) -> _FileState:
        zone = context.zone
        if zone is None and self.profile.zone is not None:
            zone = zones.iana_zone(self.profile.zone)
        return _FileState(DerivedIds(self.name), RepeatedIds(), zone)

    def row(
        self, columns: Columns, record: CsvRecord, context: ImportContext, state: _FileState
    ) -> ParsedItem:
        profile = self.profile
        headers = self._headers

        def cell(field_name: str) -> str:
            return columns.cell(record, headers[field_name])

        def amount(field_name: str) -> Decimal | None:
            return values.optional_number(cell(field_name), field_name, decimal=profile.decimal)

        account = self._account(cell("account_id"), context)
        quantity_text = cell("quantity")
        quantity = values.number(quantity_text, "quantity", decimal=profile.decimal)
        action = self._action(cell("action"), quantity, quantity_text)
        if profile.has_action:
            values.positive(quantity, quantity_text, "quantity")
        price = values.price(cell("price"), "price", decimal=profile.decimal)
        if profile.id_strategy == "column":
            exec_id = cell("exec_id")
            if not exec_id:
                raise ValidationError("exec_id: must not be empty")
        else:
            exec_id = state.derived.next_id(account, [cell(name) for name in FIELDS[1:]])
        asset_class, right, expiry = self._details(cell)
        trade = Trade(
            exec_id=exec_id,
            time=self._time(cell("time"), state),
            instrument=cell("instrument"),
            action=action,
            quantity=abs(quantity),
            price=price,
            account_id=account,
            commission=amount("commission") or Decimal(0),
            realized_pnl=amount("realized_pnl") or Decimal(0),
            asset_class=asset_class,
            multiplier=amount("multiplier"),
            underlying=cell("underlying") or None,
            expiry=expiry,
            strike=amount("strike"),
            option_right=right,
            currency=cell("currency").upper() or None,
            fx_rate=amount("fx_rate"),
        )
        repeats = (
            state.repeated.earlier_line(exec_id, record.line)
            if profile.id_strategy == "column"
            else None
        )
        return ParsedExecution(line=record.line, trade=trade, repeats_line=repeats, may_repeat=True)

    def _account(self, written: str, context: ImportContext) -> str:
        given = context.account_id or self.profile.account_id
        if not written:
            if given is None:
                raise ValidationError("account_id: must not be empty (or give --account)")
            return given
        if given is not None and written != given:
            raise ValidationError(f"account_id: {written!r} differs from --account {given!r}")
        return written

    def _action(self, written: str, quantity: Decimal, quantity_text: str) -> TradeAction:
        if not self.profile.has_action:
            if quantity == 0:
                raise ValidationError(f"quantity: must not be 0 (got {quantity_text})")
            return TradeAction.BOT if quantity > 0 else TradeAction.SLD
        word = written.strip().upper()
        if word in (w.upper() for w in self.profile.buy_words):
            return TradeAction.BOT
        if word in (w.upper() for w in self.profile.sell_words):
            return TradeAction.SLD
        words = ", ".join((*self.profile.buy_words, *self.profile.sell_words))
        raise ValidationError(f"action: {written!r} is not one of {words}")

    def _time(self, written: str, state: _FileState) -> dt.datetime:
        form = self.profile.date_format
        if form is None:
            return zones.parse_time(written, state.zone)
        if "%z" in form:
            try:
                return dt.datetime.strptime(written.strip(), form).astimezone(dt.UTC)
            except ValueError:
                raise ValidationError(
                    f"time: {written.strip()!r} does not match the date format {form!r}"
                ) from None
        naive = values.wall_time(written, "time", form=form, shown=repr(form))
        if state.zone is None:
            raise ValidationError(
                f"time: {written.strip()!r} has no UTC offset; give the file's zone with --tz "
                "or in the profile (it is never assumed to be UTC)"
            )
        return values.in_zone(naive, state.zone, "time")

    @staticmethod
    def _details(
        cell: Callable[[str], str],
    ) -> tuple[AssetClass | None, OptionRight | None, dt.date | None]:
        asset_text = cell("asset_class").lower()
        asset_class = None
        if asset_text:
            if asset_text not in _ASSET_CLASSES:
                allowed = ", ".join(member.value for member in AssetClass)
                raise ValidationError(f"asset_class: {asset_text!r} is not one of {allowed}")
            asset_class = AssetClass(asset_text)
        right_text = cell("right").upper()
        right = None
        if right_text:
            right = _RIGHTS.get(right_text)
            if right is None:
                raise ValidationError(f"right: {right_text!r} is not C, P, CALL or PUT")
        expiry_text = cell("expiry")
        expiry = (
            values.date(expiry_text, "expiry", form="%Y-%m-%d", shown="YYYY-MM-DD")
            if expiry_text
            else None
        )
        return asset_class, right, expiry
