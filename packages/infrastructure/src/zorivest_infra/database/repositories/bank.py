"""Bank transactions (idempotent statement imports, undoable per batch) and import configs."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import RowMapping, delete, func, insert, select

from zorivest_core.application.ports import BankImportResult
from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import BankImportConfig, BankTransaction
from zorivest_infra.database.models import BankImportConfigModel, BankTransactionModel
from zorivest_infra.database.repositories._base import (
    SqlAlchemyRepository,
    chunked,
    dialect_insert,
    not_found,
    table_of,
)
from zorivest_infra.database.repositories._core import CoreRepository

_TRANSACTIONS = table_of(BankTransactionModel)
_CONFIGS = table_of(BankImportConfigModel)
# Bound parameters per IN list, and rows per multi-row INSERT: far below SQLite's and
# PostgreSQL's parameter limits, large enough that a 10,000-line statement takes a handful
# of round trips.
_IN_CHUNK: Final = 500
_INSERT_CHUNK: Final = 1000
_ORDER = (_TRANSACTIONS.c.date, _TRANSACTIONS.c.id)
_ACCOUNT_ID: Final = _TRANSACTIONS.c.account_id
_DEDUP_HASH: Final = _TRANSACTIONS.c.dedup_hash


def transaction_to_row(transaction: BankTransaction) -> dict[str, Any]:
    """Column values of a bank transaction (without its id)."""
    return {
        "account_id": transaction.account_id,
        "date": transaction.date,
        "post_date": transaction.post_date,
        "description": transaction.description,
        "amount": transaction.amount,
        "category": None if transaction.category is None else transaction.category.value,
        "reference_id": transaction.reference_id,
        "dedup_hash": transaction.dedup_hash,
        "source": transaction.source.value,
        "import_batch_id": transaction.import_batch_id,
        "created_at": transaction.created_at,
    }


def row_to_transaction(row: RowMapping) -> BankTransaction:
    """The transaction stored in a `bank_transactions` row."""
    return BankTransaction(
        id=row["id"],
        account_id=row["account_id"],
        date=row["date"],
        post_date=row["post_date"],
        description=row["description"],
        amount=row["amount"],
        category=row["category"],
        reference_id=row["reference_id"],
        dedup_hash=row["dedup_hash"],
        source=row["source"],
        import_batch_id=row["import_batch_id"],
        created_at=row["created_at"],
    )


def config_to_row(config: BankImportConfig) -> dict[str, Any]:
    """Column values of a bank import configuration (`config` is JSON text)."""
    return {
        "bank_id": config.bank_id,
        "name": config.name,
        "country": config.country,
        "config": config.config,
        "created_at": config.created_at,
        "updated_at": config.updated_at,
    }


def row_to_config(row: RowMapping) -> BankImportConfig:
    """The configuration in a `bank_import_configs` row (a NULL country reads as US)."""
    return BankImportConfig(
        bank_id=row["bank_id"],
        name=row["name"],
        country=row["country"] or "US",
        config=row["config"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SqlAlchemyBankTransactionRepository(SqlAlchemyRepository):
    """Bank statement lines, unique per (account_id, dedup_hash).

    `dedup_hash` comes from `zorivest_core.domain.bank.compute_dedup_hash` (importers
    number identical lines of one statement with its `occurrence`). Time windows are
    half-open: `since` inclusive, `until` exclusive. Listings are by date, then id.
    """

    __slots__ = ()

    def save(self, transaction: BankTransaction) -> int:
        """Store one new transaction and return its generated id.

        Raises:
            ValidationError: The transaction already carries an id.
            DuplicateError: The account already has a transaction with this dedup hash.
            ConflictError: The account does not exist.
        """
        if transaction.id is not None:
            raise v.fail("id", transaction.id, "a new bank transaction is saved without an id")
        with self._atomic(
            f"saving a bank transaction of account {transaction.account_id!r}"
        ) as conn:
            new_id = conn.execute(
                insert(_TRANSACTIONS)
                .values(transaction_to_row(transaction))
                .returning(_TRANSACTIONS.c.id)
            ).scalar_one()
        return int(new_id)

    def get(self, transaction_id: int) -> BankTransaction | None:
        row = (
            self._connection()
            .execute(select(_TRANSACTIONS).where(_TRANSACTIONS.c.id == transaction_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else row_to_transaction(row)

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
                        select(_TRANSACTIONS.c.dedup_hash).where(
                            _TRANSACTIONS.c.account_id == account_id,
                            _TRANSACTIONS.c.dedup_hash.in_(hashes),
                        )
                    ).scalars()
                    for dedup_hash in stored:
                        del lines[dedup_hash]
                        duplicates += 1
                for transaction in lines.values():
                    row = transaction_to_row(transaction)
                    if batch is not None:
                        row["import_batch_id"] = batch
                    rows.append(row)
            # A line another import committed since the check above (PostgreSQL, READ
            # COMMITTED) is skipped by the unique (account_id, dedup_hash) index instead of
            # failing the whole import; only the lines RETURNING reports were inserted.
            inserted = 0
            adding = (
                dialect_insert(conn, _TRANSACTIONS)
                .on_conflict_do_nothing(index_elements=[_ACCOUNT_ID, _DEDUP_HASH])
                .returning(_TRANSACTIONS.c.id)
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
        query = select(_TRANSACTIONS).where(_TRANSACTIONS.c.account_id == account_id)
        if since is not None:
            query = query.where(_TRANSACTIONS.c.date >= v.utc("since", since))
        if until is not None:
            query = query.where(_TRANSACTIONS.c.date < v.utc("until", until))
        rows = self._connection().execute(query.order_by(*_ORDER))
        return [row_to_transaction(row) for row in rows.mappings()]

    def list_for_batch(self, import_batch_id: str) -> list[BankTransaction]:
        """The transactions one import inserted, by date then id."""
        rows = self._connection().execute(
            select(_TRANSACTIONS)
            .where(_TRANSACTIONS.c.import_batch_id == import_batch_id)
            .order_by(*_ORDER)
        )
        return [row_to_transaction(row) for row in rows.mappings()]

    def undo_batch(self, import_batch_id: str) -> int:
        """Delete every transaction of one import; return how many (0 for an unknown id)."""
        with self._atomic(f"undoing bank import batch {import_batch_id!r}") as conn:
            result = conn.execute(
                delete(_TRANSACTIONS).where(_TRANSACTIONS.c.import_batch_id == import_batch_id)
            )
        return int(result.rowcount)

    def delete(self, transaction_id: int) -> None:
        """Delete one transaction.

        Raises:
            NotFoundError: No transaction has that id.
        """
        with self._atomic(f"deleting bank transaction {transaction_id}") as conn:
            result = conn.execute(delete(_TRANSACTIONS).where(_TRANSACTIONS.c.id == transaction_id))
        if result.rowcount == 0:
            raise not_found("bank transaction", transaction_id)

    def count(self, account_id: str | None = None) -> int:
        query = select(func.count()).select_from(_TRANSACTIONS)
        if account_id is not None:
            query = query.where(_TRANSACTIONS.c.account_id == account_id)
        return int(self._connection().execute(query).scalar_one())


class SqlAlchemyBankImportConfigRepository(CoreRepository[BankImportConfig, str]):
    """Per-bank CSV/OFX import mappings keyed by bank_id. `update` stamps `updated_at`.

    `save` raises DuplicateError for an existing bank_id; `update` and `delete` raise
    NotFoundError for a missing one.
    """

    __slots__ = ()
    table = _CONFIGS
    key = "bank_id"
    noun = "bank import config"
    stamps_updated_at = True

    def _to_row(self, entity: BankImportConfig) -> dict[str, Any]:
        return config_to_row(entity)

    def _from_row(self, row: RowMapping) -> BankImportConfig:
        return row_to_config(row)

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
