"""Reading Zorivest's own executions CSV, row by row (constant memory, whatever its size).

The `generic` importer (`zorivest_infra.importers.generic`) hands these rows to the
`import_statement` use case, which stores them.

Columns (header names, case-insensitive, in any order): ``exec_id, time, instrument, action,
quantity, price`` are required; ``account_id`` is required unless ``--account`` is given;
``commission`` and ``realized_pnl`` are optional (0 when missing or blank). Other columns are
ignored. ``time`` is ISO 8601 with a UTC offset
(``2024-03-08T09:30:00-05:00`` or ``...Z``); a time without an offset is accepted only when a
time zone is given (``--tz Europe/London``), and is never silently taken as UTC.

A row that cannot become a valid trade is rejected with its line number and the reason, and
the other rows are imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import Trade
from zorivest_core.domain.enums import TradeAction
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.cli.errors import CliError, ExitCode
from zorivest_infra.importers.times import localize

REQUIRED_COLUMNS: Final = ("exec_id", "time", "instrument", "action", "quantity", "price")
OPTIONAL_COLUMNS: Final = ("account_id", "commission", "realized_pnl")
KNOWN_COLUMNS: Final = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

_ACTION_ALIASES: Final = {"BOT": "BOT", "BUY": "BOT", "B": "BOT", "SLD": "SLD", "SELL": "SLD"}
_ZERO: Final = Decimal(0)


class CsvFileError(ValidationError):
    """The file as a whole cannot be imported (not CSV, no usable header, not UTF-8)."""


def zone_from_name(name: str | None) -> ZoneInfo | None:
    """The IANA time zone ``name`` (e.g. ``Europe/London``), or None when not given."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CliError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/London or "
            "America/New_York",
            ExitCode.USAGE,
        ) from None


def parse_time(value: str, zone: ZoneInfo | None, *, field_name: str = "time") -> dt.datetime:
    """An ISO 8601 date-time; a naive one is placed in ``zone`` and must exist there once.

    Raises:
        ValidationError: Not ISO 8601, no time of day, naive without a zone, or a local time
            that does not exist (spring-forward gap) or is ambiguous (fall-back hour).
    """
    text = value.strip()
    if not text:
        raise ValidationError(f"{field_name}: must not be empty", field=field_name)
    if not any(separator in text for separator in ("T", "t", " ")):
        raise ValidationError(
            f"{field_name}: must be a date and a time of day (got {text!r})", field=field_name
        )
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{field_name}: is not an ISO 8601 date-time (got {text!r})", field=field_name
        ) from None
    if parsed.tzinfo is not None and parsed.utcoffset() is not None:
        return _to_utc(parsed, text, field_name)
    if zone is None:
        raise ValidationError(
            f"{field_name}: {text!r} has no UTC offset; add one (such as -05:00 or Z) or give "
            "the file's time zone with --tz (it is never assumed to be UTC)",
            field=field_name,
        )
    return localize(parsed, zone, field_name=field_name)


def _to_utc(moment: dt.datetime, shown: str, field_name: str) -> dt.datetime:
    """``moment`` in UTC; a ValidationError (not OverflowError) near year 1 or 9999."""
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationError(
            f"{field_name}: {shown!r} is out of range once converted to UTC (before year 1 "
            "or after year 9999)",
            field=field_name,
        ) from None


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row that was not imported."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class _Header:
    positions: dict[str, int]
    width: int


def _read_header(rows: Iterator[list[str]], source: str) -> tuple[_Header, list[str]]:
    for row in rows:
        if not row or all(not cell.strip() for cell in row):
            continue
        names = [cell.strip().lower().lstrip("\ufeff") for cell in row]
        positions: dict[str, int] = {}
        for index, name in enumerate(names):
            if name in positions and name in KNOWN_COLUMNS:
                raise CsvFileError(f"{source}: column {name!r} appears twice in the header")
            positions.setdefault(name, index)
        ignored = [name for name in names if name and name not in KNOWN_COLUMNS]
        return _Header(positions, len(names)), ignored
    raise CsvFileError(f"{source}: the file is empty (expected a header line)")


def _check_columns(header: _Header, source: str, *, account: str | None) -> None:
    required = list(REQUIRED_COLUMNS)
    if account is None:
        required.append("account_id")
    missing = [name for name in required if name not in header.positions]
    if missing:
        hint = " (or give --account)" if missing == ["account_id"] else ""
        raise CsvFileError(
            f"{source}: missing column(s) {', '.join(missing)}{hint}; the header must name "
            f"{', '.join(REQUIRED_COLUMNS)}, account_id and optionally commission, realized_pnl"
        )


class _RowParser:
    """Turns one CSV row into a Trade, or raises ValidationError saying why it cannot."""

    def __init__(
        self,
        header: _Header,
        *,
        account: str | None,
        zone: ZoneInfo | None,
        known_accounts: set[str] | None,
    ) -> None:
        self._width = header.width
        positions = header.positions
        # Column indexes resolved once; -1 for an optional column the file does not have.
        self._columns = tuple(positions.get(name, -1) for name in KNOWN_COLUMNS)
        self._account = account
        self._zone = zone
        self._known_accounts = known_accounts

    def trade(self, row: list[str]) -> Trade:
        if len(row) != self._width:
            hint = " (an unquoted comma in a value?)" if len(row) > self._width else ""
            raise ValidationError(
                f"expected {self._width} fields as in the header, got {len(row)}{hint}"
            )
        exec_id, time, instrument, action, quantity, price, account_id, commission, pnl = (
            row[index].strip() if index >= 0 else "" for index in self._columns
        )
        return Trade(
            exec_id=exec_id,
            time=parse_time(time, self._zone),
            instrument=instrument,
            action=v.choice("action", _ACTION_ALIASES.get(action.upper(), action), TradeAction),
            quantity=_number("quantity", quantity, required=True),
            price=_number("price", price, required=True),
            account_id=self._account_for(account_id),
            commission=_number("commission", commission, required=False),
            realized_pnl=_number("realized_pnl", pnl, required=False),
        )

    def _account_for(self, value: str | None) -> str:
        if not value:
            if self._account is None:
                raise ValidationError("account_id: must not be empty (or give --account)")
            account_id = self._account
        elif self._account is not None and value != self._account:
            raise ValidationError(f"account_id: {value!r} differs from --account {self._account!r}")
        else:
            account_id = value
        if self._known_accounts is not None and account_id not in self._known_accounts:
            raise ValidationError(
                f"account_id: unknown account {account_id!r} (add it first with "
                "zorivest account add)"
            )
        return account_id


def _number(name: str, value: str, *, required: bool) -> Decimal:
    if not value:
        if required:
            raise ValidationError(f"{name}: must not be empty", field=name)
        return _ZERO
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValidationError(
            f"{name}: is not a number (got {v.show(value)})", field=name, value=value
        ) from None
    if not number.is_finite():
        raise ValidationError(f"{name}: must be finite (got {v.show(value)})", field=name)
    return number


def read_trades(
    stream: io.TextIOBase,
    *,
    source: str,
    account: str | None = None,
    zone: ZoneInfo | None = None,
    known_accounts: set[str] | None = None,
    lines: list[int] | None = None,
) -> Iterator[Trade | Rejected]:
    """Yield a Trade for each valid row and a Rejected (line and reason) for each bad one.

    When `lines` is given, the file line of each Trade is appended to it before the Trade
    is yielded (so the consumer reads `lines[-1]`).

    Raises:
        CsvFileError: The file has no usable header, is not UTF-8 or not CSV.
    """
    reader = csv.reader(stream)
    rows = iter(reader)
    try:
        header, _ignored = _read_header(rows, source)
        _check_columns(header, source, account=account)
        parser = _RowParser(header, account=account, zone=zone, known_accounts=known_accounts)
        previous_line = reader.line_num
        for row in rows:
            line = previous_line + 1
            previous_line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            try:
                trade = parser.trade(row)
            except ValidationError as error:
                yield Rejected(line, str(error))
            else:
                if lines is not None:
                    lines.append(line)
                yield trade
    except UnicodeDecodeError as error:
        raise CsvFileError(
            f"{source}: is not UTF-8 text (undecodable byte near line {reader.line_num + 1}); "
            "save it as UTF-8 CSV"
        ) from error
    except csv.Error as error:
        raise CsvFileError(f"{source}: line {reader.line_num}: not valid CSV ({error})") from error
