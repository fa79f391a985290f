"""Driver errors translated into the domain's errors, in this one place.

SQLite/SQLCipher and PostgreSQL report the same failure differently; callers only ever see
`DuplicateError`, `ConflictError`, `StorageFullError`, `ValidationError` or
`CorruptJournalError`, chained to the driver error.

Two ways in:

* `translated_errors` / `translate`: around repository writes and commits, where the
  context of the operation is known (constraint errors, storage full, ...).
* `corruption_error`: damage is not tied to an operation, and any read can hit a damaged
  page. The engine factories (`zorivest_infra.database.engine`) call it from a
  ``handle_error`` engine event, so every statement on the project's engines raises
  `CorruptJournalError` for a damaged page, never a bare driver error.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from sqlalchemy import exc as sa_exc

from zorivest_core.domain.errors import (
    BusyError,
    ConflictError,
    CorruptJournalError,
    DuplicateError,
    InvalidPassphraseError,
    ReadOnlyError,
    StorageFullError,
    ValidationError,
    ZorivestError,
)
from zorivest_infra.database.connection import classify_open_error

# PostgreSQL SQLSTATE codes.
_PG_UNIQUE = "23505"
_PG_FOREIGN_KEY = "23503"
_PG_DISK_FULL = "53100"
_PG_STRING_TOO_LONG = "22001"
_PG_NUMERIC_OVERFLOW = "22003"
_PG_DATA_CORRUPTED = "XX001"
_PG_INDEX_CORRUPTED = "XX002"
_PG_READ_ONLY_TRANSACTION = "25006"
_PG_BUSY: Final = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "55P03",  # lock_not_available
    }
)
# SQLite primary result codes (extended codes carry them in the low byte).
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_NOTADB = 26
# SQLite's fixed messages, for drivers that do not expose the result code.
_MALFORMED: Final = "database disk image is malformed"
_NOT_A_DATABASE: Final = "file is not a database"

TRANSACTION_LOST_NOTE: Final = (
    "the database rolled back the whole transaction: ALL uncommitted work of this unit of "
    "work is lost (nothing of it was written), and commit() will refuse; call rollback(), "
    "then redo the work"
)
"""Said of an error after which the database no longer has the unit of work's transaction."""


def _sqlstate(error: BaseException | None) -> str | None:
    code = getattr(error, "sqlstate", None)
    return code if isinstance(code, str) else None


def _sqlite_code(error: BaseException | None) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def corruption_error(
    error: BaseException,
    *,
    path: str | os.PathLike[str] | None = None,
    keyed: bool = True,
    context: str = "",
) -> ZorivestError | None:
    """The domain error for a damaged database or a file that is not one, else None.

    SQLite's ``SQLITE_CORRUPT`` ("database disk image is malformed"; SQLCipher reports a
    page whose HMAC fails this way) and ``SQLITE_NOTADB`` ("file is not a database"), and
    PostgreSQL's ``data_corrupted``/``index_corrupted``, give `CorruptJournalError`.

    ``SQLITE_NOTADB`` on an engine WITHOUT a key (`keyed=False`, a ``sqlite:///file``
    URL) usually means the file is something else, e.g. an encrypted journal; with the
    file's `path` it is classified by looking at the file (`classify_open_error`):
    `InvalidPassphraseError` for an encrypted journal, `CorruptJournalError` otherwise.
    On a keyed engine the key was verified when the journal was opened, so it is damage.

    Args:
        error: A driver exception, or SQLAlchemy's `DBAPIError` wrapping one.
        path: The database file, when there is one (named in the message).
        keyed: Whether the connection is an SQLCipher connection opened with its key.
        context: What was being done, for the message.
    """
    driver = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    if driver is None:
        return None
    state = _sqlstate(driver)
    code = _sqlite_code(driver)
    # SQLite's fixed messages stand in for a missing result code (not for PostgreSQL).
    message = str(driver).lower() if state is None and code is None else ""
    not_a_database = code == _SQLITE_NOTADB or _NOT_A_DATABASE in message
    damaged = (
        code == _SQLITE_CORRUPT
        or _MALFORMED in message
        or state in {_PG_DATA_CORRUPTED, _PG_INDEX_CORRUPTED}
    )
    if not (not_a_database or damaged):
        return None
    if not_a_database and not keyed and path is not None:
        classified = classify_open_error(driver, path, keyed=False)
        if isinstance(classified, InvalidPassphraseError | CorruptJournalError):
            return classified  # e.g. an encrypted journal opened as plain SQLite
    what = f"journal {os.fspath(path)}" if path is not None else "the journal"
    where = f" ({context})" if context else ""
    return CorruptJournalError(
        f"{what} is damaged{where}: {_detail(driver)}; run verify, or restore a backup"
    )


BUSY_ADVICE: Final = "another zorivest command is writing to this journal; try again"


def access_error(
    error: BaseException, *, location: str | None = None, read_only_transaction: bool = False
) -> ZorivestError | None:
    """`ReadOnlyError` or `BusyError` for a driver error that means one, else None.

    Args:
        error: A driver exception, or SQLAlchemy's `DBAPIError` wrapping one.
        location: The journal's path or URL (password hidden), for the message.
        read_only_transaction: The failing statement ran in a transaction begun read-only
            (otherwise the database itself is read-only: a read-only file or file system).
    """
    driver = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    if driver is None:
        return None
    code = _sqlite_code(driver)
    state = _sqlstate(driver)
    what = f"journal {location}" if location else "the journal"
    if code == _SQLITE_READONLY or state == _PG_READ_ONLY_TRANSACTION:
        if read_only_transaction:
            return ReadOnlyError(
                f"a write was refused in a read-only unit of work of {what}; "
                "nothing was written (use unit_of_work() to write)"
            )
        return ReadOnlyError(
            f"{what} is read-only here (a read-only file or file system); nothing was written"
        )
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or state in _PG_BUSY:
        return BusyError(
            f"{what} is busy ({_detail(driver)}): {BUSY_ADVICE}; the transaction was not committed"
        )
    return None


def translate(
    error: sa_exc.DBAPIError, *, context: str = "", transaction_lost: bool = False
) -> ZorivestError | None:
    """The domain error for a driver error, or None when it is not one we translate.

    Args:
        error: The SQLAlchemy error.
        context: What was being done, for the message.
        transaction_lost: The database rolled back the whole transaction, not only the
            failed statement; the message then says so (`TRANSACTION_LOST_NOTE`).
    """
    driver = error.orig
    message = str(driver).lower() if driver is not None else ""
    where = f" ({context})" if context else ""
    lost = f"; {TRANSACTION_LOST_NOTE}" if transaction_lost else ""
    state = _sqlstate(driver)
    if state == _PG_UNIQUE or "unique constraint failed" in message:
        return DuplicateError(
            f"a row with the same key already exists{where}: {_detail(driver)}{lost}"
        )
    if state == _PG_FOREIGN_KEY or "foreign key constraint failed" in message:
        return ConflictError(f"a referenced row is missing or still referenced{where}{lost}")
    if state in {_PG_STRING_TOO_LONG, _PG_NUMERIC_OVERFLOW}:
        return ValidationError(f"a value does not fit its column{where}: {_detail(driver)}{lost}")
    if isinstance(error, sa_exc.IntegrityError):
        return ConflictError(f"the database refused a constraint{where}: {_detail(driver)}{lost}")
    return _storage_error(error, context=context, lost=lost)


def _storage_error(error: sa_exc.DBAPIError, *, context: str, lost: str) -> ZorivestError | None:
    """`StorageFullError` or `CorruptJournalError` for a driver error, else None."""
    driver = error.orig
    if (
        _sqlstate(driver) == _PG_DISK_FULL
        or _sqlite_code(driver) == _SQLITE_FULL
        or "database or disk is full" in str(driver).lower()
    ):
        where = f" ({context})" if context else ""
        return StorageFullError(
            f"the journal's storage is full{where}{lost or '; nothing was written'}"
        )
    corrupt = corruption_error(error, context=context)
    if corrupt is not None and lost:
        return CorruptJournalError(f"{corrupt}{lost}")
    return corrupt


def _detail(driver: BaseException | None) -> str:
    # The first line of a driver message names the constraint; later lines (PostgreSQL's
    # DETAIL) may quote row values, which are user data, so they are left out.
    return str(driver).splitlines()[0] if driver is not None else "unknown"


@contextmanager
def translated_errors(context: str = "") -> Iterator[None]:
    """Run a block, re-raising database errors as domain errors (chained)."""
    try:
        yield
    except sa_exc.DBAPIError as error:
        domain_error = translate(error, context=context)
        if domain_error is None:
            raise
        raise domain_error from error
