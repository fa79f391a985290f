"""Mistakes: categorised errors on trades, with their estimated cost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, select, update

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import MistakeEntry
from zorivest_core.domain.enums import MistakeCategory
from zorivest_infra.database.models import MistakeEntryModel
from zorivest_infra.database.repositories._base import SqlAlchemyRepository, not_found, table_of

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


class SqlAlchemyMistakeRepository(SqlAlchemyRepository):
    """Mistakes per trade. Deleting a trade deletes its mistakes (ON DELETE CASCADE)."""

    __slots__ = ()

    def save(self, mistake: MistakeEntry) -> int:
        """Store a new mistake and return its generated id.

        Raises:
            ValidationError: The mistake already carries an id (use `update`).
            ConflictError: The trade does not exist.
        """
        if mistake.id is not None:
            raise v.fail("id", mistake.id, "a new mistake is saved without an id")
        with self._atomic(f"saving a mistake on trade {mistake.trade_id!r}") as conn:
            new_id = conn.execute(
                insert(_MISTAKES).values(mistake_to_row(mistake)).returning(_MISTAKES.c.id)
            ).scalar_one()
        return int(new_id)

    def get(self, mistake_id: int) -> MistakeEntry | None:
        row = (
            self._connection()
            .execute(select(_MISTAKES).where(_MISTAKES.c.id == mistake_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else row_to_mistake(row)

    def update(self, mistake: MistakeEntry) -> None:
        """Replace a stored mistake's values (found by its id).

        Raises:
            ValidationError: The mistake has no id.
            NotFoundError: No mistake has that id.
            ConflictError: The trade does not exist.
        """
        if mistake.id is None:
            raise v.fail("id", None, "updating a mistake needs its id")
        with self._atomic(f"updating mistake {mistake.id}") as conn:
            result = conn.execute(
                update(_MISTAKES)
                .where(_MISTAKES.c.id == mistake.id)
                .values(mistake_to_row(mistake))
            )
        if result.rowcount == 0:
            raise not_found("mistake", mistake.id)

    def list_for_trade(self, trade_id: str) -> list[MistakeEntry]:
        """A trade's mistakes, oldest first."""
        rows = self._connection().execute(
            select(_MISTAKES)
            .where(_MISTAKES.c.trade_id == trade_id)
            .order_by(_MISTAKES.c.created_at, _MISTAKES.c.id)
        )
        return [row_to_mistake(row) for row in rows.mappings()]

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
        """Delete one mistake.

        Raises:
            NotFoundError: No mistake has that id.
        """
        with self._atomic(f"deleting mistake {mistake_id}") as conn:
            result = conn.execute(delete(_MISTAKES).where(_MISTAKES.c.id == mistake_id))
        if result.rowcount == 0:
            raise not_found("mistake", mistake_id)

    def count(self) -> int:
        return int(
            self._connection().execute(select(func.count()).select_from(_MISTAKES)).scalar_one()
        )
