"""Options strategy repository contract, on every backend."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME
from tests.integration.contract._rows import raw_count
from zorivest_core.domain.entities import OptionsStrategy
from zorivest_core.domain.enums import StrategyType
from zorivest_core.domain.errors import NotFoundError, ValidationError
from zorivest_infra.database.repositories.options import SqlAlchemyOptionsStrategyRepository

SGT = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyOptionsStrategyRepository:
    return SqlAlchemyOptionsStrategyRepository(backend_session)


def strategy(underlying: str = "SPY", minutes: int = 0) -> OptionsStrategy:
    return OptionsStrategy(
        strategy_type=StrategyType.VERTICAL,
        underlying=underlying,
        leg_exec_ids=["L1", "L2"],
        created_at=BASE_TIME + dt.timedelta(minutes=minutes),
    )


def full_strategy() -> OptionsStrategy:
    return OptionsStrategy(
        strategy_type=StrategyType.IRON_CONDOR,
        underlying="SPX",
        leg_exec_ids=["L1", "L2", "L3", "L4"],
        name="Weekly condor — ünïcode",
        net_debit_credit=Decimal("-0.1"),
        max_profit=Decimal("999999999999.999999"),
        max_loss=Decimal("-0.000001"),
        breakeven_prices=[Decimal("0.0000000001"), Decimal("99999999.9999999999"), Decimal(0)],
        created_at=dt.datetime(2024, 3, 8, 23, 59, 59, 999999, tzinfo=SGT),
    )


def test_round_trip_of_every_field(
    repo: SqlAlchemyOptionsStrategyRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    full_id = repo.save(full_strategy())
    bare_id = repo.save(strategy())
    backend_session.commit()
    with session_factory() as fresh:
        fresh_repo = SqlAlchemyOptionsStrategyRepository(fresh)
        stored = fresh_repo.get(full_id)
        assert fresh_repo.get(bare_id) == dataclasses.replace(strategy(), id=bare_id)
        raw = fresh.execute(
            text("SELECT leg_exec_ids, breakeven_prices FROM options_strategies ORDER BY id")
        ).all()
    assert stored == dataclasses.replace(full_strategy(), id=full_id)
    assert stored.created_at.tzinfo == dt.UTC
    assert json.loads(raw[0][0]) == ["L1", "L2", "L3", "L4"]
    # Exact decimal strings, never binary floats.
    assert json.loads(raw[0][1]) == ["0.0000000001", "99999999.9999999999", "0"]
    assert raw[1][1] is None


def test_numbers_written_by_another_tool_read_exactly(
    repo: SqlAlchemyOptionsStrategyRepository, backend_session: Session
) -> None:
    strategy_id = repo.save(strategy())
    backend_session.execute(
        text("UPDATE options_strategies SET breakeven_prices = '[412.5, 0.1]' WHERE id = :id"),
        {"id": strategy_id},
    )
    stored = repo.get(strategy_id)
    assert stored is not None
    assert stored.breakeven_prices == [Decimal("412.5"), Decimal("0.1")]


def test_missing_rows(repo: SqlAlchemyOptionsStrategyRepository) -> None:
    assert repo.get(404) is None
    assert repo.list_for_underlying("SPY") == []
    with pytest.raises(NotFoundError):
        repo.update(dataclasses.replace(strategy(), id=404))
    with pytest.raises(NotFoundError):
        repo.delete(404)
    with pytest.raises(ValidationError):
        repo.save(dataclasses.replace(strategy(), id=404))
    with pytest.raises(ValidationError):
        repo.update(strategy())
    assert repo.count() == 0


def test_update_list_and_delete(repo: SqlAlchemyOptionsStrategyRepository) -> None:
    late = repo.save(strategy("SPY", 5))
    early = repo.save(strategy("SPY", 1))
    other = repo.save(strategy("QQQ"))
    assert [s.id for s in repo.list_for_underlying("SPY")] == [early, late]
    changed = dataclasses.replace(
        strategy("SPY", 5), id=late, strategy_type=StrategyType.CUSTOM, breakeven_prices=[]
    )
    repo.update(changed)
    assert repo.get(late) == changed
    repo.delete(other)
    assert repo.get(other) is None
    assert repo.count() == 2


def test_rollback_leaves_nothing(
    repo: SqlAlchemyOptionsStrategyRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    repo.save(full_strategy())
    backend_session.rollback()
    assert raw_count(session_factory, "options_strategies") == 0
