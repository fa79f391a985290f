"""MCP guard repository contract, on every backend."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, text
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.contract._rows import count_rows
from zorivest_core.domain.entities import McpGuardState
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.database.models import McpGuardModel
from zorivest_infra.database.repositories.mcp_guard import SqlAlchemyMcpGuardRepository

MSK = dt.timezone(dt.timedelta(hours=3))


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyMcpGuardRepository:
    return SqlAlchemyMcpGuardRepository(backend_session)


def raw_guard(session: Session) -> tuple[object, ...]:
    row = session.execute(
        text(
            "SELECT id, is_locked, lock_reason, calls_per_minute_limit, calls_per_hour_limit "
            "FROM mcp_guard"
        )
    ).one()
    return (row[0], bool(row[1]), row[2], row[3], row[4])


def test_the_seeded_row_reads_as_the_defaults(repo: SqlAlchemyMcpGuardRepository) -> None:
    state = repo.get()
    assert (state.is_enabled, state.is_locked, state.locked_at, state.lock_reason) == (
        False,
        False,
        None,
        None,
    )
    assert (state.calls_per_minute_limit, state.calls_per_hour_limit) == (60, 500)


def test_a_missing_row_is_created_with_defaults(
    repo: SqlAlchemyMcpGuardRepository, backend_session: Session
) -> None:
    backend_session.execute(delete(McpGuardModel))
    state = repo.get()
    assert state.updated_at is not None
    assert state == McpGuardState(updated_at=state.updated_at)
    assert raw_guard(backend_session) == (1, False, None, 60, 500)
    backend_session.execute(delete(McpGuardModel))
    locked = repo.lock("created while locking")
    assert locked.is_locked
    assert raw_guard(backend_session) == (1, True, "created while locking", 60, 500)


def test_lock_and_unlock(
    repo: SqlAlchemyMcpGuardRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    locked = repo.lock("rate limit exceeded")
    assert locked.is_locked
    assert locked.lock_reason == "rate limit exceeded"
    assert locked.locked_at is not None
    assert locked.locked_at >= before
    assert locked.locked_at.tzinfo == dt.UTC
    # Locking again keeps the first reason and time.
    assert repo.lock("second reason") == locked
    backend_session.commit()
    with session_factory() as fresh:
        assert raw_guard(fresh) == (1, True, "rate limit exceeded", 60, 500)

    unlocked = repo.unlock()
    assert (unlocked.is_locked, unlocked.locked_at, unlocked.lock_reason) == (False, None, None)
    assert repo.unlock() == unlocked
    assert raw_guard(backend_session) == (1, False, None, 60, 500)
    with pytest.raises(ValidationError):
        repo.lock("")
    with pytest.raises(ValidationError):
        repo.lock("x" * 101)
    assert not repo.get().is_locked


def test_update_round_trips_every_field(
    repo: SqlAlchemyMcpGuardRepository, backend_session: Session
) -> None:
    state = McpGuardState(
        is_enabled=True,
        is_locked=True,
        locked_at=dt.datetime(2024, 3, 8, 12, 0, 0, 3, tzinfo=MSK),
        lock_reason="manual",
        calls_per_minute_limit=1,
        calls_per_hour_limit=2**31 - 1,
    )
    repo.update(state)
    stored = repo.get()
    assert stored.updated_at is not None
    assert stored == McpGuardState(
        is_enabled=True,
        is_locked=True,
        locked_at=state.locked_at,
        lock_reason="manual",
        calls_per_minute_limit=1,
        calls_per_hour_limit=2**31 - 1,
        updated_at=stored.updated_at,
    )
    assert raw_guard(backend_session) == (1, True, "manual", 1, 2**31 - 1)
    assert count_rows(backend_session, "mcp_guard") == 1


def test_rollback_restores_the_previous_state(
    repo: SqlAlchemyMcpGuardRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    repo.get()
    backend_session.commit()
    repo.lock("will be rolled back")
    backend_session.rollback()
    with session_factory() as fresh:
        assert not SqlAlchemyMcpGuardRepository(fresh).get().is_locked
