"""Import a statement: whatever its format, its items become stored rows, in one transaction.

The use case consumes what an importer (`zorivest_core.application.importing.Importer`)
yields and never knows which format it was. It

- maps each item to a journal account: the file's own account id when a journal account
  has it, else the account the user named (`--account`), never a guess; an account the
  journal does not have is looked up once and its rows are rejected, counted per account;
- saves executions in chunks with `trades.save_many` (idempotent: re-importing inserts
  nothing), their extra fees into the transaction ledger, identifiers (CUSIP, ISIN, conid)
  into the identifier cache with the format's name as source, and bank lines with
  `bank_transactions.import_batch` (idempotent by their dedup hash);
- reports each conflict (an exec_id stored with different content) with the file line and
  every differing field, stored -> file; with `replace=True` the file's version replaces
  the stored one and each change is reported old -> new;
- refuses an exec_id that is stored (or earlier in the file) under ANOTHER account: that is
  two brokers' ids colliding, an error naming both rows, never a silent conflict;
- recomputes the round trips of the (account, instrument) pairs it added to or replaced in,
  from the earliest time it touched (`round_trips.refresh_round_trips`), in the same unit
  of work: a re-import that inserts nothing recomputes nothing.

Nothing is committed here: the caller commits the unit of work when it accepts the
summary. An importer error for the file as a whole (`ValidationError`), an id collision,
or any other exception propagates, and the unit of work rolls everything back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Final

from zorivest_core.application.importing import (
    UNASSIGNED_ACCOUNT,
    Identifier,
    ParsedBankTransaction,
    ParsedExecution,
    ParsedItem,
    RowRejection,
)
from zorivest_core.application.ports import UnitOfWork
from zorivest_core.application.use_cases.round_trips import (
    Pair,
    earliest_changes,
    merge_changes,
    refresh_round_trips,
)
from zorivest_core.domain.entities import BankTransaction, IdentifierMapping, LedgerEntry, Trade
from zorivest_core.domain.errors import ConflictError, NotFoundError, ValidationError

__all__ = [
    "CHUNK_SIZE",
    "MAX_LISTED",
    "AccountCollisionError",
    "ConflictReport",
    "FieldChange",
    "ImportSummary",
    "StrictImportError",
    "import_statement",
]

CHUNK_SIZE: Final = 5_000
"""Executions per `save_many` call (and bank lines per `import_batch`)."""

MAX_LISTED: Final = 50
"""Rejected rows and conflict reports kept for the summary; the rest are only counted."""

PROGRESS_EVERY: Final = 1_000

_TRADE_FIELDS: Final = tuple(f.name for f in dataclasses.fields(Trade))
# Compared and reported in this order; exec_id is the key, never a difference.
_COMPARED_FIELDS: Final = tuple(name for name in _TRADE_FIELDS if name != "exec_id")


class AccountCollisionError(ConflictError):
    """One exec_id in two accounts: two brokers' ids collide. Nothing is imported."""


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field that differs between the stored trade and the file's, as text."""

    field: str
    stored: str
    file: str


@dataclass(frozen=True, slots=True)
class ConflictReport:
    """An exec_id stored with different content: where in the file, and what differs."""

    line: int
    exec_id: str
    changes: tuple[FieldChange, ...]
    repeats_line: int | None = None
    """For a repeat within the file: the earlier line (changes then read earlier -> later)."""


@dataclass(slots=True)
class ImportSummary:
    """What an import did. Lists are capped at `MAX_LISTED`; counts are exact.

    `conflicts` counts rows left as stored; `replaced` rows whose stored version the file
    replaced (only with `replace=True`); `repeated` rows whose exec_id the same file gives
    again on a later line, where the later line wins (brokers correct last).
    `unknown_accounts` maps each account id the file names but the journal lacks to how
    many rows were rejected for it.
    """

    format_name: str
    items: int = 0
    inserted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    replaced: int = 0
    repeated: int = 0
    rejected: int = 0
    bank_inserted: int = 0
    bank_duplicates: int = 0
    fees: int = 0
    identifiers: int = 0
    rejected_rows: list[RowRejection] = field(default_factory=list)
    conflict_reports: list[ConflictReport] = field(default_factory=list)
    replaced_reports: list[ConflictReport] = field(default_factory=list)
    repeat_reports: list[ConflictReport] = field(default_factory=list)
    unknown_accounts: dict[str, int] = field(default_factory=dict)
    round_trips: int = 0
    """Round trips stored for the pairs the import touched (recomputed from its changes)."""

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejected_rows) < MAX_LISTED:
            self.rejected_rows.append(RowRejection(line, reason))


class StrictImportError(ValidationError):
    """A strict import found rejected rows or conflicts: nothing may be committed.

    Attributes:
        summary: What the import would have done (the rows and conflicts to show).
    """

    def __init__(self, summary: ImportSummary) -> None:
        super().__init__(
            f"strict import: rejected rows {summary.rejected:,}, conflicts "
            f"{summary.conflicts:,}; nothing was imported"
        )
        self.summary = summary


def import_statement(
    uow: UnitOfWork,
    items: Iterable[ParsedItem],
    *,
    format_name: str,
    account_id: str | None = None,
    replace: bool = False,
    chunk_size: int = CHUNK_SIZE,
    on_progress: Callable[[int], None] | None = None,
    strict: bool = False,
) -> ImportSummary:
    """Store a statement's items through `uow` (which the caller commits) and summarise.

    Args:
        uow: An open unit of work.
        items: What the importer's `parse` yields, in file order.
        format_name: The importer's name (the identifier cache's `source`).
        account_id: The journal account for items whose file names none, or names one
            the journal does not have (`--account`).
        replace: Replace conflicting stored trades with the file's version.
        chunk_size: Executions per bulk save.
        on_progress: Called with the number of items read so far, every 1,000 items.
        strict: Refuse the whole import when any row is rejected or conflicts.

    Raises:
        StrictImportError: `strict` and a row was rejected or conflicts (the caller
            must not commit; the unit of work rolls back when the block ends).
        NotFoundError: `account_id` is not a journal account.
        AccountCollisionError: An exec_id is stored, or earlier in the file, under another
            account (the message names both rows).
        ValidationError: The importer found the file malformed as a whole.
    """
    known = {account.account_id for account in uow.accounts.list_all()}
    if account_id is not None and account_id not in known:
        raise NotFoundError(
            f"unknown account {account_id!r} (add it first with zorivest account add)"
        )
    run = _Import(uow, format_name, _AccountMap(known, account_id), replace, chunk_size)
    summary = run.summary
    for item in items:
        summary.items += 1
        if isinstance(item, ParsedExecution):
            run.add_execution(item)
        elif isinstance(item, ParsedBankTransaction):
            run.add_bank_line(item)
        else:
            summary.reject(item.line, item.reason)
        if on_progress is not None and summary.items % PROGRESS_EVERY == 0:
            on_progress(summary.items)
    run.finish()
    if on_progress is not None:
        on_progress(summary.items)
    if strict and (summary.rejected or summary.conflicts):
        raise StrictImportError(summary)
    return summary


class _AccountMap:
    """The journal account of each account id a file names, decided once per id."""

    def __init__(self, known: set[str], fallback: str | None) -> None:
        self._known = known
        self._fallback = fallback
        self._decided: dict[str | None, str | None] = {}

    def resolve(self, file_account: str | None) -> str | None:
        try:
            return self._decided[file_account]
        except KeyError:
            pass
        if file_account is not None and file_account in self._known:
            target: str | None = file_account
        else:
            target = self._fallback
        self._decided[file_account] = target
        return target


class _Import:
    """The state of one import: pending chunks, seen identifiers, the summary."""

    def __init__(
        self,
        uow: UnitOfWork,
        format_name: str,
        accounts: _AccountMap,
        replace: bool,
        chunk_size: int,
    ) -> None:
        self._uow = uow
        self._format = format_name
        self._accounts = accounts
        self._replace = replace
        self._chunk_size = chunk_size
        self._executions: list[ParsedExecution] = []
        self._bank_lines: list[BankTransaction] = []
        self._identifiers: dict[tuple[str, str], Identifier] = {}
        self._touched: dict[Pair, dt.datetime | None] = {}
        # Repeatable exec ids: where each sits in the pending chunk, and which ones this
        # import stored (only for ids an importer marks `may_repeat`).
        self._pending_at: dict[str, int] = {}
        self._stored_here: set[str] = set()
        self.summary = ImportSummary(format_name=format_name)

    # -- items ---------------------------------------------------------------------------

    def _account_for(self, line: int, file_account: str | None) -> str | None:
        target = self._accounts.resolve(file_account)
        if target is not None:
            return target
        summary = self.summary
        if file_account is None:
            summary.reject(line, "the file names no account for this row: give --account ID")
            return None
        count = summary.unknown_accounts.get(file_account, 0)
        summary.unknown_accounts[file_account] = count + 1
        summary.rejected += 1
        if count == 0 and len(summary.rejected_rows) < MAX_LISTED:
            summary.rejected_rows.append(
                RowRejection(
                    line,
                    f"unknown account {file_account!r}: not in the journal (add it with "
                    "zorivest account add, or give --account ID); all its rows are rejected",
                )
            )
        return None

    def add_execution(self, item: ParsedExecution) -> None:
        target = self._account_for(item.line, item.broker_account or _named(item.trade.account_id))
        if target is None:
            return
        if item.trade.account_id != target:
            item = dataclasses.replace(item, trade=_with_account(item.trade, target))
        for identifier in item.identifiers:
            self._identifiers[(identifier.id_type.value, identifier.value)] = identifier
        if item.repeats_line is not None and self._supersede(item):
            return
        if item.may_repeat:
            self._pending_at[item.trade.exec_id] = len(self._executions)
        self._executions.append(item)
        if len(self._executions) >= self._chunk_size:
            self._flush_executions()

    def add_bank_line(self, item: ParsedBankTransaction) -> None:
        transaction = item.transaction
        target = self._account_for(item.line, item.broker_account or _named(transaction.account_id))
        if target is None:
            return
        if transaction.account_id != target:
            transaction = dataclasses.replace(transaction, account_id=target)
        self._bank_lines.append(transaction)
        if len(self._bank_lines) >= self._chunk_size:
            self._flush_bank_lines()

    def finish(self) -> None:
        self._flush_executions()
        self._flush_bank_lines()
        for identifier in self._identifiers.values():
            self._uow.identifiers.upsert(
                IdentifierMapping(
                    id_type=identifier.id_type,
                    id_value=identifier.value,
                    ticker=identifier.ticker,
                    source=self._format,
                )
            )
        self.summary.identifiers = len(self._identifiers)
        self.summary.round_trips = refresh_round_trips(self._uow, self._touched).stored

    def _supersede(self, item: ParsedExecution) -> bool:
        """Let a later line of the file win over an earlier one with the same exec_id.

        True when handled here: the earlier line was still pending (it is dropped) or was
        stored by this import (the stored row is updated). Otherwise the earlier line met
        a row the journal already had, and this line is classified like any other.
        """
        trade = item.trade
        exec_id = trade.exec_id
        position = self._pending_at.get(exec_id)
        if position is not None:
            earlier = self._executions[position].trade
            self._executions[position] = item
            self._note_repeat(item, _differences(earlier, trade))
            return True
        if exec_id not in self._stored_here:
            return False
        stored = self._uow.trades.get(exec_id)
        if stored is None:  # pragma: no cover - stored by this very import
            return False
        changes = _differences(stored, trade)
        if changes:
            self._uow.trades.update(trade)
            merge_changes(self._touched, earliest_changes([stored, trade]))
            self._replace_fees(item)
        self._note_repeat(item, changes)
        return True

    def _note_repeat(self, item: ParsedExecution, changes: tuple[FieldChange, ...]) -> None:
        summary = self.summary
        summary.repeated += 1
        if len(summary.repeat_reports) < MAX_LISTED:
            summary.repeat_reports.append(
                ConflictReport(item.line, item.trade.exec_id, changes, item.repeats_line)
            )

    # -- chunks --------------------------------------------------------------------------

    def _flush_bank_lines(self) -> None:
        if not self._bank_lines:
            return
        result = self._uow.bank_transactions.import_batch(self._bank_lines)
        self.summary.bank_inserted += result.inserted
        self.summary.bank_duplicates += result.duplicates
        self._bank_lines = []

    def _flush_executions(self) -> None:
        chunk = self._executions
        if not chunk:
            return
        self._executions = []
        self._pending_at = {}
        result = self._uow.trades.save_many([item.trade for item in chunk])
        summary = self.summary
        summary.inserted += len(result.inserted)
        inserted = set(result.inserted)
        self._stored_here.update(
            item.trade.exec_id
            for item in chunk
            if item.may_repeat and item.trade.exec_id in inserted
        )
        merge_changes(
            self._touched,
            earliest_changes(item.trade for item in chunk if item.trade.exec_id in inserted),
        )
        fees_done: set[str] = set()
        for item in chunk:
            exec_id = item.trade.exec_id
            if item.fees and exec_id in inserted and exec_id not in fees_done:
                fees_done.add(exec_id)
                self._store_fees(item)
        if not result.conflicts:
            summary.duplicates += len(result.duplicates)
            return
        # Conflicts are rare: each is read back once and compared field by field. Every
        # occurrence of a conflicting exec_id in the chunk is classified against the row
        # stored now (which may be an earlier line of this very file).
        conflicting = set(result.conflicts)
        duplicates_elsewhere = sum(1 for key in result.duplicates if key not in conflicting)
        summary.duplicates += duplicates_elsewhere
        for item in chunk:
            if item.trade.exec_id in conflicting:
                self._classify(item)

    def _classify(self, item: ParsedExecution) -> None:
        trade = item.trade
        stored = self._uow.trades.get(trade.exec_id)
        if stored is None:  # pragma: no cover - save_many reported it stored
            raise ConflictError(f"exec_id {trade.exec_id!r} vanished during the import")
        if stored.account_id != trade.account_id:
            raise AccountCollisionError(
                f"exec_id {trade.exec_id!r} on line {item.line} (account "
                f"{trade.account_id!r}, {_show(trade.time)} {trade.instrument}) is already "
                f"stored for account {stored.account_id!r} ({_show(stored.time)} "
                f"{stored.instrument}): execution ids must be unique across accounts; "
                "nothing was imported"
            )
        changes = _differences(stored, trade)
        summary = self.summary
        if not changes:
            summary.duplicates += 1
            return
        report = ConflictReport(item.line, trade.exec_id, changes)
        if not self._replace:
            summary.conflicts += 1
            if len(summary.conflict_reports) < MAX_LISTED:
                summary.conflict_reports.append(report)
            return
        self._uow.trades.update(trade)
        # Both the stored version's pair and time and the file's are recomputed.
        merge_changes(self._touched, earliest_changes([stored, trade]))
        self._replace_fees(item)
        summary.replaced += 1
        if len(summary.replaced_reports) < MAX_LISTED:
            summary.replaced_reports.append(report)

    def _replace_fees(self, item: ParsedExecution) -> None:
        for entry in self._uow.ledger.list_for_trade(item.trade.exec_id):
            if entry.id is not None:
                self._uow.ledger.delete(entry.id)
        self._store_fees(item)

    def _store_fees(self, item: ParsedExecution) -> None:
        for fee in item.fees:
            self._uow.ledger.save(
                LedgerEntry(
                    trade_exec_id=item.trade.exec_id,
                    fee_type=fee.fee_type,
                    amount=fee.amount,
                    currency=fee.currency,
                )
            )
            self.summary.fees += 1


def _named(account_id: str) -> str | None:
    return None if account_id == UNASSIGNED_ACCOUNT else account_id


def _with_account(trade: Trade, account_id: str) -> Trade:
    """The trade in another (known, already validated) journal account, without re-validating."""
    values = {name: getattr(trade, name) for name in _TRADE_FIELDS}
    values["account_id"] = account_id
    return Trade.restore(**values)


def _differences(stored: Trade, incoming: Trade) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(name, _show(getattr(stored, name)), _show(getattr(incoming, name)))
        for name in _COMPARED_FIELDS
        if getattr(stored, name) != getattr(incoming, name)
    )


def _show(value: object) -> str:
    """A value as a person reads it: numbers as written, times in ISO 8601, no reprs."""
    if value is None:
        return "(none)"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)
