"""The transaction ledger: the fee components of each trade, and exact totals by fee type."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, select

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import LedgerEntry
from zorivest_core.domain.enums import FeeType
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.database.models import TransactionLedgerModel
from zorivest_infra.database.repositories._base import (
    SqlAlchemyRepository,
    chunked,
    not_found,
    table_of,
)

_LEDGER = table_of(TransactionLedgerModel)
_INSERT_CHUNK = 1000
_DEFAULT_CURRENCY = "USD"


def entry_to_row(entry: LedgerEntry) -> dict[str, Any]:
    """Column values of a ledger entry (without its id)."""
    return {
        "trade_exec_id": entry.trade_exec_id,
        "fee_type": entry.fee_type.value,
        "amount": entry.amount,
        "currency": entry.currency,
        "description": entry.description,
    }


def row_to_entry(row: RowMapping) -> LedgerEntry:
    """The entry stored in a `transaction_ledger` row (a NULL currency reads as USD)."""
    return LedgerEntry(
        id=row["id"],
        trade_exec_id=row["trade_exec_id"],
        fee_type=row["fee_type"],
        amount=row["amount"],
        currency=row["currency"] or _DEFAULT_CURRENCY,
        description=row["description"],
    )


class SqlAlchemyLedgerRepository(SqlAlchemyRepository):
    """Fee entries per trade. Deleting a trade deletes its entries (ON DELETE CASCADE)."""

    __slots__ = ()

    def save(self, entry: LedgerEntry) -> int:
        """Store a new entry and return its generated id.

        Raises:
            ValidationError: The entry already carries an id.
            ConflictError: The trade does not exist.
        """
        if entry.id is not None:
            raise v.fail("id", entry.id, "a new ledger entry is saved without an id")
        with self._atomic(f"saving a ledger entry of trade {entry.trade_exec_id!r}") as conn:
            new_id = conn.execute(
                insert(_LEDGER).values(entry_to_row(entry)).returning(_LEDGER.c.id)
            ).scalar_one()
        return int(new_id)

    def save_many(self, entries: Iterable[LedgerEntry]) -> int:
        """Store many new entries in batched statements, all or nothing; return how many.

        Raises:
            ValidationError: An entry already carries an id.
            ConflictError: A trade does not exist (nothing is stored).
        """
        rows = []
        for entry in entries:
            if entry.id is not None:
                raise v.fail("id", entry.id, "a new ledger entry is saved without an id")
            rows.append(entry_to_row(entry))
        if not rows:
            return 0
        with self._atomic(f"saving {len(rows)} ledger entries") as conn:
            for chunk in chunked(rows, _INSERT_CHUNK):
                conn.execute(insert(_LEDGER), chunk)
        return len(rows)

    def get(self, entry_id: int) -> LedgerEntry | None:
        row = (
            self._connection()
            .execute(select(_LEDGER).where(_LEDGER.c.id == entry_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else row_to_entry(row)

    def list_for_trade(self, trade_exec_id: str) -> list[LedgerEntry]:
        """A trade's entries in the order they were saved."""
        rows = self._connection().execute(
            select(_LEDGER).where(_LEDGER.c.trade_exec_id == trade_exec_id).order_by(_LEDGER.c.id)
        )
        return [row_to_entry(row) for row in rows.mappings()]

    def totals_by_fee_type(
        self, trade_exec_id: str | None = None, *, currency: str | None = None
    ) -> dict[FeeType, Decimal]:
        """Exact sums of the amounts per fee type, computed in SQL.

        Amounts in different currencies are never added together: when the entries summed
        are in more than one currency, pass `currency` to choose one.

        Args:
            trade_exec_id: Only this trade's entries; None for the whole ledger.
            currency: Only entries in this currency (entries with no currency count as USD).

        Returns:
            Fee type -> total, for the fee types that have entries.

        Raises:
            ValidationError: The entries are in several currencies and `currency` is None.
        """
        stored_currency = func.coalesce(_LEDGER.c.currency, _DEFAULT_CURRENCY)
        query = select(
            _LEDGER.c.fee_type, stored_currency.label("currency"), func.sum(_LEDGER.c.amount)
        ).group_by(_LEDGER.c.fee_type, stored_currency)
        if trade_exec_id is not None:
            query = query.where(_LEDGER.c.trade_exec_id == trade_exec_id)
        if currency is not None:
            query = query.where(stored_currency == v.currency("currency", currency))
        rows = self._connection().execute(query).all()
        currencies = sorted({row[1] for row in rows})
        if len(currencies) > 1:
            raise ValidationError(
                "currency: the ledger entries are in several currencies "
                f"({', '.join(currencies)}); pass currency= to total one of them",
                field="currency",
                value=currencies,
            )
        return {FeeType(fee_type): total for fee_type, _currency, total in rows}

    def delete(self, entry_id: int) -> None:
        """Delete one entry.

        Raises:
            NotFoundError: No entry has that id.
        """
        with self._atomic(f"deleting ledger entry {entry_id}") as conn:
            result = conn.execute(delete(_LEDGER).where(_LEDGER.c.id == entry_id))
        if result.rowcount == 0:
            raise not_found("ledger entry", entry_id)

    def count(self) -> int:
        return int(
            self._connection().execute(select(func.count()).select_from(_LEDGER)).scalar_one()
        )
