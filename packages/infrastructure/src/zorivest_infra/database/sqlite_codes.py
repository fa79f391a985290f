"""SQLite's result codes, read from a driver error: the one classification of SQLite errors.

`sqlite3` and `sqlcipher3` errors carry ``sqlite_errorcode`` (extended codes hold the
primary code in their low byte); an older driver without it is recognised by SQLite's
fixed messages.
"""

from __future__ import annotations

from typing import Final

SQLITE_BUSY: Final = 5
SQLITE_LOCKED: Final = 6
SQLITE_READONLY: Final = 8
SQLITE_IOERR: Final = 10
SQLITE_CORRUPT: Final = 11
SQLITE_FULL: Final = 13
SQLITE_NOTADB: Final = 26

_MESSAGES: Final = (
    ("file is not a database", SQLITE_NOTADB),
    ("database disk image is malformed", SQLITE_CORRUPT),
    ("database or disk is full", SQLITE_FULL),
    ("disk i/o error", SQLITE_IOERR),
)


def sqlite_result_code(error: BaseException | None) -> int | None:
    """The primary SQLite result code of a driver error, or None if it is not known."""
    if error is None:
        return None
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF
    text = str(error).lower()
    return next((known for message, known in _MESSAGES if message in text), None)
