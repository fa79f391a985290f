"""Trade plan repository contract, on every backend."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import delete, insert, text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME
from tests.integration.contract._rows import add_trade, dialect_of, raw_count
from zorivest_core.domain.entities import TradePlan
from zorivest_core.domain.enums import ConvictionLevel, PlanStatus, TradeAction
from zorivest_core.domain.errors import ConflictError, NotFoundError, ValidationError
from zorivest_infra.database.models import ImageModel, TradeModel
from zorivest_infra.database.repositories.plans import SqlAlchemyTradePlanRepository

JST = dt.timezone(dt.timedelta(hours=9))


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyTradePlanRepository:
    add_trade(backend_session, "T1")
    add_trade(backend_session, "T2")
    return SqlAlchemyTradePlanRepository(backend_session)


def full_plan(**overrides: object) -> TradePlan:
    values: dict[str, object] = {
        "ticker": "AAPL",
        "direction": TradeAction.SLD,
        "conviction": ConvictionLevel.MAX,
        "strategy_name": "Opening range breakdown",
        "strategy_description": "Short below the 5-minute range\\nwith volume",
        "entry_price": Decimal("0.0000000001"),
        "stop_loss": Decimal("99999999.9999999999"),
        "target_price": Decimal("0.1"),
        "entry_conditions": "VWAP lost",
        "exit_conditions": "Reclaim of VWAP",
        "timeframe": "5m",
        "status": PlanStatus.ACTIVE,
        "linked_trade_id": "T1",
        "account_id": "ACC1",
        "created_at": dt.datetime(2024, 3, 9, 8, 0, tzinfo=JST),
        "updated_at": dt.datetime(2024, 3, 9, 9, 30, 0, 1, tzinfo=JST),
    }
    values.update(overrides)
    return TradePlan(**values)  # type: ignore[arg-type]


def test_round_trip_of_every_field(
    repo: SqlAlchemyTradePlanRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    plan = full_plan()
    plan_id = repo.save(plan)
    minimal = TradePlan(
        ticker="MSFT",
        direction=TradeAction.BOT,
        conviction=ConvictionLevel.LOW,
        created_at=BASE_TIME,
    )
    minimal_id = repo.save(minimal)
    backend_session.commit()
    with session_factory() as fresh:
        fresh_repo = SqlAlchemyTradePlanRepository(fresh)
        stored = fresh_repo.get(plan_id)
        assert fresh_repo.get(minimal_id) == dataclasses.replace(minimal, id=minimal_id)
        raw = fresh.execute(
            text("SELECT status, direction, entry_price FROM trade_plans WHERE id = :id"),
            {"id": plan_id},
        ).one()
    assert stored == dataclasses.replace(plan, id=plan_id)
    assert stored.created_at.tzinfo == dt.UTC
    assert raw[0] == "active"
    assert raw[1] == "SLD"
    if dialect_of(backend_session) == "sqlite":
        assert raw[2] == 1  # 1e-10 as a scaled integer
    else:
        assert raw[2] == Decimal("0.0000000001")


def test_missing_rows_and_bad_ids(repo: SqlAlchemyTradePlanRepository) -> None:
    assert repo.get(404) is None
    with pytest.raises(NotFoundError):
        repo.update(full_plan(id=404))
    with pytest.raises(NotFoundError):
        repo.delete(404)
    with pytest.raises(NotFoundError):
        repo.link_trade(404, "T1")
    with pytest.raises(NotFoundError):
        repo.unlink_trade(404)
    with pytest.raises(ValidationError):
        repo.save(full_plan(id=1))
    with pytest.raises(ValidationError):
        repo.update(full_plan())


def test_unknown_trade_or_account_is_refused(repo: SqlAlchemyTradePlanRepository) -> None:
    with pytest.raises(ConflictError):
        repo.save(full_plan(linked_trade_id="UNKNOWN"))
    with pytest.raises(ConflictError):
        repo.save(full_plan(account_id="UNKNOWN"))
    plan_id = repo.save(full_plan(linked_trade_id=None))
    with pytest.raises(ConflictError):
        repo.link_trade(plan_id, "UNKNOWN")
    stored = repo.get(plan_id)
    assert stored is not None
    assert stored.linked_trade_id is None
    assert repo.count() == 1


def test_link_unlink_and_update_stamp_updated_at(repo: SqlAlchemyTradePlanRepository) -> None:
    plan_id = repo.save(full_plan(linked_trade_id=None, updated_at=None))
    before = dt.datetime.now(dt.UTC)
    repo.link_trade(plan_id, "T2")
    linked = repo.get(plan_id)
    assert linked is not None
    assert linked.linked_trade_id == "T2"
    assert linked.updated_at is not None
    assert linked.updated_at >= before - dt.timedelta(seconds=1)
    assert [p.id for p in repo.list_for_trade("T2")] == [plan_id]

    repo.unlink_trade(plan_id)
    unlinked = repo.get(plan_id)
    assert unlinked is not None
    assert unlinked.linked_trade_id is None

    repo.update(dataclasses.replace(unlinked, status=PlanStatus.CANCELLED, updated_at=BASE_TIME))
    updated = repo.get(plan_id)
    assert updated is not None
    assert updated.status is PlanStatus.CANCELLED
    assert updated.updated_at is not None
    assert updated.updated_at > BASE_TIME


def test_deleting_a_linked_trade_unlinks_its_plans(
    repo: SqlAlchemyTradePlanRepository, backend_session: Session
) -> None:
    plan_id = repo.save(full_plan(linked_trade_id="T1"))
    other_id = repo.save(full_plan(linked_trade_id="T2"))
    backend_session.execute(delete(TradeModel).where(TradeModel.exec_id == "T1"))
    raw = backend_session.execute(
        text("SELECT id, linked_trade_id FROM trade_plans ORDER BY id")
    ).all()
    assert [tuple(row) for row in raw] == [(plan_id, None), (other_id, "T2")]
    stored = repo.get(plan_id)
    assert stored is not None
    assert stored.linked_trade_id is None


def test_listings_are_ordered_and_filtered(repo: SqlAlchemyTradePlanRepository) -> None:
    ids = [
        repo.save(
            full_plan(
                ticker=ticker,
                status=status,
                created_at=BASE_TIME + dt.timedelta(minutes=minutes),
                linked_trade_id=None,
            )
        )
        for ticker, status, minutes in (
            ("AAPL", PlanStatus.DRAFT, 3),
            ("AAPL", PlanStatus.ACTIVE, 1),
            ("MSFT", PlanStatus.DRAFT, 2),
            ("aapl", PlanStatus.DRAFT, 0),
        )
    ]
    assert [p.id for p in repo.list_for_ticker("AAPL")] == [ids[1], ids[0]]
    assert [p.id for p in repo.list_by_status(PlanStatus.DRAFT)] == [ids[3], ids[2], ids[0]]
    assert [p.id for p in repo.list_by_status(PlanStatus.EXECUTED)] == []
    assert repo.count() == 4
    repo.delete(ids[0])
    assert repo.get(ids[0]) is None
    assert repo.count() == 3


def test_rollback_leaves_nothing(
    repo: SqlAlchemyTradePlanRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    repo.save(full_plan())
    backend_session.rollback()
    assert raw_count(session_factory, "trade_plans") == 0


def add_image(session: Session, owner_type: str, owner_id: str) -> None:
    session.execute(
        insert(ImageModel).values(
            owner_type=owner_type, owner_id=owner_id, created_at=BASE_TIME, data=b"png"
        )
    )


def images_of(session_factory: sessionmaker[Session], owner_type: str, owner_id: str) -> int:
    return raw_count(
        session_factory, "images", f"WHERE owner_type = '{owner_type}' AND owner_id = '{owner_id}'"
    )


def test_delete_removes_the_plans_images_and_its_id_is_never_reused(
    repo: SqlAlchemyTradePlanRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    first = repo.save(full_plan())
    last = repo.save(full_plan(ticker="MSFT"))
    add_image(backend_session, "plan", str(first))
    add_image(backend_session, "plan", str(last))
    add_image(backend_session, "plan", str(last))
    add_image(backend_session, "report", str(last))  # another owner with the same number
    backend_session.commit()

    repo.delete(last)  # the highest id: SQLite without AUTOINCREMENT would hand it out again
    backend_session.commit()
    assert images_of(session_factory, "plan", str(last)) == 0
    assert images_of(session_factory, "plan", str(first)) == 1
    assert images_of(session_factory, "report", str(last)) == 1

    new = repo.save(full_plan(ticker="NVDA"))
    backend_session.commit()
    assert new > last
    assert images_of(session_factory, "plan", str(new)) == 0


def test_deleting_a_missing_plan_leaves_images_alone(
    repo: SqlAlchemyTradePlanRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    add_image(backend_session, "plan", "404")  # an orphan written by another tool
    backend_session.commit()
    with pytest.raises(NotFoundError):
        repo.delete(404)
    backend_session.commit()
    assert images_of(session_factory, "plan", "404") == 1
