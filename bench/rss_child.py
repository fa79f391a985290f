"""Child process of the ``iterate`` workload: stream one account's trades, report peak RSS.

Run as ``python -m bench.rss_child`` with a JSON request on stdin; prints one JSON line.
A separate process keeps the measurement clean: nothing the parent built (a hundred
thousand entities, page caches of other journals) is in this process's memory.

Request: ``{"mode": "ours" | "raw", "path": ..., "account": ..., "passphrase": ...,
"key_literal": ...}`` (``passphrase`` for ours, ``key_literal`` for raw).
"""

from __future__ import annotations

import json
import sys
import time
from itertools import islice
from typing import Any

from bench.baselines import RAW_ITER_SQL, open_raw
from bench.measure import PeakRss

WARM_UP_ROWS = 2_000
RAW_FETCH = 1_000


def _ours(request: dict[str, Any]) -> dict[str, Any]:
    from zorivest_infra.journal import Journal

    journal = Journal.open(request["path"], request["passphrase"])
    try:
        account = request["account"]
        # Warm-up: imports, mapper and statement compilation, the first connection.
        with journal.unit_of_work() as uow:
            for _ in islice(uow.trades.iter_for_account(account), WARM_UP_ROWS):
                pass
        with PeakRss() as peak:
            start = time.perf_counter()
            count = 0
            with journal.unit_of_work() as uow:
                for _ in uow.trades.iter_for_account(account):
                    count += 1
            seconds = time.perf_counter() - start
    finally:
        journal.close()
    return _result(count, seconds, peak)


def _raw(request: dict[str, Any]) -> dict[str, Any]:
    conn = open_raw(request["path"], request["key_literal"])
    try:
        account = request["account"]
        conn.execute(RAW_ITER_SQL, (account,)).fetchmany(WARM_UP_ROWS)
        with PeakRss() as peak:
            start = time.perf_counter()
            count = 0
            conn.execute("BEGIN")
            cursor = conn.execute(RAW_ITER_SQL, (account,))
            while rows := cursor.fetchmany(RAW_FETCH):
                count += len(rows)
            conn.execute("COMMIT")
            seconds = time.perf_counter() - start
    finally:
        conn.close()
    return _result(count, seconds, peak)


def _result(count: int, seconds: float, peak: PeakRss) -> dict[str, Any]:
    return {
        "rows": count,
        "seconds": seconds,
        "start_rss": peak.start_rss,
        "peak_rss": peak.peak_rss,
        "growth": peak.growth,
        "method": peak.method,
    }


def main() -> None:
    request = json.loads(sys.stdin.read())
    result = _ours(request) if request["mode"] == "ours" else _raw(request)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
