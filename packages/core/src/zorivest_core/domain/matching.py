"""FIFO matching of one position's executions into round trips (pure, standard library only).

A round trip is one position's life from flat to flat. The executions of ONE (account,
instrument) pair are read in time order (ties broken by exec_id):

* the first execution while flat opens a round trip; its action is the direction (BOT long,
  SLD short);
* an execution on the same side adds a lot (scale in);
* an execution on the other side closes lots first in, first out (scale out). When it is
  larger than the open position it flips through zero: the part that closes ends the round
  trip, the rest opens the next one, and its commission is split pro rata by quantity;
* a position still open at the end is an open round trip.

Money, per closing execution, is computed like a broker's FIFO realized P&L (IBKR's
``fifoPnlRealized``): proceeds of the closed quantity minus the basis of the lots it closed,
where a lot's basis includes its opening commission (shared pro rata by quantity when a lot
is closed in parts), minus the closing execution's own commission. Amounts are multiplied by
the instrument's multiplier (1 when unknown; 100 for most equity options).

A closed round trip's ``realized_pnl`` is therefore its gross P&L minus every commission it
paid (``gross = realized_pnl + total_commission``). An open round trip's ``realized_pnl`` is
the FIFO-realized part so far: the commissions of the lots still open stay in their basis,
so only for closed round trips does ``gross = realized_pnl + total_commission`` hold.

All arithmetic is exact Decimal arithmetic (an inexact step raises instead of rounding).
Values are rounded only where a stored column's scale demands it, always ROUND_HALF_EVEN:
average prices at the price scale (10 places), realized P&L and split commissions at the
money scale (6 places). A split commission's two parts always add up to the original.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import RoundTrip
from zorivest_core.domain.enums import RoundTripStatus, TradeAction

__all__ = [
    "Execution",
    "ExecutionPnl",
    "MatchResult",
    "PositionMatcher",
    "divide_rounded",
    "iter_round_trips",
    "match_executions",
]

ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)

# Wide enough for any product of stored values (18 significant digits each, times a
# multiplier); Inexact is trapped, so a result that would need rounding raises.
_EXACT: Final = decimal.Context(
    prec=80,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[
        decimal.Inexact,
        decimal.InvalidOperation,
        decimal.DivisionByZero,
        decimal.Overflow,
    ],
)
# Rounding to a column's scale, the one place a value may lose digits (never trapped).
_ROUNDING: Final = decimal.Context(prec=80, rounding=decimal.ROUND_HALF_EVEN)
_MONEY_STEP: Final = Decimal(1).scaleb(-v.MONEY_SCALE)


@dataclass(frozen=True, slots=True)
class Execution:
    """One fill as the matching engine sees it.

    time is aware UTC; quantity is positive (the action gives the side); commission is what
    was paid (a rebate is negative); multiplier is the instrument's contract size (1 for
    shares); currency is the execution's (None: the account's).
    """

    exec_id: str
    time: dt.datetime
    action: TradeAction
    quantity: Decimal
    price: Decimal
    commission: Decimal = ZERO
    multiplier: Decimal = ONE
    currency: str | None = None

    @property
    def key(self) -> tuple[dt.datetime, str]:
        """The matching order: time, then exec_id."""
        return (self.time, self.exec_id)


@dataclass(frozen=True, slots=True)
class ExecutionPnl:
    """The FIFO realized P&L of one closing execution (what a broker's statement reports).

    closed_quantity: how much of the execution closed lots (less than its quantity when it
        flipped the position). realized_pnl: net of the commissions of what was closed,
        rounded ROUND_HALF_EVEN at the money scale.
    """

    exec_id: str
    closed_quantity: Decimal
    realized_pnl: Decimal


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Round trips in the order they opened, and the closing executions' realized P&L."""

    round_trips: list[RoundTrip]
    executions: list[ExecutionPnl]


def divide_rounded(numerator: Decimal, denominator: Decimal, scale: int) -> Decimal:
    """``numerator / denominator`` rounded ROUND_HALF_EVEN to ``scale`` decimal places, exactly.

    Integer arithmetic on the values' exact ratios: no intermediate rounding at all.
    """
    top, top_scale = numerator.as_integer_ratio()
    bottom, bottom_scale = denominator.as_integer_ratio()
    if bottom == 0:
        raise ZeroDivisionError("division by zero")
    num = top * bottom_scale * 10**scale
    den = top_scale * bottom
    negative = (num < 0) != (den < 0)
    quotient, remainder = divmod(abs(num), abs(den))
    twice = 2 * remainder
    if twice > abs(den) or (twice == abs(den) and quotient % 2 == 1):
        quotient += 1
    if quotient == 0:
        return ZERO
    # Canonical form (see validation.canonical) built directly: no trailing zeros.
    while scale > 0 and quotient % 10 == 0:
        quotient //= 10
        scale -= 1
    while scale < 0:
        quotient *= 10
        scale += 1
    return Decimal(-quotient if negative else quotient).scaleb(-scale)


def _share(amount: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """The part of ``amount`` that belongs to ``part`` of ``whole`` (money scale)."""
    if part == whole:
        return amount
    return divide_rounded(amount * part, whole, v.MONEY_SCALE)


@dataclass(slots=True)
class _Lot:
    exec_id: str
    remaining: Decimal
    price: Decimal
    multiplier: Decimal
    commission: Decimal  # the opening commission not yet charged to a closing execution


@dataclass(slots=True)
class _Trip:
    direction: TradeAction
    opened_at: dt.datetime
    currency: str | None
    entry_ids: list[str] = field(default_factory=list)
    entry_quantity: Decimal = ZERO
    entry_notional: Decimal = ZERO
    exit_ids: list[str] = field(default_factory=list)
    exit_quantity: Decimal = ZERO
    exit_notional: Decimal = ZERO
    closed_at: dt.datetime | None = None
    commission: Decimal = ZERO
    realized: Decimal = ZERO  # exact; rounded once, when the round trip is built
    lots: deque[_Lot] = field(default_factory=deque)

    @property
    def open_quantity(self) -> Decimal:
        return self.entry_quantity - self.exit_quantity


class PositionMatcher:
    """Matches one (account, instrument) pair's executions, fed in order, in chunks or not.

    ``add`` returns the round trips closed by that execution (none, one, or — never more
    than one — when it flips); ``finish`` returns the open round trip, if any. Executions
    must come in (time, exec_id) order; one out of order raises ValidationError.
    """

    __slots__ = ("_account_id", "_instrument", "_keep", "_last_key", "_trip", "executions")

    def __init__(self, account_id: str, instrument: str, *, keep_executions: bool = True) -> None:
        self._account_id = account_id
        self._instrument = instrument
        self._trip: _Trip | None = None
        self._last_key: tuple[dt.datetime, str] | None = None
        self._keep = keep_executions
        self.executions: list[ExecutionPnl] = []
        """Realized P&L of each closing execution so far, in order (empty unless
        ``keep_executions``: a rebuild does not need them and would hold them all)."""

    def add(self, execution: Execution) -> list[RoundTrip]:
        """Apply one execution; the round trips it closed."""
        key = execution.key
        if self._last_key is not None and key <= self._last_key:
            raise v.fail(
                "exec_id",
                execution.exec_id,
                "executions must be matched in (time, exec_id) order without repeats",
            )
        if execution.quantity <= ZERO:
            raise v.fail("quantity", execution.quantity, "must be greater than 0")
        self._last_key = key
        with decimal.localcontext(_EXACT):
            return self._apply(execution)

    def feed(self, executions: Iterable[Execution]) -> list[RoundTrip]:
        """Apply several executions in order; the round trips they closed."""
        closed: list[RoundTrip] = []
        for execution in executions:
            closed.extend(self.add(execution))
        return closed

    def finish(self) -> RoundTrip | None:
        """The position still open after the last execution, as an open round trip."""
        if self._trip is None:
            return None
        with decimal.localcontext(_EXACT):
            return self._build(self._trip)

    def _apply(self, execution: Execution) -> list[RoundTrip]:
        trip = self._trip
        if trip is None:
            self._open(execution, execution.quantity, execution.commission)
            return []
        if execution.currency != trip.currency:
            # Amounts in two currencies are never added into one round trip.
            raise v.fail(
                "currency",
                execution.currency,
                f"execution {execution.exec_id!r} is in another currency than the position "
                f"it trades ({trip.currency or 'the account currency'})",
            )
        if execution.action == trip.direction:
            self._add_lot(trip, execution, execution.quantity, execution.commission)
            return []
        quantity = execution.quantity
        closing = min(quantity, trip.open_quantity)
        closing_commission = _share(execution.commission, closing, quantity)
        self._close(trip, execution, closing, closing_commission)
        if trip.lots:
            return []
        self._trip = None
        finished = [self._build(trip)]
        if closing < quantity:  # flipped through zero: the rest opens the next round trip
            self._open(execution, quantity - closing, execution.commission - closing_commission)
        return finished

    def _open(self, execution: Execution, quantity: Decimal, commission: Decimal) -> None:
        trip = _Trip(
            direction=execution.action, opened_at=execution.time, currency=execution.currency
        )
        self._add_lot(trip, execution, quantity, commission)
        self._trip = trip

    @staticmethod
    def _add_lot(trip: _Trip, execution: Execution, quantity: Decimal, commission: Decimal) -> None:
        trip.entry_ids.append(execution.exec_id)
        trip.entry_quantity += quantity
        trip.entry_notional += quantity * execution.price
        trip.commission += commission
        trip.lots.append(
            _Lot(execution.exec_id, quantity, execution.price, execution.multiplier, commission)
        )

    def _close(
        self, trip: _Trip, execution: Execution, quantity: Decimal, commission: Decimal
    ) -> None:
        sign = ONE if trip.direction == TradeAction.BOT else -ONE
        realized = -commission
        left = quantity
        while left > ZERO:
            lot = trip.lots[0]
            taken = min(left, lot.remaining)
            basis_commission = _share(lot.commission, taken, lot.remaining)
            proceeds = execution.price * taken * execution.multiplier
            basis = lot.price * taken * lot.multiplier
            realized += sign * (proceeds - basis) - basis_commission
            lot.remaining -= taken
            lot.commission -= basis_commission
            left -= taken
            if lot.remaining == ZERO:
                trip.lots.popleft()
        trip.exit_ids.append(execution.exec_id)
        trip.exit_quantity += quantity
        trip.exit_notional += quantity * execution.price
        trip.commission += commission
        trip.realized += realized
        trip.closed_at = execution.time
        if self._keep:
            self.executions.append(
                ExecutionPnl(
                    exec_id=execution.exec_id,
                    closed_quantity=quantity,
                    realized_pnl=_money(realized),
                )
            )

    def _build(self, trip: _Trip) -> RoundTrip:
        closed = not trip.lots
        exits = trip.exit_quantity > ZERO
        closed_at = trip.closed_at if closed else None
        # Every value is derived from validated executions and already normalised
        # (canonical Decimals, aware UTC times), so the entity is restored without running
        # its validators again (a third of the matching time); the column types still
        # refuse a value out of their exact range when it is stored.
        return RoundTrip.restore(
            account_id=self._account_id,
            instrument=self._instrument,
            direction=TradeAction(trip.direction),
            entry_exec_ids=list(trip.entry_ids),
            entry_avg_price=divide_rounded(trip.entry_notional, trip.entry_quantity, v.PRICE_SCALE),
            total_quantity=v.canonical(trip.entry_quantity),
            opened_at=trip.opened_at,
            exit_exec_ids=list(trip.exit_ids) if exits else None,
            exit_avg_price=(
                divide_rounded(trip.exit_notional, trip.exit_quantity, v.PRICE_SCALE)
                if exits
                else None
            ),
            realized_pnl=_money(trip.realized),
            total_commission=v.canonical(trip.commission),
            closed_at=closed_at,
            status=RoundTripStatus.CLOSED if closed else RoundTripStatus.OPEN,
            holding_period_seconds=(
                None if closed_at is None else (closed_at - trip.opened_at) // _SECOND
            ),
            id=None,
            currency=trip.currency,
        )


_SECOND: Final = dt.timedelta(seconds=1)


def _money(value: Decimal) -> Decimal:
    return v.canonical(value.quantize(_MONEY_STEP, context=_ROUNDING))


def match_executions(
    account_id: str, instrument: str, executions: Iterable[Execution]
) -> MatchResult:
    """Match one pair's executions (any order: they are sorted by time, then exec_id).

    Raises:
        ValidationError: Two executions share an exec_id, or a quantity is not positive.
    """
    matcher = PositionMatcher(account_id, instrument)
    trips = matcher.feed(sorted(executions, key=_key))
    still_open = matcher.finish()
    if still_open is not None:
        trips.append(still_open)
    return MatchResult(round_trips=trips, executions=list(matcher.executions))


def _key(execution: Execution) -> tuple[dt.datetime, str]:
    return execution.key


def iter_round_trips(
    account_id: str, instrument: str, ordered: Iterable[Execution]
) -> Iterator[RoundTrip]:
    """Round trips of executions already in (time, exec_id) order, streamed as they close."""
    matcher = PositionMatcher(account_id, instrument, keep_executions=False)
    for execution in ordered:
        yield from matcher.add(execution)
    still_open = matcher.finish()
    if still_open is not None:
        yield still_open
