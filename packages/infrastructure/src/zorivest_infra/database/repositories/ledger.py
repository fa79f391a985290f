"""The transaction ledger: the fee components of each trade, and exact totals by fee type."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from sqlalchemy import func, select

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import LedgerEntry
from zorivest_core.domain.enums import FeeType
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.database.models import TransactionLedgerModel
from zorivest_infra.database.repositories._base import table_of
from zorivest_infra.database.repositories._core import CoreRepository

_LEDGER = table_of(TransactionLedgerModel)
_L = _LEDGER.c
_DEFAULT_CURRENCY: Final = "USD"


class SqlAlchemyLedgerRepository(CoreRepository[LedgerEntry, int]):
    """Fee entries per trade. Deleting a trade deletes its entries (ON DELETE CASCADE).

    A NULL currency reads as USD. `save` returns the generated id (ConflictError for an
    unknown trade); `delete` raises NotFoundError for a missing id.
    """

    __slots__ = ()
    table = _LEDGER
    entity = LedgerEntry
    key = "id"
    noun = "ledger entry"
    generated_key = True
    null_reads_default = ("currency",)

    def save(self, entry: LedgerEntry) -> int:
        return self._save_new(entry)

    def save_many(self, entries: Iterable[LedgerEntry]) -> int:
        """Store many new entries in batched statements, all or nothing; return how many.

        Raises:
            ValidationError: An entry already carries an id.
            ConflictError: A trade does not exist (nothing is stored).
        """
        return self._save_new_many(entries)

    def get(self, entry_id: int) -> LedgerEntry | None:
        return self._get(entry_id)

    def list_for_trade(self, trade_exec_id: str) -> list[LedgerEntry]:
        """A trade's entries in the order they were saved."""
        return self._list(_L.trade_exec_id == trade_exec_id)

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
        stored_currency = func.coalesce(_L.currency, _DEFAULT_CURRENCY)
        query = (
            select(_L.fee_type, stored_currency.label("currency"), func.sum(_L.amount))
            .where(*self._equal(trade_exec_id=trade_exec_id))
            .group_by(_L.fee_type, stored_currency)
        )
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
        self._delete(entry_id)

    def count(self) -> int:
        return self._count()
