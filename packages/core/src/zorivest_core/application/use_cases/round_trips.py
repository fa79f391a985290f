"""Round trips kept current: recompute the pairs a change touched, or rebuild them all.

The stored round trips of an (account, instrument) pair are a function of that pair's
executions (see `zorivest_core.domain.matching`). Every write path that adds, changes or
removes executions calls `refresh_round_trips` with the pairs it touched, in the SAME unit
of work, before committing: the round trips then commit or roll back with the executions.
Recomputing is deterministic, so re-importing a file changes nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from zorivest_core.application.ports import UnitOfWork
from zorivest_core.domain.entities import RoundTrip, Trade
from zorivest_core.domain.matching import Execution, PositionMatcher, iter_round_trips

__all__ = [
    "Pair",
    "RefreshSummary",
    "execution_of",
    "pairs_of",
    "rebuild_all",
    "refresh_round_trips",
]

Pair = tuple[str, str]
"""(account_id, instrument)"""

_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class RefreshSummary:
    """What a refresh or rebuild did: pairs recomputed, round trips removed and stored."""

    pairs: int
    deleted: int
    stored: int


def execution_of(trade: Trade) -> Execution:
    """The matching engine's view of a stored trade (multiplier 1 when unknown)."""
    multiplier = getattr(trade, "multiplier", None)
    return Execution(
        exec_id=trade.exec_id,
        time=trade.time,
        action=trade.action,
        quantity=trade.quantity,
        price=trade.price,
        commission=trade.commission,
        multiplier=_ONE if multiplier is None else multiplier,
    )


def pairs_of(trades: Iterable[Trade]) -> set[Pair]:
    """The (account_id, instrument) pairs of some trades."""
    return {(trade.account_id, trade.instrument) for trade in trades}


def refresh_round_trips(uow: UnitOfWork, pairs: Iterable[Pair]) -> RefreshSummary:
    """Recompute the round trips of ``pairs`` only, inside the caller's unit of work.

    The caller commits. A pair without executions any more simply loses its round trips.
    """
    wanted = sorted(set(pairs))
    if not wanted:
        return RefreshSummary(pairs=0, deleted=0, stored=0)
    deleted = uow.round_trips.delete_for_pairs(wanted)

    def recomputed() -> Iterator[RoundTrip]:
        for account_id, instrument in wanted:
            trades = uow.trades.iter_in_matching_order(account_id=account_id, instrument=instrument)
            yield from iter_round_trips(account_id, instrument, map(execution_of, trades))

    stored = uow.round_trips.save_many(recomputed())
    return RefreshSummary(pairs=len(wanted), deleted=deleted, stored=stored)


def rebuild_all(uow: UnitOfWork) -> RefreshSummary:
    """Delete every round trip and recompute them all from the stored executions.

    Streams the executions in matching order (bounded memory); the caller commits.
    Round trips entered by hand are replaced too: they are derived data.
    """
    deleted = uow.round_trips.delete_all()
    pairs = 0

    def recomputed() -> Iterator[RoundTrip]:
        nonlocal pairs
        trades = uow.trades.iter_in_matching_order()
        for (account_id, instrument), group in itertools.groupby(trades, key=_pair):
            pairs += 1
            matcher = PositionMatcher(account_id, instrument)
            for trade in group:
                yield from matcher.add(execution_of(trade))
            still_open = matcher.finish()
            if still_open is not None:
                yield still_open

    stored = uow.round_trips.save_many(recomputed())
    return RefreshSummary(pairs=pairs, deleted=deleted, stored=stored)


def _pair(trade: Trade) -> Pair:
    return (trade.account_id, trade.instrument)
