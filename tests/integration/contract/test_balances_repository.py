"""Balance snapshot repository contract, on every backend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import delete, text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME
from tests.integration.contract._rows import add_account, count_rows, dialect_of, raw_count
from zorivest_core.domain.entities import BalanceSnapshot
from zorivest_core.domain.errors import ConflictError, NotFoundError, ValidationError
from zorivest_infra.database.models import AccountModel
from zorivest_infra.database.repositories.balances import SqlAlchemyBalanceSnapshotRepository

EST = dt.timezone(dt.timedelta(hours=-5))
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyBalanceSnapshotRepository:
    add_account(backend_session)
    return SqlAlchemyBalanceSnapshotRepository(backend_session)


EDGE_BALANCES = (
    Decimal("0.1"),
    Decimal("-0.000001"),
    Decimal("999999999999.999999"),
    Decimal("-999999999999.999999"),
    Decimal(0),
)


def test_round_trip_of_every_field(
    repo: SqlAlchemyBalanceSnapshotRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    when = dt.datetime(2024, 3, 8, 9, 30, 15, 123456, tzinfo=EST)
    saved = {
        repo.save(BalanceSnapshot(account_id="ACC1", datetime=when, balance=balance)): balance
        for balance in EDGE_BALANCES
    }
    backend_session.commit()

    with session_factory() as fresh:
        fresh_repo = SqlAlchemyBalanceSnapshotRepository(fresh)
        for snapshot_id, balance in saved.items():
            stored = fresh_repo.get(snapshot_id)
            assert stored == BalanceSnapshot(
                id=snapshot_id, account_id="ACC1", datetime=when, balance=balance
            )
            assert stored.datetime.tzinfo == dt.UTC
            assert stored.datetime == when


def test_money_is_stored_exactly(
    repo: SqlAlchemyBalanceSnapshotRepository, backend_session: Session
) -> None:
    snapshot_id = repo.save(
        BalanceSnapshot(account_id="ACC1", datetime=BASE_TIME, balance=Decimal("-12.345678"))
    )
    raw = backend_session.execute(
        text("SELECT balance FROM balance_snapshots WHERE id = :id"), {"id": snapshot_id}
    ).scalar_one()
    if dialect_of(backend_session) == "sqlite":
        assert raw == -12345678  # a scaled integer, not REAL
    else:
        assert raw == Decimal("-12.345678")


def test_missing_rows(repo: SqlAlchemyBalanceSnapshotRepository) -> None:
    with pytest.raises(ValidationError):
        repo.save(BalanceSnapshot(id=5, account_id="ACC1", datetime=BASE_TIME, balance=Decimal(1)))
    assert repo.get(999) is None
    assert repo.latest("ACC1") is None
    with pytest.raises(NotFoundError):
        repo.delete(999)
    with pytest.raises(NotFoundError):
        repo.update(
            BalanceSnapshot(id=999, account_id="ACC1", datetime=BASE_TIME, balance=Decimal(1))
        )


def test_unknown_account_is_refused_and_the_session_stays_usable(
    repo: SqlAlchemyBalanceSnapshotRepository,
) -> None:
    with pytest.raises(ConflictError):
        repo.save(BalanceSnapshot(account_id="NOPE", datetime=BASE_TIME, balance=Decimal(1)))
    repo.save(BalanceSnapshot(account_id="ACC1", datetime=BASE_TIME, balance=Decimal(1)))
    assert repo.count() == 1


def test_listing_is_ordered_and_windowed_half_open(
    repo: SqlAlchemyBalanceSnapshotRepository, backend_session: Session
) -> None:
    add_account(backend_session, "ACC2")
    times = [BASE_TIME + dt.timedelta(days=offset) for offset in (2, 0, 1, 3)]
    for index, when in enumerate(times):
        repo.save(BalanceSnapshot(account_id="ACC1", datetime=when, balance=Decimal(index)))
    repo.save(BalanceSnapshot(account_id="ACC2", datetime=BASE_TIME, balance=Decimal(100)))

    listed = repo.list_for_account("ACC1")
    assert [s.datetime for s in listed] == sorted(times)
    window = repo.list_for_account(
        "ACC1",
        since=BASE_TIME + dt.timedelta(days=1),
        until=(BASE_TIME + dt.timedelta(days=3)).astimezone(IST),
    )
    assert [s.balance for s in window] == [Decimal(2), Decimal(0)]
    latest = repo.latest("ACC1")
    assert latest is not None
    assert latest.balance == Decimal(3)
    assert repo.count() == 5
    assert repo.count("ACC2") == 1
    with pytest.raises(ValidationError):
        repo.list_for_account("ACC1", since=dt.datetime(2024, 1, 1))  # noqa: DTZ001
    # On a tie in time, the last saved snapshot is the latest.
    repo.save(BalanceSnapshot(account_id="ACC1", datetime=times[3], balance=Decimal(7)))
    tied = repo.latest("ACC1")
    assert tied is not None
    assert tied.balance == Decimal(7)


def test_update_and_delete(
    repo: SqlAlchemyBalanceSnapshotRepository, backend_session: Session
) -> None:
    snapshot_id = repo.save(
        BalanceSnapshot(account_id="ACC1", datetime=BASE_TIME, balance=Decimal(1))
    )
    repo.update(
        BalanceSnapshot(id=snapshot_id, account_id="ACC1", datetime=BASE_TIME, balance=Decimal(2))
    )
    assert count_rows(backend_session, "balance_snapshots", f"WHERE id = {snapshot_id}") == 1
    got = repo.get(snapshot_id)
    assert got is not None
    assert got.balance == Decimal(2)
    repo.delete(snapshot_id)
    assert repo.get(snapshot_id) is None


def test_account_with_snapshots_cannot_be_deleted(
    repo: SqlAlchemyBalanceSnapshotRepository, backend_session: Session
) -> None:
    from sqlalchemy.exc import IntegrityError

    repo.save(BalanceSnapshot(account_id="ACC1", datetime=BASE_TIME, balance=Decimal(1)))
    with pytest.raises(IntegrityError), backend_session.begin_nested():
        backend_session.execute(delete(AccountModel).where(AccountModel.account_id == "ACC1"))


def test_rollback_leaves_nothing(
    repo: SqlAlchemyBalanceSnapshotRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    repo.save(BalanceSnapshot(account_id="ACC1", datetime=BASE_TIME, balance=Decimal(1)))
    backend_session.rollback()
    assert raw_count(session_factory, "balance_snapshots") == 0
