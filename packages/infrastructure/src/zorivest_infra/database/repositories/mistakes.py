"""Mistakes: categorised errors on trades, with their estimated cost."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from zorivest_core.domain.entities import MistakeEntry
from zorivest_core.domain.enums import MistakeCategory
from zorivest_infra.database.models import MistakeEntryModel
from zorivest_infra.database.repositories._base import table_of
from zorivest_infra.database.repositories._core import CoreRepository

_MISTAKES = table_of(MistakeEntryModel)
_M = _MISTAKES.c


class SqlAlchemyMistakeRepository(CoreRepository[MistakeEntry, int]):
    """Mistakes per trade. Deleting a trade deletes its mistakes (ON DELETE CASCADE).

    `save` returns the generated id (ConflictError for an unknown trade); `update` and
    `delete` raise NotFoundError for a missing id.
    """

    __slots__ = ()
    table = _MISTAKES
    entity = MistakeEntry
    key = "id"
    noun = "mistake"
    generated_key = True
    null_reads_default = ("auto_detected",)

    def save(self, mistake: MistakeEntry) -> int:
        return self._save_new(mistake)

    def get(self, mistake_id: int) -> MistakeEntry | None:
        return self._get(mistake_id)

    def update(self, mistake: MistakeEntry) -> None:
        self._update(mistake)

    def list_for_trade(self, trade_id: str) -> list[MistakeEntry]:
        """A trade's mistakes, oldest first."""
        return self._list(_M.trade_id == trade_id, order_by=(_M.created_at, _M.id))

    def cost_by_category(self, *, trade_id: str | None = None) -> dict[MistakeCategory, Decimal]:
        """Exact sums of the estimated costs per category, computed in SQL.

        Mistakes without an estimated cost add nothing; a category whose mistakes all lack
        a cost totals 0.

        Args:
            trade_id: Only this trade's mistakes; None for all.

        Returns:
            Category -> total cost, for the categories that have mistakes.
        """
        query = (
            select(_M.category, func.sum(_M.estimated_cost))
            .where(*self._equal(trade_id=trade_id))
            .group_by(_M.category)
        )
        return {
            MistakeCategory(category): Decimal(0) if total is None else total
            for category, total in self._connection().execute(query).all()
        }

    def delete(self, mistake_id: int) -> None:
        self._delete(mistake_id)

    def count(self) -> int:
        return self._count()
