"""The unit of work: commit, rollback, misuse, error translation and threads.

Most tests run on every backend (`session_factory` is parametrised); the concurrency test
needs real connections per thread, so it runs on the encrypted file.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_type_hints

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool, StaticPool

from tests.factories import make_account, make_trade
from tests.fakes import FakeUnitOfWork
from zorivest_core.application.ports import UnitOfWork
from zorivest_core.domain.entities import Trade
from zorivest_core.domain.errors import ConflictError, DuplicateError, StorageFullError
from zorivest_infra.database.models import Base
from zorivest_infra.database.repositories import SqlAlchemyTradeRepository
from zorivest_infra.database.unit_of_work import (
    REPOSITORY_ATTRIBUTES,
    SqlAlchemyUnitOfWork,
    TransactionLostError,
    UnitOfWorkError,
    make_session_factory,
)


class BoomError(Exception):
    pass


@pytest.fixture
def uow(session_factory: sessionmaker[Session]) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(session_factory)


def stored_trades(session_factory: sessionmaker[Session]) -> list[str]:
    with session_factory() as fresh:
        return list(fresh.scalars(text("SELECT exec_id FROM trades ORDER BY exec_id")))


def with_account(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.accounts.save(make_account())
        uow.commit()


def _parameters(function: Any) -> list[tuple[str, Any, Any]]:
    """Name, kind and default of each parameter (types are mypy's business)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def _protocol_methods(protocol: type) -> list[str]:
    return sorted(
        name
        for name, member in vars(protocol).items()
        if callable(member) and not name.startswith("_")
    )


@pytest.mark.parametrize("make", [FakeUnitOfWork, None], ids=["fake", "sqlalchemy"])
def test_every_repository_of_the_port_is_bound_and_conforms(make: Any) -> None:
    ports = get_type_hints(UnitOfWork)
    assert tuple(ports) == REPOSITORY_ATTRIBUTES
    assert len(REPOSITORY_ATTRIBUTES) == 20
    engine = create_engine("sqlite://", poolclass=StaticPool)
    unit: UnitOfWork = make() if make is not None else SqlAlchemyUnitOfWork(sessionmaker(engine))
    with unit:
        for attribute, protocol in ports.items():
            repository = getattr(unit, attribute)
            for method in _protocol_methods(protocol):
                implemented = getattr(repository, method, None)
                assert callable(implemented), f"{attribute}.{method} is missing"
                expected = _parameters(getattr(protocol, method))[1:]  # without self
                given = _parameters(implemented)
                # An implementation may offer more, but only as optional extras at the end.
                assert given[: len(expected)] == expected, f"{attribute}.{method}"
                extras = given[len(expected) :]
                assert all(default is not inspect.Parameter.empty for *_, default in extras)
    engine.dispose()


def test_commit_persists(uow: SqlAlchemyUnitOfWork, session_factory: sessionmaker[Session]) -> None:
    with uow:
        uow.accounts.save(make_account())
        uow.trades.save(make_trade("T1"))
        uow.commit()
    assert stored_trades(session_factory) == ["T1"]


def test_leaving_without_commit_rolls_back(
    uow: SqlAlchemyUnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    with_account(uow)
    with uow:
        uow.trades.save(make_trade("T1"))
    assert stored_trades(session_factory) == []


def test_an_exception_rolls_back_and_propagates(
    uow: SqlAlchemyUnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    with_account(uow)
    error = BoomError("stop")

    def save_then_fail() -> None:
        with uow:
            uow.trades.save(make_trade("T1"))
            raise error

    with pytest.raises(BoomError) as caught:
        save_then_fail()
    assert caught.value is error
    assert stored_trades(session_factory) == []


def test_work_after_a_commit_needs_another_commit(
    uow: SqlAlchemyUnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    with uow:
        uow.accounts.save(make_account())
        uow.trades.save(make_trade("KEPT"))
        uow.commit()
        uow.trades.save(make_trade("DROPPED"))
    assert stored_trades(session_factory) == ["KEPT"]


def test_rollback_discards_and_the_block_goes_on(
    uow: SqlAlchemyUnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    with_account(uow)
    with uow:
        uow.trades.save(make_trade("DISCARDED"))
        uow.rollback()
        uow.trades.save(make_trade("KEPT"))
        uow.commit()
    assert stored_trades(session_factory) == ["KEPT"]


def test_repositories_refuse_use_after_the_block(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        kept = uow.trades
        active_inside = uow.active
    assert active_inside
    assert not uow.active
    with pytest.raises(UnitOfWorkError, match="ended"):
        uow.trades.get("T1")
    with pytest.raises(UnitOfWorkError, match="ended"):
        kept.get("T1")  # a repository kept in a variable is closed as well
    assert isinstance(UnitOfWorkError("x"), RuntimeError)


def test_repositories_are_unavailable_before_the_block(uow: SqlAlchemyUnitOfWork) -> None:
    with pytest.raises(UnitOfWorkError, match="not been entered"):
        uow.accounts.count()


def test_entering_an_active_unit_of_work_again_raises(
    uow: SqlAlchemyUnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    with uow:
        uow.accounts.save(make_account())
        with pytest.raises(UnitOfWorkError, match="already active"), uow:
            pass  # pragma: no cover - never entered
        # The outer block is unaffected and still commits.
        uow.trades.save(make_trade("T1"))
        uow.commit()
    assert stored_trades(session_factory) == ["T1"]


def test_a_unit_of_work_can_be_used_again_after_its_block(
    uow: SqlAlchemyUnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    with uow:
        uow.accounts.save(make_account())
        uow.commit()
        first = uow.trades
    with uow:
        assert uow.trades is not first  # a fresh session and fresh repositories
        uow.trades.save(make_trade("T1"))
        uow.commit()
    assert stored_trades(session_factory) == ["T1"]


def test_commit_and_rollback_outside_the_block_raise(uow: SqlAlchemyUnitOfWork) -> None:
    with pytest.raises(UnitOfWorkError, match="outside"):
        uow.commit()
    with pytest.raises(UnitOfWorkError, match="outside"):
        uow.rollback()
    with uow:
        pass
    with pytest.raises(UnitOfWorkError, match="outside"):
        uow.commit()


def test_database_errors_are_translated_and_chained(
    uow: SqlAlchemyUnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    with uow:
        uow.accounts.save(make_account())
        uow.trades.save(make_trade("T1"))
        with pytest.raises(DuplicateError) as duplicate:
            uow.trades.save(make_trade("T1"))
        with pytest.raises(ConflictError) as conflict:
            uow.trades.save(make_trade("T2", account_id="NO-SUCH-ACCOUNT"))
        with pytest.raises(DuplicateError) as account_duplicate:
            uow.accounts.save(make_account())
        # The failed statements were rolled back to their savepoints; the rest commits.
        uow.trades.save(make_trade("T3"))
        uow.commit()
    for caught in (duplicate, conflict, account_duplicate):
        assert isinstance(caught.value.__cause__, DBAPIError)
    assert stored_trades(session_factory) == ["T1", "T3"]


def test_a_transaction_the_database_dropped_ends_and_the_original_error_propagates(
    uow: SqlAlchemyUnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    # SQLite itself rolls the whole transaction back on SQLITE_FULL; simulated here by a
    # ROLLBACK inside a repository write. The savepoint is gone then, and its failed
    # ROLLBACK TO SAVEPOINT must neither hide the error nor leave the session believing
    # in a transaction (later statements would run in autocommit mode).
    with_account(uow)
    error = BoomError("the database gave up")
    with uow:
        uow.trades.save(make_trade("LOST"))
        repo = uow.trades
        assert isinstance(repo, SqlAlchemyTradeRepository)

        def fail_after_losing_the_transaction() -> None:
            with repo._atomic("losing the transaction") as connection:
                connection.exec_driver_sql("ROLLBACK")
                raise error

        with pytest.raises(BoomError) as caught:
            fail_after_losing_the_transaction()
        assert caught.value is error
        assert any("ALL uncommitted work" in note for note in error.__notes__)
        session = uow._session
        assert session is not None
        assert not session.in_transaction()
        # Work after the loss is possible, but committing it alone would pass the lost
        # "LOST" off as saved: commit() refuses until rollback().
        uow.trades.save(make_trade("AFTER"))
        with pytest.raises(TransactionLostError, match="nothing was committed") as refused:
            uow.commit()
        assert refused.value.__cause__ is error
        with pytest.raises(TransactionLostError):
            uow.commit()
        uow.rollback()
        uow.trades.save(make_trade("AGAIN"))
        uow.commit()
    assert stored_trades(session_factory) == ["AGAIN"]


def test_a_failed_write_that_keeps_the_transaction_does_not_block_commit(
    uow: SqlAlchemyUnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    with_account(uow)
    with uow:
        uow.trades.save(make_trade("KEPT"))
        repo = uow.trades
        assert isinstance(repo, SqlAlchemyTradeRepository)

        def fail_inside_the_savepoint() -> None:
            with repo._atomic("failing alone") as connection:
                connection.execute(text("SELECT 1"))
                raise BoomError("only this write failed")

        with pytest.raises(BoomError) as caught:
            fail_inside_the_savepoint()
        assert not getattr(caught.value, "__notes__", None)
        uow.commit()
    assert stored_trades(session_factory) == ["KEPT"]


def test_a_failed_read_that_aborts_the_transaction_makes_commit_refuse(
    uow: SqlAlchemyUnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    # PostgreSQL aborts the transaction on any failed statement; a read runs outside a
    # savepoint, and psycopg would turn the later COMMIT into a silent ROLLBACK.
    with_account(uow)
    with uow:
        uow.trades.save(make_trade("T1"))
        session = uow._session
        assert session is not None
        with pytest.raises(DBAPIError):
            session.execute(text("SELECT * FROM no_such_table"))
        if session.get_bind().dialect.name != "postgresql":
            uow.commit()  # SQLite keeps the transaction after a failed statement
            return
        with pytest.raises(TransactionLostError, match="nothing was committed") as refused:
            uow.commit()
        assert refused.value.__cause__ is None
        with pytest.raises(TransactionLostError):
            uow.commit()  # it keeps refusing until rollback()
        uow.rollback()
        uow.trades.save(make_trade("T2"))
        uow.commit()
    assert stored_trades(session_factory) == ["T2"]


def test_a_failed_repository_read_on_postgresql_makes_commit_refuse(
    uow: SqlAlchemyUnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    with_account(uow)
    with uow:
        session = uow._session
        assert session is not None
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("only PostgreSQL aborts a transaction on a failed read")
        uow.trades.save(make_trade("T1"))
        with pytest.raises(Exception):  # noqa: B017 - whatever the read raises
            uow.images.get("abc")  # type: ignore[arg-type]
        with pytest.raises(TransactionLostError):
            uow.commit()
    assert stored_trades(session_factory) == []


def test_commit_refuses_when_sqlite_rolled_back_outside_a_write(
    uow: SqlAlchemyUnitOfWork, session_factory: sessionmaker[Session]
) -> None:
    # SQLite may roll the whole transaction back by itself during a read (an interrupt,
    # an I/O error); simulated by a ROLLBACK the session does not know about.
    with_account(uow)
    with uow:
        session = uow._session
        assert session is not None
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("SQLite's own rollback")
        uow.trades.save(make_trade("T1"))
        session.connection().exec_driver_sql("ROLLBACK")
        with pytest.raises(TransactionLostError, match="SQLite rolled it back"):
            uow.commit()
        with pytest.raises(TransactionLostError):
            uow.commit()
        uow.rollback()
        uow.trades.save(make_trade("T2"))
        uow.commit()
    assert stored_trades(session_factory) == ["T2"]


def test_commit_without_any_statement_does_not_refuse(uow: SqlAlchemyUnitOfWork) -> None:
    with uow:
        uow.commit()
        assert uow.trades.count() == 0
        uow.commit()


def test_a_plain_sqlite_engine_keeps_writes_in_the_unit_of_works_transaction() -> None:
    # The stdlib driver's own transaction handling: a first SAVEPOINT would start (and
    # its RELEASE commit) a transaction of its own; writes must still wait for commit().
    engine = create_engine("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(engine)
    uow = SqlAlchemyUnitOfWork(sessionmaker(bind=engine))
    try:
        with uow:
            uow.accounts.save(make_account())
            uow.trades.save(make_trade("T1"))
        with uow:
            assert (uow.accounts.count(), uow.trades.count()) == (0, 0)
            uow.accounts.save(make_account())
            uow.commit()
            uow.trades.save(make_trade("T1"))
            uow.rollback()
            uow.trades.save(make_trade("T2"))
            with pytest.raises(DuplicateError):
                uow.trades.save(make_trade("T2"))
            uow.commit()
        with uow:
            assert (uow.accounts.count(), uow.trades.count()) == (1, 1)
            assert uow.trades.get("T2") is not None
    finally:
        engine.dispose()


def test_a_failing_rollback_on_exit_does_not_hide_the_blocks_error(
    uow: SqlAlchemyUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_rollback() -> None:
        raise ConnectionError("connection lost")

    error = BoomError("the block's own error")

    def fail_inside() -> None:
        with uow:
            monkeypatch.setattr(uow._session, "rollback", broken_rollback)
            raise error

    with pytest.raises(BoomError) as caught:
        fail_inside()
    assert caught.value is error
    assert not uow.active
    with pytest.raises(ConnectionError), uow:
        monkeypatch.setattr(uow._session, "rollback", broken_rollback)
    assert not uow.active


def test_the_session_is_closed_and_its_connection_returned(
    uow: SqlAlchemyUnitOfWork, backend_engine: Engine
) -> None:
    with uow:
        uow.accounts.count()
        session = uow._session
        assert session is not None
        assert session.in_transaction()
    assert not session.in_transaction()
    if isinstance(backend_engine.pool, QueuePool):  # the in-memory engine has one static one
        assert backend_engine.pool.checkedout() == 0


# -- storage full -----------------------------------------------------------------------


class PageCap:
    """`PRAGMA max_page_count` for every new pooled connection (it is per connection)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pages: int | None = None
        event.listen(engine, "connect", self._on_connect)

    def set(self, pages: int | None) -> None:
        self.pages = pages
        self.engine.dispose()  # pooled connections keep the cap they were opened with

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        if self.pages is not None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {int(self.pages)}")


@pytest.fixture(params=["sqlcipher", "sqlite-file"])
def file_engine(request: pytest.FixtureRequest, tmp_path: Path, fast_kdf: None) -> Iterator[Engine]:
    from zorivest_infra.database.engine import create_encrypted_engine, create_engine_from_url

    path = tmp_path / "full.db"
    if request.param == "sqlcipher":
        engine = create_encrypted_engine(path, "storage full passphrase")
    else:
        engine = create_engine_from_url(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def _bulk(count: int) -> list[Trade]:
    return [make_trade(f"BULK{n:06d}", instrument=f"INSTRUMENT-{n:06d}") for n in range(count)]


def _full_unit_of_work(engine: Engine) -> tuple[SqlAlchemyUnitOfWork, sessionmaker[Session]]:
    """A unit of work on `engine` with an account stored and room for a few pages only."""
    factory = make_session_factory(engine)
    uow = SqlAlchemyUnitOfWork(factory)
    with_account(uow)
    with engine.connect() as conn:
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())
    PageCap(engine).set(pages + 8)
    return uow, factory


def test_storage_full_loses_the_whole_unit_of_work_and_commit_refuses(
    file_engine: Engine,
) -> None:
    uow, factory = _full_unit_of_work(file_engine)
    with uow:
        uow.trades.save(make_trade("EARLY"))
        with pytest.raises(StorageFullError) as full:
            uow.trades.save_many(_bulk(5000))
        # SQLite rolled back the whole transaction: the error says so, not "nothing was
        # written" about the failed write alone.
        assert "ALL uncommitted work of this unit of work is lost" in str(full.value)
        assert isinstance(full.value.__cause__, DBAPIError)
        with pytest.raises(StorageFullError, match="nothing was committed") as refused:
            uow.commit()
        assert refused.value.__cause__ is full.value
        uow.trades.save(make_trade("AFTER-THE-LOSS"))
        with pytest.raises(StorageFullError):  # still refused: the loss is not forgotten
            uow.commit()
        uow.rollback()
        uow.trades.save(make_trade("REDONE"))
        uow.commit()
    assert stored_trades(factory) == ["REDONE"]


def test_storage_full_refusal_ends_with_the_block(file_engine: Engine) -> None:
    uow, factory = _full_unit_of_work(file_engine)
    with uow:
        uow.trades.save(make_trade("EARLY"))
        with pytest.raises(StorageFullError):
            uow.trades.save_many(_bulk(5000))
    with uow:
        uow.trades.save(make_trade("NEXT-BLOCK"))
        uow.commit()
    assert stored_trades(factory) == ["NEXT-BLOCK"]


# -- threads ----------------------------------------------------------------------------


@pytest.fixture
def encrypted_engine(tmp_path: Path, fast_kdf: None) -> Iterator[Engine]:
    from zorivest_infra.database.engine import create_encrypted_engine

    engine = create_encrypted_engine(tmp_path / "threads.db", "thread test passphrase")
    Base.metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def test_one_unit_of_work_per_thread_works_concurrently(encrypted_engine: Engine) -> None:
    factory = make_session_factory(encrypted_engine)
    threads_count, trades_each = 4, 60
    start = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            uow = SqlAlchemyUnitOfWork(factory)
            start.wait()
            for batch in range(3):
                with uow:
                    if batch == 0:
                        uow.accounts.save(make_account(f"ACC{index}"))
                    trades = [
                        make_trade(f"T{index}-{batch}-{n:03d}", account_id=f"ACC{index}")
                        for n in range(trades_each // 3)
                    ]
                    uow.trades.save(trades[0])
                    uow.trades.save_many(trades)
                    uow.commit()
        except BaseException as error:  # reported to the main thread
            errors.append(error)

    workers = [threading.Thread(target=work, args=(index,)) for index in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    with factory() as session:
        repo = SqlAlchemyTradeRepository(session)
        assert repo.count() == threads_count * trades_each
        for index in range(threads_count):
            assert repo.count(f"ACC{index}") == trades_each


def test_one_unit_of_work_cannot_be_shared_by_two_threads(encrypted_engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(make_session_factory(encrypted_engine))
    outcome: list[BaseException | None] = []

    def enter_elsewhere() -> None:
        try:
            with uow:
                pass  # pragma: no cover - never entered
        except UnitOfWorkError as error:
            outcome.append(error)
        else:  # pragma: no cover - the failure being tested for
            outcome.append(None)

    with uow:
        other = threading.Thread(target=enter_elsewhere)
        other.start()
        other.join(timeout=10)
    assert len(outcome) == 1
    assert isinstance(outcome[0], UnitOfWorkError)
