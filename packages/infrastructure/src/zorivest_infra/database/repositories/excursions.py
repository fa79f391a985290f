"""Excursion metrics (MFE/MAE/BSO): one row per trade, keyed by the trade's exec_id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from zorivest_core.domain.entities import ExcursionMetrics
from zorivest_infra.database.models import ExcursionMetricsModel
from zorivest_infra.database.repositories._base import table_of
from zorivest_infra.database.repositories._core import CoreRepository

_EXCURSIONS = table_of(ExcursionMetricsModel)
_VALUE_COLUMNS = (
    "mfe_dollars",
    "mfe_pct",
    "mae_dollars",
    "mae_pct",
    "bso_pct",
    "data_source",
    "computed_at",
)


def metrics_to_row(metrics: ExcursionMetrics) -> dict[str, Any]:
    """Column values of the metrics, including the trade's exec_id (the key)."""
    row: dict[str, Any] = {"trade_exec_id": metrics.trade_exec_id}
    row.update({name: getattr(metrics, name) for name in _VALUE_COLUMNS})
    return row


def row_to_metrics(row: RowMapping) -> ExcursionMetrics:
    """The metrics stored in an `excursion_metrics` row."""
    return ExcursionMetrics(
        trade_exec_id=row["trade_exec_id"],
        mfe_dollars=row["mfe_dollars"],
        mfe_pct=row["mfe_pct"],
        mae_dollars=row["mae_dollars"],
        mae_pct=row["mae_pct"],
        bso_pct=row["bso_pct"],
        data_source=row["data_source"],
        computed_at=row["computed_at"],
    )


class SqlAlchemyExcursionRepository(CoreRepository[ExcursionMetrics, str]):
    """Excursion metrics per trade. Deleting the trade deletes its metrics (ON DELETE CASCADE).

    `save` raises DuplicateError when the trade already has metrics and ConflictError when
    the trade does not exist; `update` and `delete` raise NotFoundError when it has none.
    """

    __slots__ = ()
    table = _EXCURSIONS
    key = "trade_exec_id"
    noun = "excursion metrics of trade"

    def _to_row(self, entity: ExcursionMetrics) -> dict[str, Any]:
        return metrics_to_row(entity)

    def _from_row(self, row: RowMapping) -> ExcursionMetrics:
        return row_to_metrics(row)

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
