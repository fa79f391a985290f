"""Bank transactions (idempotent statement imports, undoable per batch) and import configs."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import delete, select

from zorivest_core.application.ports import BankImportResult
from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import BankImportConfig, BankTransaction
from zorivest_infra.database.models import BankImportConfigModel, BankTransactionModel
from zorivest_infra.database.repositories._base import (
    chunked,
    dialect_insert,
    table_of,
)
from zorivest_infra.database.repositories._core import CoreRepository, half_open

_TRANSACTIONS = table_of(BankTransactionModel)
# Bound parameters per IN list, and rows per multi-row INSERT: far below SQLite's and
# PostgreSQL's parameter limits, large enough that a 10,000-line statement takes a handful
# of round trips.
_IN_CHUNK: Final = 500
_INSERT_CHUNK: Final = 1000
_T = _TRANSACTIONS.c
_ORDER = (_T.date, _T.id)


class SqlAlchemyBankTransactionRepository(CoreRepository[BankTransaction, int]):
    """Bank statement lines, unique per (account_id, dedup_hash).

    `dedup_hash` comes from `zorivest_core.domain.bank.compute_dedup_hash` (importers
    number identical lines of one statement with its `occurrence`). Time windows are
    half-open: `since` inclusive, `until` exclusive. Listings are by date, then id.
    `save` returns the generated id (DuplicateError for a dedup hash the account already
    has, ConflictError for an unknown account); `delete` raises NotFoundError for a
    missing id.
    """

    __slots__ = ()
    table = _TRANSACTIONS
    entity = BankTransaction
    key = "id"
    noun = "bank transaction"
    generated_key = True

    def save(self, transaction: BankTransaction) -> int:
        return self._save_new(transaction)

    def get(self, transaction_id: int) -> BankTransaction | None:
        return self._get(transaction_id)

    def import_batch(
        self, transactions: Iterable[BankTransaction], *, import_batch_id: str | None = None
    ) -> BankImportResult:
        """Insert the transactions whose (account_id, dedup_hash) is not stored yet.

        Idempotent: lines already stored, and repeats of a line earlier in the same input,
        are skipped and counted as duplicates, so re-importing a statement inserts
        nothing. The whole import is one all-or-nothing write of batched statements.

        Args:
            transactions: The statement lines.
            import_batch_id: Stamped on every inserted line (so `undo_batch` can remove
                them); None keeps each transaction's own `import_batch_id`.

        Returns:
            How many lines were inserted and how many were duplicates.

        Raises:
            ValidationError: A transaction already carries an id, or the batch id is bad.
            ConflictError: An account does not exist (nothing is inserted).
        """
        batch = v.optional_text("import_batch_id", import_batch_id, max_length=64)
        by_account: defaultdict[str, dict[str, BankTransaction]] = defaultdict(dict)
        duplicates = 0
        for transaction in transactions:
            if transaction.id is not None:
                raise v.fail("id", transaction.id, "an imported bank transaction has no id")
            lines = by_account[transaction.account_id]
            if transaction.dedup_hash in lines:
                duplicates += 1
            else:
                lines[transaction.dedup_hash] = transaction
        if not by_account:
            return BankImportResult(inserted=0, duplicates=0)
        total = sum(len(lines) for lines in by_account.values()) + duplicates
        with self._atomic(f"importing {total} bank transactions") as conn:
            rows: list[dict[str, Any]] = []
            for account_id, lines in by_account.items():
                for hashes in chunked(list(lines), _IN_CHUNK):
                    stored = conn.execute(
                        select(_T.dedup_hash).where(
                            _T.account_id == account_id, _T.dedup_hash.in_(hashes)
                        )
                    ).scalars()
                    for dedup_hash in stored:
                        del lines[dedup_hash]
                        duplicates += 1
                for transaction in lines.values():
                    row = self._to_row(transaction)
                    if batch is not None:
                        row["import_batch_id"] = batch
                    rows.append(row)
            # A line another import committed since the check above (PostgreSQL, READ
            # COMMITTED) is skipped by the unique (account_id, dedup_hash) index instead of
            # failing the whole import; only the lines RETURNING reports were inserted.
            inserted = 0
            adding = (
                dialect_insert(conn, _TRANSACTIONS)
                .on_conflict_do_nothing(index_elements=[_T.account_id, _T.dedup_hash])
                .returning(_T.id)
            )
            for chunk in chunked(rows, _INSERT_CHUNK):
                inserted += len(conn.execute(adding, chunk).all())
        return BankImportResult(inserted=inserted, duplicates=duplicates + len(rows) - inserted)

    def list_for_account(
        self,
        account_id: str,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[BankTransaction]:
        """An account's transactions dated in `[since, until)`, by date then id.

        Raises:
            ValidationError: `since` or `until` is naive.
        """
        window = half_open(_T.date, since, until)
        return self._list(_T.account_id == account_id, *window, order_by=_ORDER)

    def list_for_batch(self, import_batch_id: str) -> list[BankTransaction]:
        """The transactions one import inserted, by date then id."""
        return self._list(_T.import_batch_id == import_batch_id, order_by=_ORDER)

    def undo_batch(self, import_batch_id: str) -> int:
        """Delete every transaction of one import; return how many (0 for an unknown id)."""
        with self._atomic(f"undoing bank import batch {import_batch_id!r}") as conn:
            result = conn.execute(
                delete(_TRANSACTIONS).where(_T.import_batch_id == import_batch_id)
            )
        return int(result.rowcount)

    def delete(self, transaction_id: int) -> None:
        self._delete(transaction_id)

    def count(self, account_id: str | None = None) -> int:
        return self._count(*self._equal(account_id=account_id))


class SqlAlchemyBankImportConfigRepository(CoreRepository[BankImportConfig, str]):
    """Per-bank CSV/OFX import mappings keyed by bank_id. `update` stamps `updated_at`.

    `save` raises DuplicateError for an existing bank_id; `update` and `delete` raise
    NotFoundError for a missing one.
    """

    __slots__ = ()
    table = table_of(BankImportConfigModel)
    entity = BankImportConfig
    key = "bank_id"
    noun = "bank import config"
    stamps_updated_at = True
    null_reads_default = ("country",)

    def save(self, config: BankImportConfig) -> None:
        self._save(config)

    def get(self, bank_id: str) -> BankImportConfig | None:
        return self._get(bank_id)

    def update(self, config: BankImportConfig) -> None:
        self._update(config)

    def delete(self, bank_id: str) -> None:
        self._delete(bank_id)

    def list_all(self) -> list[BankImportConfig]:
        """Every configuration, by bank_id."""
        return self._list()
