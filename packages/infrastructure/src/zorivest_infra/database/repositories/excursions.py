"""Excursion metrics (MFE/MAE/BSO): one row per trade, keyed by the trade's exec_id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, select, update

from zorivest_core.domain.entities import ExcursionMetrics
from zorivest_infra.database.models import ExcursionMetricsModel
from zorivest_infra.database.repositories._base import SqlAlchemyRepository, not_found, table_of

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


class SqlAlchemyExcursionRepository(SqlAlchemyRepository):
    """Excursion metrics per trade. Deleting the trade deletes its metrics (ON DELETE CASCADE)."""

    __slots__ = ()

    def save(self, metrics: ExcursionMetrics) -> None:
        """Store the metrics of a trade that has none yet.

        Raises:
            DuplicateError: The trade already has metrics (use `update`).
            ConflictError: The trade does not exist.
        """
        with self._atomic(f"saving excursion metrics of trade {metrics.trade_exec_id!r}") as conn:
            conn.execute(insert(_EXCURSIONS).values(metrics_to_row(metrics)))

    def get(self, trade_exec_id: str) -> ExcursionMetrics | None:
        row = (
            self._connection()
            .execute(select(_EXCURSIONS).where(_EXCURSIONS.c.trade_exec_id == trade_exec_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else row_to_metrics(row)

    def update(self, metrics: ExcursionMetrics) -> None:
        """Replace a trade's stored metrics.

        Raises:
            NotFoundError: The trade has no metrics.
        """
        values = metrics_to_row(metrics)
        del values["trade_exec_id"]
        with self._atomic(f"updating excursion metrics of trade {metrics.trade_exec_id!r}") as conn:
            result = conn.execute(
                update(_EXCURSIONS)
                .where(_EXCURSIONS.c.trade_exec_id == metrics.trade_exec_id)
                .values(values)
            )
        if result.rowcount == 0:
            raise not_found("excursion metrics of trade", metrics.trade_exec_id)

    def delete(self, trade_exec_id: str) -> None:
        """Delete a trade's metrics.

        Raises:
            NotFoundError: The trade has no metrics.
        """
        with self._atomic(f"deleting excursion metrics of trade {trade_exec_id!r}") as conn:
            result = conn.execute(
                delete(_EXCURSIONS).where(_EXCURSIONS.c.trade_exec_id == trade_exec_id)
            )
        if result.rowcount == 0:
            raise not_found("excursion metrics of trade", trade_exec_id)

    def count(self) -> int:
        return int(
            self._connection().execute(select(func.count()).select_from(_EXCURSIONS)).scalar_one()
        )
