"""Concurrency: four readers and one writer on one encrypted journal, for a few seconds.

Each thread uses its own unit of work on the same `Journal` (one engine, pooled SQLCipher
connections). The writer commits batches of 50 trades; every reader, inside ONE unit of
work, counts the trades, sums them in SQL and reads every row back, and checks that all
three agree (one snapshot), that it only ever sees whole batches, and that what it sees
never goes backwards. No error may surface in any thread.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from zorivest_core.domain.entities import Account, Trade
from zorivest_core.domain.enums import AccountType, TradeAction
from zorivest_infra.journal import Journal

RecordProperty = Callable[[str, object], None]

READERS = 4
BATCH = 50
DURATION_S = 3.0
ACCOUNT_ID = "CONC"
PASSPHRASE = "concurrency passphrase"
COMMISSION = Decimal("0.125")
PNL = Decimal("-3.000001")
BASE_TIME = dt.datetime(2023, 6, 1, 13, 30, tzinfo=dt.UTC)


def _batch(number: int) -> list[Trade]:
    return [
        Trade(
            exec_id=f"C{number:06d}-{index:02d}",
            time=BASE_TIME + dt.timedelta(seconds=number * BATCH + index),
            instrument="MSFT",
            action=TradeAction.BOT,
            quantity=Decimal("0.0000000001") * (index + 1),
            price=Decimal("412.5"),
            account_id=ACCOUNT_ID,
            commission=COMMISSION,
            realized_pnl=PNL,
        )
        for index in range(BATCH)
    ]


@dataclass
class ReaderStats:
    snapshots: int = 0
    rows_read: int = 0
    rows_counted: int = 0
    seen: list[int] = field(default_factory=list)


def _write(journal: Journal, stop: threading.Event, commits: list[int]) -> None:
    number = 0
    while not stop.is_set():
        trades = _batch(number)
        with journal.unit_of_work() as uow:
            uow.trades.save_many(trades)
            uow.commit()
        number += 1
        commits.append(number)


def _read(journal: Journal, stop: threading.Event, stats: ReaderStats) -> None:
    last = 0
    while not stop.is_set():
        with journal.unit_of_work(read_only=True) as uow:
            count = uow.trades.count()
            totals = uow.trades.totals(ACCOUNT_ID)
            rows = list(uow.trades.iter_for_account(ACCOUNT_ID, batch_size=1000))
            again = uow.trades.count()
        assert count % BATCH == 0, f"saw {count} trades: part of a batch"
        assert count >= last, f"went backwards: {last} then {count}"
        assert again == count == totals.count == len(rows), (count, again, totals, len(rows))
        assert totals.commission == COMMISSION * count
        assert totals.realized_pnl == PNL * count
        assert sum((trade.commission for trade in rows), Decimal(0)) == totals.commission
        per_batch: dict[str, int] = {}
        for trade in rows:
            prefix = trade.exec_id.split("-")[0]
            per_batch[prefix] = per_batch.get(prefix, 0) + 1
        assert set(per_batch.values()) <= {BATCH}, "a batch was seen partially"
        last = count
        stats.snapshots += 1
        stats.rows_read += len(rows)
        stats.rows_counted += count
        stats.seen.append(count)


def _guarded(
    target: Callable[..., None], errors: list[BaseException], stop: threading.Event
) -> Callable[..., None]:
    def run(*args: object) -> None:
        try:
            target(*args)
        except BaseException as error:
            errors.append(error)
            stop.set()

    return run


@pytest.mark.parametrize(
    "readers", [READERS], ids=lambda n: f"{n}readers-1writer-{DURATION_S:.0f}s"
)
def test_readers_see_only_whole_committed_batches(
    tmp_path: Path,
    fast_kdf: None,
    readers: int,
    record_property: RecordProperty,
) -> None:
    path = tmp_path / "concurrent.db"
    journal = Journal.create(path, PASSPHRASE)
    with journal:
        with journal.unit_of_work() as uow:
            uow.accounts.save(Account(ACCOUNT_ID, "Concurrent", AccountType.BROKER))
            uow.commit()
        stop = threading.Event()
        errors: list[BaseException] = []
        commits: list[int] = []
        stats = [ReaderStats() for _ in range(readers)]
        threads = [
            threading.Thread(
                target=_guarded(_write, errors, stop), args=(journal, stop, commits), name="writer"
            )
        ] + [
            threading.Thread(
                target=_guarded(_read, errors, stop),
                args=(journal, stop, stat),
                name=f"reader-{index}",
            )
            for index, stat in enumerate(stats)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        stop.wait(DURATION_S)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
            assert not thread.is_alive(), f"{thread.name} did not stop"
        elapsed = time.monotonic() - started
        if errors:
            raise errors[0]

        with journal.unit_of_work() as uow:
            final = uow.trades.count()
        assert final == len(commits) * BATCH
    with Journal.open(path, PASSPHRASE) as reopened:
        report = reopened.verify()
        assert report.ok, report.problems
        with reopened.unit_of_work() as uow:
            assert uow.trades.count() == final

    rows_read = sum(stat.rows_read for stat in stats)
    snapshots = sum(stat.snapshots for stat in stats)
    summary = (
        f"concurrency: {readers} readers + 1 writer for {elapsed:.1f}s on one encrypted "
        f"journal: {len(commits)} batches ({final} trades) committed, {snapshots} reader "
        f"snapshots, {rows_read} rows read back concurrently "
        f"({sum(stat.rows_counted for stat in stats)} counted), 0 errors"
    )
    print(summary)
    record_property("batches_committed", len(commits))
    record_property("reader_snapshots", snapshots)
    record_property("rows_read_concurrently", rows_read)
    assert len(commits) >= 10, summary
    for stat in stats:
        assert stat.snapshots >= 3, summary
        # Readers saw the journal grow while they read, not one frozen state.
        assert len(set(stat.seen)) >= 2, summary
