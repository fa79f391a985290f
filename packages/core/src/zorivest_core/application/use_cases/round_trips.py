"""Round trips kept current: recompute the pairs a change touched, or rebuild them all.

The stored round trips of an (account, instrument) pair are a function of that pair's
executions (see `zorivest_core.domain.matching`). Every write path that adds, changes or
removes executions calls `refresh_round_trips` with the pairs it touched, in the SAME unit
of work, before committing: the round trips then commit or roll back with the executions.
Recomputing is deterministic, so re-importing a file changes nothing.

Given the earliest time a change touched in a pair, only the tail of that pair's history is
recomputed: from the opening of the first round trip still open or closed at/after that
time (stepping back over round trips that closed exactly when the next opened, as a flip
does). Everything before that point was flat and is unchanged, so an import's cost grows
with what it touched, not with the journal.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from zorivest_core.application.ports import UnitOfWork
from zorivest_core.domain.entities import RoundTrip, Trade
from zorivest_core.domain.matching import Execution, PositionMatcher, iter_round_trips

__all__ = [
    "Pair",
    "RefreshSummary",
    "earliest_changes",
    "execution_of",
    "merge_changes",
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
    return Execution(
        exec_id=trade.exec_id,
        time=trade.time,
        action=trade.action,
        quantity=trade.quantity,
        price=trade.price,
        commission=trade.commission,
        multiplier=_ONE if trade.multiplier is None else trade.multiplier,
        currency=trade.currency,
    )


def pairs_of(trades: Iterable[Trade]) -> set[Pair]:
    """The (account_id, instrument) pairs of some trades."""
    return {(trade.account_id, trade.instrument) for trade in trades}


def earliest_changes(trades: Iterable[Trade]) -> dict[Pair, dt.datetime]:
    """For each pair of ``trades``, the earliest time among them (what a refresh needs)."""
    earliest: dict[Pair, dt.datetime] = {}
    for trade in trades:
        pair = (trade.account_id, trade.instrument)
        known = earliest.get(pair)
        if known is None or trade.time < known:
            earliest[pair] = trade.time
    return earliest


def merge_changes(
    into: dict[Pair, dt.datetime | None], more: Mapping[Pair, dt.datetime | None]
) -> None:
    """Add ``more`` to ``into``, keeping the earliest time per pair (None: whole history)."""
    for pair, moment in more.items():
        if pair not in into:
            into[pair] = moment
            continue
        known = into[pair]
        into[pair] = None if known is None or moment is None else min(known, moment)


def refresh_round_trips(
    uow: UnitOfWork, changes: Iterable[Pair] | Mapping[Pair, dt.datetime | None]
) -> RefreshSummary:
    """Recompute the round trips of the changed pairs only, inside the caller's unit of work.

    Args:
        uow: The unit of work that made the change; the caller commits.
        changes: The pairs to recompute whole, or a mapping from each pair to the earliest
            time any of its executions was added, changed (old and new time) or removed
            (None: the whole history).
    """
    earliest: dict[Pair, dt.datetime | None] = (
        dict(changes) if isinstance(changes, Mapping) else dict.fromkeys(changes)
    )
    if not earliest:
        return RefreshSummary(pairs=0, deleted=0, stored=0)
    whole = sorted(pair for pair, moment in earliest.items() if moment is None)
    deleted = uow.round_trips.delete_for_pairs(whole) if whole else 0
    starts: dict[Pair, dt.datetime | None] = dict.fromkeys(whole)
    for pair, moment in sorted(earliest.items()):
        if moment is None:
            continue
        start = _restart_point(uow, pair, moment)
        deleted += uow.round_trips.delete_for_pair_since(*pair, opened_since=start)
        starts[pair] = start

    def recomputed() -> Iterator[RoundTrip]:
        for (account_id, instrument), start in sorted(starts.items()):
            trades = uow.trades.iter_in_matching_order(
                account_id=account_id, instrument=instrument, since=start
            )
            yield from iter_round_trips(account_id, instrument, map(execution_of, trades))

    stored = uow.round_trips.save_many(recomputed())
    return RefreshSummary(pairs=len(starts), deleted=deleted, stored=stored)


def _restart_point(uow: UnitOfWork, pair: Pair, changed_at: dt.datetime) -> dt.datetime:
    """The time from which the pair's executions are replayed from a flat position.

    A round trip in progress at the start is replayed whole, so the start moves back to its
    opening; one closing exactly then (a flip, or a same-time close and reopen) too.
    """
    start = changed_at
    while True:
        opened = uow.round_trips.opened_before_and_spanning(*pair, moment=start)
        if opened is None:
            return start
        start = opened


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
            matcher = PositionMatcher(account_id, instrument, keep_executions=False)
            for trade in group:
                yield from matcher.add(execution_of(trade))
            still_open = matcher.finish()
            if still_open is not None:
                yield still_open

    stored = uow.round_trips.save_many(recomputed())
    return RefreshSummary(pairs=pairs, deleted=deleted, stored=stored)


def _pair(trade: Trade) -> Pair:
    return (trade.account_id, trade.instrument)
