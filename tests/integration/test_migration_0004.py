"""Revision 0004 (round trips kept current) as a real upgrade of a populated journal.

A journal at revision 0002 is filled with raw SQL (the rows of test_migration_0002 plus
round trips) and brought to 0003 (which turns NULL commissions into 0); every table is
read with raw SQL before and after the upgrade to 0004. Nothing may
change but the new, empty round_trips.currency column; the two indexes exist afterwards.
Runs on SQLite, an encrypted SQLCipher file and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text

from tests.integration.test_migration_0002 import _populate_0001, engine
from zorivest_core.domain.errors import ConflictError
from zorivest_infra.database.migrations import current_revision, downgrade, upgrade

__all__ = ["engine"]  # the per-backend fixture of test_migration_0002


def _add_round_trips(engine: Engine) -> None:
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
                "INSERT INTO round_trips (account_id, instrument, direction, entry_exec_ids, "
                "exit_exec_ids, entry_avg_price, exit_avg_price, total_quantity, "
                "realized_pnl, total_commission, opened_at, closed_at, status, "
                "holding_period_seconds) VALUES (:a, 'AAPL', 'BOT', '[\"E1\"]', :x, :ep, "
                ":xp, :q, :r, :c, :o, :cl, :s, :h)"
            ),
            [
                {
                    "a": "U123",
                    "x": '["E2"]',
                    "ep": price("189.1234567891"),
                    "xp": price("190.5"),
                    "q": price("100"),
                    "r": money("136.654321"),
                    "c": money("1.000001"),
                    "o": when("2024-03-08 14:30:00.123456"),
                    "cl": when("2024-03-08 15:00:00"),
                    "s": "closed",
                    "h": 1799,
                },
                {
                    "a": "U456",
                    "x": None,
                    "ep": price("5123.25"),
                    "xp": None,
                    "q": price("2"),
                    "r": None,
                    "c": None,
                    "o": when("2024-11-03 06:30:00"),
                    "cl": None,
                    "s": None,
                    "h": None,
                },
            ],
        )


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, all columns but round_trips.currency, read with raw SQL."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        snapshot: dict[str, list[tuple[Any, ...]]] = {}
        for table in sorted(inspector.get_table_names()):
            if table == "alembic_version":
                continue
            names = [
                column["name"]
                for column in inspector.get_columns(table)
                if not (table == "round_trips" and column["name"] == "currency")
            ]
            listing = ", ".join(f'"{name}"' for name in names)
            rows = connection.execute(text(f'SELECT {listing} FROM "{table}"'))
            snapshot[table] = sorted((tuple(row) for row in rows), key=repr)
        return snapshot


def _indexes(engine: Engine, table: str) -> dict[str, list[str]]:
    with engine.connect() as connection:
        return {
            str(index["name"]): [str(name) for name in index["column_names"]]
            for index in inspect(connection).get_indexes(table)
        }


def _populate_0003(engine: Engine) -> None:
    upgrade(engine, revision="0002")
    _populate_0001(engine)
    _add_round_trips(engine)
    upgrade(engine, revision="0003")


def test_upgrading_a_populated_0003_journal_changes_no_row(engine: Engine) -> None:
    _populate_0003(engine)
    before = _snapshot(engine)
    assert len(before["round_trips"]) == 2  # the comparison is not vacuous
    assert len(before["trades"]) == 3

    upgrade(engine, revision="0004")

    assert current_revision(engine) == "0004"
    assert _snapshot(engine) == before
    with engine.connect() as connection:
        currencies = connection.execute(text("SELECT currency FROM round_trips")).all()
    assert [tuple(row) for row in currencies] == [(None,), (None,)]
    assert _indexes(engine, "trades")["ix_trades_account_id_instrument_time"] == [
        "account_id",
        "instrument",
        "time",
        "exec_id",
    ]
    assert _indexes(engine, "round_trips")["ix_round_trips_account_id_instrument"] == [
        "account_id",
        "instrument",
        "opened_at",
    ]


def test_downgrade_is_lossless_or_refused(engine: Engine) -> None:
    _populate_0003(engine)
    before = _snapshot(engine)
    upgrade(engine, revision="0004")

    downgrade(engine, "0003")  # no round trip carries a currency: nothing is lost
    assert current_revision(engine) == "0003"
    assert _snapshot(engine) == before
    assert "ix_trades_account_id_instrument_time" not in _indexes(engine, "trades")
    assert _indexes(engine, "round_trips")["ix_round_trips_account_id_instrument"] == [
        "account_id",
        "instrument",
    ]

    upgrade(engine, revision="0004")
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE round_trips SET currency = 'EUR' WHERE account_id = 'U123'")
        )
    with pytest.raises(ConflictError, match="1 round trip"):
        downgrade(engine, "0003")
    assert current_revision(engine) == "0004"
