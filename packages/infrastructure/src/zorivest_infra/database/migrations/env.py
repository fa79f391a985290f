"""Alembic environment of the journal schema (run by Alembic, never imported directly).

Online, it runs on the connection the caller put in ``config.attributes["connection"]``
(`zorivest_infra.database.migrations.upgrade` always does): it never builds an engine from a
URL then, because an encrypted engine's URL is only ``sqlite://``. Only the developer
command line (``uv run alembic ...`` with the repository's ``alembic.ini``) comes without a
connection; it then opens ``ZORIVEST_DATABASE_URL`` or the ini's ``sqlalchemy.url``.

Each revision runs in its own transaction. On SQLite, foreign keys are switched off for the
run (batch mode copies and renames tables; the pragma only takes effect outside a
transaction), every revision must leave ``PRAGMA foreign_key_check`` empty before it
commits, and the connection's previous setting is restored afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from zorivest_core.domain.errors import ConflictError
from zorivest_infra.database.migrations import autogenerate_options
from zorivest_infra.database.models import Base

URL_VARIABLE = "ZORIVEST_DATABASE_URL"
target_metadata = Base.metadata


def _driver_pragma(connection: Connection, sql: str) -> list[Any]:
    """Run a PRAGMA on the DB-API connection itself, so SQLAlchemy does not emit BEGIN."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _foreign_keys_enabled(connection: Connection) -> bool:
    return bool(_driver_pragma(connection, "PRAGMA foreign_keys")[0][0])


def _set_foreign_keys(connection: Connection, *, enabled: bool) -> None:
    _driver_pragma(connection, f"PRAGMA foreign_keys = {'ON' if enabled else 'OFF'}")
    if _foreign_keys_enabled(connection) != enabled:
        raise RuntimeError(
            "could not switch SQLite foreign keys "
            f"{'on' if enabled else 'off'}: the connection is inside a transaction"
        )


def _check_foreign_keys(
    ctx: MigrationContext,
    step: MigrationInfo,
    heads: Collection[Any],
    run_args: Mapping[str, Any],
) -> None:
    """After each revision, inside its transaction: refuse to commit dangling references."""
    del heads, run_args
    assert ctx.connection is not None  # noqa: S101 - online mode only
    rows = ctx.connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if rows:
        tables = sorted({f"{row[0]} -> {row[2]}" for row in rows})
        raise ConflictError(
            f"migration {step.up_revision_id or 'base'} ({'up' if step.is_upgrade else 'down'}) "
            f"would leave {len(rows)} row(s) with a dangling foreign key "
            f"({', '.join(tables)}); rolled back"
        )


def _run_on(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite and connection.in_transaction():
        raise RuntimeError("SQLite migrations must start outside a transaction")
    restore = _foreign_keys_enabled(connection) if sqlite else False
    if sqlite:
        _set_foreign_keys(connection, enabled=False)
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            transaction_per_migration=True,
            on_version_apply=_check_foreign_keys if sqlite else None,
            **autogenerate_options(connection.dialect.name),
        )
        with context.begin_transaction():
            context.run_migrations()
        if connection.in_transaction():
            # Only the version-table reads of a run with nothing to do are left open.
            connection.commit()
    finally:
        if connection.in_transaction():
            connection.rollback()
        if sqlite:
            _set_foreign_keys(connection, enabled=restore)


def _database_url() -> str:
    url = os.environ.get(URL_VARIABLE) or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            f"no database: set {URL_VARIABLE} or sqlalchemy.url (an encrypted journal is "
            "upgraded with zorivest_infra.database.migrations.upgrade(engine))"
        )
    return url


def run_migrations_offline() -> None:
    """``alembic upgrade --sql``: write the SQL for the configured URL's dialect."""
    url = _database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        transaction_per_migration=True,
        **autogenerate_options(make_url(url).get_backend_name()),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        if not isinstance(given, Connection):
            raise TypeError(f"config.attributes['connection'] is a {type(given).__name__}")
        _run_on(given)
        return
    # Developer command line only: no connection was handed over.
    from zorivest_infra.database.engine import create_engine_from_url

    if context.config.config_file_name is not None:
        fileConfig(context.config.config_file_name, disable_existing_loggers=False)
    engine = create_engine_from_url(_database_url())
    try:
        with engine.connect() as connection:
            _run_on(connection)
    finally:
        engine.dispose()


def _main() -> None:
    if context.is_offline_mode():
        run_migrations_offline()
    else:
        run_migrations_online()


# Alembic executes this file inside an EnvironmentContext; a plain import (a tool walking
# the package) finds no context and does nothing.
if getattr(context, "_proxy", None) is not None:
    _main()
