"""Mistakes: categorised errors on trades, with their estimated cost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, func, select

from zorivest_core.domain.entities import MistakeEntry
from zorivest_core.domain.enums import MistakeCategory
from zorivest_infra.database.models import MistakeEntryModel
from zorivest_infra.database.repositories._base import table_of
from zorivest_infra.database.repositories._core import CoreRepository

_MISTAKES = table_of(MistakeEntryModel)


def mistake_to_row(mistake: MistakeEntry) -> dict[str, Any]:
    """Column values of a mistake (without its id)."""
    return {
        "trade_id": mistake.trade_id,
        "category": mistake.category.value,
        "estimated_cost": mistake.estimated_cost,
        "notes": mistake.notes,
        "auto_detected": mistake.auto_detected,
        "created_at": mistake.created_at,
    }


def row_to_mistake(row: RowMapping) -> MistakeEntry:
    """The mistake stored in a `mistake_entries` row (NULL auto_detected reads as False)."""
    return MistakeEntry(
        id=row["id"],
        trade_id=row["trade_id"],
        category=row["category"],
        estimated_cost=row["estimated_cost"],
        notes=row["notes"],
        auto_detected=bool(row["auto_detected"]),
        created_at=row["created_at"],
    )


class SqlAlchemyMistakeRepository(CoreRepository[MistakeEntry, int]):
    """Mistakes per trade. Deleting a trade deletes its mistakes (ON DELETE CASCADE).

    `save` returns the generated id (ConflictError for an unknown trade); `update` and
    `delete` raise NotFoundError for a missing id.
    """

    __slots__ = ()
    table = _MISTAKES
    key = "id"
    noun = "mistake"
    generated_key = True

    def _to_row(self, entity: MistakeEntry) -> dict[str, Any]:
        return mistake_to_row(entity)

    def _from_row(self, row: RowMapping) -> MistakeEntry:
        return row_to_mistake(row)

    def save(self, mistake: MistakeEntry) -> int:
        return self._save_new(mistake)

    def get(self, mistake_id: int) -> MistakeEntry | None:
        return self._get(mistake_id)

    def update(self, mistake: MistakeEntry) -> None:
        self._update(mistake)

    def list_for_trade(self, trade_id: str) -> list[MistakeEntry]:
        """A trade's mistakes, oldest first."""
        return self._list(
            _MISTAKES.c.trade_id == trade_id, order_by=(_MISTAKES.c.created_at, _MISTAKES.c.id)
        )

    def cost_by_category(self, *, trade_id: str | None = None) -> dict[MistakeCategory, Decimal]:
        """Exact sums of the estimated costs per category, computed in SQL.

        Mistakes without an estimated cost add nothing; a category whose mistakes all lack
        a cost totals 0.

        Args:
            trade_id: Only this trade's mistakes; None for all.

        Returns:
            Category -> total cost, for the categories that have mistakes.
        """
        query = select(_MISTAKES.c.category, func.sum(_MISTAKES.c.estimated_cost)).group_by(
            _MISTAKES.c.category
        )
        if trade_id is not None:
            query = query.where(_MISTAKES.c.trade_id == trade_id)
        return {
            MistakeCategory(category): Decimal(0) if total is None else total
            for category, total in self._connection().execute(query).all()
        }

    def delete(self, mistake_id: int) -> None:
        self._delete(mistake_id)

    def count(self) -> int:
        return self._count()
