"""Trade reports: the post-trade review of one trade (one report per trade)."""

from __future__ import annotations

from zorivest_core.domain.entities import TradeReport
from zorivest_core.domain.enums import ImageOwnerType
from zorivest_infra.database.models import TradeReportModel
from zorivest_infra.database.repositories._base import table_of
from zorivest_infra.database.repositories._core import CoreRepository
from zorivest_infra.database.repositories.images import images_deleted_with

_REPORTS = table_of(TradeReportModel)
_DELETE_IMAGES = images_deleted_with(ImageOwnerType.REPORT)


class SqlAlchemyTradeReportRepository(CoreRepository[TradeReport, int]):
    """Trade reports. The database removes a trade's report when the trade is deleted.

    Tags are stored as a JSON array (NULL reads as no tags). `save` returns the generated
    id; `save` and `update` raise DuplicateError for a trade that already has a report
    and ConflictError for a trade that does not exist; `update` raises NotFoundError for a
    missing id.
    """

    __slots__ = ()
    table = _REPORTS
    entity = TradeReport
    key = "id"
    noun = "trade report"
    generated_key = True
    null_reads_default = ("tags",)

    def save(self, report: TradeReport) -> int:
        return self._save_new(report)

    def get(self, report_id: int) -> TradeReport | None:
        return self._get(report_id)

    def get_for_trade(self, trade_id: str) -> TradeReport | None:
        """The report of one trade, or None."""
        return self._find(_REPORTS.c.trade_id == trade_id)

    def update(self, report: TradeReport) -> None:
        self._update(report)

    def delete(self, report_id: int) -> None:
        """Delete one report with its images, all or nothing.

        Raises:
            NotFoundError: No report has that id (nothing is changed).
        """
        self._delete(report_id, then=_DELETE_IMAGES)

    def count(self) -> int:
        return self._count()
