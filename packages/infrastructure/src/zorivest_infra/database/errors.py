"""Driver errors translated into the domain's errors, in this one place.

SQLite/SQLCipher and PostgreSQL report the same failure differently; callers only ever see
`DuplicateError`, `ConflictError` or `StorageFullError`, chained to the driver error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from zorivest_core.domain.errors import (
    ConflictError,
    DuplicateError,
    StorageFullError,
    ValidationError,
    ZorivestError,
)

# PostgreSQL SQLSTATE codes.
_PG_UNIQUE = "23505"
_PG_FOREIGN_KEY = "23503"
_PG_DISK_FULL = "53100"
_PG_STRING_TOO_LONG = "22001"
_PG_NUMERIC_OVERFLOW = "22003"
# SQLite primary result codes.
_SQLITE_FULL = 13


def _sqlstate(error: BaseException | None) -> str | None:
    code = getattr(error, "sqlstate", None)
    return code if isinstance(code, str) else None


def _sqlite_code(error: BaseException | None) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def translate(error: sa_exc.DBAPIError, *, context: str = "") -> ZorivestError | None:
    """The domain error for a driver error, or None when it is not one we translate."""
    driver = error.orig
    message = str(driver).lower() if driver is not None else ""
    where = f" ({context})" if context else ""
    state = _sqlstate(driver)
    if state == _PG_UNIQUE or "unique constraint failed" in message:
        return DuplicateError(f"a row with the same key already exists{where}: {_detail(driver)}")
    if state == _PG_FOREIGN_KEY or "foreign key constraint failed" in message:
        return ConflictError(f"a referenced row is missing or still referenced{where}")
    if (
        state == _PG_DISK_FULL
        or _sqlite_code(driver) == _SQLITE_FULL
        or "database or disk is full" in message
    ):
        return StorageFullError(f"the journal's storage is full; nothing was written{where}")
    if state in {_PG_STRING_TOO_LONG, _PG_NUMERIC_OVERFLOW}:
        return ValidationError(f"a value does not fit its column{where}: {_detail(driver)}")
    if isinstance(error, sa_exc.IntegrityError):
        return ConflictError(f"the database refused a constraint{where}: {_detail(driver)}")
    return None


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
