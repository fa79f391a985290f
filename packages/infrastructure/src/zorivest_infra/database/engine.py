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

from zorivest_core.domain.errors import EncryptionUnavailableError, ValidationError
from zorivest_infra.database.connection import (
    JournalKey,
    apply_sqlite_settings,
    key_for_existing_journal,
    key_for_new_journal,
    open_keyed_connection,
    passphrase_changed,
    passphrase_changed_error,
)
from zorivest_infra.database.errors import access_error, corruption_error

# SQLite connections are cheap; a journal opened by many threads should not queue on a
# small pool. Connections beyond POOL_SIZE are closed when returned.
POOL_SIZE = 5
MAX_OVERFLOW = 64


WRITES: Final = "zorivest_writes"
"""Execution option: True makes SQLite transactions of that engine/connection IMMEDIATE."""

READ_ONLY: Final = "zorivest_read_only"
"""Execution option: True makes every transaction of that engine/connection read-only.

SQLite and SQLCipher get ``PRAGMA query_only = ON`` for the transaction, PostgreSQL
``SET TRANSACTION READ ONLY``; a write then raises `ReadOnlyError` and nothing is written.
"""

_QUERY_ONLY: Final = "zorivest_query_only"  # connection info: query_only is ON now


def for_writing(engine: Engine) -> Engine:
    """The same engine (same pool) whose SQLite transactions take the write lock at BEGIN.

    A deferred transaction that reads first and writes later (every idempotent import does)
    cannot be upgraded once another writer has committed: it fails at once with "database
    is locked" instead of waiting out the busy timeout. Beginning IMMEDIATE makes
    concurrent writers queue instead. Plain connections of the engine stay deferred, so
    readers never wait for each other or for a writer.
    """
    return engine.execution_options(**{WRITES: True})


def for_reading(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions refuse every write (`READ_ONLY`)."""
    return engine.execution_options(**{READ_ONLY: True})


def _driver_owns_no_transactions(engine: Engine, *, read_only_file: bool = False) -> None:
    """Let SQLAlchemy emit BEGIN itself (the pysqlite recipe for correct transactions).

    Also switches ``query_only`` per transaction: ON for a `READ_ONLY` one, OFF again for
    the next transaction of that pooled connection that may write (a connection to a
    read-only file keeps it ON).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        record.info[_QUERY_ONLY] = read_only_file

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        read_only = read_only_file or options.get(READ_ONLY, False)
        if connection.info.get(_QUERY_ONLY, False) != read_only:
            connection.exec_driver_sql(f"PRAGMA query_only = {'ON' if read_only else 'OFF'}")
            connection.info[_QUERY_ONLY] = read_only
        writes = options.get(WRITES, False) and not read_only
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def _server_read_only_transactions(engine: Engine) -> None:
    """PostgreSQL: a `READ_ONLY` transaction starts with ``SET TRANSACTION READ ONLY``."""

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY, False):
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")


def _corruption_raises_domain_error(
    engine: Engine,
    *,
    path: str | None = None,
    keyed: bool = False,
    location: str | None = None,
    key: JournalKey | None = None,
) -> None:
    """Make every statement of `engine` raise the domain's error for what is not the
    statement's fault: a damaged database (`CorruptJournalError`), a write refused as
    read-only (`ReadOnlyError`), a lock held by someone else (`BusyError`).

    SQLAlchemy calls ``handle_error`` listeners for every failing statement and for
    failures while connecting; an exception raised by the listener replaces its
    ``DBAPIError`` and is chained to the driver error (``raise ... from``). Every other
    error is left alone: constraint and storage errors are translated where the
    operation is known (`translated_errors`).
    """
    where = location or path

    @event.listens_for(engine, "handle_error")
    def _translate_corruption(context: ExceptionContext) -> None:
        original = context.original_exception
        error = corruption_error(original, path=path, keyed=keyed)
        # Pages that fail under a key that opened the journal: damage, or another process
        # re-keyed it meanwhile (then the file's newest salt is another).
        if (
            error is not None
            and key is not None
            and path is not None
            and passphrase_changed(path, key)
        ):
            raise passphrase_changed_error(path)
        if error is None:
            options = context.connection.get_execution_options() if context.connection else {}
            error = access_error(
                original, location=where, read_only_transaction=bool(options.get(READ_ONLY))
            )
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


def engine_for_key(
    path: str | os.PathLike[str],
    key: JournalKey,
    *,
    create: bool,
    read_only: bool = False,
    check_salt: bool = True,
) -> Engine:
    """An engine whose pooled connections open `path` with an already derived key.

    The first connection is opened here, so a wrong key fails at once, and the pool reuses
    it. Later connections cost what a plain SQLite open costs: no KDF runs. With
    `read_only` every connection opens the file for reading only (a read-only file or file
    system) and every write raises `ReadOnlyError`. ``check_salt=False`` skips comparing
    the file's header with the key's salt (right after a re-key committed only in the log).
    A statement that meets pages the key cannot decrypt raises `PassphraseChangedError`
    when the journal was re-keyed meanwhile (by another process), else
    `CorruptJournalError`.
    """
    try:
        import sqlcipher3.dbapi2 as sqlcipher_dbapi
    except ImportError as error:
        raise EncryptionUnavailableError(
            "sqlcipher3 is not installed; an encrypted journal cannot be opened"
        ) from error
    file_path = os.fspath(path)
    first: Any = open_keyed_connection(
        file_path, key, create=create, read_only=read_only, check_salt=check_salt
    )

    def connect() -> Any:
        nonlocal first
        if first is not None:
            connection, first = first, None
            return connection
        # The first connection classified the file; later ones must not open it outside
        # SQLite, which would drop the locks SQLite holds on it (see open_keyed_connection).
        return open_keyed_connection(file_path, key, check_salt=False, read_only=read_only)

    engine = create_engine(
        "sqlite://",
        creator=connect,
        module=sqlcipher_dbapi,
        poolclass=QueuePool,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
    )
    _driver_owns_no_transactions(engine, read_only_file=read_only)
    _corruption_raises_domain_error(engine, path=file_path, keyed=True, key=key)
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

        _server_read_only_transactions(pg_engine)
        _corruption_raises_domain_error(
            pg_engine, location=parsed.render_as_string(hide_password=True)
        )
        return pg_engine
    raise ValidationError(
        f"url: unsupported database {backend!r}; use sqlite:// or postgresql+psycopg://",
        field="url",
        value=parsed.render_as_string(hide_password=True),
    )
