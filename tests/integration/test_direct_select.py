"""The trades' hot reads on SQLite's driver (`DirectSelect`): same values, seen when watched.

`get` and the listings skip SQLAlchemy's per-statement work on SQLite while no execute or
cursor listener is registered. These tests pin what that must never change: the entities
read (compared with what a listener-watched read returns, and with values written by hand),
that a registered listener sees every statement, and that errors still come through
SQLAlchemy's error handling.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session

from tests.factories import BASE_TIME, make_account, make_trade
from zorivest_core.domain.entities import Trade
from zorivest_core.domain.enums import AssetClass, OptionRight, TradeAction
from zorivest_infra.database.direct_select import observed
from zorivest_infra.database.repositories import (
    SqlAlchemyAccountRepository,
    SqlAlchemyTradeRepository,
)


@pytest.fixture
def engine(backend_engine: Engine) -> Engine:
    """Each backend: the direct path on SQLite and SQLCipher, SQLAlchemy's on PostgreSQL,
    and the same entities from all of them."""
    return backend_engine


@pytest.fixture
def sqlite_engine(engine: Engine) -> Engine:
    if engine.dialect.name != "sqlite":
        pytest.skip("the direct path exists on SQLite only")
    return engine


OPTION = make_trade(
    "OPT1",
    time=BASE_TIME + dt.timedelta(minutes=5),
    instrument="AAPL  250117C00190000",
    action=TradeAction.SLD,
    quantity=Decimal(2),
    price=Decimal("3.1"),
    commission=Decimal("-0.35"),
    realized_pnl=Decimal("120.5"),
    asset_class=AssetClass.OPTION,
    multiplier=Decimal(100),
    underlying="AAPL",
    expiry=dt.date(2025, 1, 17),
    strike=Decimal(190),
    option_right=OptionRight.CALL,
    currency="USD",
    fx_rate=Decimal("1.0000000001"),
)


def _store(engine: Engine) -> None:
    with Session(engine) as session:
        SqlAlchemyAccountRepository(session).save(make_account())
        trades = SqlAlchemyTradeRepository(session)
        trades.save(make_trade("STK1"))
        trades.save(OPTION)
        session.commit()
    # A P&L left NULL, as rows from before revision 0003 may hold: it reads as zero.
    # Written as each backend stores it: scaled integers and UTC text on SQLite.
    sqlite = engine.dialect.name == "sqlite"
    values = (
        "'2024-01-02 15:00:00.000000', 'MSFT', 'BOT', 10000000000, 4105000000000"
        if sqlite
        else "'2024-01-02 15:00:00+00', 'MSFT', 'BOT', 1, 410.50"
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO trades (exec_id, time, instrument, action, quantity, price, "
                f"account_id, commission, realized_pnl) VALUES ('NUL1', {values}, "
                "'ACC1', 0, NULL)"
            )
        )


def _read(engine: Engine) -> tuple[list[Trade | None], list[Trade]]:
    with Session(engine) as session:
        trades = SqlAlchemyTradeRepository(session)
        found = [trades.get(exec_id) for exec_id in ("STK1", "OPT1", "NUL1", "nope")]
        listed = trades.list_for_account("ACC1", limit=10)
        return found, listed


def test_direct_reads_return_the_stored_values(engine: Engine) -> None:
    _store(engine)
    (stock, option, nulled, missing), listed = _read(engine)
    assert stock == make_trade("STK1")
    assert option == OPTION
    assert option is not None
    assert option.fx_rate == Decimal("1.0000000001")
    assert option.expiry == dt.date(2025, 1, 17)
    assert option.option_right is OptionRight.CALL
    assert nulled is not None
    assert nulled.time == dt.datetime(2024, 1, 2, 15, 0, tzinfo=dt.UTC)
    assert nulled.time.tzinfo is dt.UTC
    assert (nulled.quantity, nulled.price, nulled.realized_pnl) == (
        Decimal(1),
        Decimal("410.5"),
        Decimal(0),
    )
    assert str(nulled.price) == "410.5"  # canonical: no trailing zeros
    assert missing is None
    # The listing decodes whole columns at once (mixed NULLs fall back to value by value):
    # it must restore exactly what the lookups restored, row by row.
    assert listed == [option, stock, nulled]


def test_a_listing_of_stocks_only_keeps_their_details_none(engine: Engine) -> None:
    _store(engine)
    with Session(engine) as session:
        SqlAlchemyTradeRepository(session).delete("OPT1")
        session.commit()
    _, listed = _read(engine)
    assert [trade.exec_id for trade in listed] == ["STK1", "NUL1"]
    for trade in listed:
        details = (trade.asset_class, trade.multiplier, trade.expiry, trade.option_right)
        assert details == (None, None, None, None)
    assert listed[0].price == Decimal("189.25")
    assert listed[1].realized_pnl == Decimal(0)


def test_a_real_number_stored_behind_the_layers_back_is_refused_in_a_listing(
    sqlite_engine: Engine,
) -> None:
    engine = sqlite_engine
    _store(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE trades SET price = 1.5 WHERE exec_id = 'STK1'"))
    with Session(engine) as session, pytest.raises(TypeError, match=r"inexact REAL value 1\.5"):
        SqlAlchemyTradeRepository(session).list_for_account("ACC1", limit=10)


def test_a_listener_sees_every_read_and_gets_the_same_entities(engine: Engine) -> None:
    _store(engine)
    direct = _read(engine)
    seen: list[str] = []

    def record(*arguments: Any) -> None:
        seen.append(arguments[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        watched = _read(engine)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert watched == direct
    selects = [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 5  # four gets and one page
    assert all("FROM trades" in sql for sql in selects)


def test_the_direct_path_does_not_go_through_connection_execute(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = sqlite_engine
    _store(engine)
    expected = _read(engine)
    calls: list[object] = []
    original = Connection.execute

    def counting(self: Connection, statement: Any, *arguments: Any, **options: Any) -> Any:
        calls.append(statement)
        return original(self, statement, *arguments, **options)

    monkeypatch.setattr(Connection, "execute", counting)
    assert _read(engine) == expected
    reads = [call for call in calls if "trades" in str(call)]
    assert reads == []


def test_observed_follows_listeners_as_they_come_and_go(engine: Engine) -> None:
    def record(*_arguments: Any) -> None:
        return None

    with engine.connect() as connection:
        assert not observed(connection)
        event.listen(engine, "after_execute", record)
        try:
            assert observed(connection)
        finally:
            event.remove(engine, "after_execute", record)
        assert not observed(connection)


def test_sqlalchemy_s_statement_log_sees_every_read(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    _store(engine)
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        found, listed = _read(engine)
    logged = [record.getMessage() for record in caplog.records]
    selects = [
        message for message in logged if message.startswith("SELECT") and "trades" in message
    ]
    # four gets and one listing, each logged as the statement it ran
    assert len(selects) == 5
    assert [trade.exec_id if trade else None for trade in found] == ["STK1", "OPT1", "NUL1", None]
    assert [trade.exec_id for trade in listed] == ["OPT1", "STK1", "NUL1"]


def test_the_core_base_s_readers_build_trades_as_get_does(engine: Engine) -> None:
    _store(engine)
    with Session(engine) as session:
        trades = SqlAlchemyTradeRepository(session)
        for exec_id in ("STK1", "OPT1", "NUL1"):
            assert trades._get(exec_id) == trades.get(exec_id)


def test_an_error_on_the_direct_path_is_raised_through_sqlalchemy(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    _store(engine)
    handled: list[str] = []

    def note(context: ExceptionContext) -> None:
        handled.append(str(context.original_exception))

    event.listen(engine, "handle_error", note)  # not an execute event: the path stays direct
    try:
        with Session(engine) as session:
            session.execute(text("DROP TABLE trades"))
            trades = SqlAlchemyTradeRepository(session)
            with pytest.raises(Exception, match="no such table: trades") as raised:
                trades.get("STK1")
            session.rollback()
    finally:
        event.remove(engine, "handle_error", note)
    assert type(raised.value).__module__.startswith("sqlalchemy")
    assert handled == ["no such table: trades"]
