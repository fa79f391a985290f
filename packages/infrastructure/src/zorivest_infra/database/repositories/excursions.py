"""Excursion metrics (MFE/MAE/BSO): one row per trade, keyed by the trade's exec_id."""

from __future__ import annotations

from zorivest_core.domain.entities import ExcursionMetrics
from zorivest_infra.database.models import ExcursionMetricsModel
from zorivest_infra.database.repositories._base import table_of
from zorivest_infra.database.repositories._core import CoreRepository


class SqlAlchemyExcursionRepository(CoreRepository[ExcursionMetrics, str]):
    """Excursion metrics per trade. Deleting the trade deletes its metrics (ON DELETE CASCADE).

    `save` raises DuplicateError when the trade already has metrics and ConflictError when
    the trade does not exist; `update` and `delete` raise NotFoundError when it has none.
    """

    __slots__ = ()
    table = table_of(ExcursionMetricsModel)
    entity = ExcursionMetrics
    key = "trade_exec_id"
    noun = "excursion metrics of trade"

    def save(self, metrics: ExcursionMetrics) -> None:
        self._save(metrics)

    def get(self, trade_exec_id: str) -> ExcursionMetrics | None:
        return self._get(trade_exec_id)

    def update(self, metrics: ExcursionMetrics) -> None:
        self._update(metrics)

    def delete(self, trade_exec_id: str) -> None:
        self._delete(trade_exec_id)

    def count(self) -> int:
        return self._count()
