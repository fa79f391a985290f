"""Engine factories: an encrypted journal file, or a database URL.

Both apply the project's connection settings (foreign keys on, WAL, busy timeout on SQLite)
and make SQLAlchemy, not the driver, own transactions, so `BEGIN`/`SAVEPOINT` behave as
written and a unit of work reads one consistent snapshot. Both also make every statement
that meets a damaged database raise `CorruptJournalError` (chained to the driver error)
instead of a bare driver error (`zorivest_infra.database.errors.corruption_error`).
"""

from __future__ import annotations

import os
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool, StaticPool

from zorivest_core.domain.errors import ValidationError
from zorivest_infra.database.connection import (
    JournalKey,
    apply_sqlite_settings,
    key_for_existing_journal,
    key_for_new_journal,
    load_sqlcipher,
    open_keyed_connection,
)
from zorivest_infra.database.errors import corruption_error

# SQLite connections are cheap; a journal opened by many threads should not queue on a
# small pool. Connections beyond POOL_SIZE are closed when returned.
POOL_SIZE = 5
MAX_OVERFLOW = 64


WRITES: Final = "zorivest_writes"
"""Execution option: True makes SQLite transactions of that engine/connection IMMEDIATE."""


def for_writing(engine: Engine) -> Engine:
    """The same engine (same pool) whose SQLite transactions take the write lock at BEGIN.

    A deferred transaction that reads first and writes later (every idempotent import does)
    cannot be upgraded once another writer has committed: it fails at once with "database
    is locked" instead of waiting out the busy timeout. Beginning IMMEDIATE makes
    concurrent writers queue instead. Plain connections of the engine stay deferred, so
    readers never wait for each other or for a writer.
    """
    return engine.execution_options(**{WRITES: True})


def _driver_owns_no_transactions(engine: Engine) -> None:
    """Let SQLAlchemy emit BEGIN itself (the pysqlite recipe for correct transactions)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        writes = connection.get_execution_options().get(WRITES, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def _corruption_raises_domain_error(
    engine: Engine, *, path: str | None = None, keyed: bool = False
) -> None:
    """Make a damaged database raise `CorruptJournalError` on every statement of `engine`.

    SQLAlchemy calls ``handle_error`` listeners for every failing statement and for
    failures while connecting; an exception raised by the listener replaces its
    ``DBAPIError`` and is chained to the driver error (``raise ... from``). Every other
    error is left alone: constraint and storage errors are translated where the
    operation is known (`translated_errors`).
    """

    @event.listens_for(engine, "handle_error")
    def _translate_corruption(context: ExceptionContext) -> None:
        error = corruption_error(context.original_exception, path=path, keyed=keyed)
        if error is not None:
            raise error


def create_encrypted_engine(
    path: str | os.PathLike[str], passphrase: str, *, create: bool | None = None
) -> Engine:
    """An engine on an encrypted journal file; the KDF runs once here, not per connection.

    Args:
        path: The journal file.
        passphrase: The journal's passphrase (never stored; only the derived key is kept).
        create: True to create a new file (it must not exist), False to require an existing
            one, None to create it when missing.

    Raises:
        InvalidPassphraseError, NotEncryptedError, CorruptJournalError,
        EncryptionUnavailableError: as `open_keyed_connection` classifies the file.
    """
    file_path = os.fspath(path)
    exists = os.path.exists(file_path)
    if create is True and exists:
        raise ValidationError(f"path: {file_path} already exists", field="path", value=file_path)
    if create is False and not exists:
        raise ValidationError(f"path: no journal at {file_path}", field="path", value=file_path)
    key = (
        key_for_existing_journal(file_path, passphrase)
        if exists
        else key_for_new_journal(passphrase)
    )
    return engine_for_key(file_path, key, create=not exists)


def engine_for_key(path: str | os.PathLike[str], key: JournalKey, *, create: bool) -> Engine:
    """An engine whose pooled connections open `path` with an already derived key.

    The first connection is opened here, so a wrong key fails at once, and the pool reuses
    it. Later connections cost what a plain SQLite open costs: no KDF runs.
    """
    sqlcipher_dbapi = load_sqlcipher()
    file_path = os.fspath(path)
    first: Any = open_keyed_connection(file_path, key, create=create)

    def connect() -> Any:
        nonlocal first
        if first is not None:
            connection, first = first, None
            return connection
        # The first connection classified the file; later ones must not open it outside
        # SQLite, which would drop the locks SQLite holds on it (see open_keyed_connection).
        return open_keyed_connection(file_path, key, check_salt=False)

    engine = create_engine(
        "sqlite://",
        creator=connect,
        module=sqlcipher_dbapi,
        poolclass=QueuePool,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
    )
    _driver_owns_no_transactions(engine)
    _corruption_raises_domain_error(engine, path=file_path, keyed=True)
    return engine


def create_engine_from_url(url: str, **kwargs: Any) -> Engine:
    """An engine for a `sqlite://...` or `postgresql+psycopg://...` URL.

    SQLite gets foreign keys, WAL (files only) and a busy timeout on every connection; an
    in-memory database uses one shared connection so every session sees the same data.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        options: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if in_memory:
            options["poolclass"] = StaticPool
        else:
            options.update(poolclass=QueuePool, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW)
        options.update(kwargs)
        engine = create_engine(parsed, **options)

        @event.listens_for(engine, "connect")
        def _settings(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            apply_sqlite_settings(dbapi_connection)

        _driver_owns_no_transactions(engine)
        _corruption_raises_domain_error(
            engine, path=None if in_memory else os.path.abspath(str(parsed.database))
        )
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ValidationError(
                "url: PostgreSQL URLs must use the psycopg driver (postgresql+psycopg://)",
                field="url",
                value=parsed.render_as_string(hide_password=True),
            )
        pg_engine = create_engine(parsed, pool_pre_ping=True, **kwargs)

        @event.listens_for(pg_engine, "connect")
        def _utc_session(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            # The driver converts timestamptz to the session's time zone before
            # UTCDateTime sees it; in a zone ahead of (behind) UTC, 9999-12-31 (0001-01-01)
            # would not fit a Python datetime. Sessions therefore always run in UTC.
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            try:
                dbapi_connection.execute("SET TIME ZONE 'UTC'")
            finally:
                dbapi_connection.autocommit = autocommit

        _corruption_raises_domain_error(pg_engine)
        return pg_engine
    raise ValidationError(
        f"url: unsupported database {backend!r}; use sqlite:// or postgresql+psycopg://",
        field="url",
        value=parsed.render_as_string(hide_password=True),
    )
