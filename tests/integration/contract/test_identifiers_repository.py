"""Identifier cache repository contract, on every backend."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME
from tests.integration.contract._rows import dialect_of, raw_count
from zorivest_core.domain.entities import IdentifierMapping
from zorivest_core.domain.enums import IdentifierType
from zorivest_core.domain.errors import DuplicateError, ValidationError
from zorivest_infra.database.repositories.identifiers import SqlAlchemyIdentifierRepository

CEST = dt.timezone(dt.timedelta(hours=2))


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyIdentifierRepository:
    return SqlAlchemyIdentifierRepository(backend_session)


def mapping(
    value: str = "037833100",
    kind: IdentifierType = IdentifierType.CUSIP,
    expires_at: dt.datetime | None = None,
    ticker: str = "AAPL",
) -> IdentifierMapping:
    return IdentifierMapping(
        id_type=kind,
        id_value=value,
        ticker=ticker,
        source="openfigi",
        resolved_at=BASE_TIME,
        expires_at=expires_at,
    )


def test_round_trip_of_every_field(
    repo: SqlAlchemyIdentifierRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    full = IdentifierMapping(
        id_type=IdentifierType.ISIN,
        id_value="US0378331005",
        ticker="AAPL",
        source="openfigi",
        exchange="XNAS",
        security_type="Common Stock",
        confidence=Decimal("0.000001"),
        resolved_at=dt.datetime(2024, 3, 8, 10, 0, 0, 9, tzinfo=CEST),
        expires_at=dt.datetime(2099, 1, 1, tzinfo=CEST),
    )
    full_id = repo.save(full)
    plain_id = repo.save(mapping())
    backend_session.commit()
    with session_factory() as fresh:
        fresh_repo = SqlAlchemyIdentifierRepository(fresh)
        stored = fresh_repo.get(full_id)
        assert fresh_repo.lookup(IdentifierType.ISIN, "US0378331005") == stored
        assert fresh_repo.get(plain_id) == dataclasses.replace(mapping(), id=plain_id)
        raw = fresh.execute(
            text("SELECT id_type, confidence FROM identifier_cache WHERE id = :id"),
            {"id": full_id},
        ).one()
    assert stored == dataclasses.replace(full, id=full_id)
    assert stored.resolved_at.tzinfo == dt.UTC
    assert raw[0] == "isin"
    if dialect_of(backend_session) == "sqlite":
        assert raw[1] == 1


def test_missing_duplicate_and_bad_input(repo: SqlAlchemyIdentifierRepository) -> None:
    assert repo.get(404) is None
    assert repo.lookup(IdentifierType.CUSIP, "037833100") is None
    repo.save(mapping())
    with pytest.raises(DuplicateError):
        repo.save(mapping(ticker="OTHER"))
    # The same value under another identifier type is a different key.
    repo.save(mapping(kind=IdentifierType.SEDOL))
    with pytest.raises(ValidationError):
        repo.lookup("ticker", "037833100")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        repo.lookup(IdentifierType.CUSIP, "037833100", at=dt.datetime(2024, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValidationError):
        repo.save(dataclasses.replace(mapping("X"), id=5))
    assert repo.count() == 2


def test_lookup_honours_expiry(repo: SqlAlchemyIdentifierRepository) -> None:
    expiry = BASE_TIME + dt.timedelta(days=30)
    repo.save(mapping(expires_at=expiry))
    assert repo.lookup(IdentifierType.CUSIP, "037833100", at=BASE_TIME) is not None
    just_before = (expiry - dt.timedelta(microseconds=1)).astimezone(CEST)
    assert repo.lookup(IdentifierType.CUSIP, "037833100", at=just_before) is not None
    assert repo.lookup(IdentifierType.CUSIP, "037833100", at=expiry) is None
    assert repo.lookup(IdentifierType.CUSIP, "037833100") is None  # now is long after
    # An expired row is still stored until cleaned up.
    assert repo.count() == 1


def test_upsert_replaces_in_place(
    repo: SqlAlchemyIdentifierRepository, backend_session: Session
) -> None:
    first = repo.upsert(mapping(expires_at=BASE_TIME))
    assert repo.lookup(IdentifierType.CUSIP, "037833100") is None
    refreshed = mapping(ticker="AAPL.N", expires_at=None)
    assert repo.upsert(refreshed) == first
    assert repo.lookup(IdentifierType.CUSIP, "037833100") == dataclasses.replace(
        refreshed, id=first
    )
    other = repo.upsert(mapping("594918104", ticker="MSFT"))
    assert other != first
    rows = backend_session.execute(
        text("SELECT id_value, ticker FROM identifier_cache ORDER BY id")
    ).all()
    assert [tuple(row) for row in rows] == [("037833100", "AAPL.N"), ("594918104", "MSFT")]


def test_delete_expired(repo: SqlAlchemyIdentifierRepository, backend_session: Session) -> None:
    repo.save(mapping("A", expires_at=BASE_TIME - dt.timedelta(days=1)))
    repo.save(mapping("B", expires_at=BASE_TIME))
    repo.save(mapping("C", expires_at=BASE_TIME + dt.timedelta(seconds=1)))
    repo.save(mapping("D"))
    assert repo.delete_expired(at=BASE_TIME.astimezone(CEST)) == 2
    remaining = backend_session.execute(
        text("SELECT id_value FROM identifier_cache ORDER BY id_value")
    ).scalars()
    assert list(remaining) == ["C", "D"]
    assert repo.delete_expired() == 1  # C expired long ago by the clock
    assert repo.delete_expired() == 0
    assert repo.count() == 1


def test_rollback_leaves_nothing(
    repo: SqlAlchemyIdentifierRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    repo.save(mapping())
    backend_session.rollback()
    assert raw_count(session_factory, "identifier_cache") == 0
