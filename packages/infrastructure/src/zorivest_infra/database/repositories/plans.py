"""Trade plans: forward-looking theses, optionally linked to the trade that executed them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, RowMapping, delete, func, insert, select, update

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import TradePlan
from zorivest_core.domain.enums import ImageOwnerType, PlanStatus
from zorivest_infra.database.models import ImageModel, TradePlanModel
from zorivest_infra.database.repositories._base import (
    SqlAlchemyRepository,
    not_found,
    table_of,
    utc_now,
)
from zorivest_infra.database.repositories.images import delete_images_of

_PLANS = table_of(TradePlanModel)
_IMAGES = table_of(ImageModel)
_ORDER = (_PLANS.c.created_at, _PLANS.c.id)


def plan_to_row(plan: TradePlan) -> dict[str, Any]:
    """Column values of a plan (without its id)."""
    return {
        "ticker": plan.ticker,
        "direction": plan.direction.value,
        "conviction": plan.conviction.value,
        "strategy_name": plan.strategy_name,
        "strategy_description": plan.strategy_description,
        "entry_price": plan.entry_price,
        "stop_loss": plan.stop_loss,
        "target_price": plan.target_price,
        "entry_conditions": plan.entry_conditions,
        "exit_conditions": plan.exit_conditions,
        "timeframe": plan.timeframe,
        "status": plan.status.value,
        "linked_trade_id": plan.linked_trade_id,
        "account_id": plan.account_id,
        "created_at": plan.created_at,
        "updated_at": plan.updated_at,
    }


def row_to_plan(row: RowMapping) -> TradePlan:
    """The plan stored in a `trade_plans` row (a NULL status reads as the default, draft)."""
    return TradePlan(
        id=row["id"],
        ticker=row["ticker"],
        direction=row["direction"],
        conviction=row["conviction"],
        strategy_name=row["strategy_name"],
        strategy_description=row["strategy_description"],
        entry_price=row["entry_price"],
        stop_loss=row["stop_loss"],
        target_price=row["target_price"],
        entry_conditions=row["entry_conditions"],
        exit_conditions=row["exit_conditions"],
        timeframe=row["timeframe"],
        status=row["status"] or PlanStatus.DRAFT,
        linked_trade_id=row["linked_trade_id"],
        account_id=row["account_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SqlAlchemyTradePlanRepository(SqlAlchemyRepository):
    """Trade plans. Deleting a linked trade unlinks its plans (ON DELETE SET NULL).

    `update`, `link_trade` and `unlink_trade` stamp `updated_at` with the current time;
    `save` stores the plan's timestamps as given. Listings are oldest first.
    """

    __slots__ = ()

    def save(self, plan: TradePlan) -> int:
        """Store a new plan and return its generated id.

        Raises:
            ValidationError: The plan already carries an id (use `update`).
            ConflictError: The linked trade or the account does not exist.
        """
        if plan.id is not None:
            raise v.fail("id", plan.id, "a new trade plan is saved without an id")
        with self._atomic(f"saving a trade plan for {plan.ticker!r}") as conn:
            new_id = conn.execute(
                insert(_PLANS).values(plan_to_row(plan)).returning(_PLANS.c.id)
            ).scalar_one()
        return int(new_id)

    def get(self, plan_id: int) -> TradePlan | None:
        row = (
            self._connection()
            .execute(select(_PLANS).where(_PLANS.c.id == plan_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else row_to_plan(row)

    def update(self, plan: TradePlan) -> None:
        """Replace a stored plan's values (found by its id); `updated_at` becomes now.

        Raises:
            ValidationError: The plan has no id.
            NotFoundError: No plan has that id.
            ConflictError: The linked trade or the account does not exist.
        """
        if plan.id is None:
            raise v.fail("id", None, "updating a trade plan needs its id")
        values = plan_to_row(plan)
        values["updated_at"] = utc_now()
        self._update(plan.id, values, f"updating trade plan {plan.id}")

    def delete(self, plan_id: int) -> None:
        """Delete one plan with its images, all or nothing.

        Raises:
            NotFoundError: No plan has that id (nothing is changed).
        """
        with self._atomic(f"deleting trade plan {plan_id}") as conn:
            result = conn.execute(delete(_PLANS).where(_PLANS.c.id == plan_id))
            if result.rowcount == 0:
                raise not_found("trade plan", plan_id)
            # After the plan row is gone (and locked until commit on PostgreSQL), so an
            # image committed concurrently for this plan is seen and deleted too.
            conn.execute(delete_images_of(ImageOwnerType.PLAN, str(plan_id)))

    def link_trade(self, plan_id: int, exec_id: str) -> None:
        """Record that the trade `exec_id` executed the plan.

        Raises:
            NotFoundError: No plan has that id.
            ConflictError: The trade does not exist.
        """
        exec_id = v.text("exec_id", exec_id, max_length=128)
        self._update(
            plan_id,
            {"linked_trade_id": exec_id, "updated_at": utc_now()},
            f"linking trade plan {plan_id} to trade {exec_id!r}",
        )

    def unlink_trade(self, plan_id: int) -> None:
        """Remove the plan's link to a trade (nothing happens to the trade).

        Raises:
            NotFoundError: No plan has that id.
        """
        self._update(
            plan_id,
            {"linked_trade_id": None, "updated_at": utc_now()},
            f"unlinking trade plan {plan_id}",
        )

    def _update(self, plan_id: int, values: dict[str, Any], context: str) -> None:
        with self._atomic(context) as conn:
            result = conn.execute(update(_PLANS).where(_PLANS.c.id == plan_id).values(values))
        if result.rowcount == 0:
            raise not_found("trade plan", plan_id)

    def list_by_status(self, status: PlanStatus) -> list[TradePlan]:
        """Plans with a status, oldest first."""
        wanted = v.choice("status", status, PlanStatus)
        return self._list(_PLANS.c.status == wanted.value)

    def list_for_ticker(self, ticker: str) -> list[TradePlan]:
        """Plans for one ticker (exact match), oldest first."""
        return self._list(_PLANS.c.ticker == ticker)

    def list_for_trade(self, exec_id: str) -> list[TradePlan]:
        """Plans linked to one trade, oldest first."""
        return self._list(_PLANS.c.linked_trade_id == exec_id)

    def _list(self, condition: ColumnElement[bool]) -> list[TradePlan]:
        rows = self._connection().execute(select(_PLANS).where(condition).order_by(*_ORDER))
        return [row_to_plan(row) for row in rows.mappings()]

    def count(self) -> int:
        return int(
            self._connection().execute(select(func.count()).select_from(_PLANS)).scalar_one()
        )
