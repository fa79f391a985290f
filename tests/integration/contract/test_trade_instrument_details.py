"""Trade instrument details (revision 0002) on every backend: stored, read back, compared.

The stored values are read with raw SQL and checked against values written here by hand,
in each database's own storage form (SQLite: integers scaled by 10**10 and ISO date text;
PostgreSQL: NUMERIC and DATE).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Final

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_trade
from tests.integration.contract._rows import add_account, dialect_of
from zorivest_core.domain.entities import Trade
from zorivest_core.domain.enums import AssetClass, OptionRight
from zorivest_infra.database.repositories import SqlAlchemyTradeRepository

DETAIL_COLUMNS: Final = (
    "asset_class, multiplier, underlying, expiry, strike, option_right, currency, fx_rate"
)


@pytest.fixture
def session(backend_session: Session) -> Session:
    add_account(backend_session)
    backend_session.commit()
    return backend_session


@pytest.fixture
def repo(session: Session) -> SqlAlchemyTradeRepository:
    return SqlAlchemyTradeRepository(session)


def option_trade(exec_id: str = "OPT1", **overrides: Any) -> Trade:
    values: dict[str, Any] = {
        "instrument": "AAPL  240315C00190000",
        "price": Decimal("2.35"),
        "quantity": Decimal(3),
        "asset_class": AssetClass.OPTION,
        "multiplier": Decimal(100),
        "underlying": "AAPL",
        "expiry": dt.date(2024, 3, 15),
        "strike": Decimal("190"),
        "option_right": OptionRight.CALL,
        "currency": "EUR",
        "fx_rate": Decimal("1.0842"),
    }
    values.update(overrides)
    return make_trade(exec_id, **values)


def stored_details(session_factory: sessionmaker[Session], exec_id: str) -> tuple[Any, ...]:
    with session_factory() as fresh:
        row = fresh.execute(
            text(f"SELECT {DETAIL_COLUMNS} FROM trades WHERE exec_id = :e"), {"e": exec_id}
        ).one()
        return tuple(row)


def expected_option_row(dialect: str) -> tuple[Any, ...]:
    if dialect == "postgresql":
        return (
            "option",
            Decimal("100"),
            "AAPL",
            dt.date(2024, 3, 15),
            Decimal("190"),
            "C",
            "EUR",
            Decimal("1.0842"),
        )
    return (
        "option",
        1_000_000_000_000,
        "AAPL",
        "2024-03-15",
        1_900_000_000_000,
        "C",
        "EUR",
        10_842_000_000,
    )


def test_save_stores_each_detail_in_its_column(
    repo: SqlAlchemyTradeRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    repo.save(option_trade())
    session.commit()

    assert stored_details(session_factory, "OPT1") == expected_option_row(dialect_of(session))
    with session_factory() as fresh:
        assert SqlAlchemyTradeRepository(fresh).get("OPT1") == option_trade()


def test_save_many_stores_the_same_rows_as_save(
    repo: SqlAlchemyTradeRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    future = make_trade(
        "FUT1",
        instrument="ESH4",
        price=Decimal("5123.25"),
        asset_class=AssetClass.FUTURE,
        multiplier=Decimal(50),
        expiry=dt.date(2024, 3, 15),
        currency="USD",
    )
    result = repo.save_many([option_trade(), future, make_trade("STK1")])
    session.commit()

    assert result.inserted == ["OPT1", "FUT1", "STK1"]
    assert stored_details(session_factory, "OPT1") == expected_option_row(dialect_of(session))
    future_row = stored_details(session_factory, "FUT1")
    if dialect_of(session) == "postgresql":
        assert future_row == (
            "future", Decimal(50), None, dt.date(2024, 3, 15), None, None, "USD", None
        )  # fmt: skip
    else:
        assert future_row == (
            "future",
            500_000_000_000,
            None,
            "2024-03-15",
            None,
            None,
            "USD",
            None,
        )
    assert stored_details(session_factory, "STK1") == (None,) * 8
    with session_factory() as fresh:
        reader = SqlAlchemyTradeRepository(fresh)
        assert reader.get("OPT1") == option_trade()
        assert reader.get("FUT1") == future
        assert reader.get("STK1") == make_trade("STK1")
        listed = {trade.exec_id: trade for trade in reader.list_for_account("ACC1")}
        assert listed == {"OPT1": option_trade(), "FUT1": future, "STK1": make_trade("STK1")}
        assert {t.exec_id: t for t in reader.iter_for_account("ACC1", batch_size=1)} == listed


@pytest.mark.parametrize(
    "change",
    [
        {"asset_class": AssetClass.FUTURE},
        {"multiplier": Decimal(10)},
        {"multiplier": None},
        {"underlying": "AAPL2"},
        {"expiry": dt.date(2024, 3, 22)},
        {"strike": Decimal("190.5")},
        {"option_right": OptionRight.PUT},
        {"currency": "USD"},
        {"fx_rate": Decimal("1.0843")},
        {"fx_rate": None},
    ],
    ids=lambda change: "-".join(f"{k}={v}" for k, v in change.items()),
)
def test_a_different_detail_is_a_conflict_and_the_stored_row_stays(
    repo: SqlAlchemyTradeRepository,
    session: Session,
    session_factory: sessionmaker[Session],
    change: dict[str, Any],
) -> None:
    repo.save_many([option_trade()])
    session.commit()

    again = repo.save_many([option_trade(), option_trade("OPT1", **change)])
    session.commit()

    assert (again.inserted, again.duplicates, again.conflicts) == ([], ["OPT1"], ["OPT1"])
    assert stored_details(session_factory, "OPT1") == expected_option_row(dialect_of(session))


def test_update_changes_and_clears_details(
    repo: SqlAlchemyTradeRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    repo.save(option_trade())
    session.commit()

    repo.update(make_trade("OPT1", instrument="AAPL", price=Decimal("2.35"), quantity=3))
    session.commit()

    assert stored_details(session_factory, "OPT1") == (None,) * 8
