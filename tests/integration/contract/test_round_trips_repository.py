"""Round trip repository contract, on every backend."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import BASE_TIME
from tests.integration.contract._rows import (
    add_account,
    captured_statements,
    count_rows,
    dialect_of,
    raw_count,
)
from zorivest_core.application.ports import PnlStatistics, ReportGrouping, RoundTripFilter
from zorivest_core.domain.entities import RoundTrip
from zorivest_core.domain.enums import RoundTripStatus, TradeAction
from zorivest_core.domain.errors import ConflictError, NotFoundError, ValidationError
from zorivest_infra.database.repositories.round_trips import SqlAlchemyRoundTripRepository

EDT = dt.timezone(dt.timedelta(hours=-4))


@pytest.fixture
def repo(backend_session: Session) -> SqlAlchemyRoundTripRepository:
    add_account(backend_session, "ACC1")
    add_account(backend_session, "ACC2")
    return SqlAlchemyRoundTripRepository(backend_session)


def trip(instrument: str = "AAPL", minutes: int = 0, account_id: str = "ACC1") -> RoundTrip:
    return RoundTrip(
        account_id=account_id,
        instrument=instrument,
        direction=TradeAction.BOT,
        entry_exec_ids=["E1"],
        entry_avg_price=Decimal(100),
        total_quantity=Decimal(1),
        opened_at=BASE_TIME + dt.timedelta(minutes=minutes),
    )


def full_trip() -> RoundTrip:
    opened = dt.datetime(2024, 3, 8, 9, 30, 0, 1, tzinfo=EDT)
    return RoundTrip(
        account_id="ACC1",
        instrument="ES 2024-06",
        direction=TradeAction.SLD,
        entry_exec_ids=["E1", "E2", "ünï-3"],
        exit_exec_ids=["X1"],
        entry_avg_price=Decimal("0.0000000001"),
        exit_avg_price=Decimal("99999999.9999999999"),
        total_quantity=Decimal("0.1"),
        realized_pnl=Decimal("-999999999999.999999"),
        total_commission=Decimal("0.000001"),
        opened_at=opened,
        closed_at=opened + dt.timedelta(hours=6, seconds=1),
        status=RoundTripStatus.CLOSED,
        holding_period_seconds=21601,
    )


def test_round_trip_of_every_field(
    repo: SqlAlchemyRoundTripRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    full_id = repo.save(full_trip())
    open_id = repo.save(trip())
    backend_session.commit()
    with session_factory() as fresh:
        fresh_repo = SqlAlchemyRoundTripRepository(fresh)
        stored = fresh_repo.get(full_id)
        assert fresh_repo.get(open_id) == dataclasses.replace(trip(), id=open_id)
        raw = fresh.execute(
            text(
                "SELECT entry_exec_ids, exit_exec_ids, total_quantity, status "
                "FROM round_trips ORDER BY id"
            )
        ).all()
    assert stored == dataclasses.replace(full_trip(), id=full_id)
    assert stored.closed_at is not None
    assert stored.closed_at.tzinfo == dt.UTC
    assert json.loads(raw[0][0]) == ["E1", "E2", "ünï-3"]
    assert json.loads(raw[0][1]) == ["X1"]
    assert raw[1][1] is None
    assert [row[3] for row in raw] == ["closed", "open"]
    if dialect_of(backend_session) == "sqlite":
        assert raw[0][2] == 1_000_000_000  # 0.1 at 10 decimal places


def test_missing_rows_and_unknown_account(repo: SqlAlchemyRoundTripRepository) -> None:
    assert repo.get(404) is None
    assert repo.list_for_account("ACC1") == []
    with pytest.raises(NotFoundError):
        repo.update(dataclasses.replace(trip(), id=404))
    with pytest.raises(NotFoundError):
        repo.delete(404)
    with pytest.raises(ValidationError):
        repo.save(dataclasses.replace(trip(), id=404))
    with pytest.raises(ValidationError):
        repo.update(trip())
    with pytest.raises(ConflictError):
        repo.save(trip(account_id="UNKNOWN"))
    assert repo.count() == 0


def test_listing_is_ordered_and_filtered(repo: SqlAlchemyRoundTripRepository) -> None:
    late = repo.save(trip("AAPL", 30))
    early = repo.save(trip("MSFT", 10))
    middle = repo.save(trip("AAPL", 20))
    tie = repo.save(trip("AAPL", 20))
    repo.save(trip("AAPL", 0, account_id="ACC2"))
    closed = dataclasses.replace(
        trip("AAPL", 20), id=tie, status=RoundTripStatus.CLOSED, exit_exec_ids=["X"]
    )
    repo.update(closed)
    assert [t.id for t in repo.list_for_account("ACC1")] == [early, middle, tie, late]
    assert [t.id for t in repo.list_for_account("ACC1", instrument="AAPL")] == [
        middle,
        tie,
        late,
    ]
    assert [t.id for t in repo.list_for_account("ACC1", status=RoundTripStatus.CLOSED)] == [tie]
    assert repo.get(tie) == closed
    repo.delete(middle)
    assert repo.count() == 4


def test_listing_uses_the_account_instrument_index(
    repo: SqlAlchemyRoundTripRepository, backend_session: Session
) -> None:
    for index in range(20):
        repo.save(trip(f"SYM{index % 5}", index, account_id=("ACC1", "ACC2")[index % 2]))
    with captured_statements(backend_session) as statements:
        repo.list_for_account("ACC1", instrument="SYM2")
        repo.list_for_account("ACC1")
    dialect = dialect_of(backend_session)
    if dialect == "postgresql":
        # The planner rightly scans a tiny table; forbid that, and give it statistics, to
        # see which index it would use on a large one.
        backend_session.execute(text("ANALYZE round_trips"))
        backend_session.execute(text("SET LOCAL enable_seqscan = off"))
    cursor = backend_session.connection().connection.dbapi_connection
    assert cursor is not None
    for statement, params in statements:
        explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
        raw = cursor.cursor()
        raw.execute(explain + statement, params)
        plan = " ".join(str(value) for row in raw.fetchall() for value in row)
        assert "ix_round_trips_account_id_instrument" in plan, plan


def test_rollback_leaves_nothing(
    repo: SqlAlchemyRoundTripRepository,
    backend_session: Session,
    session_factory: sessionmaker[Session],
) -> None:
    backend_session.commit()
    repo.save(full_trip())
    backend_session.rollback()
    assert raw_count(session_factory, "round_trips") == 0


# ------------------------------------------------------------------------------------------
# Bulk verbs, filtered listing and the report's aggregates
# ------------------------------------------------------------------------------------------


def closed(
    pnl: str,
    closed_at: dt.datetime,
    *,
    instrument: str = "AAPL",
    account_id: str = "ACC1",
    commission: str = "1",
) -> RoundTrip:
    return RoundTrip(
        account_id=account_id,
        instrument=instrument,
        direction=TradeAction.BOT,
        entry_exec_ids=[f"in-{closed_at:%d%H%M}"],
        exit_exec_ids=[f"out-{closed_at:%d%H%M}"],
        entry_avg_price=Decimal(10),
        exit_avg_price=Decimal(11),
        total_quantity=Decimal(1),
        realized_pnl=Decimal(pnl),
        total_commission=Decimal(commission),
        opened_at=closed_at - dt.timedelta(minutes=1),
        closed_at=closed_at,
        status=RoundTripStatus.CLOSED,
        holding_period_seconds=60,
    )


WED = dt.datetime(2024, 3, 6, 15, 0, tzinfo=dt.UTC)
THU = dt.datetime(2024, 3, 7, 23, 59, 59, tzinfo=dt.UTC)
MON = dt.datetime(2024, 3, 11, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def history(repo: SqlAlchemyRoundTripRepository, backend_session: Session) -> None:
    backend_session.execute(text("UPDATE accounts SET currency = 'EUR' WHERE account_id = 'ACC2'"))
    stored = repo.save_many(
        [
            closed("100", WED),
            closed("-40", WED + dt.timedelta(hours=1), instrument="MSFT"),
            closed("-80", THU),
            closed("30", MON, instrument="MSFT"),
            closed("0", MON + dt.timedelta(hours=2)),
            closed("-5.5", WED, account_id="ACC2"),
            trip("AAPL", 0),  # open: never in the report
        ]
    )
    assert stored == 7


def test_save_many_stores_every_field(
    repo: SqlAlchemyRoundTripRepository, session_factory: sessionmaker[Session]
) -> None:
    assert repo.save_many([full_trip(), trip()]) == 2
    assert repo.save_many([]) == 0
    with pytest.raises(ValidationError):
        repo.save_many([dataclasses.replace(trip(), id=5)])
    with pytest.raises(ConflictError):
        repo.save_many([trip(account_id="UNKNOWN")])
    stored = list(repo.iter_matching())
    assert [dataclasses.replace(t, id=None) for t in stored] == [full_trip(), trip()]


def test_delete_for_pairs_and_delete_all(
    repo: SqlAlchemyRoundTripRepository, backend_session: Session
) -> None:
    repo.save_many(
        [trip("AAPL", 1), trip("AAPL", 2), trip("MSFT", 3), trip("AAPL", 4, account_id="ACC2")]
    )
    assert repo.delete_for_pairs([("ACC1", "AAPL"), ("ACC1", "AAPL"), ("ACC9", "X")]) == 2
    rows = backend_session.execute(
        text("SELECT account_id, instrument FROM round_trips ORDER BY id")
    ).all()
    assert [tuple(row) for row in rows] == [("ACC1", "MSFT"), ("ACC2", "AAPL")]
    assert repo.delete_for_pairs([]) == 0
    assert repo.delete_all() == 2
    assert count_rows(backend_session, "round_trips") == 0


def test_iter_matching_filters_and_pages(
    repo: SqlAlchemyRoundTripRepository, history: None
) -> None:
    everything = list(repo.iter_matching(batch_size=2))
    assert len(everything) == 7
    assert [t.opened_at for t in everything] == sorted(t.opened_at for t in everything)
    aapl = RoundTripFilter(account_id="ACC1", instrument="AAPL")
    # The open one opened at BASE_TIME, March 8th 14:30, between Thursday and Monday.
    assert [t.realized_pnl for t in repo.iter_matching(aapl)] == [
        Decimal(100),
        Decimal(-80),
        None,
        Decimal(0),
    ]
    closed_aapl = RoundTripFilter(
        account_id="ACC1", instrument="AAPL", status=RoundTripStatus.CLOSED
    )
    assert [t.realized_pnl for t in repo.iter_matching(closed_aapl)] == [
        Decimal(100),
        Decimal(-80),
        Decimal(0),
    ]
    # A listing's window is on opened_at: the +30 closed at MON opened a minute before.
    window = RoundTripFilter(since=THU - dt.timedelta(minutes=1), until=MON)
    assert [t.realized_pnl for t in repo.iter_matching(window)] == [
        Decimal(-80),
        None,
        Decimal(30),
    ]
    open_only = RoundTripFilter(status=RoundTripStatus.OPEN)
    assert [t.status for t in repo.iter_matching(open_only)] == [RoundTripStatus.OPEN]


def test_statistics_are_exact_per_currency(
    repo: SqlAlchemyRoundTripRepository, history: None
) -> None:
    eur, usd = repo.statistics()  # ordered by currency
    # ACC1 (USD) closes 100, -40, -80, 30, 0 in that order.
    assert usd == PnlStatistics(
        group=None,
        currency="USD",
        round_trips=5,
        wins=2,
        losses=2,
        net_pnl=Decimal(10),
        commission=Decimal(5),
        total_win=Decimal(130),
        total_loss=Decimal(-120),
        largest_win=Decimal(100),
        largest_loss=Decimal(-80),
        holding_seconds=300,
        # cumulative 100, 60, -20, 10, 10: from the peak of 100 down to -20
        max_drawdown=Decimal(120),
    )
    assert eur.currency == "EUR"
    assert (eur.net_pnl, eur.largest_win, eur.largest_loss) == (
        Decimal("-5.5"),
        None,
        Decimal("-5.5"),
    )
    # The curve starts at 0, so a first loss is a drawdown.
    assert eur.max_drawdown == Decimal("5.5")


def test_statistics_by_period_and_instrument(
    repo: SqlAlchemyRoundTripRepository, history: None
) -> None:
    usd = RoundTripFilter(account_id="ACC1")
    by_day = repo.statistics(usd, by=ReportGrouping.DAY)
    assert [(s.group, s.net_pnl, s.max_drawdown) for s in by_day] == [
        ("2024-03-06", Decimal(60), Decimal(40)),
        ("2024-03-07", Decimal(-80), Decimal(80)),
        ("2024-03-11", Decimal(30), Decimal(0)),
    ]
    by_week = repo.statistics(usd, by=ReportGrouping.WEEK)
    assert [(s.group, s.round_trips, s.net_pnl) for s in by_week] == [
        ("2024-03-04", 3, Decimal(-20)),
        ("2024-03-11", 2, Decimal(30)),
    ]
    (month,) = repo.statistics(usd, by=ReportGrouping.MONTH)
    assert (month.group, month.round_trips) == ("2024-03-01", 5)
    by_instrument = repo.statistics(usd, by=ReportGrouping.INSTRUMENT)
    assert [(s.group, s.net_pnl, s.wins, s.losses) for s in by_instrument] == [
        ("AAPL", Decimal(20), 1, 1),
        ("MSFT", Decimal(-10), 1, 1),
    ]
    window = RoundTripFilter(account_id="ACC1", since=THU, until=MON)
    (only,) = repo.statistics(window)
    assert (only.round_trips, only.net_pnl) == (1, Decimal(-80))
    assert repo.statistics(RoundTripFilter(account_id="NOBODY")) == []


def test_opened_before_and_spanning_and_delete_for_pair_since(
    repo: SqlAlchemyRoundTripRepository, backend_session: Session
) -> None:
    first = closed("1", WED)  # opened WED - 1 min
    flipped = closed("2", THU)  # opened THU - 1 min, closed THU by a flip...
    after_flip = dataclasses.replace(trip("AAPL"), opened_at=THU)  # ...that opened this one
    other = closed("3", MON, instrument="MSFT")
    repo.save_many([first, flipped, after_flip, other])
    spanning = repo.opened_before_and_spanning
    assert spanning("ACC1", "AAPL", moment=MON) == THU  # the open one
    assert spanning("ACC1", "AAPL", moment=THU) == THU - dt.timedelta(minutes=1)
    assert spanning("ACC1", "AAPL", moment=THU - dt.timedelta(seconds=30)) == (
        THU - dt.timedelta(minutes=1)
    )
    assert spanning("ACC1", "AAPL", moment=WED) == WED - dt.timedelta(minutes=1)
    assert spanning("ACC1", "AAPL", moment=WED + dt.timedelta(hours=1)) is None  # flat
    assert spanning("ACC1", "AAPL", moment=WED - dt.timedelta(minutes=1)) is None
    assert spanning("ACC1", "MSFT", moment=MON + dt.timedelta(seconds=1)) is None
    assert spanning("ACC2", "AAPL", moment=MON) is None
    removed = repo.delete_for_pair_since("ACC1", "AAPL", opened_since=THU - dt.timedelta(minutes=1))
    assert removed == 2
    rows = backend_session.execute(
        text("SELECT instrument, realized_pnl IS NULL FROM round_trips ORDER BY id")
    ).all()
    assert [tuple(row) for row in rows] == [("AAPL", False), ("MSFT", False)]


def test_currency_is_stored_and_reported_apart(
    repo: SqlAlchemyRoundTripRepository, backend_session: Session
) -> None:
    euro = dataclasses.replace(closed("-7", WED, instrument="SAP"), currency="EUR")
    repo.save_many([closed("10", WED), euro])
    raw = backend_session.execute(
        text("SELECT instrument, currency FROM round_trips ORDER BY id")
    ).all()
    assert [tuple(row) for row in raw] == [("AAPL", None), ("SAP", "EUR")]
    (stored_euro,) = repo.iter_matching(RoundTripFilter(instrument="SAP"))
    assert stored_euro.currency == "EUR"
    # ACC1 keeps USD: the SAP round trip is in EUR and never added to it.
    assert [(s.currency, s.net_pnl) for s in repo.statistics()] == [
        ("EUR", Decimal(-7)),
        ("USD", Decimal(10)),
    ]
