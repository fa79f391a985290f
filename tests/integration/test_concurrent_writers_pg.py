"""Concurrent writers on PostgreSQL: upserts and idempotent imports never race to an error.

PostgreSQL runs READ COMMITTED, so a check-then-insert lets two transactions both see a
key as new; the second INSERT then waits on the unique index and fails once the first
commits. SQLite serialises writers, so these tests are PostgreSQL only (skipped without
ZORIVEST_TEST_PG_URL).

Each test is deterministic: session A does the write and keeps its transaction open;
session B, in a thread, does the same write on the same key, and the test waits until
PostgreSQL reports B waiting on a lock (A's uncommitted row) before A commits. B then
finishes and commits, and its result is checked exactly.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TypeVar

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tests.factories import BASE_TIME, make_trade
from tests.integration.contract._rows import add_account
from zorivest_core.application.ports import BankImportResult, SaveManyResult
from zorivest_core.domain.bank import compute_dedup_hash
from zorivest_core.domain.entities import BankTransaction, IdentifierMapping
from zorivest_core.domain.enums import BalanceSource, IdentifierType
from zorivest_infra.database.repositories.bank import SqlAlchemyBankTransactionRepository
from zorivest_infra.database.repositories.identifiers import SqlAlchemyIdentifierRepository
from zorivest_infra.database.repositories.mcp_guard import SqlAlchemyMcpGuardRepository
from zorivest_infra.database.repositories.settings import SqlAlchemySettingsRepository
from zorivest_infra.database.repositories.trades import SqlAlchemyTradeRepository

pytestmark = pytest.mark.parametrize("backend_engine", ["postgresql"], indirect=True)

A = TypeVar("A")
B = TypeVar("B")
WAIT_SECONDS = 10.0


def _wait_until_blocked(engine: Engine, pid: int, done: Callable[[], bool]) -> None:
    """Return once backend `pid` waits on a lock; fail if it finished or never waits."""
    deadline = time.monotonic() + WAIT_SECONDS
    with engine.connect() as probe:
        while time.monotonic() < deadline:
            waiting = probe.execute(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": pid},
            ).scalar_one_or_none()
            probe.rollback()
            if waiting == "Lock":
                return
            assert not done(), "the second writer finished without waiting for the first"
            time.sleep(0.01)
    pytest.fail("the second writer never waited on the first one's lock")


def race(
    engine: Engine, first: Callable[[Session], A], second: Callable[[Session], B]
) -> tuple[A, B]:
    """Run `first` in session A (uncommitted), then `second` in session B, blocked on A."""
    with Session(engine) as session_a, Session(engine) as session_b:
        result_a = first(session_a)
        pid = int(session_b.execute(text("SELECT pg_backend_pid()")).scalar_one())

        def run_b() -> B:
            result = second(session_b)
            session_b.commit()
            return result

        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(run_b)
            try:
                _wait_until_blocked(engine, pid, future.done)
            finally:
                session_a.commit()
            result_b = future.result(timeout=WAIT_SECONDS)
    return result_a, result_b


def test_settings_set_same_new_key(backend_engine: Engine) -> None:
    first, second = race(
        backend_engine,
        lambda s: SqlAlchemySettingsRepository(s).set("ui.custom.color", "red"),
        lambda s: SqlAlchemySettingsRepository(s).set("ui.custom.color", "blue"),
    )
    assert (first.value, second.value) == ("red", "blue")
    with Session(backend_engine) as session:
        assert SqlAlchemySettingsRepository(session).resolve("ui.custom.color") == "blue"
        count = session.execute(
            text("SELECT count(*) FROM settings WHERE key = 'ui.custom.color'")
        ).scalar_one()
        assert count == 1


def _mapping(ticker: str) -> IdentifierMapping:
    return IdentifierMapping(
        id_type=IdentifierType.CUSIP,
        id_value="037833100",
        ticker=ticker,
        source="openfigi",
        resolved_at=BASE_TIME,
    )


def test_identifier_upsert_same_new_pair(backend_engine: Engine) -> None:
    first, second = race(
        backend_engine,
        lambda s: SqlAlchemyIdentifierRepository(s).upsert(_mapping("AAPL")),
        lambda s: SqlAlchemyIdentifierRepository(s).upsert(_mapping("AAPL.US")),
    )
    assert first == second
    with Session(backend_engine) as session:
        repo = SqlAlchemyIdentifierRepository(session)
        assert repo.count() == 1
        stored = repo.get(first)
        assert stored is not None
        assert stored.ticker == "AAPL.US"


def _line(description: str, day: int) -> BankTransaction:
    amount = "-4.50"
    return BankTransaction(
        account_id="BANK1",
        date=dt.datetime(2024, 3, day, tzinfo=dt.UTC),
        description=description,
        amount=Decimal(amount),
        dedup_hash=compute_dedup_hash("BANK1", dt.date(2024, 3, day), amount, description),
        source=BalanceSource.CSV_IMPORT,
        created_at=BASE_TIME,
    )


def test_bank_import_same_new_lines(backend_engine: Engine) -> None:
    with Session(backend_engine) as session:
        add_account(session, "BANK1")
        session.commit()
    statement = [_line("COFFEE", 1), _line("RENT", 2)]
    second_statement = [*statement, _line("BOOKS", 3)]
    first, second = race(
        backend_engine,
        lambda s: SqlAlchemyBankTransactionRepository(s).import_batch(
            statement, import_batch_id="a"
        ),
        lambda s: SqlAlchemyBankTransactionRepository(s).import_batch(
            second_statement, import_batch_id="b"
        ),
    )
    assert first == BankImportResult(inserted=2, duplicates=0)
    assert second == BankImportResult(inserted=1, duplicates=2)
    with Session(backend_engine) as session:
        repo = SqlAlchemyBankTransactionRepository(session)
        assert [t.description for t in repo.list_for_batch("a")] == ["COFFEE", "RENT"]
        assert [t.description for t in repo.list_for_batch("b")] == ["BOOKS"]


def test_trades_save_many_same_new_exec_ids(backend_engine: Engine) -> None:
    with Session(backend_engine) as session:
        add_account(session, "ACC1")
        session.commit()
    same = make_trade("T1")
    changed = make_trade("T2", price=Decimal("200"))
    mine = [make_trade("T2"), same, make_trade("T0")]
    theirs = [same, changed, make_trade("T3"), same, changed, make_trade("T3")]
    first, second = race(
        backend_engine,
        lambda s: SqlAlchemyTradeRepository(s).save_many(mine),
        lambda s: SqlAlchemyTradeRepository(s).save_many(theirs),
    )
    assert first == SaveManyResult(inserted=["T2", "T1", "T0"], duplicates=[], conflicts=[])
    assert second == SaveManyResult(
        inserted=["T3"], duplicates=["T1", "T1", "T3"], conflicts=["T2", "T2"]
    )
    with Session(backend_engine) as session:
        repo = SqlAlchemyTradeRepository(session)
        assert repo.count() == 4
        assert repo.get("T2") == make_trade("T2")  # the first writer's row, not overwritten


def test_mcp_guard_lock_keeps_first_reason(backend_engine: Engine) -> None:
    with Session(backend_engine) as session:
        SqlAlchemyMcpGuardRepository(session).get()
        session.commit()
    first, second = race(
        backend_engine,
        lambda s: SqlAlchemyMcpGuardRepository(s).lock("first"),
        lambda s: SqlAlchemyMcpGuardRepository(s).lock("second"),
    )
    assert first.is_locked
    assert first.lock_reason == "first"
    assert second == first  # B's lock changed nothing: A's reason and time stay
