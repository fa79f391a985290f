"""Child process of the ``rt_rebuild`` workload: rebuild round trips, report time and RSS.

Run as ``python -m bench.rt_child`` with a JSON request on stdin; prints one JSON line.
Request: ``{"mode": "ours_rebuild" | "raw_rebuild", "path": ..., "key_literal": ...,
"passphrase": ...}``. Both sides start from an empty round_trips table and commit; the raw
side deletes its rows again afterwards (untimed) so that ours starts the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections import deque
from typing import Any

from bench.baselines import open_raw
from bench.measure import PeakRss

_SELECT = (
    "SELECT account_id, instrument, time, exec_id, action, quantity, price, commission "
    "FROM trades ORDER BY account_id, instrument, time, exec_id"
)
_INSERT = (
    "INSERT INTO round_trips (account_id, instrument, direction, entry_exec_ids, "
    "exit_exec_ids, entry_avg_price, exit_avg_price, total_quantity, realized_pnl, "
    "total_commission, opened_at, closed_at, status, holding_period_seconds) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_TO_MONEY = 10**14  # quantity (1e10) x price (1e10) = 1e20; money is 1e6


def _divide_half_even(numerator: int, denominator: int) -> int:
    negative = (numerator < 0) != (denominator < 0)
    quotient, remainder = divmod(abs(numerator), abs(denominator))
    twice = 2 * remainder
    if twice > abs(denominator) or (twice == abs(denominator) and quotient % 2):
        quotient += 1
    return -quotient if negative else quotient


def _share(amount: int, part: int, whole: int) -> int:
    return amount if part == whole else _divide_half_even(amount * part, whole)


def _seconds(start: str, end: str) -> int:
    delta = dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)
    return delta // dt.timedelta(seconds=1)


class _Trip:
    __slots__ = (
        "closed_at",
        "commission",
        "direction",
        "entries",
        "entry_notional",
        "entry_qty",
        "exit_notional",
        "exit_qty",
        "exits",
        "lots",
        "opened_at",
        "realized",
    )

    def __init__(self, direction: str, opened_at: str) -> None:
        self.direction = direction
        self.opened_at = opened_at
        self.closed_at = ""
        self.entries: list[str] = []
        self.exits: list[str] = []
        self.entry_qty = self.entry_notional = self.exit_qty = self.exit_notional = 0
        self.commission = self.realized = 0
        self.lots: deque[list[int]] = deque()


def _row(account: str, instrument: str, trip: _Trip) -> tuple[Any, ...]:
    closed = not trip.lots
    return (
        account,
        instrument,
        trip.direction,
        json.dumps(trip.entries),
        json.dumps(trip.exits) if trip.exits else None,
        _divide_half_even(trip.entry_notional, trip.entry_qty),
        _divide_half_even(trip.exit_notional, trip.exit_qty) if trip.exit_qty else None,
        trip.entry_qty,
        _divide_half_even(trip.realized, _TO_MONEY),
        trip.commission,
        trip.opened_at,
        trip.closed_at if closed else None,
        "closed" if closed else "open",
        _seconds(trip.opened_at, trip.closed_at) if closed else None,
    )


def _raw_fifo(conn: Any) -> int:
    """Minimal FIFO over the fetched tuples; inserts the rows; returns how many."""
    out: list[tuple[Any, ...]] = []
    stored = 0
    pair: tuple[str, str] | None = None
    trip: _Trip | None = None

    def add_lot(trip: _Trip, exec_id: str, qty: int, price: int, commission: int) -> None:
        trip.entries.append(exec_id)
        trip.entry_qty += qty
        trip.entry_notional += qty * price
        trip.commission += commission
        trip.lots.append([qty, price, commission])

    cursor = conn.execute(_SELECT)
    while rows := cursor.fetchmany(5000):
        for account, instrument, time_text, exec_id, action, qty, price, commission in rows:
            if (account, instrument) != pair:
                if trip is not None and pair is not None:
                    out.append(_row(*pair, trip))
                pair, trip = (account, instrument), None
            if trip is None:
                trip = _Trip(action, time_text)
                add_lot(trip, exec_id, qty, price, commission)
            elif action == trip.direction:
                add_lot(trip, exec_id, qty, price, commission)
            else:
                open_qty = trip.entry_qty - trip.exit_qty
                closing = min(qty, open_qty)
                closing_commission = _share(commission, closing, qty)
                sign = 1 if trip.direction == "BOT" else -1
                realized = -closing_commission * _TO_MONEY
                left = closing
                while left:
                    lot = trip.lots[0]
                    taken = min(left, lot[0])
                    lot_commission = _share(lot[2], taken, lot[0])
                    realized += sign * (price - lot[1]) * taken - lot_commission * _TO_MONEY
                    lot[0] -= taken
                    lot[2] -= lot_commission
                    left -= taken
                    if not lot[0]:
                        trip.lots.popleft()
                trip.exits.append(exec_id)
                trip.exit_qty += closing
                trip.exit_notional += closing * price
                trip.commission += closing_commission
                trip.realized += realized
                trip.closed_at = time_text
                if not trip.lots:
                    out.append(_row(account, instrument, trip))
                    trip = None
                    if closing < qty:
                        trip = _Trip(action, time_text)
                        add_lot(
                            trip, exec_id, qty - closing, price, commission - closing_commission
                        )
            if len(out) >= 1000:
                conn.executemany(_INSERT, out)
                stored += len(out)
                out.clear()
    if trip is not None and pair is not None:
        out.append(_row(*pair, trip))
    conn.executemany(_INSERT, out)
    return stored + len(out)


def _totals(conn: Any) -> tuple[int, str]:
    count, net = conn.execute("SELECT COUNT(*), SUM(realized_pnl) FROM round_trips").fetchone()
    return int(count), str(net)


def _raw(request: dict[str, Any]) -> dict[str, Any]:
    conn = open_raw(request["path"], request["key_literal"])
    try:
        conn.execute("SELECT COUNT(*) FROM trades").fetchone()
        with PeakRss() as peak:
            start = time.perf_counter()
            conn.execute("BEGIN")
            conn.execute("DELETE FROM round_trips")
            stored = _raw_fifo(conn)
            conn.execute("COMMIT")
            seconds = time.perf_counter() - start
        count, net = _totals(conn)
        conn.execute("DELETE FROM round_trips")
    finally:
        conn.close()
    if count != stored:
        raise RuntimeError(f"raw stored {stored} but {count} rows are there")
    return _result(count, net, seconds, peak)


def _ours(request: dict[str, Any]) -> dict[str, Any]:
    from zorivest_core.application.use_cases.round_trips import rebuild_all
    from zorivest_infra.journal import Journal

    journal = Journal.open(request["path"], request["passphrase"])
    try:
        with journal.unit_of_work(read_only=True) as uow:  # warm-up: connection, mappers
            uow.round_trips.count()
        with PeakRss() as peak:
            start = time.perf_counter()
            with journal.unit_of_work() as uow:
                summary = rebuild_all(uow)
                uow.commit()
            seconds = time.perf_counter() - start
        raw = journal.engine.raw_connection()
        try:
            count, net = _totals(raw)
        finally:
            raw.close()
    finally:
        journal.close()
    if count != summary.stored:
        raise RuntimeError(f"ours stored {summary.stored} but {count} rows are there")
    return _result(count, net, seconds, peak)


def _result(count: int, net: str, seconds: float, peak: PeakRss) -> dict[str, Any]:
    return {
        "stored": count,
        "net": net,
        "seconds": seconds,
        "growth": peak.growth,
        "start_rss": peak.start_rss,
        "method": peak.method,
    }


def main() -> None:
    request = json.loads(sys.stdin.read())
    result = _ours(request) if request["mode"] == "ours_rebuild" else _raw(request)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
