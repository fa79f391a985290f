"""Transaction ledger repository contract, on every backend."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from sqlalchemy import delete, text
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.contract._rows import add_trade, count_rows, dialect_of, raw_count
from zorivest_core.domain.entities import LedgerEntry
from zorivest_core.domain.enums import FeeType
from zorivest_core.domain.errors import ConflictError, NotFoundError, ValidationError
from zorivest_infra.database.models import TradeModel
from zorivest_infra.database.repositories.ledger import SqlAlchemyLedgerRepository


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyLedgerRepository:
    add_trade(backend_session, "T1")
    add_trade(backend_session, "T2")
    return SqlAlchemyLedgerRepository(backend_session)


def entry(trade: str = "T1", fee: FeeType = FeeType.COMMISSION, amount: str = "1") -> LedgerEntry:
    return LedgerEntry(trade_exec_id=trade, fee_type=fee, amount=Decimal(amount))


def test_round_trip_of_every_field(
    repo: SqlAlchemyLedgerRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    full = LedgerEntry(
        trade_exec_id="T1",
        fee_type=FeeType.REGULATORY,
        amount=Decimal("-0.000001"),
        currency="EUR",
        description="SEC fee (rebate) — ünïcode",
    )
    full_id = repo.save(full)
    minimal_id = repo.save(entry(amount="999999999999.999999"))
    backend_session.commit()
    with session_factory() as fresh:
        fresh_repo = SqlAlchemyLedgerRepository(fresh)
        assert fresh_repo.get(full_id) == dataclasses.replace(full, id=full_id)
        minimal = fresh_repo.get(minimal_id)
        raw = fresh.execute(
            text("SELECT amount, currency FROM transaction_ledger ORDER BY id")
        ).all()
    assert minimal == dataclasses.replace(entry(amount="999999999999.999999"), id=minimal_id)
    if dialect_of(backend_session) == "sqlite":
        assert [tuple(row) for row in raw] == [(-1, "EUR"), (999999999999999999, "USD")]
    else:
        assert [row[0] for row in raw] == [Decimal("-0.000001"), Decimal("999999999999.999999")]


def test_missing_rows_and_unknown_trade(repo: SqlAlchemyLedgerRepository) -> None:
    assert repo.get(404) is None
    assert repo.list_for_trade("T1") == []
    assert repo.totals_by_fee_type() == {}
    with pytest.raises(NotFoundError):
        repo.delete(404)
    with pytest.raises(ConflictError):
        repo.save(entry("UNKNOWN"))
    with pytest.raises(ValidationError):
        repo.save(dataclasses.replace(entry(), id=3))
    with pytest.raises(ConflictError):
        repo.save_many([entry("T1"), entry("UNKNOWN")])
    assert repo.count() == 0


def test_totals_are_exact_and_computed_per_fee_type(
    repo: SqlAlchemyLedgerRepository, backend_session: Session
) -> None:
    # Ten times 0.1 is exactly 1 only if nothing went through a binary float.
    saved = repo.save_many(
        [entry("T1", FeeType.COMMISSION, "0.1") for _ in range(10)]
        + [entry("T2", FeeType.COMMISSION, "0.2") for _ in range(3)]
        + [
            entry("T1", FeeType.EXCHANGE, "123456789012.345678"),
            entry("T2", FeeType.EXCHANGE, "-23456789012.345677"),
            entry("T1", FeeType.ECN, "0.000001"),
            entry("T1", FeeType.ECN, "-0.000001"),
        ]
    )
    assert saved == 17
    totals = repo.totals_by_fee_type()
    assert totals == {
        FeeType.COMMISSION: Decimal("1.6"),
        FeeType.EXCHANGE: Decimal("100000000000.000001"),
        FeeType.ECN: Decimal(0),
    }
    assert all(isinstance(total, Decimal) for total in totals.values())
    assert repo.totals_by_fee_type("T1") == {
        FeeType.COMMISSION: Decimal(1),
        FeeType.EXCHANGE: Decimal("123456789012.345678"),
        FeeType.ECN: Decimal(0),
    }
    # The same sum, computed independently of the repository.
    raw = backend_session.execute(
        text("SELECT SUM(amount) FROM transaction_ledger WHERE fee_type = 'commission'")
    ).scalar_one()
    if dialect_of(backend_session) == "sqlite":
        assert raw == 1_600_000
    else:
        assert Decimal(raw) == Decimal("1.6")


def test_totals_never_add_different_currencies(repo: SqlAlchemyLedgerRepository) -> None:
    repo.save(entry("T1", FeeType.COMMISSION, "1"))
    repo.save(dataclasses.replace(entry("T1", FeeType.COMMISSION, "2"), currency="EUR"))
    with pytest.raises(ValidationError, match="EUR, USD"):
        repo.totals_by_fee_type()
    assert repo.totals_by_fee_type(currency="USD") == {FeeType.COMMISSION: Decimal(1)}
    assert repo.totals_by_fee_type("T1", currency="EUR") == {FeeType.COMMISSION: Decimal(2)}
    assert repo.totals_by_fee_type(currency="GBP") == {}


def test_entries_per_trade_in_saved_order_and_cascade(
    repo: SqlAlchemyLedgerRepository, backend_session: Session
) -> None:
    first = repo.save(entry("T1", FeeType.PLATFORM, "3"))
    second = repo.save(entry("T1", FeeType.CLEARING, "1"))
    repo.save(entry("T2", FeeType.OTHER, "2"))
    assert [e.id for e in repo.list_for_trade("T1")] == [first, second]
    repo.delete(first)
    assert [e.id for e in repo.list_for_trade("T1")] == [second]

    backend_session.execute(delete(TradeModel).where(TradeModel.exec_id == "T1"))
    assert repo.list_for_trade("T1") == []
    assert repo.get(second) is None
    assert repo.count() == 1
    assert count_rows(backend_session, "transaction_ledger") == 1


def test_rollback_leaves_nothing(
    repo: SqlAlchemyLedgerRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    repo.save(entry())
    repo.save_many([entry(), entry()])
    backend_session.rollback()
    assert raw_count(session_factory, "transaction_ledger") == 0
