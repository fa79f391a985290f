"""Trades read in round-trip matching order, on every backend."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tests.factories import BASE_TIME, make_trade
from tests.integration.contract._rows import add_account
from zorivest_infra.database.models import TradeModel
from zorivest_infra.database.repositories.trades import SqlAlchemyTradeRepository, trade_to_row


def test_iter_in_matching_order_sorts_by_pair_time_and_exec_id(
    backend_session: Session,
) -> None:
    add_account(backend_session, "ACC1")
    add_account(backend_session, "ACC2")
    later = BASE_TIME + dt.timedelta(minutes=1)
    rows = [
        make_trade("Z", time=BASE_TIME, instrument="MSFT"),
        make_trade("B", time=later, instrument="AAPL"),
        make_trade("A", time=later, instrument="AAPL"),
        make_trade("C", time=BASE_TIME, instrument="AAPL"),
        make_trade("D", time=BASE_TIME, instrument="AAPL", account_id="ACC2"),
    ]
    # Stored with Core, independently of the repository under test.
    backend_session.execute(insert(TradeModel), [trade_to_row(row) for row in rows])
    repo = SqlAlchemyTradeRepository(backend_session)
    assert [t.exec_id for t in repo.iter_in_matching_order(batch_size=2)] == [
        "C",
        "A",
        "B",
        "Z",
        "D",
    ]
    aapl = repo.iter_in_matching_order(account_id="ACC1", instrument="AAPL", since=later)
    assert [t.exec_id for t in aapl] == ["A", "B"]
    assert list(repo.iter_in_matching_order(account_id="ACC9")) == []
