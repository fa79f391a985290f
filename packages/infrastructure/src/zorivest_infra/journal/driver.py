"""The SQLCipher driver below SQLAlchemy, and its errors.

Loads ``sqlcipher3`` (refusing to go on without it: an encrypted journal is never handled
without encryption), builds read-only URIs, and turns a driver error about the file itself
(damaged, encrypted, full, wrong key) into the matching domain error, both for raw DB-API
connections and for errors SQLAlchemy wraps.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Final

from sqlalchemy import exc as sa_exc

from zorivest_infra.database.connection import classify_open_error, load_sqlcipher

_SQLITE_HEADER: Final = b"SQLite format 3\x00"


def _driver() -> ModuleType:
    return load_sqlcipher()


def _driver_error() -> type[Exception]:
    error: type[Exception] = _driver().Error
    return error


def _ro_uri(path: Path) -> str:
    return f"{path.as_uri()}?mode=ro"


def _raise_classified(error: Exception, path: Path) -> None:
    domain = classify_open_error(error, path)
    if domain is not None:
        raise domain from error


@contextlib.contextmanager
def _translated_errors(path: Path | None, *, keyed: bool) -> Iterator[None]:
    """Turn a driver error about the file itself (damaged, encrypted, full) into ours."""
    try:
        yield
    except sa_exc.DBAPIError as error:
        if error.orig is None or path is None:
            raise
        domain = classify_open_error(error.orig, path, keyed=keyed)
        if domain is None:
            raise
        raise domain from error
