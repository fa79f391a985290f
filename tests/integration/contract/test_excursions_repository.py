"""Excursion metrics repository contract, on every backend."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import delete, text
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.contract._rows import add_trade, count_rows, dialect_of, raw_count
from zorivest_core.domain.entities import ExcursionMetrics
from zorivest_core.domain.errors import ConflictError, DuplicateError, NotFoundError
from zorivest_infra.database.models import TradeModel
from zorivest_infra.database.repositories.excursions import SqlAlchemyExcursionRepository

PST = dt.timezone(dt.timedelta(hours=-8))


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyExcursionRepository:
    add_trade(backend_session, "T1")
    add_trade(backend_session, "T2")
    return SqlAlchemyExcursionRepository(backend_session)


def full_metrics(trade_exec_id: str = "T1") -> ExcursionMetrics:
    return ExcursionMetrics(
        trade_exec_id=trade_exec_id,
        mfe_dollars=Decimal("999999999999.999999"),
        mfe_pct=Decimal("0.1"),
        mae_dollars=Decimal("-0.000001"),
        mae_pct=Decimal("-12.5"),
        bso_pct=Decimal(0),
        data_source="polygon",
        computed_at=dt.datetime(2024, 3, 8, 16, 0, 0, 250000, tzinfo=PST),
    )


def test_round_trip_of_every_field(
    repo: SqlAlchemyExcursionRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    metrics = full_metrics()
    repo.save(metrics)
    repo.save(ExcursionMetrics(trade_exec_id="T2"))
    backend_session.commit()
    with session_factory() as fresh:
        fresh_repo = SqlAlchemyExcursionRepository(fresh)
        stored = fresh_repo.get("T1")
        assert fresh_repo.get("T2") == ExcursionMetrics(trade_exec_id="T2")
        raw = fresh.execute(
            text("SELECT mae_dollars, mae_pct FROM excursion_metrics WHERE trade_exec_id = 'T1'")
        ).one()
    assert stored == metrics
    assert stored.computed_at is not None
    assert stored.computed_at.tzinfo == dt.UTC
    if dialect_of(backend_session) == "sqlite":
        assert tuple(raw) == (-1, -12500000)
    else:
        assert tuple(raw) == (Decimal("-0.000001"), Decimal("-12.5"))


def test_missing_duplicate_and_unknown_trade(repo: SqlAlchemyExcursionRepository) -> None:
    assert repo.get("T1") is None
    with pytest.raises(NotFoundError):
        repo.update(full_metrics())
    with pytest.raises(NotFoundError):
        repo.delete("T1")
    repo.save(full_metrics())
    with pytest.raises(DuplicateError):
        repo.save(full_metrics())
    with pytest.raises(ConflictError):
        repo.save(full_metrics("UNKNOWN"))
    assert repo.count() == 1


def test_update_and_delete(repo: SqlAlchemyExcursionRepository, backend_session: Session) -> None:
    repo.save(full_metrics())
    changed = dataclasses.replace(full_metrics(), mfe_dollars=None, data_source="ibkr")
    repo.update(changed)
    assert repo.get("T1") == changed
    repo.delete("T1")
    assert repo.get("T1") is None
    assert count_rows(backend_session, "excursion_metrics") == 0


def test_deleting_the_trade_deletes_its_metrics(
    repo: SqlAlchemyExcursionRepository, backend_session: Session
) -> None:
    repo.save(full_metrics("T1"))
    repo.save(full_metrics("T2"))
    backend_session.execute(delete(TradeModel).where(TradeModel.exec_id == "T1"))
    assert repo.get("T1") is None
    assert repo.get("T2") is not None
    assert repo.count() == 1


def test_rollback_leaves_nothing(
    repo: SqlAlchemyExcursionRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    repo.save(full_metrics())
    backend_session.rollback()
    assert raw_count(session_factory, "excursion_metrics") == 0
