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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from zorivest_core.application.importing import ImportContext, ParsedExecution, ParsedItem
from zorivest_core.domain import zones
from zorivest_core.domain.entities import Trade
from zorivest_core.domain.enums import AssetClass, OptionRight, TradeAction
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers import values
from zorivest_infra.importers.csv_base import Columns, CsvImporter
from zorivest_infra.importers.csv_reading import DELIMITERS, CsvRecord
from zorivest_infra.importers.ids import DerivedIds, RepeatedIds

FIELDS: Final = (
    "exec_id",
    "time",
    "instrument",
    "action",
    "quantity",
    "price",
    "account_id",
    "commission",
    "realized_pnl",
    "multiplier",
    "asset_class",
    "underlying",
    "expiry",
    "strike",
    "right",
    "currency",
    "fx_rate",
)
"""Every field a profile can map; the default header name of each is the field's name."""

ID_STRATEGIES: Final = ("column", "derived")
_DEFAULT_BUY: Final = ("BOT", "BUY", "B")
_DEFAULT_SELL: Final = ("SLD", "SELL", "S")
_RIGHTS: Final = {
    "C": OptionRight.CALL,
    "CALL": OptionRight.CALL,
    "P": OptionRight.PUT,
    "PUT": OptionRight.PUT,
}
PROFILE_KIND: Final = "trade-csv"


@dataclass(frozen=True, slots=True)
class MappingProfile:
    """How one broker's CSV maps onto executions; stored in the journal by name.

    columns: field -> header name, for fields whose header differs from the field name.
    date_format: strptime directives for `time` (None: ISO 8601).
    delimiter: None sniffs it from the header line (comma, semicolon, tab or pipe).
    decimal: the decimal separator, "." or ",".
    buy_words, sell_words: the action column's words (compared case-insensitively).
    zone: IANA zone of times without an offset (--tz overrides it).
    id_strategy: "column" (the file's exec id) or "derived" (deterministic, importers.ids).
    account_id: the journal account for rows that name none (--account overrides it).
    """

    name: str = "generic"
    columns: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    delimiter: str | None = None
    decimal: str = "."
    buy_words: tuple[str, ...] = _DEFAULT_BUY
    sell_words: tuple[str, ...] = _DEFAULT_SELL
    zone: str | None = None
    id_strategy: str = "column"
    account_id: str | None = None
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - set(FIELDS))
        if unknown:
            raise ValidationError(
                f"profile {self.name!r}: unknown field(s) {', '.join(unknown)}; fields are "
                f"{', '.join(FIELDS)}"
            )
        if self.decimal not in (".", ","):
            raise ValidationError(f"profile {self.name!r}: decimal must be '.' or ','")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ValidationError(f"profile {self.name!r}: the delimiter must be one character")
        if self.delimiter == self.decimal and self.delimiter is not None:
            raise ValidationError(
                f"profile {self.name!r}: the delimiter and the decimal separator are both "
                f"{self.delimiter!r}"
            )
        if self.id_strategy not in ID_STRATEGIES:
            raise ValidationError(
                f"profile {self.name!r}: id strategy must be one of {', '.join(ID_STRATEGIES)}"
            )
        overlap = {word.upper() for word in self.buy_words} & {
            word.upper() for word in self.sell_words
        }
        if overlap:
            raise ValidationError(
                f"profile {self.name!r}: {', '.join(sorted(overlap))} is both a buy and a sell word"
            )
        if self.zone is not None:
            zones.iana_zone(self.zone)
        try:
            "".encode(self.encoding)
        except LookupError:
            raise ValidationError(
                f"profile {self.name!r}: unknown encoding {self.encoding!r}"
            ) from None

    def header(self, field_name: str) -> str:
        """The header name that holds `field_name` in this broker's files.

        An empty name means the files have no such column (`action` "": the sign of the
        quantity gives the side).
        """
        if field_name == "right" and field_name not in self.columns:
            return "right|option_right"
        return self.columns.get(field_name, field_name)

    @property
    def has_action(self) -> bool:
        return self.header("action") != ""

    def to_config(self) -> dict[str, Any]:
        """The JSON document stored in `bank_import_configs.config`."""
        return {
            "kind": PROFILE_KIND,
            "version": 1,
            "columns": dict(self.columns),
            "date_format": self.date_format,
            "delimiter": self.delimiter,
            "decimal": self.decimal,
            "buy_words": list(self.buy_words),
            "sell_words": list(self.sell_words),
            "zone": self.zone,
            "id_strategy": self.id_strategy,
            "account_id": self.account_id,
            "encoding": self.encoding,
        }

    @classmethod
    def from_config(cls, name: str, config: Mapping[str, Any]) -> MappingProfile:
        """The profile in a stored document (ValidationError when it is not one)."""
        if config.get("kind") != PROFILE_KIND:
            raise ValidationError(f"{name!r} is not a trade CSV mapping profile")
        return cls(
            name=name,
            columns=dict(config.get("columns") or {}),
            date_format=config.get("date_format"),
            delimiter=config.get("delimiter"),
            decimal=config.get("decimal", "."),
            buy_words=tuple(config.get("buy_words") or _DEFAULT_BUY),
            sell_words=tuple(config.get("sell_words") or _DEFAULT_SELL),
            zone=config.get("zone"),
            id_strategy=config.get("id_strategy", "column"),
            account_id=config.get("account_id"),
            encoding=config.get("encoding", "utf-8"),
        )


@dataclass(slots=True)
class _FileState:
    derived: DerivedIds
    repeated: RepeatedIds
    zone: ZoneInfo | None


class GenericCsvImporter(CsvImporter[_FileState]):
    """The generic CSV importer, for the default format or one saved profile."""

    name = "generic"
    title = "generic CSV"
    description = "CSV with exec_id, time, instrument, action, quantity, price (or a profile)"

    def __init__(self, profile: MappingProfile | None = None) -> None:
        self.profile = profile or MappingProfile()
        needed = ["time", "instrument", "action", "quantity", "price"]
        if self.profile.id_strategy == "column":
            needed.insert(0, "exec_id")
        if not self.profile.has_action:
            needed.remove("action")
        self.required = tuple(self.profile.header(name) for name in needed)
        self.delimiters = (self.profile.delimiter,) if self.profile.delimiter else DELIMITERS
        self.encoding = self.profile.encoding
        if profile is not None:
            self.title = f"profile {profile.name!r}"

    def check_columns(self, columns: Columns, context: ImportContext) -> None:
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

        def cell(field_name: str) -> str:
            return columns.cell(record, profile.header(field_name))

        def amount(field_name: str) -> Decimal | None:
            return values.optional_number(cell(field_name), field_name, decimal=profile.decimal)

        account = self._account(cell("account_id"), context)
        quantity_text = cell("quantity")
        quantity = values.number(quantity_text, "quantity", decimal=profile.decimal)
        action = self._action(cell("action"), quantity, quantity_text)
        if profile.has_action:
            values.positive(quantity, quantity_text, "quantity")
        price_text = cell("price")
        price = values.number(price_text, "price", decimal=profile.decimal)
        if price < 0:
            raise ValidationError(f"price: must not be negative (got {price_text})")
        if profile.id_strategy == "column":
            exec_id = cell("exec_id")
            if not exec_id:
                raise ValidationError("exec_id: must not be empty")
        else:
            exec_id = state.derived.next_id(account, [cell(name) for name in FIELDS[1:]])
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
        )
        trade = self._details(trade, cell, amount)
        repeats = (
            state.repeated.earlier_line(exec_id, record.line)
            if profile.id_strategy == "column"
            else None
        )
        return ParsedExecution(line=record.line, trade=trade, repeats_line=repeats)

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
        trade: Trade,
        cell: Callable[[str], str],
        amount: Callable[[str], Decimal | None],
    ) -> Trade:
        asset_text = cell("asset_class").lower()
        asset_class = None
        if asset_text:
            if asset_text not in {member.value for member in AssetClass}:
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
        return replace(
            trade,
            asset_class=asset_class,
            multiplier=amount("multiplier"),
            underlying=cell("underlying") or None,
            expiry=expiry,
            strike=amount("strike"),
            option_right=right,
            currency=cell("currency").upper() or None,
            fx_rate=amount("fx_rate"),
        )
