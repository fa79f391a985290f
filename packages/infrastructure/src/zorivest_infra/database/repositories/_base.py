"""What every SQLAlchemy repository shares: the session, atomic writes, and small helpers.

A repository subclasses `SqlAlchemyRepository` and is built with a `Session`; it never
commits (the unit of work or the caller does). The conventions, which the helpers below
make short to follow:

* **Reads** run Core statements on `self._connection()` (the session's connection for the
  current transaction) and map rows to entities (by same-named fields and columns, see
  `_core.RowMapper`; hot paths such as trades with explicit functions). Nothing is loaded
  into the session's identity map, so nothing there can go stale.
* **Writes** run inside `with self._atomic("what is being done"):`. That opens a SAVEPOINT
  and translates driver errors into domain errors at the call (`DuplicateError`,
  `ConflictError`, `StorageFullError`, chained to the driver error). A failed write rolls
  back to the savepoint only, so the caller's transaction stays usable on every backend:
  PostgreSQL would otherwise refuse every further statement of a transaction in which one
  statement failed. A multi-statement write (a delete with its dependants) is all or
  nothing for the same reason.
* `get` returns None when missing; `update` and `delete` raise `NotFoundError`
  (`not_found(...)` builds the message).

When a unit of work ends it marks its session closed (`mark_session_closed`); from then on
every use of a repository built on that session raises `UnitOfWorkError`, instead of
silently starting a new transaction on a closed session.

A failed write normally costs only its own savepoint. But SQLite rolls back the WHOLE
transaction by itself on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM,
SQLITE_INTERRUPT, ...; see "Response To Errors Within A Transaction" in SQLite's docs), and a
broken connection loses it on any backend. `_atomic` notices (the savepoint is gone), says
so in the error it raises, and records it on the session (`transaction_lost`): the unit of
work's `commit()` then refuses instead of committing whatever came after, and its
`rollback()` clears the record. Earlier work of the unit of work is never dropped silently.

A failed statement outside any savepoint (a read) can cost the transaction too: PostgreSQL
then aborts it (every later statement fails, and COMMIT silently rolls back), and SQLite may
roll it back by itself. `find_transaction_lost` looks at the driver's own transaction state
for that, so the unit of work's `commit()` refuses (`TransactionLostError`) instead of
returning as if the work had been stored; the record stays until `rollback()`.

On a plain `create_engine("sqlite://")` with the stdlib driver's default transaction
handling (the seed's own test fixture), the driver begins a transaction only before DML, so
a SAVEPOINT issued first would open (and its RELEASE commit) a transaction of its own.
`_atomic` therefore begins the driver's transaction itself first on such connections, so
writes stay uncommitted until the unit of work commits. The project's engines
(`zorivest_infra.database.engine`) let SQLAlchemy emit BEGIN itself and need no help.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import islice
from typing import Any, Final, TypeVar

from sqlalchemy import Connection, Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction

from zorivest_core.domain import validation as v
from zorivest_core.domain.errors import (
    CorruptJournalError,
    NotFoundError,
    StorageFullError,
    ZorivestError,
)
from zorivest_infra.database.errors import TRANSACTION_LOST_NOTE, translate, translated_errors

__all__ = [
    "LIKE_ESCAPE",
    "SESSION_CLOSED_KEY",
    "TRANSACTION_LOST_KEY",
    "LostTransaction",
    "SqlAlchemyRepository",
    "TransactionLostError",
    "UnitOfWorkError",
    "check_limit",
    "chunked",
    "clear_transaction_lost",
    "contains_pattern",
    "escape_like",
    "find_transaction_lost",
    "mark_session_closed",
    "not_found",
    "table_of",
    "transaction_lost",
    "utc_now",
]

T = TypeVar("T")
C = TypeVar("C")

SESSION_CLOSED_KEY: Final = "zorivest.unit_of_work_closed"
"""Key in `Session.info` set by the unit of work when its block has ended."""

LIKE_ESCAPE: Final = "/"
"""Escape character for LIKE patterns built by `escape_like` (pass it as `escape=`)."""


class UnitOfWorkError(RuntimeError):
    """A unit of work or one of its repositories was used outside its `with` block.

    Also raised for entering an active unit of work again and for `commit()` outside the
    block. It is a programming error, not a data error, hence a `RuntimeError`.
    """


TRANSACTION_LOST_KEY: Final = "zorivest.transaction_lost"
"""Key in `Session.info` of the `LostTransaction` record (see `transaction_lost`)."""


class TransactionLostError(UnitOfWorkError):
    """`commit()` refused: the database had rolled back the unit of work's transaction.

    Raised (chained to the error that cost the transaction) when that error was not a
    `StorageFullError`, which is raised as such. Nothing was committed; call
    `rollback()` and redo the work.
    """


@dataclass(frozen=True, slots=True)
class LostTransaction:
    """The database rolled back a session's whole transaction while a write failed.

    Attributes:
        context: The write that failed (e.g. "saving trades in bulk").
        error: The error raised for it; None when the loss was found later, in the
            driver's transaction state (a failed read, for one), with no error to show.
    """

    context: str
    error: BaseException | None

    def commit_refused(self) -> ZorivestError | TransactionLostError:
        """The error `commit()` raises instead of committing (chain it to `error`)."""
        if self.error is None:
            return TransactionLostError(
                "nothing was committed: the database had already rolled back or aborted "
                f"this unit of work's transaction ({self.context}), so all of its "
                "uncommitted work is lost; call rollback(), then redo it"
            )
        message = (
            f"nothing was committed: the database rolled back this unit of work's whole "
            f"transaction when {self.context} failed ({type(self.error).__name__}), so all "
            "of its uncommitted work from before that is lost; call rollback(), then redo it"
        )
        if isinstance(self.error, StorageFullError):
            return StorageFullError(message)
        return TransactionLostError(message)


def mark_session_closed(session: Session) -> None:
    """Make every repository built on `session` refuse further use."""
    session.info[SESSION_CLOSED_KEY] = True


def transaction_lost(session: Session) -> LostTransaction | None:
    """The record of a transaction the database rolled back under `session`, if any.

    Set by a repository write that found its transaction gone; it stays until
    `clear_transaction_lost` (the unit of work's `rollback()`).
    """
    record = session.info.get(TRANSACTION_LOST_KEY)
    return record if isinstance(record, LostTransaction) else None


def clear_transaction_lost(session: Session) -> None:
    """Forget a lost transaction (after the session's transaction was rolled back)."""
    session.info.pop(TRANSACTION_LOST_KEY, None)


def _record_transaction_lost(
    session: Session, context: str, error: BaseException | None
) -> LostTransaction:
    # The first loss is the one that matters: it took the unit of work's earlier work.
    record = transaction_lost(session)
    if record is None:
        record = LostTransaction(context, error)
        session.info[TRANSACTION_LOST_KEY] = record
    return record


def find_transaction_lost(session: Session) -> LostTransaction | None:
    """Like `transaction_lost`, but also asks the driver whether its transaction is gone.

    A statement that failed outside a savepoint (a read: repositories read without one)
    is not seen by `_atomic`, yet PostgreSQL then aborts the transaction, turning a later
    COMMIT into a silent ROLLBACK, and SQLite may have rolled it back by itself. So for
    each connection the session's transaction already holds (none is acquired, nothing
    is begun), the driver's state is checked: psycopg's transaction status is INERROR, or
    a SQLite connection whose transactions SQLAlchemy begins itself (driver
    `isolation_level` None) is no longer in a transaction. A loss found so is recorded
    like a failed write's, so it is reported until `clear_transaction_lost`.
    """
    record = transaction_lost(session)
    if record is not None:
        return record
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active:
        return None
    for connection in transaction.connections:  # acquired so far (never more)
        problem = _driver_transaction_problem(connection)
        if problem is not None:
            return _record_transaction_lost(session, problem, None)
    return None


def _driver_transaction_problem(connection: Connection) -> str | None:
    """Why the driver no longer has `connection`'s transaction, or None if it has it."""
    if connection.closed or connection.invalidated or not connection.in_transaction():
        return None  # nothing to judge by; committing such a connection fails by itself
    driver: Any = connection.connection.driver_connection
    dialect = connection.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        from psycopg.pq import TransactionStatus

        if driver.info.transaction_status == TransactionStatus.INERROR:
            return "PostgreSQL aborted it after a statement failed"
        return None
    sqlalchemy_begins = dialect.name == "sqlite" and getattr(driver, "isolation_level", "") is None
    if sqlalchemy_begins and not getattr(driver, "in_transaction", True):
        return "SQLite rolled it back by itself"
    return None


def _begin_driver_transaction(connection: Connection) -> None:
    """On a SQLite connection left to the driver's transaction handling, BEGIN now.

    The stdlib driver (`isolation_level` not None) begins its transaction only before
    INSERT/UPDATE/DELETE, not before SAVEPOINT; a first SAVEPOINT would then start a
    transaction of its own, which its RELEASE commits, out of reach of the unit of work's
    rollback. An explicit BEGIN first makes the savepoint nest in the outer transaction,
    which the driver then commits or rolls back with the session.
    """
    if connection.dialect.name != "sqlite":
        return
    driver: Any = connection.connection.driver_connection
    if getattr(driver, "isolation_level", None) is not None and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN")


class SqlAlchemyRepository:
    """Base class of the SQLAlchemy repositories: holds the session, offers atomic writes.

    Args:
        session: The session whose transaction the repository works in. The repository
            never commits or rolls back the session's transaction.
    """

    __slots__ = ("__session",)

    def __init__(self, session: Session) -> None:
        self.__session = session

    @property
    def _session(self) -> Session:
        """The session, refusing use after the owning unit of work has ended.

        Raises:
            UnitOfWorkError: The unit of work this repository belongs to has ended.
        """
        session = self.__session
        if session.info.get(SESSION_CLOSED_KEY):
            raise UnitOfWorkError(
                f"{type(self).__name__} was used after its unit of work ended; "
                "use repositories only inside `with uow:`"
            )
        return session

    def _connection(self) -> Connection:
        """The connection of the session's current transaction (begun on first use)."""
        return self._session.connection()

    @contextmanager
    def _atomic(self, context: str) -> Iterator[Connection]:
        """Run a write under a SAVEPOINT, translating driver errors into domain errors.

        On success the savepoint is released (pending ORM state is flushed first); on any
        exception it is rolled back, so nothing of the block remains, and the exception
        propagates (a database error as its domain error, chained).

        If the database has ended the whole transaction itself (SQLite does on
        SQLITE_FULL, for one), the savepoint is gone with everything written before it
        in the same transaction. The session's transaction is then rolled back too, the
        loss is recorded on the session (`transaction_lost`, so the unit of work's
        `commit()` refuses), and the error says so: a translated error in its message, any
        other exception in a note (`BaseException.add_note`).

        Args:
            context: What is being done, for error messages (e.g. "saving trade X1").

        Yields:
            The connection to execute the block's statements on.
        """
        session = self._session
        with translated_errors(context):
            _begin_driver_transaction(session.connection())
            savepoint = session.begin_nested()
        try:
            yield session.connection()
            savepoint.commit()
        except BaseException as error:
            lost = savepoint.is_active and not _roll_back_savepoint(session, savepoint)
            domain_error = (
                translate(error, context=context, transaction_lost=lost)
                if isinstance(error, sa_exc.DBAPIError)
                else None
            )
            if lost:
                _record_transaction_lost(session, context, domain_error or error)
                if domain_error is None:
                    error.add_note(f"while {context}: {TRANSACTION_LOST_NOTE}")
            if domain_error is not None:
                raise domain_error from error
            raise


def _roll_back_savepoint(session: Session, savepoint: SessionTransaction) -> bool:
    """Roll back to a savepoint; False when the whole transaction was gone (then ended).

    SQLite rolls back the entire transaction by itself on some errors (SQLITE_FULL, an
    interrupt, I/O errors), and a broken connection loses it too. The savepoint is then
    gone and `ROLLBACK TO SAVEPOINT` fails ("no such savepoint"); that failure must not
    replace the error being raised. A savepoint that still exists proves its transaction
    does, so this is also the test for a lost transaction. When it is lost, the session's
    transaction is rolled back as well, so the session never goes on believing in a
    transaction the database no longer has (later statements would run in autocommit
    mode); failing to end it cleanly (a dead connection) changes nothing for the caller.
    """
    try:
        savepoint.rollback()
    except (sa_exc.DBAPIError, CorruptJournalError):
        with suppress(sa_exc.DBAPIError, CorruptJournalError):
            session.rollback()
        return False
    return True


def table_of(model: type[DeclarativeBase]) -> Table:
    """The Core `Table` of a mapped class, typed as such (for Core statements)."""
    table = model.__table__
    if not isinstance(table, Table):  # pragma: no cover - every model here maps one table
        raise TypeError(f"{model.__name__} is not mapped to a single Table")
    return table


def not_found(what: str, key: object) -> NotFoundError:
    """The error for a row that does not exist, e.g. `raise not_found("trade", exec_id)`."""
    return NotFoundError(f"{what} {v.show(key)} does not exist")


def check_limit(value: object, *, maximum: int, field: str = "limit") -> int:
    """A page size between 1 and `maximum`, or `ValidationError`."""
    return v.integer(field, value, minimum=1, maximum=maximum)


def escape_like(text: str, escape: str = LIKE_ESCAPE) -> str:
    """Escape `%`, `_` and the escape character so LIKE matches `text` literally."""
    return (
        text.replace(escape, escape + escape).replace("%", escape + "%").replace("_", escape + "_")
    )


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching values that contain `text` literally (use `LIKE_ESCAPE`).

    For case-insensitive search on every backend, apply `func.lower()` to both the column
    and this pattern in SQL (SQLite's LIKE ignores ASCII case, PostgreSQL's does not).
    """
    return f"%{escape_like(text)}%"


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Split `items` into lists of at most `size` (the last may be shorter)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def keyset_pages(
    fetch_page: Callable[[C | None], Sequence[T]], size: int, cursor_of: Callable[[T], C]
) -> Iterator[T]:
    """Every item of a keyset-paged query, page after page (memory: one page).

    Args:
        fetch_page: Reads the page after a cursor (None: the first page), at most `size`
            items; each page is one indexed query continuing where the last ended (no
            OFFSET, so nothing is skipped or repeated while others write).
        size: The page size; a shorter page is the last.
        cursor_of: The cursor of an item (the next page starts after it).
    """
    after: C | None = None
    while True:
        page = fetch_page(after)
        yield from page
        if len(page) < size:
            return
        after = cursor_of(page[-1])


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def dialect_insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT supporting ON CONFLICT (upserts, insert-or-skip) on this backend."""
    name = conn.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no ON CONFLICT for the {name} dialect")  # pragma: no cover
