"""Alembic migrations: they build exactly the models' schema, seed the defaults, are
idempotent and reversible, keep data, and refuse a database newer than the code.

Each PostgreSQL test gets its own schema (search_path), dropped afterwards, so concurrent
runs on one server do not interfere.
"""

from __future__ import annotations

import datetime as dt
import importlib
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, create_engine, inspect, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from tests.pg import private_schema, search_path_args
from zorivest_core.domain.errors import ConflictError, SchemaVersionError
from zorivest_infra.database.engine import create_engine_from_url
from zorivest_infra.database.migrations import (
    MIGRATIONS_DIR,
    alembic_config,
    autogenerate_options,
    check_compatible,
    current_revision,
    downgrade,
    head_revision,
    needs_upgrade,
    upgrade,
)
from zorivest_infra.database.models import AccountModel, Base, TradeModel
from zorivest_infra.database.types import Money, UTCDateTime

UNKNOWN_REVISION = "ffffffffffff"
NOW = dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.UTC)

# APP-DEFAULTS.md: key, value, value_type, category.
EXPECTED_DEFAULTS = {
    ("dialog.confirm_delete", "true", "bool", "dialog"),
    ("dialog.confirm_restore", "true", "bool", "dialog"),
    ("dialog.confirm_clear_data", "true", "bool", "dialog"),
    ("dialog.confirm_export", "true", "bool", "dialog"),
    ("dialog.confirm_import", "true", "bool", "dialog"),
    ("logging.trades.level", "INFO", "str", "logging"),
    ("logging.api.level", "INFO", "str", "logging"),
    ("logging.rotation_mb", "10", "int", "logging"),
    ("logging.backup_count", "5", "int", "logging"),
    ("display.hide_dollars", "false", "bool", "display"),
    ("display.hide_percentages", "false", "bool", "display"),
    ("display.percent_mode", "daily", "str", "display"),
    ("backup.auto_interval_seconds", "300", "int", "backup"),
    ("backup.auto_change_threshold", "100", "int", "backup"),
    ("backup.compression_enabled", "true", "bool", "backup"),
    ("backup.max_age_days", "90", "int", "backup"),
    ("ui.theme", "dark", "str", "ui"),
    ("ui.activePage", "/", "str", "ui"),
    ("ui.sidebar.width", "280", "int", "ui"),
    ("notification.success.enabled", "true", "bool", "notification"),
    ("notification.info.enabled", "true", "bool", "notification"),
    ("notification.warning.enabled", "true", "bool", "notification"),
    ("notification.confirmation.enabled", "true", "bool", "notification"),
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    """An engine whose search_path is a fresh private schema, dropped afterwards."""
    with private_schema("zm") as (url, schema):
        engine = create_engine_from_url(url, connect_args=search_path_args(schema))
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An empty database on each backend."""
    if request.param == "postgresql":
        yield request.getfixturevalue("pg_engine")
        return
    sqlite = create_engine_from_url("sqlite://")
    try:
        yield sqlite
    finally:
        sqlite.dispose()


# --------------------------------------------------------------------------- helpers


def _differences(engine: Engine, metadata: MetaData = Base.metadata) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts=autogenerate_options(connection.dialect.name)
        )
        return list(compare_metadata(context, metadata))


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table with all its rows: what "nothing changed" compares."""
    with engine.connect() as connection:
        tables = sorted(inspect(connection).get_table_names())
        return {
            table: sorted(
                (tuple(row) for row in connection.execute(text(f'SELECT * FROM "{table}"'))),
                key=repr,
            )
            for table in tables
        }


def _stamp_unknown(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE IF NOT EXISTS alembic_version "
                "(version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
            )
        )
        connection.execute(text("DELETE FROM alembic_version"))
        connection.execute(
            text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": UNKNOWN_REVISION}
        )


def _add_account_and_trade(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(
            AccountModel(account_id="ACC1", name="Main", account_type="broker", created_at=NOW)
        )
        session.flush()
        session.add(
            TradeModel(
                exec_id="T1",
                time=NOW,
                instrument="AAPL",
                action="BOT",
                quantity=Decimal("100"),
                price=Decimal("189.1234567891"),
                account_id="ACC1",
                commission=Decimal("0.000001"),
                realized_pnl=Decimal("-99999999.999999"),
            )
        )
        session.commit()


def _assert_account_and_trade(engine: Engine) -> None:
    with Session(engine) as session:
        trade = session.get(TradeModel, "T1")
        assert trade is not None
        assert trade.price == Decimal("189.1234567891")
        assert trade.commission == Decimal("0.000001")
        assert trade.realized_pnl == Decimal("-99999999.999999")
        assert trade.time == NOW
        assert session.get(AccountModel, "ACC1") is not None


# --------------------------------------------------------------------------- (a) schema


def test_head_is_the_baseline_and_an_empty_database_needs_upgrade(engine: Engine) -> None:
    assert head_revision() == "0004"
    assert current_revision(engine) is None
    assert needs_upgrade(engine)
    check_compatible(engine)  # empty is compatible


def test_migrations_build_exactly_the_models_schema(engine: Engine) -> None:
    upgrade(engine)

    assert current_revision(engine) == head_revision()
    assert not needs_upgrade(engine)
    assert _differences(engine) == []
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_comparison_is_not_vacuous(engine: Engine) -> None:
    """The comparator sees through the TypeDecorators: a changed storage type is reported."""
    upgrade(engine)
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    trades = changed.tables["trades"]
    # PostgreSQL: NUMERIC(18, 10) -> NUMERIC(18, 6). SQLite: BIGINT -> DATETIME.
    is_pg = engine.dialect.name == "postgresql"
    trades.c.price.type = Money() if is_pg else UTCDateTime()
    trades.c.instrument.type = trades.c.exec_id.type  # VARCHAR(64) -> VARCHAR(128)

    differences = _differences(engine, changed)

    modified = sorted(
        (item[0][2], item[0][3])
        for item in differences
        if isinstance(item, list) and item and item[0][0] == "modify_type"
    )
    assert modified == [("trades", "instrument"), ("trades", "price")], differences


def test_a_missing_index_is_reported(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_trades_instrument_time"))

    differences = _differences(engine)

    assert [(d[0], d[1].name) for d in differences] == [("add_index", "ix_trades_instrument_time")]


# --------------------------------------------------------------------------- (b) (c) cycles


def test_upgrade_downgrade_upgrade(engine: Engine) -> None:
    upgrade(engine)
    _add_account_and_trade(engine)

    downgrade(engine, "base")

    assert current_revision(engine) is None
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == {"alembic_version"}

    upgrade(engine)

    assert current_revision(engine) == head_revision()
    assert _differences(engine) == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM app_defaults")).scalar() == 23
        assert connection.execute(text("SELECT COUNT(*) FROM trades")).scalar() == 0


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    upgrade(engine)
    before = _snapshot(engine)

    upgrade(engine)
    upgrade(engine, revision="0001")

    assert _snapshot(engine) == before
    assert current_revision(engine) == head_revision()


def test_upgrade_to_a_named_revision(engine: Engine) -> None:
    upgrade(engine, revision="0001")

    assert current_revision(engine) == "0001"


# --------------------------------------------------------------------------- (d) seed


def test_baseline_seeds_app_defaults_and_the_mcp_guard_row(engine: Engine) -> None:
    upgrade(engine)

    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT key, value, value_type, category, updated_at FROM app_defaults")
        ).all()
        guard = connection.execute(
            text(
                "SELECT id, is_enabled, is_locked, locked_at, lock_reason, "
                "calls_per_minute_limit, calls_per_hour_limit FROM mcp_guard"
            )
        ).all()

    assert len(rows) == 23
    assert {(key, value, kind, category) for key, value, kind, category, _ in rows} == (
        EXPECTED_DEFAULTS
    )
    for key, value, kind, _category, updated_at in rows:
        assert updated_at is not None, key
        if kind == "bool":
            assert value in {"true", "false"}, key
        elif kind == "int":
            assert str(int(value)) == value, key
    assert len(guard) == 1
    guard_id, enabled, locked, locked_at, reason, per_minute, per_hour = guard[0]
    assert (guard_id, bool(enabled), bool(locked), locked_at, reason) == (
        1,
        False,
        False,
        None,
        None,
    )
    assert (per_minute, per_hour) == (60, 500)


def test_seeded_rows_read_back_through_the_models(engine: Engine) -> None:
    """The migration's plain-typed inserts are readable by the models' TypeDecorators."""
    from zorivest_infra.database.models import AppDefaultModel, McpGuardModel

    upgrade(engine)

    with Session(engine) as session:
        default = session.get(AppDefaultModel, "ui.sidebar.width")
        guard = session.get(McpGuardModel, 1)
    assert default is not None
    assert default.value == "280"
    assert default.updated_at.tzinfo is not None
    assert abs(dt.datetime.now(dt.UTC) - default.updated_at) < dt.timedelta(minutes=10)
    assert guard is not None
    assert guard.is_enabled is False
    assert guard.updated_at is not None
    assert guard.updated_at.utcoffset() == dt.timedelta(0)


# --------------------------------------------------------------------------- (e) too new


def test_a_newer_database_is_refused_and_left_unchanged(engine: Engine) -> None:
    upgrade(engine)
    _add_account_and_trade(engine)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE alembic_version SET version_num = :v"), {"v": UNKNOWN_REVISION}
        )
    before = _snapshot(engine)

    with pytest.raises(SchemaVersionError, match=UNKNOWN_REVISION):
        upgrade(engine)
    with pytest.raises(SchemaVersionError):
        check_compatible(engine)
    with pytest.raises(SchemaVersionError):
        needs_upgrade(engine)
    with pytest.raises(SchemaVersionError):
        downgrade(engine, "base")

    assert _snapshot(engine) == before


def test_an_empty_database_stamped_newer_is_refused(engine: Engine) -> None:
    _stamp_unknown(engine)
    before = _snapshot(engine)

    with pytest.raises(SchemaVersionError, match="newer Zorivest"):
        upgrade(engine)

    assert _snapshot(engine) == before
    assert set(before) == {"alembic_version"}


def test_a_prefix_of_a_known_revision_is_still_unknown(engine: Engine) -> None:
    """Alembic resolves unique prefixes; the version check must not ("000" is not "0001")."""
    _stamp_unknown(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '000'"))

    with pytest.raises(SchemaVersionError, match="000"):
        check_compatible(engine)


def test_tables_without_a_revision_are_refused(engine: Engine) -> None:
    """A database made by create_all (no alembic_version) is not silently migrated."""
    Base.metadata.create_all(engine)
    before = _snapshot(engine)

    with pytest.raises(SchemaVersionError, match="no schema revision"):
        upgrade(engine)

    assert _snapshot(engine) == before


# --------------------------------------------------------------------------- (f) data kept


def test_rerunning_upgrade_keeps_rows(engine: Engine) -> None:
    upgrade(engine)
    _add_account_and_trade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE app_defaults SET value = 'light' WHERE key = 'ui.theme'"))
    before = _snapshot(engine)

    upgrade(engine)

    assert _snapshot(engine) == before
    _assert_account_and_trade(engine)


# --------------------------------------------------------------------------- SQLite specifics


def test_sqlite_foreign_keys_are_on_again_after_a_migration() -> None:
    sqlite = create_engine_from_url("sqlite://")  # StaticPool: one connection throughout
    try:
        upgrade(sqlite)
        downgrade(sqlite, "base")
        upgrade(sqlite)
        with sqlite.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        sqlite.dispose()


def test_sqlite_foreign_keys_stay_off_on_a_plain_engine() -> None:
    """The previous setting is restored, not forced: a plain pysqlite engine keeps FKs off."""
    plain = create_engine("sqlite://", poolclass=StaticPool)
    try:
        upgrade(plain)
        assert _differences(plain) == []
        with plain.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
    finally:
        plain.dispose()


def test_a_revision_leaving_dangling_references_is_rolled_back(tmp_path: Path) -> None:
    """PRAGMA foreign_key_check runs inside each revision's transaction on SQLite."""
    scripts = tmp_path / "migrations"
    (scripts / "versions").mkdir(parents=True)
    for name in ("env.py", "script.py.mako"):
        shutil.copy(MIGRATIONS_DIR / name, scripts / name)
    shutil.copy(
        MIGRATIONS_DIR / "versions" / "0001_baseline.py",
        scripts / "versions" / "0001_baseline.py",
    )
    (scripts / "versions" / "0002_orphan.py").write_text(
        "import sqlalchemy as sa\n"
        "from alembic import op\n"
        "revision = '0002'\n"
        "down_revision = '0001'\n"
        "branch_labels = None\n"
        "depends_on = None\n"
        "def upgrade():\n"
        '    op.execute("INSERT INTO watchlist_items (watchlist_id, ticker, added_at) "\n'
        "               \"VALUES (42, 'AAPL', '2024-01-01 00:00:00.000000')\")\n"
        "def downgrade():\n"
        "    pass\n",
        encoding="utf-8",
    )
    sqlite = create_engine_from_url("sqlite://")
    try:
        with sqlite.connect() as connection:
            config = alembic_config(connection)
            config.set_main_option("script_location", str(scripts))
            with pytest.raises(ConflictError, match="dangling foreign key"):
                command.upgrade(config, "head")
        with sqlite.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).all() == [
                ("0001",)
            ]
            assert connection.execute(text("SELECT COUNT(*) FROM watchlist_items")).scalar() == 0
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        sqlite.dispose()


def test_env_module_is_inert_when_imported() -> None:
    """Tools that import every module (boundary checks) must not trigger a migration."""
    module = importlib.import_module("zorivest_infra.database.migrations.env")
    assert callable(module.run_migrations_online)


# --------------------------------------------------------------------------- (g) encrypted


def test_encrypted_journal_is_migrated_through_its_own_connections(
    tmp_path: Path, fast_kdf: None
) -> None:
    pytest.importorskip("zorivest_infra.database.connection")
    from zorivest_infra.database.engine import create_encrypted_engine

    path = tmp_path / "j.db"
    encrypted = create_encrypted_engine(path, "pw")
    try:
        assert str(encrypted.url) == "sqlite://"
        upgrade(encrypted)
        assert _differences(encrypted) == []
        _add_account_and_trade(encrypted)
        with encrypted.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        encrypted.dispose()
    assert not path.read_bytes().startswith(b"SQLite format 3\0")

    reopened = create_encrypted_engine(path, "pw")
    try:
        assert current_revision(reopened) == head_revision()
        assert not needs_upgrade(reopened)
        upgrade(reopened)
        _assert_account_and_trade(reopened)
    finally:
        reopened.dispose()
