"""Trade repository contract, on every backend (in-memory SQLite, SQLCipher, PostgreSQL).

Stored rows are checked independently of the repository: with raw SQL, or through a fresh
session after a commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tests.budget import examples
from tests.factories import BASE_TIME, make_trade
from tests.integration.contract._rows import (
    add_account,
    add_plan,
    add_report,
    captured_statements,
    dialect_of,
    raw_count,
)
from zorivest_core.application.ports import TradeCursor, TradeRepository
from zorivest_core.domain.entities import Trade, TradeReport
from zorivest_core.domain.enums import TradeAction
from zorivest_core.domain.errors import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    ValidationError,
)
from zorivest_infra.database.engine import create_engine_from_url
from zorivest_infra.database.models import (
    Base,
    ExcursionMetricsModel,
    ImageModel,
    MistakeEntryModel,
    TradeModel,
    TransactionLedgerModel,
)
from zorivest_infra.database.repositories import SqlAlchemyTradeRepository
from zorivest_infra.database.repositories.trades import (
    TRADE_COLUMNS,
    report_from_row,
    trade_from_row,
    trade_to_row,
)

NEW_YORK: Final = ZoneInfo("America/New_York")
LONDON: Final = ZoneInfo("Europe/London")


@pytest.fixture
def session(backend_session: Session) -> Session:
    add_account(backend_session)
    backend_session.commit()
    return backend_session


@pytest.fixture
def repo(session: Session) -> SqlAlchemyTradeRepository:
    return SqlAlchemyTradeRepository(session)


def fresh_get(session_factory: sessionmaker[Session], exec_id: str) -> Trade | None:
    with session_factory() as fresh:
        return SqlAlchemyTradeRepository(fresh).get(exec_id)


def test_repository_satisfies_its_port(repo: SqlAlchemyTradeRepository) -> None:
    port: TradeRepository = repo
    assert port is repo


# -- round trips ---------------------------------------------------------------------------


EDGE_TRADES: Final = [
    pytest.param({"price": Decimal("0.1"), "quantity": Decimal("0.1")}, id="tenths"),
    pytest.param({"price": Decimal("1E-10"), "quantity": Decimal("1E-10")}, id="smallest-unit"),
    pytest.param(
        {"price": Decimal("99999999.9999999999"), "quantity": Decimal("99999999.9999999999")},
        id="largest-price",
    ),
    pytest.param(
        {"commission": Decimal("99999999.999999"), "realized_pnl": Decimal("-99999999.999999")},
        id="large-money",
    ),
    pytest.param(
        {"commission": Decimal("999999999999.999999"), "realized_pnl": Decimal("-0.000001")},
        id="money-limits",
    ),
    pytest.param({"commission": Decimal("-0.35"), "realized_pnl": Decimal(0)}, id="rebate"),
    pytest.param({"price": 0, "action": TradeAction.SLD, "instrument": "ES 03-24 'Q'"}, id="misc"),
    pytest.param({"price": 0.1, "realized_pnl": -1234.56}, id="floats-via-repr"),
]


@pytest.mark.parametrize("overrides", EDGE_TRADES)
def test_every_field_round_trips_exactly(
    repo: SqlAlchemyTradeRepository,
    session: Session,
    session_factory: sessionmaker[Session],
    overrides: dict[str, Any],
) -> None:
    trade = make_trade("EDGE", **overrides)
    repo.save(trade)
    session.commit()

    stored = fresh_get(session_factory, "EDGE")
    assert stored == trade
    assert stored is not None
    for name in TRADE_COLUMNS:
        value = getattr(stored, name)
        expected = getattr(trade, name)
        assert value == expected
        assert type(value) is type(expected)
        if isinstance(value, Decimal):
            assert str(value) == str(expected)  # same digits, not only the same value


DST_TIMES: Final = [
    # New York: spring forward 2024-03-10 02:00 EST -> 03:00 EDT; fall back 2024-11-03.
    dt.datetime(2024, 3, 10, 1, 59, 59, 999_999, tzinfo=NEW_YORK),
    dt.datetime(2024, 3, 10, 3, 0, tzinfo=NEW_YORK),
    dt.datetime(2024, 11, 3, 1, 30, fold=0, tzinfo=NEW_YORK),
    dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=NEW_YORK),
    # London: 2024-03-31 01:00 GMT -> 02:00 BST; 2024-10-27 02:00 BST -> 01:00 GMT.
    dt.datetime(2024, 3, 31, 0, 59, 59, tzinfo=LONDON),
    dt.datetime(2024, 3, 31, 2, 0, 0, 1, tzinfo=LONDON),
    dt.datetime(2024, 10, 27, 1, 30, fold=0, tzinfo=LONDON),
    dt.datetime(2024, 10, 27, 1, 30, fold=1, tzinfo=LONDON),
]


def test_times_at_dst_boundaries_come_back_equal_and_in_utc(
    repo: SqlAlchemyTradeRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    for index, when in enumerate(DST_TIMES):
        repo.save(make_trade(f"DST{index}", time=when))
    session.commit()

    utc_instants = {when.astimezone(dt.UTC) for when in DST_TIMES}
    assert len(utc_instants) == len(DST_TIMES)  # the folds are distinct instants
    for index, when in enumerate(DST_TIMES):
        stored = fresh_get(session_factory, f"DST{index}")
        assert stored is not None
        # Compared in UTC: by PEP 495 a time in a fold never equals a time of another zone.
        assert stored.time == when.astimezone(dt.UTC)
        assert stored.time.timestamp() == when.timestamp()
        assert stored.time.utcoffset() == dt.timedelta(0)
        assert stored.time.tzinfo is dt.UTC
    with session_factory() as fresh:
        raw = fresh.execute(text("SELECT time FROM trades WHERE exec_id = 'DST3'")).scalar_one()
    expected = DST_TIMES[3].astimezone(dt.UTC)
    if dialect_of(session) == "sqlite":
        assert raw == expected.replace(tzinfo=None).isoformat(" ", "microseconds")
    else:
        assert raw == expected


def test_money_and_quantities_are_stored_exactly(
    repo: SqlAlchemyTradeRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    repo.save(
        make_trade("RAW", commission=Decimal(1), price=Decimal("0.1"), realized_pnl=Decimal("-2.5"))
    )
    session.commit()
    with session_factory() as fresh:
        row = fresh.execute(
            text("SELECT commission, price, realized_pnl FROM trades WHERE exec_id = 'RAW'")
        ).one()
        if dialect_of(session) == "sqlite":
            assert tuple(row) == (1_000_000, 1_000_000_000, -2_500_000)  # scaled integers
            kinds = fresh.execute(
                text("SELECT typeof(commission), typeof(price) FROM trades")
            ).one()
            assert tuple(kinds) == ("integer", "integer")
        else:
            assert tuple(row) == (Decimal(1), Decimal("0.1"), Decimal("-2.5"))


# -- missing rows, duplicates, references --------------------------------------------------


def test_missing_trade_reads_as_none_and_cannot_be_updated_or_deleted(
    repo: SqlAlchemyTradeRepository,
) -> None:
    assert repo.get("NOPE") is None
    assert not repo.exists("NOPE")
    with pytest.raises(NotFoundError, match="NOPE"):
        repo.update(make_trade("NOPE"))
    with pytest.raises(NotFoundError, match="NOPE"):
        repo.delete("NOPE")


def test_existing_exec_id_is_a_duplicate_and_the_transaction_stays_usable(
    repo: SqlAlchemyTradeRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    repo.save(make_trade("T1"))
    repo.save(make_trade("T2"))
    with pytest.raises(DuplicateError) as caught:
        repo.save(make_trade("T1", price=Decimal(1)))
    assert isinstance(caught.value.__cause__, DBAPIError)
    repo.save(make_trade("T3"))
    session.commit()

    assert raw_count(session_factory, "trades") == 3
    stored = fresh_get(session_factory, "T1")
    assert stored is not None
    assert stored.price == Decimal("189.25")


def test_unknown_account_is_a_conflict(
    repo: SqlAlchemyTradeRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    repo.save(make_trade("KEEP"))
    with pytest.raises(ConflictError) as caught:
        repo.save(make_trade("ORPHAN", account_id="NO-SUCH-ACCOUNT"))
    assert isinstance(caught.value.__cause__, DBAPIError)
    session.commit()
    assert raw_count(session_factory, "trades") == 1


def test_update_replaces_fields_and_refuses_an_unknown_account(
    repo: SqlAlchemyTradeRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    add_account(session, "ACC2")
    repo.save(make_trade("U1"))
    changed = make_trade(
        "U1",
        time=BASE_TIME + dt.timedelta(hours=1),
        instrument="MSFT",
        action=TradeAction.SLD,
        quantity=Decimal("7.5"),
        price=Decimal("410.01"),
        account_id="ACC2",
        commission=Decimal("0.65"),
        realized_pnl=Decimal("-12.34"),
    )
    repo.update(changed)
    with pytest.raises(ConflictError):
        repo.update(make_trade("U1", account_id="NO-SUCH-ACCOUNT"))
    session.commit()
    assert fresh_get(session_factory, "U1") == changed


def test_rolled_back_saves_leave_nothing(
    repo: SqlAlchemyTradeRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    repo.save(make_trade("GONE"))
    repo.save_many([make_trade("GONE2"), make_trade("GONE3")])
    session.rollback()
    assert raw_count(session_factory, "trades") == 0
    assert not repo.exists("GONE")


# -- delete and its dependants -------------------------------------------------------------


def add_dependants(session: Session, exec_id: str) -> int:
    """A report, images, ledger entry, excursion, mistake and linked plan for a trade.

    Returns the plan's id.
    """
    now = BASE_TIME
    report_id = add_report(session, exec_id, setup_quality=4, tags=["a"])
    image = {"data": b"x", "thumbnail": b"t", "mime_type": "image/png", "created_at": now}
    session.execute(
        insert(ImageModel),
        [
            {"owner_type": "trade", "owner_id": exec_id, **image},
            {"owner_type": "trade", "owner_id": exec_id, **image},
            {"owner_type": "report", "owner_id": str(report_id), **image},
        ],
    )
    session.execute(
        insert(TransactionLedgerModel).values(
            trade_exec_id=exec_id, fee_type="commission", amount=Decimal("0.5")
        )
    )
    session.execute(
        insert(ExcursionMetricsModel).values(trade_exec_id=exec_id, mfe_dollars=Decimal(3))
    )
    session.execute(
        insert(MistakeEntryModel).values(trade_id=exec_id, category="fomo_entry", created_at=now)
    )
    return add_plan(session, conviction="high", linked_trade_id=exec_id, account_id="ACC1")


DEPENDANT_COUNTS: Final = {
    "trade_reports": "trade_id",
    "transaction_ledger": "trade_exec_id",
    "excursion_metrics": "trade_exec_id",
    "mistake_entries": "trade_id",
}


def test_delete_removes_dependants_and_unlinks_plans(
    repo: SqlAlchemyTradeRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    repo.save(make_trade("DEL"))
    repo.save(make_trade("STAY"))
    plan_id = add_dependants(session, "DEL")
    other_plan = add_dependants(session, "STAY")
    session.commit()
    assert raw_count(session_factory, "images") == 6

    repo.delete("DEL")
    session.commit()

    assert raw_count(session_factory, "trades") == 1
    for table, key in DEPENDANT_COUNTS.items():
        assert raw_count(session_factory, table, f"WHERE {key} = 'DEL'") == 0, table
        assert raw_count(session_factory, table, f"WHERE {key} = 'STAY'") == 1, table
    with session_factory() as fresh:
        images = fresh.execute(text("SELECT owner_type, owner_id FROM images")).all()
        stay_report = fresh.execute(
            text("SELECT id FROM trade_reports WHERE trade_id = 'STAY'")
        ).scalar_one()
        plans: dict[int, str | None] = {
            row[0]: row[1]
            for row in fresh.execute(text("SELECT id, linked_trade_id FROM trade_plans"))
        }
    assert sorted(map(tuple, images)) == [
        ("report", str(stay_report)),
        ("trade", "STAY"),
        ("trade", "STAY"),
    ]
    assert plans == {plan_id: None, other_plan: "STAY"}


def test_delete_of_a_missing_trade_changes_nothing(
    repo: SqlAlchemyTradeRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    repo.save(make_trade("STAY"))
    add_dependants(session, "STAY")
    session.commit()
    with pytest.raises(NotFoundError):
        repo.delete("MISSING")
    session.commit()
    assert raw_count(session_factory, "images") == 3
    assert raw_count(session_factory, "trade_reports") == 1


# -- listing and paging ----------------------------------------------------------------


def save_paging_trades(repo: SqlAlchemyTradeRepository) -> list[Trade]:
    """25 trades over 6 distinct times (ties included), plus another account's trade."""
    trades = [
        make_trade(f"P{index:02d}", time=BASE_TIME + dt.timedelta(minutes=index % 6))
        for index in range(25)
    ]
    assert repo.save_many(trades).inserted == [trade.exec_id for trade in trades]
    return sorted(trades, key=lambda trade: (trade.time, trade.exec_id), reverse=True)


def test_pages_follow_each_other_without_gaps_or_repeats(
    repo: SqlAlchemyTradeRepository, session: Session
) -> None:
    expected = save_paging_trades(repo)
    add_account(session, "ACC2")
    repo.save(make_trade("OTHER", account_id="ACC2"))

    pages: list[list[Trade]] = []
    after: TradeCursor | None = None
    while True:
        page = repo.list_for_account("ACC1", limit=10, after=after)
        pages.append(page)
        if len(page) < 10:
            break
        after = TradeCursor.after(page[-1])
    assert [len(page) for page in pages] == [10, 10, 5]
    assert [trade for page in pages for trade in page] == expected
    assert repo.list_for_account("ACC1", limit=100) == expected


def test_since_is_inclusive_and_until_exclusive(repo: SqlAlchemyTradeRepository) -> None:
    expected = save_paging_trades(repo)
    since = (BASE_TIME + dt.timedelta(minutes=2)).astimezone(NEW_YORK)
    until = (BASE_TIME + dt.timedelta(minutes=4)).astimezone(LONDON)

    window = repo.list_for_account("ACC1", since=since, until=until)

    assert window == [trade for trade in expected if since <= trade.time < until]
    assert {trade.time for trade in window} == {since, since + dt.timedelta(minutes=1)}
    streamed = list(repo.iter_for_account("ACC1", since=since, until=until, batch_size=3))
    assert streamed == window


def test_iteration_streams_every_trade_in_listing_order(repo: SqlAlchemyTradeRepository) -> None:
    expected = save_paging_trades(repo)
    for batch_size in (1, 5, 7, 25, 1000):
        assert list(repo.iter_for_account("ACC1", batch_size=batch_size)) == expected


@pytest.mark.parametrize("limit", [0, -1, 10_001, True, 2.5])
def test_page_size_is_validated(repo: SqlAlchemyTradeRepository, limit: Any) -> None:
    with pytest.raises(ValidationError):
        repo.list_for_account("ACC1", limit=limit)
    with pytest.raises(ValidationError):
        repo.iter_for_account("ACC1", batch_size=limit)  # refused at the call


def test_naive_times_are_refused_in_filters(repo: SqlAlchemyTradeRepository) -> None:
    naive = dt.datetime(2024, 1, 1)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValidationError):
        repo.list_for_account("ACC1", since=naive)
    with pytest.raises(ValidationError):
        repo.list_for_account("ACC1", until=naive)
    with pytest.raises(ValidationError):
        repo.list_for_account("ACC1", after=TradeCursor(time=naive, exec_id="X"))
    with pytest.raises(ValidationError):
        repo.iter_for_account("ACC1", until=naive)


def test_trades_are_listed_with_their_reports(
    repo: SqlAlchemyTradeRepository, session: Session
) -> None:
    expected = save_paging_trades(repo)
    add_report(
        session,
        "P03",
        setup_quality=5,
        followed_plan=True,
        lessons_learned="patience",
        tags=["breakout", "A+"],
        created_at=BASE_TIME,
    )

    listed = repo.list_with_reports("ACC1", limit=30)

    assert [trade for trade, _ in listed] == expected
    reports = {trade.exec_id: report for trade, report in listed if report is not None}
    assert list(reports) == ["P03"]
    report = reports["P03"]
    assert report.setup_quality == 5
    assert report.followed_plan is True
    assert report.tags == ["breakout", "A+"]
    assert report.created_at == BASE_TIME
    second_page = repo.list_with_reports("ACC1", limit=10, after=TradeCursor.after(expected[9]))
    assert [trade for trade, _ in second_page] == expected[10:20]


# -- search ------------------------------------------------------------------------------


def test_instrument_search_is_literal_and_ignores_case(
    repo: SqlAlchemyTradeRepository,
) -> None:
    instruments = ["ES_Z4", "ESXZ4", "100%ETF", "100XETF", "BRK/B", "brk.b", "AAPL", "aapl"]
    repo.save_many(
        make_trade(f"S{index}", instrument=name) for index, name in enumerate(instruments)
    )

    assert repo.search_instruments("_") == ["ES_Z4"]
    assert repo.search_instruments("s_z") == ["ES_Z4"]
    assert repo.search_instruments("%") == ["100%ETF"]
    assert repo.search_instruments("0%e") == ["100%ETF"]
    assert repo.search_instruments("k/b") == ["BRK/B"]
    assert repo.search_instruments("//") == []
    assert repo.search_instruments("AaPl") == ["AAPL", "aapl"]
    assert repo.search_instruments("brk") == ["BRK/B", "brk.b"]
    assert repo.search_instruments("") == sorted(instruments)
    assert repo.search_instruments("", limit=2) == sorted(instruments)[:2]
    with pytest.raises(ValidationError):
        repo.search_instruments("a", limit=0)


# -- totals --------------------------------------------------------------------------------


def test_totals_are_exact_sums_computed_in_sql(
    repo: SqlAlchemyTradeRepository, session: Session
) -> None:
    add_account(session, "ACC2")
    repo.save_many(
        make_trade(
            f"C{index:04d}",
            commission=Decimal("0.1"),
            realized_pnl=Decimal("-0.000001") if index % 2 else Decimal("1000000.000003"),
        )
        for index in range(1000)
    )
    repo.save(make_trade("ELSEWHERE", account_id="ACC2", commission=Decimal(5)))

    totals = repo.totals("ACC1")

    assert totals.count == 1000
    assert totals.commission == Decimal("100")
    assert str(totals.commission) == "100"
    assert totals.realized_pnl == 500 * Decimal("1000000.000003") + 500 * Decimal("-0.000001")
    assert totals.realized_pnl == Decimal("500000000.001")
    assert repo.totals("ACC2").commission == Decimal(5)
    empty = repo.totals("NOBODY")
    assert (empty.count, empty.commission, empty.realized_pnl) == (0, Decimal(0), Decimal(0))
    assert repo.count() == 1001
    assert repo.count("ACC1") == 1000


def test_totals_are_one_query(repo: SqlAlchemyTradeRepository, session: Session) -> None:
    repo.save_many(make_trade(f"Q{index}") for index in range(50))
    with captured_statements(session) as statements:
        repo.totals("ACC1")
    assert len(statements) == 1
    assert "sum(" in statements[0][0].lower()


# -- bulk import ---------------------------------------------------------------------------


def test_save_many_is_idempotent(
    repo: SqlAlchemyTradeRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    trades = [make_trade(f"B{index:04d}", price=Decimal(index) / 8) for index in range(2500)]

    first = repo.save_many(trades)
    session.commit()
    second = repo.save_many(trades)
    session.commit()

    exec_ids = [trade.exec_id for trade in trades]
    assert (first.inserted, first.duplicates, first.conflicts) == (exec_ids, [], [])
    assert (second.inserted, second.duplicates, second.conflicts) == ([], exec_ids, [])
    assert raw_count(session_factory, "trades") == 2500
    assert fresh_get(session_factory, "B2499") == trades[-1]


def test_save_many_reports_changed_content_as_conflicts_and_keeps_the_stored_rows(
    repo: SqlAlchemyTradeRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    original = [make_trade(f"K{index}") for index in range(4)]
    repo.save_many(original)
    session.commit()
    changed = [
        make_trade("K0"),  # identical
        make_trade("K1", price=Decimal("189.2500000001")),
        make_trade("K2", time=BASE_TIME + dt.timedelta(microseconds=1)),
        make_trade("K3", commission=Decimal("1.000001")),
        make_trade("NEW"),
    ]

    result = repo.save_many(changed)
    session.commit()

    assert result.inserted == ["NEW"]
    assert result.duplicates == ["K0"]
    assert result.conflicts == ["K1", "K2", "K3"]
    for trade in original:
        assert fresh_get(session_factory, trade.exec_id) == trade


def test_save_many_compares_repeats_within_the_input(repo: SqlAlchemyTradeRepository) -> None:
    result = repo.save_many(
        [
            make_trade("R1"),
            make_trade("R1"),
            make_trade("R2"),
            make_trade("R1", quantity=Decimal(1)),
            make_trade("R2"),
        ]
    )
    assert result.inserted == ["R1", "R2"]
    assert result.duplicates == ["R1", "R2"]
    assert result.conflicts == ["R1"]
    assert repo.get("R1") == make_trade("R1")


def test_save_many_treats_a_null_realized_pnl_as_zero(
    repo: SqlAlchemyTradeRepository, session: Session
) -> None:
    row = trade_to_row(make_trade("NULLS"))
    session.execute(insert(TradeModel).values({**row, "realized_pnl": None}))
    stored = repo.get("NULLS")
    assert stored == make_trade("NULLS", realized_pnl=0)
    result = repo.save_many([make_trade("NULLS", realized_pnl=0)])
    assert result.duplicates == ["NULLS"]


def test_a_null_commission_is_refused_by_the_database(session: Session) -> None:
    row = trade_to_row(make_trade("NULLS"))
    with pytest.raises(IntegrityError):
        session.execute(insert(TradeModel).values({**row, "commission": None}))


def test_save_many_with_an_unknown_account_stores_nothing_of_that_call(
    repo: SqlAlchemyTradeRepository, session: Session, session_factory: sessionmaker[Session]
) -> None:
    repo.save(make_trade("BEFORE"))  # earlier work of the same transaction
    batch = [make_trade(f"A{index:04d}") for index in range(1500)]
    batch.append(make_trade("BAD", account_id="NO-SUCH-ACCOUNT"))

    with pytest.raises(ConflictError, match="NO-SUCH-ACCOUNT"):
        repo.save_many(batch)
    session.commit()

    assert raw_count(session_factory, "trades") == 1
    assert fresh_get(session_factory, "BEFORE") is not None


def test_save_many_refuses_what_is_not_a_trade(repo: SqlAlchemyTradeRepository) -> None:
    items: list[Any] = [make_trade("OK"), {"exec_id": "dict"}]
    with pytest.raises(ValidationError):
        repo.save_many(items)
    assert repo.count() == 0


def test_save_many_of_nothing_does_nothing(repo: SqlAlchemyTradeRepository) -> None:
    result = repo.save_many([])
    assert (result.inserted, result.duplicates, result.conflicts) == ([], [], [])


def test_save_many_stores_what_save_stores(
    repo: SqlAlchemyTradeRepository, session: Session
) -> None:
    trades = [
        make_trade(f"M{index}", time=when, price=Decimal("0.0000000001"), commission=-1)
        for index, when in enumerate(DST_TIMES)
    ]
    repo.save_many(trades)
    for index, trade in enumerate(trades):
        repo.save(make_trade(f"S{index}", time=trade.time, price=trade.price, commission=-1))
    rows = session.execute(
        text("SELECT exec_id, time, price, commission FROM trades ORDER BY exec_id")
    ).all()
    by_id = {row[0]: tuple(row[1:]) for row in rows}
    for index in range(len(trades)):
        assert by_id[f"M{index}"] == by_id[f"S{index}"]


# -- mapping functions -----------------------------------------------------------------


def test_mapping_functions_are_inverse() -> None:
    trade = make_trade("MAP", commission=Decimal("-0.5"))
    row = trade_to_row(trade)
    assert tuple(row) == TRADE_COLUMNS
    assert trade_from_row([row[name] for name in TRADE_COLUMNS]) == trade
    # Everything after the commission (NOT NULL) left NULL: the P&L reads as zero.
    nulls = [None] * (len(TRADE_COLUMNS) - 8)
    assert trade_from_row([*[row[name] for name in TRADE_COLUMNS[:8]], *nulls]) == make_trade(
        "MAP", commission=Decimal("-0.5"), realized_pnl=0
    )
    report = report_from_row([3, "MAP", None, 2, None, None, None, None, BASE_TIME])
    assert report == TradeReport(id=3, trade_id="MAP", execution_quality=2, created_at=BASE_TIME)


# -- property: random valid trades round-trip ------------------------------------------


def _decimals(scale: int, *, positive: bool = False) -> st.SearchStrategy[Decimal]:
    limit = Decimal(10) ** (18 - scale) - Decimal(1).scaleb(-scale)
    return st.decimals(
        min_value=Decimal(1).scaleb(-scale) if positive else -limit,
        max_value=limit,
        places=scale,
        allow_nan=False,
        allow_infinity=False,
    )


_ZONES: Final = st.sampled_from(
    [dt.UTC, NEW_YORK, LONDON, ZoneInfo("Asia/Kolkata"), ZoneInfo("Australia/Lord_Howe")]
)
# Ids and names refuse control characters (they could drive a terminal when printed).
_CHARACTERS: Final = st.characters(exclude_categories=["Cs", "Cc"])
TRADES: Final = st.builds(
    Trade,
    exec_id=st.text(_CHARACTERS, min_size=1, max_size=128).filter(str.strip),
    time=st.datetimes(
        min_value=dt.datetime(1900, 1, 1),  # noqa: DTZ001 - bounds of naive generation
        max_value=dt.datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=_ZONES,
    ),
    instrument=st.text(_CHARACTERS, min_size=1, max_size=64).filter(str.strip),
    action=st.sampled_from(TradeAction),
    quantity=_decimals(10, positive=True),
    price=_decimals(10).map(abs),
    account_id=st.just("ACC1"),
    commission=_decimals(6),
    realized_pnl=_decimals(6),
)


@pytest.fixture
def property_engine() -> Iterator[Engine]:
    engine = create_engine_from_url("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        add_account(session)
        session.commit()
    yield engine
    engine.dispose()


def test_random_valid_trades_round_trip_exactly(property_engine: Engine) -> None:
    # The engine is created once per test, and each example cleans up after itself:
    # hypothesis runs many examples inside one function-scoped fixture.

    @settings(max_examples=examples(50), deadline=None)
    @given(trades=st.lists(TRADES, min_size=1, max_size=5, unique_by=lambda t: t.exec_id))
    def round_trip(trades: list[Trade]) -> None:
        with Session(property_engine) as session:
            repo = SqlAlchemyTradeRepository(session)
            try:
                repo.save(trades[0])
                result = repo.save_many(trades)
                session.commit()
                assert result.duplicates == [trades[0].exec_id]
                assert result.inserted == [trade.exec_id for trade in trades[1:]]
                for trade in trades:
                    assert repo.get(trade.exec_id) == trade
                again = repo.save_many(trades)
                assert again.duplicates == [trade.exec_id for trade in trades]
            finally:
                session.rollback()
                session.execute(text("DELETE FROM trades"))
                session.commit()

    round_trip()
