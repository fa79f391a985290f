"""Round trip repository contract, on every backend."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME
from tests.integration.contract._rows import (
    add_account,
    captured_statements,
    dialect_of,
    raw_count,
)
from zorivest_core.domain.entities import RoundTrip
from zorivest_core.domain.enums import RoundTripStatus, TradeAction
from zorivest_core.domain.errors import ConflictError, NotFoundError, ValidationError
from zorivest_infra.database.repositories.round_trips import SqlAlchemyRoundTripRepository

EDT = dt.timezone(dt.timedelta(hours=-4))


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyRoundTripRepository:
    add_account(backend_session, "ACC1")
    add_account(backend_session, "ACC2")
    return SqlAlchemyRoundTripRepository(backend_session)


def trip(instrument: str = "AAPL", minutes: int = 0, account_id: str = "ACC1") -> RoundTrip:
    return RoundTrip(
        account_id=account_id,
        instrument=instrument,
        direction=TradeAction.BOT,
        entry_exec_ids=["E1"],
        entry_avg_price=Decimal(100),
        total_quantity=Decimal(1),
        opened_at=BASE_TIME + dt.timedelta(minutes=minutes),
    )


def full_trip() -> RoundTrip:
    opened = dt.datetime(2024, 3, 8, 9, 30, 0, 1, tzinfo=EDT)
    return RoundTrip(
        account_id="ACC1",
        instrument="ES 2024-06",
        direction=TradeAction.SLD,
        entry_exec_ids=["E1", "E2", "ünï-3"],
        exit_exec_ids=["X1"],
        entry_avg_price=Decimal("0.0000000001"),
        exit_avg_price=Decimal("99999999.9999999999"),
        total_quantity=Decimal("0.1"),
        realized_pnl=Decimal("-999999999999.999999"),
        total_commission=Decimal("0.000001"),
        opened_at=opened,
        closed_at=opened + dt.timedelta(hours=6, seconds=1),
        status=RoundTripStatus.CLOSED,
        holding_period_seconds=21601,
    )


def test_round_trip_of_every_field(
    repo: SqlAlchemyRoundTripRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    full_id = repo.save(full_trip())
    open_id = repo.save(trip())
    backend_session.commit()
    with session_factory() as fresh:
        fresh_repo = SqlAlchemyRoundTripRepository(fresh)
        stored = fresh_repo.get(full_id)
        assert fresh_repo.get(open_id) == dataclasses.replace(trip(), id=open_id)
        raw = fresh.execute(
            text(
                "SELECT entry_exec_ids, exit_exec_ids, total_quantity, status "
                "FROM round_trips ORDER BY id"
            )
        ).all()
    assert stored == dataclasses.replace(full_trip(), id=full_id)
    assert stored.closed_at is not None
    assert stored.closed_at.tzinfo == dt.UTC
    assert json.loads(raw[0][0]) == ["E1", "E2", "ünï-3"]
    assert json.loads(raw[0][1]) == ["X1"]
    assert raw[1][1] is None
    assert [row[3] for row in raw] == ["closed", "open"]
    if dialect_of(backend_session) == "sqlite":
        assert raw[0][2] == 1_000_000_000  # 0.1 at 10 decimal places


def test_missing_rows_and_unknown_account(repo: SqlAlchemyRoundTripRepository) -> None:
    assert repo.get(404) is None
    assert repo.list_for_account("ACC1") == []
    with pytest.raises(NotFoundError):
        repo.update(dataclasses.replace(trip(), id=404))
    with pytest.raises(NotFoundError):
        repo.delete(404)
    with pytest.raises(ValidationError):
        repo.save(dataclasses.replace(trip(), id=404))
    with pytest.raises(ValidationError):
        repo.update(trip())
    with pytest.raises(ConflictError):
        repo.save(trip(account_id="UNKNOWN"))
    assert repo.count() == 0


def test_listing_is_ordered_and_filtered(repo: SqlAlchemyRoundTripRepository) -> None:
    late = repo.save(trip("AAPL", 30))
    early = repo.save(trip("MSFT", 10))
    middle = repo.save(trip("AAPL", 20))
    tie = repo.save(trip("AAPL", 20))
    repo.save(trip("AAPL", 0, account_id="ACC2"))
    closed = dataclasses.replace(
        trip("AAPL", 20), id=tie, status=RoundTripStatus.CLOSED, exit_exec_ids=["X"]
    )
    repo.update(closed)
    assert [t.id for t in repo.list_for_account("ACC1")] == [early, middle, tie, late]
    assert [t.id for t in repo.list_for_account("ACC1", instrument="AAPL")] == [
        middle,
        tie,
        late,
    ]
    assert [t.id for t in repo.list_for_account("ACC1", status=RoundTripStatus.CLOSED)] == [tie]
    assert repo.get(tie) == closed
    repo.delete(middle)
    assert repo.count() == 4


def test_listing_uses_the_account_instrument_index(
    repo: SqlAlchemyRoundTripRepository, backend_session: Session
) -> None:
    for index in range(20):
        repo.save(trip(f"SYM{index % 5}", index, account_id=("ACC1", "ACC2")[index % 2]))
    with captured_statements(backend_session) as statements:
        repo.list_for_account("ACC1", instrument="SYM2")
        repo.list_for_account("ACC1")
    dialect = dialect_of(backend_session)
    if dialect == "postgresql":
        # The planner rightly scans a tiny table; forbid that, and give it statistics, to
        # see which index it would use on a large one.
        backend_session.execute(text("ANALYZE round_trips"))
        backend_session.execute(text("SET LOCAL enable_seqscan = off"))
    cursor = backend_session.connection().connection.dbapi_connection
    assert cursor is not None
    for statement, params in statements:
        explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
        raw = cursor.cursor()
        raw.execute(explain + statement, params)
        plan = " ".join(str(value) for row in raw.fetchall() for value in row)
        assert "ix_round_trips_account_id_instrument" in plan, plan


def test_rollback_leaves_nothing(
    repo: SqlAlchemyRoundTripRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    repo.save(full_trip())
    backend_session.rollback()
    assert raw_count(session_factory, "round_trips") == 0
