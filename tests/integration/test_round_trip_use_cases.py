"""Round trips kept current, the report and the reconciliation, on every backend.

Stored rows are checked with raw SQL; expected numbers are worked out by hand in comments.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from typing import Any, Final

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import make_account
from zorivest_core.application.importing import ParsedExecution, ParsedItem, RowRejection
from zorivest_core.application.ports import ReportGrouping, RoundTripFilter
from zorivest_core.application.use_cases.reconcile import BrokerPnl, broker_pnl_of, reconcile
from zorivest_core.application.use_cases.report import build_report
from zorivest_core.application.use_cases.round_trips import (
    earliest_changes,
    execution_of,
    pairs_of,
    rebuild_all,
    refresh_round_trips,
)
from zorivest_core.domain.entities import RoundTrip, Trade
from zorivest_core.domain.enums import TradeAction
from zorivest_core.domain.matching import match_executions
from zorivest_infra.database.unit_of_work import SqlAlchemyUnitOfWork

T0: Final = dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.UTC)


def trade(
    exec_id: str,
    minutes: int,
    action: str,
    quantity: str,
    price: str,
    commission: str,
    instrument: str = "MSFT",
    account_id: str = "ACC1",
) -> Trade:
    return Trade(
        exec_id=exec_id,
        time=T0 + dt.timedelta(minutes=minutes),
        instrument=instrument,
        action=TradeAction(action),
        quantity=Decimal(quantity),
        price=Decimal(price),
        account_id=account_id,
        commission=Decimal(commission),
    )


# MSFT: scale in 100 @ 10 and 50 @ 11, out 120 @ 12 and 30 @ 9 -> +157 net (see
# tests/unit/test_matching.py); then a short of 10 @ 20 still open.
MSFT: Final = [
    trade("A", 0, "BOT", "100", "10", "1.00"),
    trade("B", 1, "BOT", "50", "11", "0.50"),
    trade("C", 2, "SLD", "120", "12", "1.20"),
    trade("D", 3, "SLD", "30", "9", "0.30"),
    trade("E", 4, "SLD", "10", "20", "0.10"),
]
# NVDA: long 100 @ 20 flipped by selling 300 @ 21 (commission 1.00 split 1/3, 2/3), covered
# 200 @ 20.5: +98.666667 then +97.333333.
NVDA: Final = [
    trade("L1", 10, "BOT", "100", "20", "1.00", "NVDA"),
    trade("FLIP", 15, "SLD", "300", "21", "1.00", "NVDA"),
    trade("C1", 1500, "BOT", "200", "20.5", "2.00", "NVDA"),
]


@pytest.fixture
def uow_factory(session_factory: sessionmaker[Session]) -> Any:
    with SqlAlchemyUnitOfWork(session_factory) as uow:
        uow.accounts.save(make_account("ACC1"))
        uow.trades.save_many([*MSFT, *NVDA])
        uow.commit()
    return lambda: SqlAlchemyUnitOfWork(session_factory)


def stored(session_factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    with session_factory() as session:
        rows = session.execute(
            text(
                "SELECT instrument, direction, entry_exec_ids, exit_exec_ids, realized_pnl, "
                "total_commission, status FROM round_trips ORDER BY instrument, opened_at"
            )
        ).all()
    dialect = session_factory.kw["bind"].dialect.name
    # SQLite keeps money as integers scaled by 10**6; PostgreSQL as NUMERIC.
    scale = Decimal(10) ** -6 if dialect == "sqlite" else Decimal(1)
    return [
        (
            row[0],
            row[1],
            json.loads(row[2]),
            None if row[3] is None else json.loads(row[3]),
            Decimal(row[4]) * scale,
            Decimal(row[5]) * scale,
            row[6],
        )
        for row in rows
    ]


EXPECTED: Final = [
    ("MSFT", "BOT", ["A", "B"], ["C", "D"], Decimal(157), Decimal(3), "closed"),
    ("MSFT", "SLD", ["E"], None, Decimal(0), Decimal("0.1"), "open"),
    ("NVDA", "BOT", ["L1"], ["FLIP"], Decimal("98.666667"), Decimal("1.333333"), "closed"),
    ("NVDA", "SLD", ["FLIP"], ["C1"], Decimal("97.333333"), Decimal("2.666667"), "closed"),
]


def test_refresh_recomputes_only_the_pairs_it_is_given(
    uow_factory: Any, session_factory: sessionmaker[Session]
) -> None:
    with uow_factory() as uow:
        summary = refresh_round_trips(uow, pairs_of(MSFT))
        uow.commit()
    assert (summary.pairs, summary.deleted, summary.stored) == (1, 0, 2)
    assert stored(session_factory) == EXPECTED[:2]
    with uow_factory() as uow:
        refresh_round_trips(uow, [("ACC1", "NVDA"), ("ACC1", "NVDA")])
        uow.commit()
    assert stored(session_factory) == EXPECTED
    with uow_factory() as uow:  # a second refresh is a no-op on content
        again = refresh_round_trips(uow, [("ACC1", "MSFT"), ("ACC1", "NVDA")])
        uow.commit()
    assert (again.deleted, again.stored) == (4, 4)
    assert stored(session_factory) == EXPECTED


def test_refresh_follows_a_deleted_execution_and_rolls_back_with_its_unit_of_work(
    uow_factory: Any, session_factory: sessionmaker[Session]
) -> None:
    with uow_factory() as uow:
        rebuild_all(uow)
        uow.commit()
    with uow_factory() as uow:
        uow.trades.delete("E")
        refresh_round_trips(uow, [("ACC1", "MSFT")])
        # no commit: everything rolls back
    assert stored(session_factory) == EXPECTED
    with uow_factory() as uow:
        uow.trades.delete("E")
        refresh_round_trips(uow, [("ACC1", "MSFT")])
        uow.commit()
    assert stored(session_factory) == [EXPECTED[0], *EXPECTED[2:]]


def test_rebuild_all_replaces_everything(
    uow_factory: Any, session_factory: sessionmaker[Session]
) -> None:
    with uow_factory() as uow:
        first = rebuild_all(uow)
        uow.commit()
    with uow_factory() as uow:
        second = rebuild_all(uow)
        uow.commit()
    assert (first.pairs, first.deleted, first.stored) == (2, 0, 4)
    assert (second.pairs, second.deleted, second.stored) == (2, 4, 4)
    assert stored(session_factory) == EXPECTED


def test_report_over_closed_round_trips(uow_factory: Any) -> None:
    with uow_factory() as uow:
        rebuild_all(uow)
        uow.commit()
    with uow_factory() as uow:
        (row,) = build_report(uow)
        by_instrument = build_report(uow, by=ReportGrouping.INSTRUMENT)
        nvda_only = build_report(uow, RoundTripFilter(instrument="NVDA"))
    # closed: +157 (MSFT, closed 14:33), +98.666667 (14:45), +97.333333 (next day)
    assert row.currency == "USD"
    assert row.net_pnl == Decimal("353")
    assert row.commission == Decimal("7")  # 3 + 1.333333 + 2.666667
    assert row.gross_pnl == Decimal("360")
    assert (row.round_trips, row.wins, row.losses) == (3, 3, 0)
    assert row.win_rate == Decimal(1)
    assert row.average_win == Decimal("117.666667")  # 353 / 3 = 117.6666...
    assert row.average_loss is None
    assert row.profit_factor is None  # no losses
    assert row.expectancy == Decimal("117.666667")
    assert row.max_drawdown == Decimal(0)
    assert (row.largest_win, row.largest_loss) == (Decimal(157), None)
    # holding: 180 s (MSFT A..D), 300 s (L1..FLIP), 1485 min = 89,100 s -> 89,580 / 3
    assert row.average_holding_seconds == 29860
    assert [(r.group, r.net_pnl) for r in by_instrument] == [
        ("MSFT", Decimal(157)),
        ("NVDA", Decimal(196)),
    ]
    assert nvda_only[0].round_trips == 2


def test_reconcile_reports_differences_with_both_values(uow_factory: Any) -> None:
    broker = [
        BrokerPnl("C", Decimal("217.60"), line=7),  # ours 217.6: equal in cents
        BrokerPnl("D", Decimal("-60.61"), line=8),  # ours -60.6: differs
        BrokerPnl("A", Decimal("0"), line=5),  # an opening execution realizes nothing
        BrokerPnl("FLIP", Decimal("98.666667"), line=9),
        BrokerPnl("NOT-HERE", Decimal("1"), line=10),
    ]
    with uow_factory() as uow:
        report = reconcile(uow, broker)
    assert report.checked == 4
    assert [(d.exec_id, d.ours, d.broker, d.line) for d in report.differences] == [
        ("D", Decimal("-60.6"), Decimal("-60.61"), 8)
    ]
    assert [m.exec_id for m in report.missing] == ["NOT-HERE"]
    assert not report.ok


def test_broker_values_come_from_any_importers_parsed_executions() -> None:
    items: list[ParsedItem] = [
        ParsedExecution(line=3, trade=MSFT[0]),  # no broker value: not compared
        ParsedExecution(line=5, trade=MSFT[2], broker_realized_pnl=Decimal("217.6")),
        RowRejection(line=6, reason="bad row"),
    ]
    assert list(broker_pnl_of(items)) == [BrokerPnl("C", Decimal("217.6"), line=5)]


def trips_content(uow: SqlAlchemyUnitOfWork) -> list[RoundTrip]:
    return sorted(
        (dataclasses.replace(trip, id=None) for trip in uow.round_trips.iter_matching()),
        key=lambda trip: (trip.instrument, trip.opened_at, trip.entry_exec_ids),
    )


@pytest.mark.parametrize(
    ("minutes", "action", "quantity"),
    [
        (-5, "BOT", "10"),  # before everything: the whole history moves
        (2, "SLD", "30"),  # inside MSFT's first round trip, same time as C (ties by id)
        (3, "BOT", "30"),  # at D's time: D and the new one reorder by exec_id
        (4, "BOT", "10"),  # at E's time: covers the open short
        (15, "BOT", "5"),  # at FLIP's time (NVDA): the flip's boundary
        (900, "SLD", "50"),  # inside NVDA's short, between FLIP and C1
        (2000, "BOT", "1"),  # after everything: only the open tail
    ],
)
def test_incremental_refresh_equals_matching_the_whole_history(
    uow_factory: Any, minutes: int, action: str, quantity: str
) -> None:
    with uow_factory() as uow:
        rebuild_all(uow)
        uow.commit()
    new = [
        trade("NEW-M", minutes, action, quantity, "10.5", "0.25"),
        trade("NEW-N", minutes, action, quantity, "20.25", "0.25", "NVDA"),
    ]
    with uow_factory() as uow:
        uow.trades.save_many(new)
        summary = refresh_round_trips(uow, earliest_changes(new))
        uow.commit()
    assert summary.pairs == 2
    expected = sorted(
        [
            *match_executions("ACC1", "MSFT", map(execution_of, [*MSFT, new[0]])).round_trips,
            *match_executions("ACC1", "NVDA", map(execution_of, [*NVDA, new[1]])).round_trips,
        ],
        key=lambda trip: (trip.instrument, trip.opened_at, trip.entry_exec_ids),
    )
    with uow_factory() as uow:
        assert trips_content(uow) == expected


def test_incremental_refresh_after_a_delete_and_a_moved_execution(uow_factory: Any) -> None:
    with uow_factory() as uow:
        rebuild_all(uow)
        uow.commit()
    with uow_factory() as uow:
        uow.trades.delete("C1")  # NVDA's short stays open
        moved = dataclasses.replace(MSFT[3], time=MSFT[3].time + dt.timedelta(minutes=10))
        uow.trades.update(moved)
        changes = {("ACC1", "NVDA"): NVDA[2].time, ("ACC1", "MSFT"): MSFT[3].time}
        refresh_round_trips(uow, changes)
        uow.commit()
    expected = sorted(
        [
            *match_executions(
                "ACC1", "MSFT", map(execution_of, [*MSFT[:3], moved, MSFT[4]])
            ).round_trips,
            *match_executions("ACC1", "NVDA", map(execution_of, NVDA[:2])).round_trips,
        ],
        key=lambda trip: (trip.instrument, trip.opened_at, trip.entry_exec_ids),
    )
    with uow_factory() as uow:
        assert trips_content(uow) == expected


def test_round_trips_in_the_trades_currency_are_reported_apart(
    uow_factory: Any, session_factory: sessionmaker[Session]
) -> None:
    sap = [
        dataclasses.replace(trade("S1", 0, "BOT", "10", "100", "1", "SAP"), currency="EUR"),
        dataclasses.replace(trade("S2", 9, "SLD", "10", "101", "1", "SAP"), currency="EUR"),
    ]
    with uow_factory() as uow:
        uow.trades.save_many(sap)
        rebuild_all(uow)
        uow.commit()
    with session_factory() as session:
        stored_currency = session.execute(
            text("SELECT currency FROM round_trips WHERE instrument = 'SAP'")
        ).scalar_one()
    assert stored_currency == "EUR"
    with uow_factory() as uow:
        rows = build_report(uow)
    # ACC1 keeps USD; SAP's (101 - 100) * 10 - 2 = 8 EUR is never added to the USD 353.
    assert [(row.currency, row.net_pnl) for row in rows] == [
        ("EUR", Decimal(8)),
        ("USD", Decimal(353)),
    ]
