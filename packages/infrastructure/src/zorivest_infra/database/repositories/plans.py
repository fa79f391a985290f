"""Trade plans: forward-looking theses, optionally linked to the trade that executed them."""

from __future__ import annotations

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import TradePlan
from zorivest_core.domain.enums import ImageOwnerType, PlanStatus
from zorivest_infra.database.models import TradePlanModel
from zorivest_infra.database.repositories._base import table_of, utc_now
from zorivest_infra.database.repositories._core import CoreRepository
from zorivest_infra.database.repositories.images import images_deleted_with

_PLANS = table_of(TradePlanModel)
_DELETE_IMAGES = images_deleted_with(ImageOwnerType.PLAN)
_P = _PLANS.c
_ORDER = (_P.created_at, _P.id)


class SqlAlchemyTradePlanRepository(CoreRepository[TradePlan, int]):
    """Trade plans. Deleting a linked trade unlinks its plans (ON DELETE SET NULL).

    `update`, `link_trade` and `unlink_trade` stamp `updated_at` with the current time;
    `save` stores the plan's timestamps as given. Listings are oldest first. A NULL status
    reads as the default, draft. `save` returns the generated id; `save` and `update`
    raise ConflictError for an unknown linked trade or account, `update` NotFoundError
    for a missing id.
    """

    __slots__ = ()
    table = _PLANS
    entity = TradePlan
    key = "id"
    noun = "trade plan"
    generated_key = True
    stamps_updated_at = True
    null_reads_default = ("status",)

    def save(self, plan: TradePlan) -> int:
        return self._save_new(plan)

    def get(self, plan_id: int) -> TradePlan | None:
        return self._get(plan_id)

    def update(self, plan: TradePlan) -> None:
        self._update(plan)

    def delete(self, plan_id: int) -> None:
        """Delete one plan with its images, all or nothing.

        Raises:
            NotFoundError: No plan has that id (nothing is changed).
        """
        self._delete(plan_id, then=_DELETE_IMAGES)

    def link_trade(self, plan_id: int, exec_id: str) -> None:
        """Record that the trade `exec_id` executed the plan.

        Raises:
            NotFoundError: No plan has that id.
            ConflictError: The trade does not exist.
        """
        exec_id = v.text("exec_id", exec_id, max_length=128)
        self._set(
            plan_id,
            {"linked_trade_id": exec_id, "updated_at": utc_now()},
            f"linking trade plan {plan_id} to trade {exec_id!r}",
        )

    def unlink_trade(self, plan_id: int) -> None:
        """Remove the plan's link to a trade (nothing happens to the trade).

        Raises:
            NotFoundError: No plan has that id.
        """
        self._set(
            plan_id,
            {"linked_trade_id": None, "updated_at": utc_now()},
            f"unlinking trade plan {plan_id}",
        )

    def list_by_status(self, status: PlanStatus) -> list[TradePlan]:
        """Plans with a status, oldest first."""
        wanted = v.choice("status", status, PlanStatus)
        return self._list(_P.status == wanted.value, order_by=_ORDER)

    def list_for_ticker(self, ticker: str) -> list[TradePlan]:
        """Plans for one ticker (exact match), oldest first."""
        return self._list(_P.ticker == ticker, order_by=_ORDER)

    def list_for_trade(self, exec_id: str) -> list[TradePlan]:
        """Plans linked to one trade, oldest first."""
        return self._list(_P.linked_trade_id == exec_id, order_by=_ORDER)

    def count(self) -> int:
        return self._count()
