"""Streaming import of broker executions from a CSV file.

The file is read row by row (constant memory, whatever its size) and saved in chunks through
``uow.trades.save_many`` inside ONE unit of work that is committed only at the end: an import
that is interrupted or fails on a bad file leaves the journal exactly as it was. Re-importing
the same file inserts nothing (every row is reported as a duplicate).

Columns (header names, case-insensitive, in any order): ``exec_id, time, instrument, action,
quantity, price`` are required; ``account_id`` is required unless ``--account`` is given;
``commission`` and ``realized_pnl`` are optional (0 when missing or blank). Other columns are
ignored and named in a warning. ``time`` is ISO 8601 with a UTC offset
(``2024-03-08T09:30:00-05:00`` or ``...Z``); a time without an offset is accepted only when a
time zone is given (``--tz Europe/London``), and is never silently taken as UTC.

A row that cannot become a valid trade is rejected with its line number and the reason, and
the other rows are imported.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final
from zoneinfo import ZoneInfo

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import Trade
from zorivest_core.domain.enums import TradeAction
from zorivest_core.domain.errors import ValidationError
from zorivest_core.domain.zones import iana_zone, parse_time
from zorivest_infra.cli.errors import CliError, ExitCode

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

    from zorivest_core.application.ports import UnitOfWork

REQUIRED_COLUMNS: Final = ("exec_id", "time", "instrument", "action", "quantity", "price")
OPTIONAL_COLUMNS: Final = ("account_id", "commission", "realized_pnl")
KNOWN_COLUMNS: Final = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

CHUNK_SIZE: Final = 5_000
MAX_LISTED: Final = 50
"""Rejected rows and conflicting exec_ids kept for the summary; the rest are only counted."""

_ACTION_ALIASES: Final = {"BOT": "BOT", "BUY": "BOT", "B": "BOT", "SLD": "SLD", "SELL": "SLD"}
_PROGRESS_EVERY: Final = 1_000
_ZERO: Final = Decimal(0)


class CsvFileError(ValidationError):
    """The file as a whole cannot be imported (not CSV, no usable header, not UTF-8)."""


def zone_from_name(name: str | None) -> ZoneInfo | None:
    """The IANA time zone ``name`` (e.g. ``Europe/London``), or None when not given.

    Abbreviations such as ``EST`` or ``CET`` are refused, naming the IANA zones they may
    mean: they are fixed offsets that would shift every summer trade by an hour.
    """
    if name is None:
        return None
    try:
        return iana_zone(name)
    except ValidationError as error:
        raise CliError(str(error), ExitCode.USAGE) from None


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row that was not imported."""

    line: int
    reason: str


@dataclass(slots=True)
class ImportSummary:
    """What an import did. Lists are capped at :data:`MAX_LISTED`; counts are exact."""

    rows: int = 0
    inserted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    rejected_rows: list[Rejected] = field(default_factory=list)
    conflict_ids: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejected_rows) < MAX_LISTED:
            self.rejected_rows.append(Rejected(line, reason))

    def conflict(self, exec_ids: list[str]) -> None:
        self.conflicts += len(exec_ids)
        room = MAX_LISTED - len(self.conflict_ids)
        if room > 0:
            self.conflict_ids.extend(exec_ids[:room])


class _CountingReader(io.RawIOBase):
    """A raw binary stream that counts the bytes read through it (for the progress bar)."""

    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self._inner = inner
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._inner.read(len(view))
        size = len(data)
        view[:size] = data
        self.consumed += size
        return size


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
    summary: ImportSummary | None = None,
) -> Iterator[Trade | Rejected]:
    """Yield a Trade for each valid row and a Rejected (line and reason) for each bad one.

    Raises:
        CsvFileError: The file has no usable header, is not UTF-8 or not CSV.
    """
    reader = csv.reader(stream)
    rows = iter(reader)
    try:
        header, ignored = _read_header(rows, source)
        _check_columns(header, source, account=account)
        if summary is not None:
            summary.ignored_columns = ignored
        parser = _RowParser(header, account=account, zone=zone, known_accounts=known_accounts)
        previous_line = reader.line_num
        for row in rows:
            line = previous_line + 1
            previous_line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            try:
                yield parser.trade(row)
            except ValidationError as error:
                yield Rejected(line, str(error))
    except UnicodeDecodeError as error:
        raise CsvFileError(
            f"{source}: is not UTF-8 text (undecodable byte near line {reader.line_num + 1}); "
            "save it as UTF-8 CSV"
        ) from error
    except csv.Error as error:
        raise CsvFileError(f"{source}: line {reader.line_num}: not valid CSV ({error})") from error


ProgressCallback = Callable[[int], None]


def import_csv(
    uow: UnitOfWork,
    path: Path,
    *,
    account: str | None = None,
    zone: ZoneInfo | None = None,
    chunk_size: int = CHUNK_SIZE,
    on_progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Read ``path`` and save its trades through ``uow`` (which the caller commits).

    Rows are saved in chunks of ``chunk_size`` with ``save_many``; a trade repeated inside the
    file counts as a duplicate (same content) or a conflict (different content), exactly as
    a trade already in the journal does. Rows naming an unknown account are rejected here,
    so that ``save_many`` never refuses a whole chunk.
    """
    if not path.exists():
        raise CliError(f"CSV file {path} does not exist", ExitCode.NOT_FOUND)
    if path.is_dir():
        raise CliError(f"{path} is a directory, not a CSV file", ExitCode.INVALID_INPUT)
    known_accounts = {item.account_id for item in uow.accounts.list_all()}
    if account is not None and account not in known_accounts:
        raise CliError(
            f"unknown account {account!r} (add it first with zorivest account add)",
            ExitCode.NOT_FOUND,
        )
    summary = ImportSummary()
    with path.open("rb") as raw_file:
        counter = _CountingReader(raw_file)
        text = io.TextIOWrapper(
            io.BufferedReader(counter), encoding="utf-8-sig", newline="", errors="strict"
        )
        chunk: list[Trade] = []
        for item in read_trades(
            text,
            source=os.fspath(path),
            account=account,
            zone=zone,
            known_accounts=known_accounts,
            summary=summary,
        ):
            summary.rows += 1
            if isinstance(item, Rejected):
                summary.reject(item.line, item.reason)
            else:
                chunk.append(item)
                if len(chunk) >= chunk_size:
                    _flush(uow, chunk, summary)
            if on_progress is not None and summary.rows % _PROGRESS_EVERY == 0:
                on_progress(counter.consumed)
        _flush(uow, chunk, summary)
        if on_progress is not None:
            on_progress(counter.consumed)
    return summary


def _flush(uow: UnitOfWork, chunk: list[Trade], summary: ImportSummary) -> None:
    if not chunk:
        return
    # save_many classifies an exec_id repeated in the file against its first occurrence,
    # exactly as against a trade already stored.
    result = uow.trades.save_many(chunk)
    summary.inserted += len(result.inserted)
    summary.duplicates += len(result.duplicates)
    summary.conflict(list(result.conflicts))
    chunk.clear()
