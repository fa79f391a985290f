"""Reconcile our FIFO realized P&L with a broker's, execution by execution.

The broker's statement (e.g. IBKR Flex ``fifoPnlRealized``) gives a realized P&L per
execution. Ours comes from matching ALL the journal's executions of that execution's
(account, instrument) pair — the statement may cover only part of the history. Values are
compared at the broker's precision: a broker reporting cents is compared in cents
(ours rounded ROUND_HALF_EVEN to its number of decimal places); then they must be equal.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from zorivest_core.application.importing import ParsedExecution, ParsedItem
from zorivest_core.application.ports import UnitOfWork
from zorivest_core.application.use_cases.round_trips import Pair, execution_of
from zorivest_core.domain.matching import PositionMatcher

__all__ = ["BrokerPnl", "Difference", "ReconcileReport", "broker_pnl_of", "reconcile"]

_ZERO = Decimal(0)
_ROUNDING = decimal.Context(prec=80, rounding=decimal.ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class BrokerPnl:
    """The broker's realized P&L of one execution, and where it was read (for messages)."""

    exec_id: str
    realized_pnl: Decimal
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Difference:
    """An execution whose realized P&L differs: ours (full precision) and the broker's."""

    exec_id: str
    account_id: str
    instrument: str
    ours: Decimal
    broker: Decimal
    line: int | None = None


@dataclass(slots=True)
class ReconcileReport:
    """checked: executions compared; missing: exec_ids of the statement not in the journal."""

    checked: int = 0
    differences: list[Difference] = field(default_factory=list)
    missing: list[BrokerPnl] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.missing


def broker_pnl_of(items: Iterable[ParsedItem]) -> Iterable[BrokerPnl]:
    """The broker's realized P&L of each parsed execution that carries one (any importer)."""
    for item in items:
        if isinstance(item, ParsedExecution) and item.broker_realized_pnl is not None:
            yield BrokerPnl(item.trade.exec_id, item.broker_realized_pnl, line=item.line)


def _at_precision_of(ours: Decimal, broker: Decimal) -> Decimal:
    exponent = min(int(broker.as_tuple().exponent), 0)
    return ours.quantize(Decimal(1).scaleb(exponent), context=_ROUNDING)


def reconcile(uow: UnitOfWork, broker: Iterable[BrokerPnl]) -> ReconcileReport:
    """Compare the broker's per-execution realized P&L with ours (read-only)."""
    report = ReconcileReport()
    by_pair: dict[Pair, list[tuple[BrokerPnl, str]]] = {}
    for item in broker:
        trade = uow.trades.get(item.exec_id)
        if trade is None:
            report.missing.append(item)
            continue
        by_pair.setdefault((trade.account_id, trade.instrument), []).append((item, trade.exec_id))
    for (account_id, instrument), items in sorted(by_pair.items(), key=lambda kv: kv[0]):
        matcher = PositionMatcher(account_id, instrument)
        trades = uow.trades.iter_in_matching_order(account_id=account_id, instrument=instrument)
        for trade in trades:
            matcher.add(execution_of(trade))
        ours_by_id = {pnl.exec_id: pnl.realized_pnl for pnl in matcher.executions}
        for item, exec_id in items:
            report.checked += 1
            ours = ours_by_id.get(exec_id, _ZERO)
            if _at_precision_of(ours, item.realized_pnl) != item.realized_pnl:
                report.differences.append(
                    Difference(
                        exec_id=exec_id,
                        account_id=account_id,
                        instrument=instrument,
                        ours=ours,
                        broker=item.realized_pnl,
                        line=item.line,
                    )
                )
    return report
