"""Trade reports: the post-trade review of one trade (one report per trade)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, RowMapping, delete, func, insert, select, update

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import TradeReport
from zorivest_core.domain.enums import ImageOwnerType
from zorivest_infra.database.models import ImageModel, TradeReportModel
from zorivest_infra.database.repositories._base import SqlAlchemyRepository, not_found, table_of
from zorivest_infra.database.repositories.images import delete_images_of

_REPORTS = table_of(TradeReportModel)
_IMAGES = table_of(ImageModel)


def report_to_row(report: TradeReport) -> dict[str, Any]:
    """Column values of a report (without its id); tags are stored as a JSON array."""
    return {
        "trade_id": report.trade_id,
        "setup_quality": report.setup_quality,
        "execution_quality": report.execution_quality,
        "followed_plan": report.followed_plan,
        "emotional_state": report.emotional_state,
        "lessons_learned": report.lessons_learned,
        "tags": list(report.tags),
        "created_at": report.created_at,
    }


def row_to_report(row: RowMapping) -> TradeReport:
    """The report stored in a `trade_reports` row (NULL tags read as no tags)."""
    return TradeReport(
        id=row["id"],
        trade_id=row["trade_id"],
        setup_quality=row["setup_quality"],
        execution_quality=row["execution_quality"],
        followed_plan=row["followed_plan"],
        emotional_state=row["emotional_state"],
        lessons_learned=row["lessons_learned"],
        tags=row["tags"] or [],
        created_at=row["created_at"],
    )


class SqlAlchemyTradeReportRepository(SqlAlchemyRepository):
    """Trade reports. The database removes a trade's report when the trade is deleted."""

    __slots__ = ()

    def save(self, report: TradeReport) -> int:
        """Store a new report and return its generated id.

        Raises:
            ValidationError: The report already carries an id (use `update`).
            DuplicateError: The trade already has a report.
            ConflictError: The trade does not exist.
        """
        if report.id is not None:
            raise v.fail("id", report.id, "a new trade report is saved without an id")
        with self._atomic(f"saving the report of trade {report.trade_id!r}") as conn:
            new_id = conn.execute(
                insert(_REPORTS).values(report_to_row(report)).returning(_REPORTS.c.id)
            ).scalar_one()
        return int(new_id)

    def get(self, report_id: int) -> TradeReport | None:
        return self._one(_REPORTS.c.id == report_id)

    def get_for_trade(self, trade_id: str) -> TradeReport | None:
        """The report of one trade, or None."""
        return self._one(_REPORTS.c.trade_id == trade_id)

    def _one(self, condition: ColumnElement[bool]) -> TradeReport | None:
        row = self._connection().execute(select(_REPORTS).where(condition)).mappings().one_or_none()
        return None if row is None else row_to_report(row)

    def update(self, report: TradeReport) -> None:
        """Replace a stored report's values (found by its id).

        Raises:
            ValidationError: The report has no id.
            NotFoundError: No report has that id.
            DuplicateError: It would move to a trade that already has a report.
            ConflictError: It would move to a trade that does not exist.
        """
        if report.id is None:
            raise v.fail("id", None, "updating a trade report needs its id")
        with self._atomic(f"updating trade report {report.id}") as conn:
            result = conn.execute(
                update(_REPORTS).where(_REPORTS.c.id == report.id).values(report_to_row(report))
            )
        if result.rowcount == 0:
            raise not_found("trade report", report.id)

    def delete(self, report_id: int) -> None:
        """Delete one report with its images, all or nothing.

        Raises:
            NotFoundError: No report has that id (nothing is changed).
        """
        with self._atomic(f"deleting trade report {report_id}") as conn:
            result = conn.execute(delete(_REPORTS).where(_REPORTS.c.id == report_id))
            if result.rowcount == 0:
                raise not_found("trade report", report_id)
            # After the report row is gone (and locked until commit on PostgreSQL), so an
            # image committed concurrently for this report is seen and deleted too.
            conn.execute(delete_images_of(ImageOwnerType.REPORT, str(report_id)))

    def count(self) -> int:
        return int(
            self._connection().execute(select(func.count()).select_from(_REPORTS)).scalar_one()
        )
