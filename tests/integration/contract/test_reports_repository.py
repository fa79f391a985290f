"""Trade report repository contract, on every backend."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import delete, insert, text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME
from tests.integration.contract._rows import add_trade, count_rows, raw_count
from zorivest_core.domain.entities import TradeReport
from zorivest_core.domain.errors import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    ValidationError,
)
from zorivest_infra.database.models import ImageModel, TradeModel
from zorivest_infra.database.repositories.reports import SqlAlchemyTradeReportRepository

CET = dt.timezone(dt.timedelta(hours=1))


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyTradeReportRepository:
    add_trade(backend_session, "T1")
    add_trade(backend_session, "T2")
    return SqlAlchemyTradeReportRepository(backend_session)


def full_report(trade_id: str = "T1") -> TradeReport:
    return TradeReport(
        trade_id=trade_id,
        setup_quality=5,
        execution_quality=1,
        followed_plan=False,
        emotional_state="calm",
        lessons_learned="Wait for the retest.\nSecond line: ünïcode 📈",
        tags=["breakout", "A+ setup", "ünïcode"],
        created_at=dt.datetime(2024, 3, 8, 22, 15, 1, 999999, tzinfo=CET),
    )


def test_round_trip_of_every_field(
    repo: SqlAlchemyTradeReportRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    report = full_report()
    report_id = repo.save(report)
    backend_session.commit()
    with session_factory() as fresh:
        fresh_repo = SqlAlchemyTradeReportRepository(fresh)
        stored = fresh_repo.get(report_id)
        assert fresh_repo.get_for_trade("T1") == stored
        raw_tags = fresh.execute(
            text("SELECT tags FROM trade_reports WHERE id = :id"), {"id": report_id}
        ).scalar_one()
    assert stored == dataclasses.replace(report, id=report_id)
    assert stored.created_at.tzinfo == dt.UTC
    assert json.loads(raw_tags) == ["breakout", "A+ setup", "ünïcode"]


def test_minimal_report_round_trips_with_no_tags(
    repo: SqlAlchemyTradeReportRepository, backend_session: Session
) -> None:
    report_id = repo.save(TradeReport(trade_id="T1", created_at=BASE_TIME))
    stored = repo.get(report_id)
    assert stored == TradeReport(trade_id="T1", created_at=BASE_TIME, id=report_id)
    raw = backend_session.execute(
        text("SELECT tags, setup_quality, followed_plan FROM trade_reports")
    ).one()
    assert (json.loads(raw[0]), raw[1], raw[2]) == ([], None, None)
    # NULL tags (written by another tool) read as no tags.
    backend_session.execute(text("UPDATE trade_reports SET tags = NULL"))
    assert repo.get(report_id) == TradeReport(trade_id="T1", created_at=BASE_TIME, id=report_id)


def test_missing_rows(repo: SqlAlchemyTradeReportRepository) -> None:
    assert repo.get(404) is None
    assert repo.get_for_trade("T1") is None
    with pytest.raises(NotFoundError):
        repo.update(dataclasses.replace(full_report(), id=404))
    with pytest.raises(NotFoundError):
        repo.delete(404)
    with pytest.raises(ValidationError):
        repo.update(full_report())
    with pytest.raises(ValidationError):
        repo.save(dataclasses.replace(full_report(), id=1))


def test_one_report_per_trade_and_only_for_a_known_trade(
    repo: SqlAlchemyTradeReportRepository,
) -> None:
    with pytest.raises(ConflictError):
        repo.save(full_report("UNKNOWN"))
    repo.save(full_report("T1"))
    with pytest.raises(DuplicateError):
        repo.save(full_report("T1"))
    other = repo.save(full_report("T2"))
    with pytest.raises(DuplicateError):
        repo.update(dataclasses.replace(full_report("T1"), id=other))
    assert repo.count() == 2


def test_update_replaces_values_and_delete_removes(repo: SqlAlchemyTradeReportRepository) -> None:
    report_id = repo.save(full_report())
    changed = dataclasses.replace(
        full_report(), id=report_id, tags=[], setup_quality=None, followed_plan=True
    )
    repo.update(changed)
    assert repo.get(report_id) == changed
    repo.delete(report_id)
    assert repo.get(report_id) is None
    assert repo.count() == 0


def test_deleting_the_trade_deletes_its_report(
    repo: SqlAlchemyTradeReportRepository, backend_session: Session
) -> None:
    report_id = repo.save(full_report("T1"))
    repo.save(full_report("T2"))
    backend_session.execute(delete(TradeModel).where(TradeModel.exec_id == "T1"))
    assert repo.get(report_id) is None
    assert count_rows(backend_session, "trade_reports") == 1


def test_rollback_leaves_nothing(
    repo: SqlAlchemyTradeReportRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    repo.save(full_report())
    backend_session.rollback()
    assert raw_count(session_factory, "trade_reports") == 0


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


def test_delete_removes_the_reports_images_and_its_id_is_never_reused(
    repo: SqlAlchemyTradeReportRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    first = repo.save(full_report("T1"))
    last = repo.save(full_report("T2"))
    add_image(backend_session, "report", str(first))
    add_image(backend_session, "report", str(last))
    add_image(backend_session, "report", str(last))
    add_image(backend_session, "plan", str(last))  # another owner with the same number
    add_image(backend_session, "trade", "T2")
    backend_session.commit()

    repo.delete(last)  # the highest id: SQLite without AUTOINCREMENT would hand it out again
    backend_session.commit()
    assert images_of(session_factory, "report", str(last)) == 0
    assert images_of(session_factory, "report", str(first)) == 1
    assert images_of(session_factory, "plan", str(last)) == 1
    assert images_of(session_factory, "trade", "T2") == 1

    add_trade(backend_session, "T3")
    new = repo.save(full_report("T3"))
    backend_session.commit()
    assert new > last
    assert images_of(session_factory, "report", str(new)) == 0


def test_deleting_a_missing_report_leaves_images_alone(
    repo: SqlAlchemyTradeReportRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    add_image(backend_session, "report", "404")  # an orphan written by another tool
    backend_session.commit()
    with pytest.raises(NotFoundError):
        repo.delete(404)
    backend_session.commit()
    assert images_of(session_factory, "report", "404") == 1


def test_a_failed_report_delete_keeps_its_images(
    repo: SqlAlchemyTradeReportRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    report_id = repo.save(full_report("T1"))
    add_image(backend_session, "report", str(report_id))
    backend_session.commit()
    repo.delete(report_id)
    backend_session.rollback()
    assert images_of(session_factory, "report", str(report_id)) == 1
    assert raw_count(session_factory, "trade_reports") == 1
