"""The trader's report: what did I make, and where did I lose it.

Sums, counts, extremes and the drawdown come from SQL (`RoundTripRepository.statistics`,
exact on every backend); this module only derives the ratios. Amounts of different
currencies are never added: there is one row per currency (the account's currency).

Ratios are rounded ROUND_HALF_EVEN: money averages at the money scale (6 places), the win
rate and the profit factor at 6 places, the average holding time to whole seconds. A ratio
without a value (no round trips, no losses for the profit factor) is None.
"""

from __future__ import annotations

import datetime as dt
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
from zorivest_core.domain.errors import ValidationError
from zorivest_core.domain.matching import divide_rounded

__all__ = [
    "REPORT_KEYS",
    "CurrencyChoiceError",
    "CurrencyReport",
    "ReportRow",
    "build_report",
    "currency_code",
    "report_in_one_currency",
    "report_row",
]

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


DEFAULT_CURRENCY: Final = "USD"
"""The currency of an empty report (no closed round trips), as of a new account."""


class CurrencyChoiceError(ValidationError):
    """The round trips are in several currencies and none was chosen (they are never added).

    Attributes:
        currencies: The currencies present, sorted.
    """

    def __init__(self, currencies: list[str]) -> None:
        super().__init__(
            f"the round trips are in several currencies ({', '.join(currencies)}), which are "
            "never added together: choose one",
            field="currency",
        )
        self.currencies = currencies


@dataclass(frozen=True, slots=True)
class CurrencyReport:
    """The report of one currency: its rows and, when asked for, its net P&L per day."""

    currency: str
    rows: list[ReportRow]
    daily_net_pnl: list[tuple[dt.date, Decimal]]


def report_in_one_currency(
    uow: UnitOfWork,
    where: RoundTripFilter | None = None,
    *,
    by: ReportGrouping = ReportGrouping.ALL,
    currency: str | None = None,
    daily: bool = False,
) -> CurrencyReport:
    """The report of `currency`, or of the one currency the round trips are in.

    Args:
        uow: An active unit of work.
        where: Which closed round trips (since/until apply to closed_at).
        by: The grouping of the rows.
        currency: An ISO 4217 code in either case; None: the only currency present
            (`DEFAULT_CURRENCY` when there is none). A currency without round trips gives
            an empty report.
        daily: Also sum the net P&L per closing day (for a chart).

    Raises:
        CurrencyChoiceError: No currency given and the round trips are in several.
        ValidationError: `currency` is not a 3-letter code.
    """
    totals = build_report(uow, where)
    chosen = _chosen_currency([row.currency for row in totals], currency)
    grouped = {ReportGrouping.ALL: totals}
    if by not in grouped:
        grouped[by] = build_report(uow, where, by=by)
    if daily and ReportGrouping.DAY not in grouped:  # `--by day --chart` asks once
        grouped[ReportGrouping.DAY] = build_report(uow, where, by=ReportGrouping.DAY)
    day_rows = grouped[ReportGrouping.DAY] if daily else []
    days = [
        (dt.date.fromisoformat(row.group), row.net_pnl)
        for row in day_rows
        if row.currency == chosen and row.group is not None
    ]
    return CurrencyReport(chosen, [row for row in grouped[by] if row.currency == chosen], days)


def currency_code(text: str) -> str:
    """An ISO 4217 code given in either case, upper-cased and checked (before any work).

    Raises:
        ValidationError: Not three letters.
    """
    return v.currency("currency", text.upper())


def _chosen_currency(present: list[str], wanted: str | None) -> str:
    if wanted is not None:
        return currency_code(wanted)
    if len(present) > 1:
        raise CurrencyChoiceError(sorted(present))
    return present[0] if present else DEFAULT_CURRENCY
