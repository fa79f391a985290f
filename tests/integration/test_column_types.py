"""Exact round trips of the column types on every backend, and the seed's own schema.

The types (`Price`, `Money`, `UTCDateTime`, `JSONText`) are exercised on a small table of
their own `MetaData`, on:

* ``sqlite_project``: ``create_engine_from_url("sqlite://")`` (the project's settings);
* ``sqlite_plain``: a bare ``sqlalchemy.create_engine("sqlite://")`` as the seed's tests use
  it, so exactness must come from the column types, not from connection set-up;
* ``sqlcipher``: an encrypted journal file;
* ``postgresql`` (private schema, project engine) and ``postgresql_kolkata`` (the same, but
  the server's session time zone is Asia/Kolkata): run when ZORIVEST_TEST_PG_URL is set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    Table,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.exc import StatementError

from tests.pg import private_schema
from zorivest_core.domain.validation import canonical
from zorivest_infra.database.engine import create_engine_from_url
from zorivest_infra.database.models import Base
from zorivest_infra.database.types import ExactDecimal, JSONText, Money, Price, UTCDateTime

NEW_YORK: Final = ZoneInfo("America/New_York")
LONDON: Final = ZoneInfo("Europe/London")
KOLKATA: Final = ZoneInfo("Asia/Kolkata")

metadata = MetaData()
values = Table(
    "column_type_values",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("price", Price(), nullable=True),
    Column("money", Money(), nullable=True),
    Column("at", UTCDateTime(), nullable=True),
    Column("doc", JSONText(), nullable=True),
)

SQLITE_BACKENDS: Final = ("sqlite_project", "sqlite_plain", "sqlcipher")
BACKENDS: Final = (*SQLITE_BACKENDS, "postgresql", "postgresql_kolkata")


# ---------------------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_schema() -> Iterator[tuple[str, str]]:
    """A private schema on the PostgreSQL test server for this module's run."""
    with private_schema("zt_types") as (url, schema):
        yield url, schema


def _make_engine(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if name == "sqlite_project":
        return create_engine_from_url("sqlite://")
    if name == "sqlite_plain":
        # Exactly the seed's fixture: no pool choice, no connect events, no PRAGMAs.
        return sqlalchemy.create_engine("sqlite://")
    if name == "sqlcipher":
        request.getfixturevalue("fast_kdf")
        from zorivest_infra.database.engine import create_encrypted_engine

        return create_encrypted_engine(tmp_path / "types.db", "column types passphrase")
    url, schema = request.getfixturevalue("pg_schema")
    options = f"-csearch_path={schema}"
    if name == "postgresql_kolkata":
        options += " -ctimezone=Asia/Kolkata"
    return create_engine_from_url(url, connect_args={"options": options})


def _with_table(backend: Engine) -> Iterator[Engine]:
    metadata.drop_all(backend)
    metadata.create_all(backend)
    try:
        yield backend
    finally:
        metadata.drop_all(backend)
        backend.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine with an empty `column_type_values` table."""
    yield from _with_table(_make_engine(request.param, request, tmp_path))


@pytest.fixture(params=SQLITE_BACKENDS)
def sqlite_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The SQLite-family engines only (their storage format is under test)."""
    yield from _with_table(_make_engine(request.param, request, tmp_path))


def _store(engine: Engine, **row: Any) -> dict[str, Any]:
    """Insert one row (id 1) and read it back."""
    with engine.begin() as connection:
        connection.execute(insert(values), [{"id": 1, **row}])
    with engine.connect() as connection:
        result = connection.execute(select(values).where(values.c.id == 1)).mappings().one()
    return dict(result)


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(values)).scalar_one())


# ---------------------------------------------------------------------------------------
# Decimals
# ---------------------------------------------------------------------------------------

PRICE_VALUES: Final = [
    "0",
    "0.1",
    "1E-10",
    "0.0000000001",
    "-0.0000000001",
    "189.25",
    "99999999.9999999999",
    "-99999999.9999999999",
    "12345678.9012345678",
    "1E+2",
    "1.50",
    "-0.000001",
]

MONEY_VALUES: Final = [
    "0",
    "0.1",
    "0.000001",
    "-0.000001",
    "99999999.999999",
    "999999999999.999999",
    "-999999999999.999999",
    "-1234.56",
    "123456789012.345678",
    "1.000000",
    "25000",
]


@pytest.mark.parametrize("literal", PRICE_VALUES)
def test_price_round_trips_exactly(engine: Engine, literal: str) -> None:
    value = Decimal(literal)
    stored = _store(engine, price=value)["price"]
    assert type(stored) is Decimal
    assert stored == value
    # One canonical form back: no trailing zeros, no exponent, no negative zero.
    assert stored.as_tuple() == _canonical(value).as_tuple()


@pytest.mark.parametrize("literal", MONEY_VALUES)
def test_money_round_trips_exactly(engine: Engine, literal: str) -> None:
    value = Decimal(literal)
    stored = _store(engine, money=value)["money"]
    assert type(stored) is Decimal
    assert stored == value
    assert stored.as_tuple() == _canonical(value).as_tuple()


def _canonical(value: Decimal) -> Decimal:
    reduced = value.normalize()
    if int(reduced.as_tuple().exponent) > 0:
        reduced = reduced.quantize(Decimal(1))
    return reduced + Decimal(0)


def test_ints_and_strings_bind_exactly(engine: Engine) -> None:
    stored = _store(engine, price="0.3", money=7)
    assert stored["price"] == Decimal("0.3")
    assert stored["money"] == Decimal(7)


def test_null_stays_null(engine: Engine) -> None:
    stored = _store(engine)
    assert stored == {"id": 1, "price": None, "money": None, "at": None, "doc": None}


def test_sum_of_ten_thousand_tenths_is_exactly_one_thousand(engine: Engine) -> None:
    as_floats = 0.0
    for _ in range(10_000):
        as_floats += 0.1
    assert as_floats != 1000  # the drift exact columns must not have
    rows = [{"id": i, "price": Decimal("0.1"), "money": Decimal("0.1")} for i in range(10_000)]
    with engine.begin() as connection:
        connection.execute(insert(values), rows)
    with engine.connect() as connection:
        price_sum, money_sum = connection.execute(
            select(func.sum(values.c.price), func.sum(values.c.money))
        ).one()
    assert type(price_sum) is Decimal
    assert type(money_sum) is Decimal
    assert price_sum == Decimal(1000)
    assert money_sum == Decimal(1000)


@pytest.mark.parametrize(
    ("column", "parts", "total"),
    [
        pytest.param("price", ["0.1", "0.2"], "0.3", id="price_0.1+0.2"),
        pytest.param("money", ["0.1", "0.2"], "0.3", id="money_0.1+0.2"),
        pytest.param("price", ["0.1", "0.2", "-0.3"], "0", id="price_cancels"),
        pytest.param(
            "price", ["99999999.9999999999", "-99999999.9999999998"], "1E-10", id="price_extremes"
        ),
        pytest.param(
            "money",
            ["999999999999.999999", "-999999999999.999998", "0.000001"],
            "0.000002",
            id="money_extremes",
        ),
        pytest.param(
            "money", ["1234.56", "-1234.560001", "0.000001"], "0", id="negative_pnl_cancels"
        ),
        pytest.param("price", ["1E-10"] * 7 + ["0.3333333333"], "0.3333333340", id="tiny_steps"),
    ],
)
def test_sql_sum_is_exact(engine: Engine, column: str, parts: list[str], total: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(values), [{"id": i, column: Decimal(p)} for i, p in enumerate(parts)]
        )
    with engine.connect() as connection:
        result = connection.execute(select(func.sum(values.c[column]))).scalar_one()
    assert result == Decimal(total)
    assert type(result) is Decimal


def test_float_sum_would_drift() -> None:
    """The mixes above are the ones binary floats get wrong."""
    assert 0.1 + 0.2 != 0.3
    assert 0.1 + 0.2 - 0.3 != 0


@pytest.mark.parametrize(
    ("column", "bad"),
    [
        pytest.param("price", Decimal("0.00000000001"), id="price_11_places"),
        pytest.param("price", Decimal("1.00000000005"), id="price_11_places_rounding_bait"),
        pytest.param("price", Decimal("100000000"), id="price_1e8"),
        pytest.param("price", Decimal("-100000000"), id="price_minus_1e8"),
        pytest.param("price", Decimal("1E+30"), id="price_1e30"),
        pytest.param("money", Decimal("0.0000001"), id="money_7_places"),
        pytest.param("money", Decimal("0.0000005"), id="money_7_places_rounding_bait"),
        pytest.param("money", Decimal("1000000000000"), id="money_1e12"),
        pytest.param("money", Decimal("-1000000000000"), id="money_minus_1e12"),
        pytest.param("price", Decimal("NaN"), id="price_nan"),
        pytest.param("money", Decimal("Infinity"), id="money_infinity"),
        pytest.param("money", Decimal("-Infinity"), id="money_minus_infinity"),
        pytest.param("price", "not a number", id="price_garbage"),
    ],
)
def test_out_of_range_or_too_precise_is_refused_at_bind(
    engine: Engine, column: str, bad: object
) -> None:
    with pytest.raises(StatementError), engine.begin() as connection:
        connection.execute(insert(values), [{"id": 1, column: bad}])
    assert _count(engine) == 0  # refused, not rounded and stored


def test_sqlite_stores_scaled_integers(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    rows = [
        {"id": 1, "price": Decimal("0.1"), "money": Decimal("0.1")},
        {"id": 2, "price": Decimal("1E-10"), "money": Decimal("-0.000001")},
        {"id": 3, "price": Decimal("99999999.9999999999"), "money": Decimal("999999999999.999999")},
        {"id": 4, "price": Decimal("-189.25"), "money": Decimal(0)},
    ]
    with engine.begin() as connection:
        connection.execute(insert(values), rows)
        raw = connection.execute(
            text(
                "SELECT id, typeof(price), price, typeof(money), money "
                "FROM column_type_values ORDER BY id"
            )
        ).all()
    assert [tuple(row) for row in raw] == [
        (1, "integer", 1_000_000_000, "integer", 100_000),
        (2, "integer", 1, "integer", -1),
        (3, "integer", 999_999_999_999_999_999, "integer", 999_999_999_999_999_999),
        (4, "integer", -1_892_500_000_000, "integer", 0),
    ]
    with engine.connect() as connection:
        total = connection.execute(text("SELECT typeof(SUM(price)) FROM column_type_values"))
        assert total.scalar_one() == "integer"


def test_sqlite_refuses_to_guess_at_a_real_written_behind_its_back(
    sqlite_engine: Engine,
) -> None:
    engine = sqlite_engine
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO column_type_values (id, price) VALUES (1, 0.5)"))
    with pytest.raises(TypeError), engine.connect() as connection:
        connection.execute(select(values.c.price)).all()


# ---------------------------------------------------------------------------------------
# Datetimes
# ---------------------------------------------------------------------------------------

AWARE_TIMES: Final = [
    pytest.param(
        dt.datetime(2024, 3, 10, 1, 59, 59, 999999, tzinfo=NEW_YORK), id="ny_before_spring"
    ),
    pytest.param(dt.datetime(2024, 3, 10, 3, 0, tzinfo=NEW_YORK), id="ny_after_spring"),
    pytest.param(dt.datetime(2024, 3, 10, 2, 30, tzinfo=NEW_YORK), id="ny_spring_gap"),
    pytest.param(dt.datetime(2024, 11, 3, 0, 59, tzinfo=NEW_YORK), id="ny_before_fall"),
    pytest.param(dt.datetime(2024, 11, 3, 1, 30, fold=0, tzinfo=NEW_YORK), id="ny_fall_fold0"),
    pytest.param(dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=NEW_YORK), id="ny_fall_fold1"),
    pytest.param(dt.datetime(2024, 11, 3, 2, 0, tzinfo=NEW_YORK), id="ny_after_fall"),
    pytest.param(dt.datetime(2024, 3, 31, 2, 30, tzinfo=LONDON), id="london_spring_gap"),
    pytest.param(dt.datetime(2024, 10, 27, 1, 30, fold=1, tzinfo=LONDON), id="london_fold1"),
    pytest.param(dt.datetime(2024, 7, 1, 12, 0, 0, 123456, tzinfo=LONDON), id="london_bst"),
    pytest.param(dt.datetime(2024, 3, 8, 20, 0, tzinfo=KOLKATA), id="kolkata_0530"),
    pytest.param(
        dt.datetime(2024, 3, 8, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=-9, minutes=-30))),
        id="fixed_minus_0930",
    ),
    pytest.param(dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.UTC), id="utc"),
    pytest.param(dt.datetime(1, 1, 1, tzinfo=dt.UTC), id="year_1"),
    pytest.param(dt.datetime(1, 1, 1, 6, 0, tzinfo=KOLKATA), id="year_1_local_mean_time"),
    pytest.param(dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC), id="year_9999"),
    pytest.param(dt.datetime(9999, 12, 31, 18, 0, tzinfo=NEW_YORK), id="year_9999_new_york"),
    pytest.param(dt.datetime(1970, 1, 1, tzinfo=dt.UTC), id="epoch"),
    pytest.param(dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC), id="pre_epoch"),
    pytest.param(dt.datetime(2000, 2, 29, 12, tzinfo=dt.UTC), id="leap_day"),
]


@pytest.mark.parametrize("aware", AWARE_TIMES)
def test_aware_datetime_round_trips_as_utc_same_instant(engine: Engine, aware: dt.datetime) -> None:
    stored = _store(engine, at=aware)["at"]
    assert isinstance(stored, dt.datetime)
    assert stored.tzinfo is dt.UTC
    # Compare as UTC: inter-zone == treats fold=1 times as never equal (PEP 495).
    assert stored == aware.astimezone(dt.UTC)
    assert stored.timestamp() == aware.timestamp()


def test_dst_fold_stores_two_distinct_instants(engine: Engine) -> None:
    first = dt.datetime(2024, 11, 3, 1, 30, fold=0, tzinfo=NEW_YORK)
    second = dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=NEW_YORK)
    with engine.begin() as connection:
        connection.execute(insert(values), [{"id": 1, "at": first}, {"id": 2, "at": second}])
    with engine.connect() as connection:
        stored = {row.id: row.at for row in connection.execute(select(values.c.id, values.c.at))}
    assert stored[2] - stored[1] == dt.timedelta(hours=1)
    assert stored[1] == dt.datetime(2024, 11, 3, 5, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(dt.datetime(2024, 3, 8, 14, 30), id="naive"),  # noqa: DTZ001 - the point
        pytest.param(dt.datetime(1, 1, 1), id="naive_year_1"),  # noqa: DTZ001
        pytest.param("2024-03-08 14:30:00+00:00", id="string"),
        pytest.param(dt.date(2024, 3, 8), id="date"),
        pytest.param(1_700_000_000, id="epoch_int"),
        pytest.param(
            dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))), id="before_utc_year_1"
        ),
    ],
)
def test_naive_or_non_datetime_is_refused_at_bind(engine: Engine, bad: object) -> None:
    with pytest.raises(StatementError), engine.begin() as connection:
        connection.execute(insert(values), [{"id": 1, "at": bad}])
    assert _count(engine) == 0


def test_order_by_is_chronological_across_zones(engine: Engine) -> None:
    # Wall-clock order differs from instant order; ids give the expected instant order.
    times = {
        1: dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        2: dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        3: dt.datetime(2024, 11, 3, 10, 45, tzinfo=KOLKATA),  # 05:15 UTC
        4: dt.datetime(2024, 11, 3, 1, 30, fold=0, tzinfo=NEW_YORK),  # 05:30 UTC (EDT)
        5: dt.datetime(2024, 11, 3, 6, 0, tzinfo=LONDON),  # 06:00 UTC (GMT)
        6: dt.datetime(2024, 11, 3, 6, 0, 0, 1, tzinfo=dt.UTC),  # one microsecond later
        7: dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=NEW_YORK),  # 06:30 UTC (EST)
        8: dt.datetime(2024, 11, 3, 12, 15, tzinfo=KOLKATA),  # 06:45 UTC
        9: dt.datetime(2024, 11, 3, 2, 0, tzinfo=NEW_YORK),  # 07:00 UTC
        10: dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    }
    insertion_order = [7, 3, 10, 5, 1, 9, 4, 8, 2, 6]
    with engine.begin() as connection:
        connection.execute(insert(values), [{"id": i, "at": times[i]} for i in insertion_order])
    with engine.connect() as connection:
        ordered = connection.execute(select(values.c.id).order_by(values.c.at)).scalars().all()
        newest = connection.execute(select(func.max(values.c.at))).scalar_one()
        between = (
            connection.execute(
                select(values.c.id)
                .where(values.c.at >= times[4])
                .where(values.c.at < dt.datetime(2024, 11, 3, 2, 0, tzinfo=NEW_YORK))
                .order_by(values.c.at.desc())
            )
            .scalars()
            .all()
        )
    assert ordered == sorted(times)
    assert newest == times[10]
    assert newest.tzinfo is dt.UTC
    assert between == [8, 7, 6, 5, 4]


# ---------------------------------------------------------------------------------------
# JSON text
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param(["E1", "E2", "Ünïcödé", "📈"], None, id="list_unicode"),
        pytest.param(
            {"name": "Zürich 📈", "rtl": "שלום", "quote": 'it\'s "fine"', "nested": [1, None]},
            None,
            id="dict_unicode",
        ),
        pytest.param({"deep": {"a": [True, False, {"b": 1.5}]}}, None, id="nested"),
        pytest.param([], None, id="empty_list"),
        pytest.param({}, None, id="empty_dict"),
        pytest.param("bare string", None, id="string"),
        pytest.param(
            [Decimal("501.25"), Decimal("0.1"), Decimal("1E-10"), Decimal("1E+2")],
            ["501.25", "0.1", "0.0000000001", "100"],
            id="decimals_as_strings",
        ),
        pytest.param(
            {"per_share": Decimal("0.005"), "minimum": Decimal("1.00")},
            {"per_share": "0.005", "minimum": "1.00"},
            id="decimal_values_in_dict",
        ),
        pytest.param({"sql": "'); DROP TABLE trades;--"}, None, id="sql_fragment"),
        pytest.param({"nul": "a\x00b"}, None, id="escaped_nul"),
    ],
)
def test_json_round_trips(engine: Engine, document: object, expected: object) -> None:
    stored = _store(engine, doc=document)["doc"]
    assert stored == (document if expected is None else expected)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(float("nan"), id="nan"),
        pytest.param([1.0, float("inf")], id="inf_in_list"),
        pytest.param({"x": float("-inf")}, id="minus_inf_in_dict"),
        pytest.param({"x": object()}, id="object"),
        pytest.param({"x": {1, 2}}, id="set"),
        pytest.param([Decimal("NaN")], id="decimal_nan"),
        # Non-finite Decimals at any depth, like float NaN (never written as "NaN").
        pytest.param({"a": {"b": [Decimal("NaN")]}}, id="nested_decimal_nan"),
        pytest.param({"a": [{"b": Decimal("sNaN")}]}, id="nested_decimal_snan"),
        pytest.param({"a": {"b": Decimal("-Infinity")}}, id="nested_decimal_inf"),
        pytest.param({"a": {"b": float("nan")}}, id="nested_float_nan"),
        # A lone surrogate is refused by the type, not by the driver's encoder.
        pytest.param({"a": "\ud800"}, id="lone_surrogate"),
        pytest.param(["ok", {"b": "x\udfff"}], id="nested_lone_surrogate"),
        pytest.param({"\udc80": 1}, id="lone_surrogate_key"),
    ],
)
def test_json_refuses_non_json_values(engine: Engine, bad: object) -> None:
    with pytest.raises(StatementError), engine.begin() as connection:
        connection.execute(insert(values), [{"id": 1, "doc": bad}])
    assert _count(engine) == 0


def test_json_none_is_sql_null(engine: Engine) -> None:
    _store(engine, doc=None)
    with engine.connect() as connection:
        nulls = connection.execute(
            select(func.count()).select_from(values).where(values.c.doc.is_(None))
        ).scalar_one()
    assert nulls == 1


# ---------------------------------------------------------------------------------------
# The seed's own example and the seed's schema
# ---------------------------------------------------------------------------------------

# The 21 tables of ../shared/seed/02-infrastructure.md, Step 2.1, in the seed's order.
SEED_TABLES: Final = [
    "trades",
    "images",
    "accounts",
    "trade_reports",
    "trade_plans",
    "watchlists",
    "watchlist_items",
    "balance_snapshots",
    "settings",
    "app_defaults",
    "market_provider_settings",
    "mcp_guard",
    "round_trips",
    "excursion_metrics",
    "identifier_cache",
    "transaction_ledger",
    "options_strategies",
    "mistake_entries",
    "broker_configs",
    "bank_transactions",
    "bank_import_configs",
]

N = True  # nullable
R = False  # required (NOT NULL, or primary key)

# Every column of every seed table with the seed's nullability. A seed `Column(...)` without
# `nullable=` is nullable unless it is a primary key.
SEED_COLUMNS: Final[dict[str, dict[str, bool]]] = {
    "trades": {
        "exec_id": R,
        "time": R,
        "instrument": R,
        "action": R,
        "quantity": R,
        "price": R,
        "account_id": R,
        "commission": R,  # the seed allowed NULL; NOT NULL since revision 0003
        "realized_pnl": N,
    },
    "images": {
        "id": R,
        "owner_type": R,
        "owner_id": R,
        "data": R,
        "thumbnail": N,
        "mime_type": N,
        "caption": N,
        "width": N,
        "height": N,
        "file_size": N,
        "created_at": R,
    },
    "accounts": {
        "account_id": R,
        "name": R,
        "account_type": R,
        "institution": N,
        "currency": N,
        "is_tax_advantaged": N,
        "notes": N,
        "created_at": R,
    },
    "trade_reports": {
        "id": R,
        "trade_id": R,
        "setup_quality": N,
        "execution_quality": N,
        "followed_plan": N,
        "emotional_state": N,
        "lessons_learned": N,
        "tags": N,
        "created_at": R,
    },
    "trade_plans": {
        "id": R,
        "ticker": R,
        "direction": R,
        "conviction": R,
        "strategy_name": N,
        "strategy_description": N,
        "entry_price": N,
        "stop_loss": N,
        "target_price": N,
        "entry_conditions": N,
        "exit_conditions": N,
        "timeframe": N,
        "status": N,
        "linked_trade_id": N,
        "account_id": N,
        "created_at": R,
        "updated_at": N,
    },
    "watchlists": {
        "id": R,
        "name": R,
        "description": N,
        "created_at": R,
        "updated_at": N,
    },
    "watchlist_items": {
        "id": R,
        "watchlist_id": R,
        "ticker": R,
        "added_at": R,
        "notes": N,
    },
    "balance_snapshots": {
        "id": R,
        "account_id": R,
        "datetime": R,
        "balance": R,
    },
    "settings": {
        "key": R,
        "value": N,
        "value_type": N,
        "updated_at": N,
    },
    "app_defaults": {
        "key": R,
        "value": R,
        "value_type": R,
        "category": R,
        "description": N,
        "updated_at": R,
    },
    "market_provider_settings": {
        "provider_name": R,
        "encrypted_api_key": N,
        "rate_limit": N,
        "timeout": N,
        "is_enabled": N,
        "last_tested_at": N,
        "last_test_status": N,
        "created_at": R,
        "updated_at": N,
    },
    "mcp_guard": {
        "id": R,
        "is_enabled": N,
        "is_locked": N,
        "locked_at": N,
        "lock_reason": N,
        "calls_per_minute_limit": N,
        "calls_per_hour_limit": N,
        "updated_at": N,
    },
    "round_trips": {
        "id": R,
        "account_id": R,
        "instrument": R,
        "direction": R,
        "entry_exec_ids": R,
        "exit_exec_ids": N,
        "entry_avg_price": R,
        "exit_avg_price": N,
        "total_quantity": R,
        "realized_pnl": N,
        "total_commission": N,
        "opened_at": R,
        "closed_at": N,
        "status": N,
        "holding_period_seconds": N,
    },
    "excursion_metrics": {
        "trade_exec_id": R,
        "mfe_dollars": N,
        "mfe_pct": N,
        "mae_dollars": N,
        "mae_pct": N,
        "bso_pct": N,
        "data_source": N,
        "computed_at": N,
    },
    "identifier_cache": {
        "id": R,
        "id_type": R,
        "id_value": R,
        "ticker": R,
        "exchange": N,
        "security_type": N,
        "source": R,
        "confidence": N,
        "resolved_at": R,
        "expires_at": N,
    },
    "transaction_ledger": {
        "id": R,
        "trade_exec_id": R,
        "fee_type": R,
        "amount": R,
        "currency": N,
        "description": N,
    },
    "options_strategies": {
        "id": R,
        "name": N,
        "strategy_type": R,
        "underlying": R,
        "leg_exec_ids": R,
        "net_debit_credit": N,
        "max_profit": N,
        "max_loss": N,
        "breakeven_prices": N,
        "created_at": R,
    },
    "mistake_entries": {
        "id": R,
        "trade_id": R,
        "category": R,
        "estimated_cost": N,
        "notes": N,
        "auto_detected": N,
        "created_at": R,
    },
    "broker_configs": {
        "broker_id": R,
        "name": R,
        "pdt_rule": N,
        "pdt_threshold": N,
        "settlement_days": N,
        "max_leverage": N,
        "routing_type": N,
        "commission_schedule": N,
        "supported_order_types": N,
        "supported_asset_classes": N,
        "trading_hours": N,
        "created_at": R,
        "updated_at": N,
    },
    "bank_transactions": {
        "id": R,
        "account_id": R,
        "date": R,
        "post_date": N,
        "description": R,
        "amount": R,
        "category": N,
        "reference_id": N,
        "dedup_hash": R,
        "source": R,
        "import_batch_id": N,
        "created_at": R,
    },
    "bank_import_configs": {
        "bank_id": R,
        "name": R,
        "country": N,
        "config": R,
        "created_at": R,
        "updated_at": N,
    },
}


def test_seed_tables_and_columns_tables_agree() -> None:
    assert len(SEED_TABLES) == 21
    assert list(SEED_COLUMNS) == SEED_TABLES


def test_the_seed_example_creates_the_21_tables() -> None:
    seed_engine = sqlalchemy.create_engine("sqlite://")
    try:
        Base.metadata.create_all(seed_engine)
        assert sorted(inspect(seed_engine).get_table_names()) == sorted(SEED_TABLES)
    finally:
        seed_engine.dispose()


def test_models_have_the_seed_tables() -> None:
    assert sorted(Base.metadata.tables) == sorted(SEED_TABLES)


@pytest.mark.parametrize("table_name", SEED_TABLES)
def test_models_have_every_seed_column_with_its_nullability(table_name: str) -> None:
    table = Base.metadata.tables[table_name]
    expected = SEED_COLUMNS[table_name]
    missing = sorted(set(expected) - set(table.c.keys()))
    assert missing == [], f"{table_name} lacks seed columns {missing}"
    for name, nullable in expected.items():
        assert bool(table.c[name].nullable) is nullable, f"{table_name}.{name}"


@pytest.mark.parametrize("table_name", SEED_TABLES)
def test_created_sqlite_schema_has_the_seed_nullability(table_name: str) -> None:
    """The DDL (not only the metadata) says the same: reflected from a created database."""
    seed_engine = sqlalchemy.create_engine("sqlite://")
    try:
        Base.metadata.create_all(seed_engine)
        reflected = {
            column["name"]: column["nullable"]
            for column in inspect(seed_engine).get_columns(table_name)
        }
        primary_key = set(inspect(seed_engine).get_pk_constraint(table_name)["constrained_columns"])
    finally:
        seed_engine.dispose()
    for name, nullable in SEED_COLUMNS[table_name].items():
        assert name in reflected, f"{table_name}.{name}"
        effective = reflected[name] and name not in primary_key
        assert effective is nullable, f"{table_name}.{name}"


@given(scaled=st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1))
def test_sqlite_reads_a_scaled_integer_as_the_canonical_decimal(scaled: int) -> None:
    """The fast SQLite result conversion is exactly `canonical` of the scaled value."""
    dialect = sqlalchemy.create_engine("sqlite://").dialect
    for column_type, scale in ((Price(), 10), (Money(), 6)):
        read = column_type.dialect_impl(dialect).result_processor(dialect, None)
        assert read is not None
        expected = canonical(Decimal(scaled).scaleb(-scale))
        got = read(scaled)
        assert got == expected
        assert got.as_tuple() == expected.as_tuple()  # the same digits and exponent


def test_sqlite_time_text_is_the_format_sqlalchemy_writes() -> None:
    dialect = sqlalchemy.create_engine("sqlite://").dialect
    column_type = UTCDateTime()
    write = column_type.dialect_impl(dialect).bind_processor(dialect)
    read = column_type.dialect_impl(dialect).result_processor(dialect, None)
    assert write is not None
    assert read is not None
    kolkata = dt.datetime(2024, 3, 8, 20, 0, 0, 5, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert write(kolkata) == "2024-03-08 14:30:00.000005"
    assert write(dt.datetime(999, 1, 2, tzinfo=dt.UTC)) == "0999-01-02 00:00:00.000000"
    assert read("2024-03-08 14:30:00.000005") == dt.datetime(
        2024, 3, 8, 14, 30, 0, 5, tzinfo=dt.UTC
    )
    assert read("2024-03-08 14:30:00") == dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.UTC)


@given(
    scaled=st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1),
    moment=st.datetimes(timezones=st.just(dt.UTC)),
)
def test_trusted_binds_store_what_the_checked_binds_store(scaled: int, moment: dt.datetime) -> None:
    """For values an entity accepts, the bulk path's conversion equals the checked one."""
    for dialect in (
        sqlalchemy.create_engine("sqlite://").dialect,
        psycopg_dialect(),  # type: ignore[no-untyped-call]
    ):
        for column_type, scale in ((Price(), 10), (Money(), 6)):
            impl = cast(ExactDecimal, column_type.dialect_impl(dialect))
            value = canonical(Decimal(scaled).scaleb(-scale))
            checked, trusted = impl.bind_processor(dialect), impl.trusted_bind_processor(dialect)
            assert trusted is not None
            assert (checked or (lambda x: x))(value) == trusted(value)
        impl_time = cast(UTCDateTime, UTCDateTime().dialect_impl(dialect))
        checked_time = impl_time.bind_processor(dialect)
        trusted_time = impl_time.trusted_bind_processor(dialect)
        assert trusted_time is not None
        assert (checked_time or (lambda x: x))(moment) == trusted_time(moment)
