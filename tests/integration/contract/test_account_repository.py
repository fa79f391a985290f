"""Account repository contract, on every backend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME, make_account, make_trade
from tests.integration.contract._rows import add_plan, raw_count
from zorivest_core.application.ports import AccountRepository
from zorivest_core.domain.entities import Account
from zorivest_core.domain.enums import AccountType
from zorivest_core.domain.errors import ConflictError, DuplicateError, NotFoundError
from zorivest_infra.database.models import (
    BalanceSnapshotModel,
    BankTransactionModel,
    RoundTripModel,
)
from zorivest_infra.database.repositories import (
    SqlAlchemyAccountRepository,
    SqlAlchemyTradeRepository,
)

NEW_YORK: Final = ZoneInfo("America/New_York")


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyAccountRepository:
    return SqlAlchemyAccountRepository(backend_session)


def fresh_get(session_factory: sessionmaker[Session], account_id: str) -> Account | None:
    with session_factory() as fresh:
        return SqlAlchemyAccountRepository(fresh).get(account_id)


def test_repository_satisfies_its_port(repo: SqlAlchemyAccountRepository) -> None:
    port: AccountRepository = repo
    assert port is repo


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({}, id="defaults"),
        pytest.param(
            {
                "account_type": AccountType.K401,
                "institution": None,
                "currency": "EUR",
                "is_tax_advantaged": True,
                "notes": "Roth 'backdoor' — 📈\nline two",
                "created_at": dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=NEW_YORK),
            },
            id="every-field",
        ),
        pytest.param({"notes": "", "name": "x" * 200}, id="edges"),
    ],
)
def test_every_field_round_trips(
    repo: SqlAlchemyAccountRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
    overrides: dict[str, Any],
) -> None:
    account = make_account("A-1", **overrides)
    repo.save(account)
    backend_session.commit()

    stored = fresh_get(session_factory, "A-1")

    assert stored == account
    assert stored is not None
    assert stored.created_at.tzinfo is dt.UTC
    with session_factory() as fresh:
        raw = fresh.execute(
            text("SELECT account_type, is_tax_advantaged FROM accounts WHERE account_id = 'A-1'")
        ).one()
    assert raw[0] == account.account_type.value  # the enum's value, e.g. '401k'
    assert bool(raw[1]) is account.is_tax_advantaged


def test_missing_account_reads_as_none_and_cannot_be_updated_or_deleted(
    repo: SqlAlchemyAccountRepository,
) -> None:
    assert repo.get("NOPE") is None
    assert not repo.exists("NOPE")
    with pytest.raises(NotFoundError, match="NOPE"):
        repo.update(make_account("NOPE"))
    with pytest.raises(NotFoundError, match="NOPE"):
        repo.delete("NOPE")


def test_an_existing_id_is_a_duplicate(
    repo: SqlAlchemyAccountRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    repo.save(make_account("A1"))
    with pytest.raises(DuplicateError) as caught:
        repo.save(make_account("A1", name="Another"))
    assert isinstance(caught.value.__cause__, DBAPIError)
    repo.save(make_account("A2"))
    backend_session.commit()
    assert raw_count(session_factory, "accounts") == 2
    stored = fresh_get(session_factory, "A1")
    assert stored is not None
    assert stored.name == "Account A1"


def test_update_replaces_fields(
    repo: SqlAlchemyAccountRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    repo.save(make_account("A1"))
    changed = make_account(
        "A1",
        name="Renamed",
        account_type=AccountType.IRA,
        institution=None,
        currency="GBP",
        is_tax_advantaged=True,
        notes="moved",
        created_at=BASE_TIME - dt.timedelta(days=1),
    )
    repo.update(changed)
    backend_session.commit()
    assert fresh_get(session_factory, "A1") == changed


def test_listing_and_counting(repo: SqlAlchemyAccountRepository) -> None:
    repo.save(make_account("Z", name="Alpha"))
    repo.save(make_account("B", name="Beta"))
    repo.save(make_account("A", name="Beta"))
    assert [account.account_id for account in repo.list_all()] == ["Z", "A", "B"]
    assert repo.count() == 3
    assert repo.exists("A")


def test_delete_removes_an_unused_account_and_clears_its_plans(
    repo: SqlAlchemyAccountRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    repo.save(make_account("GONE"))
    repo.save(make_account("STAY"))
    add_plan(backend_session, ticker="AAPL", account_id="GONE")
    backend_session.commit()

    repo.delete("GONE")
    backend_session.commit()

    assert fresh_get(session_factory, "GONE") is None
    assert fresh_get(session_factory, "STAY") is not None
    with session_factory() as fresh:
        plans = fresh.execute(text("SELECT ticker, account_id FROM trade_plans")).all()
    assert [tuple(plan) for plan in plans] == [("AAPL", None)]


def _trade(session: Session, account_id: str) -> None:
    SqlAlchemyTradeRepository(session).save(make_trade("T1", account_id=account_id))


def _snapshot(session: Session, account_id: str) -> None:
    session.execute(
        insert(BalanceSnapshotModel).values(
            account_id=account_id, datetime=BASE_TIME, balance=Decimal(10)
        )
    )


def _round_trip(session: Session, account_id: str) -> None:
    session.execute(
        insert(RoundTripModel).values(
            account_id=account_id,
            instrument="AAPL",
            direction="BOT",
            entry_exec_ids=["T1"],
            entry_avg_price=Decimal(1),
            total_quantity=Decimal(1),
            opened_at=BASE_TIME,
        )
    )


def _bank_transaction(session: Session, account_id: str) -> None:
    session.execute(
        insert(BankTransactionModel).values(
            account_id=account_id,
            date=BASE_TIME,
            description="coffee",
            amount=Decimal("-3.5"),
            dedup_hash="h" * 32,
            source="manual",
            created_at=BASE_TIME,
        )
    )


@pytest.mark.parametrize(
    ("add_dependant", "named"),
    [
        (_trade, "trades"),
        (_snapshot, "balance snapshots"),
        (_round_trip, "round trips"),
        (_bank_transaction, "bank transactions"),
    ],
)
def test_an_account_still_in_use_cannot_be_deleted(
    repo: SqlAlchemyAccountRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
    add_dependant: Any,
    named: str,
) -> None:
    repo.save(make_account("USED"))
    add_dependant(backend_session, "USED")
    backend_session.commit()

    with pytest.raises(ConflictError, match=named):
        repo.delete("USED")
    backend_session.commit()

    assert fresh_get(session_factory, "USED") is not None


def test_rolled_back_accounts_leave_nothing(
    repo: SqlAlchemyAccountRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    repo.save(make_account("A1"))
    backend_session.rollback()
    assert raw_count(session_factory, "accounts") == 0


def test_row_mapping_is_inverse_and_reads_legacy_nulls_as_defaults() -> None:
    rows = SqlAlchemyAccountRepository.rows
    names = [column.key for column in rows.selected]
    account = make_account("MAP", notes="n", is_tax_advantaged=True)
    row = rows.to_row(account)
    assert list(row) == names
    assert row["account_type"] == account.account_type.value
    assert rows.from_row([row[name] for name in names]) == account
    legacy = {**row, "currency": None, "is_tax_advantaged": None, "notes": None}
    assert rows.from_row([legacy[name] for name in names]) == make_account(
        "MAP", currency="USD", is_tax_advantaged=False, notes=None
    )
    assert rows.from_row([{**legacy, "currency": ""}[name] for name in names]).currency == "USD"
