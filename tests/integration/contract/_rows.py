"""Rows and checks for the contract suite, written independently of the repositories under test.

Parent rows (accounts, trades, reports, plans) are inserted with SQLAlchemy Core, and stored
rows are counted with raw SQL, so a test never relies on the repository it checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME, make_account, make_trade
from zorivest_infra.database.models import (
    AccountModel,
    TradeModel,
    TradePlanModel,
    TradeReportModel,
)


def add_account(session: Session, account_id: str = "ACC1") -> None:
    """Insert the factory account ``account_id``."""
    account = make_account(account_id)
    session.execute(
        insert(AccountModel).values(
            account_id=account.account_id,
            name=account.name,
            account_type=account.account_type.value,
            created_at=account.created_at,
        )
    )


def add_trade(session: Session, exec_id: str, account_id: str = "ACC1") -> None:
    """Insert the factory trade ``exec_id``, and its account first if it is not there yet."""
    if session.get(AccountModel, account_id) is None:
        add_account(session, account_id)
    trade = make_trade(exec_id, account_id=account_id)
    session.execute(
        insert(TradeModel).values(
            exec_id=trade.exec_id,
            time=trade.time,
            instrument=trade.instrument,
            action=trade.action.value,
            quantity=trade.quantity,
            price=trade.price,
            account_id=trade.account_id,
            commission=trade.commission,
            realized_pnl=trade.realized_pnl,
        )
    )


def add_report(session: Session, exec_id: str, **values: Any) -> int:
    """Insert a report on trade ``exec_id`` (created at BASE_TIME unless given); its id."""
    return int(
        session.execute(
            insert(TradeReportModel)
            .values({"trade_id": exec_id, "created_at": BASE_TIME, **values})
            .returning(TradeReportModel.id)
        ).scalar_one()
    )


def add_plan(session: Session, **values: Any) -> int:
    """Insert a plan (a low-conviction AAPL buy at BASE_TIME unless given); its id."""
    defaults = {"ticker": "AAPL", "direction": "BOT", "conviction": "low", "created_at": BASE_TIME}
    return int(
        session.execute(
            insert(TradePlanModel).values({**defaults, **values}).returning(TradePlanModel.id)
        ).scalar_one()
    )


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def raw_count(session_factory: sessionmaker[Session], table: str, where: str = "") -> int:
    """Rows of ``table`` (optionally filtered by a ``WHERE ...`` clause) as committed."""
    with session_factory() as fresh:
        return count_rows(fresh, table, where)


def count_rows(session: Session, table: str, where: str = "") -> int:
    """Rows of ``table`` (optionally filtered by a ``WHERE ...`` clause) seen by ``session``."""
    return int(session.execute(text(f"SELECT COUNT(*) FROM {table} {where}")).scalar_one())


@contextmanager
def captured_statements(session: Session) -> Iterator[list[tuple[str, Any]]]:
    """The (SQL, parameters) of every statement sent on the session's engine meanwhile."""
    captured: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def capture(*args: Any) -> None:
        captured.append((str(args[2]), args[3]))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield captured
    finally:
        event.remove(engine, "before_cursor_execute", capture)
