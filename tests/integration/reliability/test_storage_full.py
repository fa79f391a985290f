"""Storage full: an encrypted journal whose page count is capped runs out of room.

`PRAGMA max_page_count` is per connection, so the cap is applied by a pool ``connect``
listener on `journal.engine` after the pool has been emptied. Writing then fails, every
transaction committed before stays intact, and once room is made (rows deleted, or the cap
raised) the journal keeps working and verifies clean.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from zorivest_core.domain.entities import Account, Trade
from zorivest_core.domain.enums import AccountType, TradeAction
from zorivest_core.domain.errors import StorageFullError
from zorivest_infra.journal import Journal

RecordProperty = Callable[[str, object], None]

ACCOUNT_ID = "FULL"
BATCH = 100
HEADROOM_PAGES = 30
MAX_ATTEMPTS = 200
SQLITE_FULL = 13
BASE_TIME = dt.datetime(2022, 2, 2, tzinfo=dt.UTC)


def _batch(number: int) -> list[Trade]:
    return [
        Trade(
            exec_id=f"F{number:05d}-{index:03d}",
            time=BASE_TIME + dt.timedelta(minutes=number * BATCH + index),
            instrument=f"INSTRUMENT-{index:03d}-" + "x" * 40,
            action=TradeAction.SLD,
            quantity=Decimal(index + 1),
            price=Decimal("99999999.9999999999"),
            account_id=ACCOUNT_ID,
            commission=Decimal("0.000001"),
        )
        for index in range(BATCH)
    ]


@dataclass
class PageCap:
    """A per-connection `max_page_count`, applied to every new pooled connection."""

    journal: Journal
    pages: int | None = None

    def set(self, pages: int | None) -> None:
        self.pages = pages
        # Connections already pooled keep their old cap: start from an empty pool.
        self.journal.engine.dispose()

    def on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        if self.pages is not None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {int(self.pages)}")


@pytest.fixture
def journal(tmp_path: Path, fast_kdf: None) -> Iterator[Journal]:
    with Journal.create(tmp_path / "full.db", "storage passphrase") as opened:
        with opened.unit_of_work() as uow:
            uow.accounts.save(Account(ACCOUNT_ID, "Full", AccountType.BROKER))
            uow.commit()
        yield opened


def _page_count(journal: Journal) -> int:
    with journal.engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())


def _capped(journal: Journal) -> PageCap:
    cap = PageCap(journal)
    event.listen(journal.engine, "connect", cap.on_connect)
    return cap


def _write_batch(journal: Journal, number: int) -> None:
    with journal.unit_of_work() as uow:
        uow.trades.save_many(_batch(number))
        uow.commit()


def _fill(journal: Journal, first: int) -> tuple[int, BaseException]:
    """Write batches until one fails; return the number written and the error."""
    for number in range(first, first + MAX_ATTEMPTS):
        try:
            _write_batch(journal, number)
        except Exception as error:
            return number, error
    raise AssertionError(f"{MAX_ATTEMPTS} batches fitted under the page cap")


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _driver_full(error: BaseException) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return (isinstance(code, int) and code & 0xFF == SQLITE_FULL) or (
        "database or disk is full" in str(error)
    )


def _count(journal: Journal) -> int:
    with journal.unit_of_work() as uow:
        return uow.trades.count()


def test_full_journal_keeps_committed_data_and_recovers(
    journal: Journal, record_property: RecordProperty
) -> None:
    for number in range(3):
        _write_batch(journal, number)
    cap = _capped(journal)
    cap.set(_page_count(journal) + HEADROOM_PAGES)
    with journal.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA max_page_count").scalar_one() == cap.pages

    written, error = _fill(journal, 3)
    # The page cap (SQLITE_FULL) surfaces as StorageFullError, chained to the driver error.
    assert isinstance(error, StorageFullError), repr(error)
    assert isinstance(error.__cause__, sa_exc.DBAPIError), repr(error.__cause__)
    assert _driver_full(error.__cause__.orig or error.__cause__)
    assert _count(journal) == written * BATCH, "a committed batch was lost, or a partial kept"
    report = journal.verify()
    assert report.ok, report.problems

    # Room made by deleting rows: the same cap now takes new writes again.
    with journal.unit_of_work() as uow:
        for number in range(2):
            for trade in _batch(number):
                uow.trades.delete(trade.exec_id)
        uow.commit()
    _write_batch(journal, written)
    assert _count(journal) == (written - 1) * BATCH

    # Room made by raising the cap: a large import fits.
    cap.set(None)
    for number in range(written + 1, written + 11):
        _write_batch(journal, number)
    assert _count(journal) == (written + 9) * BATCH
    report = journal.verify()
    assert report.ok, report.problems
    with journal.unit_of_work() as uow:
        assert uow.trades.get(_batch(2)[0].exec_id) == _batch(2)[0]
        assert uow.trades.get(_batch(0)[0].exec_id) is None
    print(
        f"storage full: batch {written + 1} hit the page cap and failed ({type(error).__name__})"
        f", the {written * BATCH} trades committed before stayed intact, writes worked again "
        "after deleting rows and after raising the cap, verify clean"
    )
    record_property("batches_before_full", written)


def test_storage_full_never_silently_drops_earlier_work_of_the_unit_of_work(
    journal: Journal,
) -> None:
    cap = _capped(journal)
    cap.set(_page_count(journal) + HEADROOM_PAGES)
    early = _batch(0)[0]
    with journal.unit_of_work() as uow:
        uow.trades.save(early)
        with pytest.raises(StorageFullError):
            uow.trades.save_many([t for n in range(1, 40) for t in _batch(n)])
        try:
            uow.commit()
        except StorageFullError:
            return  # refusing to commit a transaction that is gone is acceptable
    with journal.unit_of_work() as uow:
        assert uow.trades.get(early.exec_id) == early, "the earlier save was silently lost"
