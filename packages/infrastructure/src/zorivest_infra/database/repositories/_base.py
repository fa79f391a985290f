"""What every SQLAlchemy repository shares: the session, atomic writes, and small helpers.

A repository subclasses `SqlAlchemyRepository` and is built with a `Session`; it never
commits (the unit of work or the caller does). The conventions, which the helpers below
make short to follow:

* **Reads** run Core statements on `self._connection()` (the session's connection for the
  current transaction) and map rows to entities with explicit, tested functions. Nothing is
  loaded into the session's identity map, so nothing there can go stale.
* **Writes** run inside `with self._atomic("what is being done"):`. That opens a SAVEPOINT
  and translates driver errors into domain errors at the call (`DuplicateError`,
  `ConflictError`, `StorageFullError`, chained to the driver error). A failed write rolls
  back to the savepoint only, so the caller's transaction stays usable on every backend:
  PostgreSQL would otherwise refuse every further statement of a transaction in which one
  statement failed. A multi-statement write (a delete with its dependants) is all or
  nothing for the same reason.
* A repository that uses ORM objects (`session.add`) must call `self._flush(...)` before
  returning, so constraint violations surface at the call and no pending state outlives it.
* `get` returns None when missing; `update` and `delete` raise `NotFoundError`
  (`not_found(...)` builds the message).

When a unit of work ends it marks its session closed (`mark_session_closed`); from then on
every use of a repository built on that session raises `UnitOfWorkError`, instead of
silently starting a new transaction on a closed session.

Caveat: on a plain `create_engine("sqlite://")` with the stdlib driver's default
transaction handling (the seed's own test fixture), SQLite savepoints do not nest inside the
driver's implicit transaction, so a released savepoint there commits. The project's engines
(`zorivest_infra.database.engine`) let SQLAlchemy emit BEGIN itself and are not affected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Final, TypeVar

from sqlalchemy import Connection, Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction

from zorivest_core.domain import validation as v
from zorivest_core.domain.errors import NotFoundError
from zorivest_infra.database.errors import translated_errors

__all__ = [
    "LIKE_ESCAPE",
    "SESSION_CLOSED_KEY",
    "SqlAlchemyRepository",
    "UnitOfWorkError",
    "check_limit",
    "chunked",
    "contains_pattern",
    "escape_like",
    "mark_session_closed",
    "not_found",
    "table_of",
    "utc_now",
]

T = TypeVar("T")

SESSION_CLOSED_KEY: Final = "zorivest.unit_of_work_closed"
"""Key in `Session.info` set by the unit of work when its block has ended."""

LIKE_ESCAPE: Final = "/"
"""Escape character for LIKE patterns built by `escape_like` (pass it as `escape=`)."""


class UnitOfWorkError(RuntimeError):
    """A unit of work or one of its repositories was used outside its `with` block.

    Also raised for entering an active unit of work again and for `commit()` outside the
    block. It is a programming error, not a data error, hence a `RuntimeError`.
    """


def mark_session_closed(session: Session) -> None:
    """Make every repository built on `session` refuse further use."""
    session.info[SESSION_CLOSED_KEY] = True


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
        propagates (a database error as its domain error, chained). If the database has
        ended the whole transaction itself (SQLite does on SQLITE_FULL), the session's
        transaction is rolled back too and the original error still propagates.

        Args:
            context: What is being done, for error messages (e.g. "saving trade X1").

        Yields:
            The connection to execute the block's statements on.
        """
        session = self._session
        with translated_errors(context):
            savepoint = session.begin_nested()
            try:
                yield session.connection()
                savepoint.commit()
            except BaseException:
                if savepoint.is_active:
                    _roll_back_savepoint(session, savepoint)
                raise

    def _flush(self, context: str) -> None:
        """Flush pending ORM changes now, translating constraint errors at the call."""
        with translated_errors(context):
            self._session.flush()


def _roll_back_savepoint(session: Session, savepoint: SessionTransaction) -> None:
    """Roll back to a savepoint; if the database has ended the whole transaction, end it.

    SQLite rolls back the entire transaction by itself on some errors (SQLITE_FULL, an
    interrupt, I/O errors), and a broken connection loses it too. The savepoint is then
    gone and `ROLLBACK TO SAVEPOINT` fails; that failure must not replace the error being
    raised. The session's transaction is rolled back as well, so the session never goes on
    believing in a transaction the database no longer has (later statements would run in
    autocommit mode).
    """
    try:
        savepoint.rollback()
    except sa_exc.DBAPIError:
        session.rollback()


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


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)
