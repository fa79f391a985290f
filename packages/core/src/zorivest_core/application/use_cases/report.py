"""The trader's report: what did I make, and where did I lose it.

Sums, counts, extremes and the drawdown come from SQL (`RoundTripRepository.statistics`,
exact on every backend); this module only derives the ratios. Amounts of different
currencies are never added: there is one row per currency (the account's currency).

Ratios are rounded ROUND_HALF_EVEN: money averages at the money scale (6 places), the win
rate and the profit factor at 6 places, the average holding time to whole seconds. A ratio
without a value (no round trips, no losses for the profit factor) is None.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from zorivest_core.application.ports import (
    PnlStatistics,
    ReportGrouping,
    RoundTripFilter,
    UnitOfWork,
)
from zorivest_core.domain import validation as v
from zorivest_core.domain.matching import divide_rounded

__all__ = ["REPORT_KEYS", "ReportRow", "build_report", "report_row"]

REPORT_KEYS: Final = (
    "net_pnl",
    "gross_pnl",
    "commission",
    "round_trips",
    "wins",
    "losses",
    "win_rate",
    "average_win",
    "average_loss",
    "profit_factor",
    "expectancy",
    "max_drawdown",
    "largest_win",
    "largest_loss",
    "average_holding_seconds",
)
"""The report's public keys, in order (`report --json`)."""

_RATIO_SCALE: Final = 6


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One row of the report: every closed round trip of one currency (and group)."""

    group: str | None
    currency: str
    net_pnl: Decimal
    gross_pnl: Decimal
    commission: Decimal
    round_trips: int
    wins: int
    losses: int
    win_rate: Decimal | None
    average_win: Decimal | None
    average_loss: Decimal | None
    profit_factor: Decimal | None
    expectancy: Decimal | None
    max_drawdown: Decimal
    largest_win: Decimal | None
    largest_loss: Decimal | None
    average_holding_seconds: int | None


def _ratio(numerator: Decimal, denominator: Decimal | int, scale: int) -> Decimal | None:
    if denominator == 0:
        return None
    return divide_rounded(numerator, Decimal(denominator), scale)


def report_row(stats: PnlStatistics) -> ReportRow:
    """Derive the ratios of one row of SQL aggregates."""
    holding = _ratio(Decimal(stats.holding_seconds), stats.round_trips, 0)
    return ReportRow(
        group=stats.group,
        currency=stats.currency,
        net_pnl=stats.net_pnl,
        gross_pnl=v.canonical(stats.net_pnl + stats.commission),
        commission=stats.commission,
        round_trips=stats.round_trips,
        wins=stats.wins,
        losses=stats.losses,
        win_rate=_ratio(Decimal(stats.wins), stats.round_trips, _RATIO_SCALE),
        average_win=_ratio(stats.total_win, stats.wins, v.MONEY_SCALE),
        average_loss=_ratio(stats.total_loss, stats.losses, v.MONEY_SCALE),
        profit_factor=_ratio(stats.total_win, -stats.total_loss, _RATIO_SCALE),
        expectancy=_ratio(stats.net_pnl, stats.round_trips, v.MONEY_SCALE),
        max_drawdown=stats.max_drawdown,
        largest_win=stats.largest_win,
        largest_loss=stats.largest_loss,
        average_holding_seconds=None if holding is None else int(holding),
    )


def build_report(
    uow: UnitOfWork,
    where: RoundTripFilter | None = None,
    *,
    by: ReportGrouping = ReportGrouping.ALL,
) -> list[ReportRow]:
    """The report over closed round trips (``where``'s since/until apply to closed_at)."""
    statistics = uow.round_trips.statistics(where or RoundTripFilter(), by=by)
    return [report_row(stats) for stats in statistics]
