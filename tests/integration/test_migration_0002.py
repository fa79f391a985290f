"""Revision 0002 (instrument details on trades) as a real upgrade of a populated journal.

A journal is built at revision 0001 and filled with raw SQL (accounts, trades, a report,
ledger rows, a setting); every table is read with raw SQL before and after the upgrade.
Nothing may change except the eight new, empty columns. Runs on SQLite, an encrypted
SQLCipher file and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import pytest
from sqlalchemy import Engine, inspect, text

from tests.pg import private_schema, search_path_args
from zorivest_core.domain.errors import ConflictError
from zorivest_infra.database.engine import create_engine_from_url
from zorivest_infra.database.migrations import current_revision, downgrade, upgrade

NEW_COLUMNS: Final = (
    "asset_class",
    "multiplier",
    "underlying",
    "expiry",
    "strike",
    "option_right",
    "currency",
    "fx_rate",
)


@pytest.fixture(
    params=["sqlite", "sqlcipher", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database on each backend."""
    if request.param == "postgresql":
        with private_schema("zm2") as (url, schema):
            pg = create_engine_from_url(url, connect_args=search_path_args(schema))
            try:
                yield pg
            finally:
                pg.dispose()
        return
    if request.param == "sqlcipher":
        request.getfixturevalue("fast_kdf")
        from zorivest_infra.database.engine import create_encrypted_engine

        built = create_encrypted_engine(tmp_path / "journal.db", "migration passphrase")
    else:
        built = create_engine_from_url("sqlite://")
    try:
        yield built
    finally:
        built.dispose()


def _populate_0001(engine: Engine) -> None:
    """Rows written the way a 0001 journal holds them (raw SQL, storage forms per dialect)."""
    pg = engine.dialect.name == "postgresql"

    def price(value: str) -> Any:
        return Decimal(value) if pg else int(Decimal(value).scaleb(10))

    def money(value: str) -> Any:
        return Decimal(value) if pg else int(Decimal(value).scaleb(6))

    def when(text_value: str) -> Any:
        moment = dt.datetime.fromisoformat(text_value).replace(tzinfo=dt.UTC)
        return moment if pg else moment.isoformat(" ", "microseconds")[:26]

    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO accounts (account_id, name, account_type, currency, "
                "is_tax_advantaged, created_at) VALUES (:a, :n, 'broker', 'USD', :f, :c)"
            ),
            [
                {"a": "U123", "n": "Main", "f": False, "c": when("2024-01-02 09:00:00")},
                {"a": "U456", "n": "IRA", "f": True, "c": when("2024-01-03 09:00:00")},
            ],
        )
        connection.execute(
            text(
                "INSERT INTO trades (exec_id, time, instrument, action, quantity, price, "
                "account_id, commission, realized_pnl) "
                "VALUES (:e, :t, :i, :act, :q, :p, :a, :c, :r)"
            ),
            [
                {
                    "e": "E1",
                    "t": when("2024-03-08 14:30:00.123456"),
                    "i": "AAPL",
                    "act": "BOT",
                    "q": price("100"),
                    "p": price("189.1234567891"),
                    "a": "U123",
                    "c": money("1.000001"),
                    "r": money("0"),
                },
                {
                    "e": "E2",
                    "t": when("2024-03-08 15:00:00"),
                    "i": "AAPL",
                    "act": "SLD",
                    "q": price("0.0000000001"),
                    "p": price("99999999.9999999999"),
                    "a": "U123",
                    "c": None,
                    "r": None,
                },
                {
                    "e": "E3",
                    "t": when("2024-11-03 06:30:00"),
                    "i": "ES 03-24",
                    "act": "SLD",
                    "q": price("2"),
                    "p": price("5123.25"),
                    "a": "U456",
                    "c": money("-0.35"),
                    "r": money("-99999999.999999"),
                },
            ],
        )
        connection.execute(
            text(
                "INSERT INTO trade_reports (trade_id, setup_quality, tags, created_at) "
                "VALUES ('E1', 4, '[\"breakout\"]', :c)"
            ),
            {"c": when("2024-03-09 10:00:00")},
        )
        connection.execute(
            text(
                "INSERT INTO transaction_ledger (trade_exec_id, fee_type, amount, currency) "
                "VALUES ('E1', 'regulatory', :m, 'USD')"
            ),
            {"m": money("0.02")},
        )
        connection.execute(
            text(
                "INSERT INTO settings (key, value, value_type, updated_at) "
                "VALUES ('ui.theme', 'light', 'str', :c)"
            ),
            {"c": when("2024-03-09 10:00:00")},
        )


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, all columns but the ones 0002 adds, read with raw SQL."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        snapshot: dict[str, list[tuple[Any, ...]]] = {}
        for table in sorted(inspector.get_table_names()):
            if table == "alembic_version":
                continue
            names = [
                column["name"]
                for column in inspector.get_columns(table)
                if not (table == "trades" and column["name"] in NEW_COLUMNS)
            ]
            listing = ", ".join(f'"{name}"' for name in names)
            rows = connection.execute(text(f'SELECT {listing} FROM "{table}"'))
            snapshot[table] = sorted((tuple(row) for row in rows), key=repr)
        return snapshot


def test_upgrading_a_populated_0001_journal_changes_no_row(engine: Engine) -> None:
    upgrade(engine, revision="0001")
    _populate_0001(engine)
    before = _snapshot(engine)
    assert len(before["trades"]) == 3  # the comparison is not vacuous

    upgrade(engine, revision="0002")

    assert current_revision(engine) == "0002"
    assert _snapshot(engine) == before
    with engine.connect() as connection:
        details = connection.execute(
            text(f"SELECT {', '.join(NEW_COLUMNS)} FROM trades ORDER BY exec_id")
        ).all()
    assert [tuple(row) for row in details] == [(None,) * 8] * 3


def test_downgrade_is_lossless_or_refused(engine: Engine) -> None:
    upgrade(engine, revision="0001")
    _populate_0001(engine)
    before = _snapshot(engine)
    upgrade(engine, revision="0002")

    downgrade(engine, "0001")  # no trade carries a detail: nothing is lost
    assert current_revision(engine) == "0001"
    assert _snapshot(engine) == before

    upgrade(engine, revision="0002")
    with engine.begin() as connection:
        connection.execute(text("UPDATE trades SET asset_class = 'future' WHERE exec_id = 'E3'"))
    with pytest.raises(ConflictError, match="1 trade"):
        downgrade(engine, "0001")
    assert current_revision(engine) == "0002"
