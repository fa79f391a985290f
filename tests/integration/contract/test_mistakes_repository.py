"""Mistake repository contract, on every backend."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import delete, text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME
from tests.integration.contract._rows import add_trade, count_rows, dialect_of, raw_count
from zorivest_core.domain.entities import MistakeEntry
from zorivest_core.domain.enums import MistakeCategory
from zorivest_core.domain.errors import ConflictError, NotFoundError, ValidationError
from zorivest_infra.database.models import TradeModel
from zorivest_infra.database.repositories.mistakes import SqlAlchemyMistakeRepository

BRT = dt.timezone(dt.timedelta(hours=-3))


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyMistakeRepository:
    add_trade(backend_session, "T1")
    add_trade(backend_session, "T2")
    return SqlAlchemyMistakeRepository(backend_session)


def mistake(
    trade: str = "T1",
    category: MistakeCategory = MistakeCategory.FOMO_ENTRY,
    cost: str | None = "1",
    minutes: int = 0,
) -> MistakeEntry:
    return MistakeEntry(
        trade_id=trade,
        category=category,
        estimated_cost=None if cost is None else Decimal(cost),
        created_at=BASE_TIME + dt.timedelta(minutes=minutes),
    )


def test_round_trip_of_every_field(
    repo: SqlAlchemyMistakeRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    full = MistakeEntry(
        trade_id="T1",
        category=MistakeCategory.REVENGE_TRADE,
        estimated_cost=Decimal("-999999999999.999999"),
        notes="Doubled down after a loss",
        auto_detected=True,
        created_at=dt.datetime(2024, 3, 8, 11, 0, 0, 5, tzinfo=BRT),
    )
    full_id = repo.save(full)
    bare_id = repo.save(mistake(cost=None))
    backend_session.commit()
    with session_factory() as fresh:
        fresh_repo = SqlAlchemyMistakeRepository(fresh)
        stored = fresh_repo.get(full_id)
        assert fresh_repo.get(bare_id) == dataclasses.replace(mistake(cost=None), id=bare_id)
        raw = fresh.execute(
            text("SELECT category, estimated_cost FROM mistake_entries WHERE id = :id"),
            {"id": full_id},
        ).one()
    assert stored == dataclasses.replace(full, id=full_id)
    assert stored.created_at.tzinfo == dt.UTC
    assert raw[0] == "revenge_trade"
    if dialect_of(backend_session) == "sqlite":
        assert raw[1] == -999999999999999999


def test_missing_rows_and_unknown_trade(repo: SqlAlchemyMistakeRepository) -> None:
    assert repo.get(404) is None
    assert repo.list_for_trade("T1") == []
    assert repo.cost_by_category() == {}
    with pytest.raises(NotFoundError):
        repo.delete(404)
    with pytest.raises(NotFoundError):
        repo.update(dataclasses.replace(mistake(), id=404))
    with pytest.raises(ValidationError):
        repo.save(dataclasses.replace(mistake(), id=404))
    with pytest.raises(ConflictError):
        repo.save(mistake("UNKNOWN"))
    assert repo.count() == 0


def test_cost_totals_are_exact_per_category(
    repo: SqlAlchemyMistakeRepository, backend_session: Session
) -> None:
    for _ in range(10):
        repo.save(mistake("T1", MistakeCategory.FOMO_ENTRY, "0.1"))
    repo.save(mistake("T2", MistakeCategory.FOMO_ENTRY, "0.000001"))
    repo.save(mistake("T1", MistakeCategory.NO_STOP, "500000000000.5"))
    repo.save(mistake("T2", MistakeCategory.NO_STOP, "499999999999.499999"))
    repo.save(mistake("T1", MistakeCategory.CHASING, None))
    totals = repo.cost_by_category()
    assert totals == {
        MistakeCategory.FOMO_ENTRY: Decimal("1.000001"),
        MistakeCategory.NO_STOP: Decimal("999999999999.999999"),
        MistakeCategory.CHASING: Decimal(0),
    }
    assert repo.cost_by_category(trade_id="T1") == {
        MistakeCategory.FOMO_ENTRY: Decimal(1),
        MistakeCategory.NO_STOP: Decimal("500000000000.5"),
        MistakeCategory.CHASING: Decimal(0),
    }
    raw = backend_session.execute(
        text("SELECT SUM(estimated_cost) FROM mistake_entries WHERE category = 'no_stop'")
    ).scalar_one()
    if dialect_of(backend_session) == "sqlite":
        assert raw == 999999999999999999
    else:
        assert Decimal(raw) == Decimal("999999999999.999999")


def test_per_trade_listing_update_and_cascade(
    repo: SqlAlchemyMistakeRepository, backend_session: Session
) -> None:
    late = repo.save(mistake("T1", minutes=5))
    early = repo.save(mistake("T1", MistakeCategory.LATE_EXIT, minutes=1))
    other = repo.save(mistake("T2"))
    assert [m.id for m in repo.list_for_trade("T1")] == [early, late]
    changed = dataclasses.replace(
        mistake("T1", minutes=5), id=late, notes="noted", estimated_cost=None
    )
    repo.update(changed)
    assert repo.get(late) == changed
    backend_session.execute(delete(TradeModel).where(TradeModel.exec_id == "T1"))
    assert repo.list_for_trade("T1") == []
    assert repo.count() == 1
    assert repo.get(other) is not None
    repo.delete(other)
    assert count_rows(backend_session, "mistake_entries") == 0


def test_rollback_leaves_nothing(
    repo: SqlAlchemyMistakeRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    repo.save(mistake())
    backend_session.rollback()
    assert raw_count(session_factory, "mistake_entries") == 0
