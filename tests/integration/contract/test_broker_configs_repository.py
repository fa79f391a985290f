"""Broker config repository contract, on every backend."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME
from tests.integration.contract._rows import dialect_of, raw_count
from zorivest_core.domain.entities import BrokerConfig
from zorivest_core.domain.enums import RoutingType
from zorivest_core.domain.errors import DuplicateError, NotFoundError
from zorivest_infra.database.repositories.broker_configs import SqlAlchemyBrokerConfigRepository

GMT_MINUS_3 = dt.timezone(dt.timedelta(hours=-3))


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyBrokerConfigRepository:
    return SqlAlchemyBrokerConfigRepository(backend_session)


def full_config(broker_id: str = "ibkr") -> BrokerConfig:
    return BrokerConfig(
        broker_id=broker_id,
        name="Interactive Brokers",
        pdt_rule=False,
        pdt_threshold=Decimal("25000.000001"),
        settlement_days=0,
        max_leverage={"equities": 4, "futures": {"ES": 20.5}, "note": "ünïcode"},
        routing_type=RoutingType.DMA,
        commission_schedule={"per_share": "0.0035", "minimum": "0.35", "tiers": [1, 2]},
        supported_order_types=["LMT", "MKT", "STP LMT"],
        supported_asset_classes=[],
        trading_hours={"pre": "04:00", "regular": ["09:30", "16:00"], "post": None},
        created_at=dt.datetime(2024, 3, 8, 1, 2, 3, 4, tzinfo=GMT_MINUS_3),
        updated_at=BASE_TIME,
    )


def test_round_trip_of_every_field(
    repo: SqlAlchemyBrokerConfigRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    repo.save(full_config())
    bare = BrokerConfig(broker_id="bare", name="Bare", created_at=BASE_TIME)
    repo.save(bare)
    backend_session.commit()
    with session_factory() as fresh:
        fresh_repo = SqlAlchemyBrokerConfigRepository(fresh)
        stored = fresh_repo.get("ibkr")
        assert fresh_repo.get("bare") == bare
        raw = fresh.execute(
            text(
                "SELECT max_leverage, supported_asset_classes, trading_hours, pdt_threshold "
                "FROM broker_configs WHERE broker_id = 'ibkr'"
            )
        ).one()
    assert stored == full_config()
    assert stored.created_at.tzinfo == dt.UTC
    assert json.loads(raw[0]) == {"equities": 4, "futures": {"ES": 20.5}, "note": "ünïcode"}
    assert json.loads(raw[1]) == []
    assert json.loads(raw[2])["post"] is None
    if dialect_of(backend_session) == "sqlite":
        assert raw[3] == 25000000001


def test_missing_rows_and_duplicates(repo: SqlAlchemyBrokerConfigRepository) -> None:
    assert repo.get("nope") is None
    assert repo.list_all() == []
    with pytest.raises(NotFoundError):
        repo.update(full_config("nope"))
    with pytest.raises(NotFoundError):
        repo.delete("nope")
    repo.save(full_config())
    with pytest.raises(DuplicateError):
        repo.save(full_config())
    assert len(repo.list_all()) == 1


def test_update_list_and_delete(repo: SqlAlchemyBrokerConfigRepository) -> None:
    repo.save(full_config("tasty"))
    repo.save(full_config("alpaca"))
    changed = dataclasses.replace(full_config("tasty"), max_leverage=None, routing_type=None)
    repo.update(changed)
    stored = repo.get("tasty")
    assert stored is not None
    assert stored.updated_at is not None
    assert stored.updated_at > BASE_TIME
    assert stored == dataclasses.replace(changed, updated_at=stored.updated_at)
    assert [c.broker_id for c in repo.list_all()] == ["alpaca", "tasty"]
    repo.delete("alpaca")
    assert [c.broker_id for c in repo.list_all()] == ["tasty"]


def test_rollback_leaves_nothing(
    repo: SqlAlchemyBrokerConfigRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    repo.save(full_config())
    backend_session.rollback()
    assert raw_count(session_factory, "broker_configs") == 0
