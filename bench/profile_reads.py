"""``python -m bench.profile_reads``: where a trade lookup and a listing spend their time.

Builds a 10,000-trade journal in a temporary directory, then prints, for ``trades.get``
and the newest-100 listing: the time per call of ours and of the raw driver doing the
same SELECT, the time of the parts measured alone (the unit of work's transaction, the
driver fetch, decoding and restoring the entities), and the cProfile functions with the
most time of their own. docs/performance.md quotes its output.
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import data
from bench.baselines import RAW_GET_SQL, RAW_LIST_SQL
from bench.workloads import PASSPHRASE
from zorivest_core.domain.entities import Account
from zorivest_core.domain.enums import AccountType
from zorivest_infra.database.repositories import trades as trade_rows
from zorivest_infra.journal import Journal

TRADES = 10_000
GETS = 2_000
LISTINGS = 200


def _best(repeats: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def _profile(title: str, work: Callable[[], object]) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    work()
    profiler.disable()
    print(f"\n-- {title}: functions by own time (cProfile inflates small calls) --")
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(12)


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        journal = Journal.create(Path(directory) / "profile.db", PASSPHRASE)
        try:
            _run(journal)
        finally:
            journal.close()


def _run(journal: Journal) -> None:
    series = data.TradeSeries("U1000001", "P")
    with journal.unit_of_work() as uow:
        uow.accounts.save(
            Account(account_id="U1000001", name="main", account_type=AccountType.BROKER)
        )
        uow.trades.save_many(data.trades(series, 0, TRADES))
        uow.commit()
    exec_ids = [series.exec_id(i) for i in range(0, TRADES, TRADES // GETS)]
    gc.collect()
    gc.freeze()

    def gets() -> None:
        with journal.unit_of_work() as uow:
            for exec_id in exec_ids:
                uow.trades.get(exec_id)

    def listings() -> None:
        for _ in range(LISTINGS):
            with journal.unit_of_work(read_only=True) as uow:  # as `zorivest trades`
                uow.trades.list_for_account("U1000001", limit=100)

    # Read-only (a deferred transaction), so the units of work timed inside can begin theirs.
    with journal.unit_of_work(read_only=True) as uow:
        connection: Any = uow.trades._connection()
        driver = connection.connection.driver_connection
        page = trade_rows._PAGES[False, False, False]
        compiled = page._compiled(connection.dialect)
        parameters = compiled.statement.parameters({"account_id": "U1000001", "limit": 100})
        fetched = driver.execute(compiled.statement.sql, parameters).fetchall()
        parts = {
            "raw get (driver execute + fetchone)": _best(
                5, lambda: [driver.execute(RAW_GET_SQL, (e,)).fetchone() for e in exec_ids]
            )
            / GETS,
            "ours get (in one unit of work)": _best(5, gets) / GETS,
            "raw newest 100": _best(
                50, lambda: driver.execute(RAW_LIST_SQL, ("U1000001", 100)).fetchall()
            ),
            "ours newest 100 (unit of work + list)": _best(5, listings) / LISTINGS,
            "  a unit of work's transaction alone": _best(5, lambda: _transactions(journal))
            / LISTINGS,
            "  list_for_account alone": _best(
                50, lambda: uow.trades.list_for_account("U1000001", limit=100)
            ),
            "  decode + restore 100 entities": _best(
                50, lambda: trade_rows.trades_from_columns(*compiled.decode_columns(fetched))
            ),
        }
    for name, seconds in parts.items():
        print(f"{name:45s} {seconds * 1e6:9.1f} us")
    _profile(f"{GETS} gets", gets)
    _profile(f"{LISTINGS} newest-100 listings", listings)


def _transactions(journal: Journal) -> None:
    for _ in range(LISTINGS):
        with journal.unit_of_work(read_only=True) as uow:
            uow.trades._connection()  # begins it, as the first read does


if __name__ == "__main__":
    main()
