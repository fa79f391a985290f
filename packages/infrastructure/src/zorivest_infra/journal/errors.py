"""The errors particular to journals.

`NotAJournalDatabaseError` lives in the domain's hierarchy (the CLI maps it without
importing this package) and is re-exported here.

Each one is also a domain error (`zorivest_core.domain.errors`), and the file errors are
also the matching built-in `OSError` subclasses, so callers can catch either family.
"""

from __future__ import annotations

from zorivest_core.domain.errors import (
    DuplicateError,
    NotAJournalDatabaseError,
    NotFoundError,
    ValidationError,
    ZorivestError,
)


class JournalExistsError(DuplicateError, FileExistsError):
    """A journal (or backup) would be created where a file already exists.

    Both a `DuplicateError` (the domain's "already exists") and a `FileExistsError`.
    """


class JournalNotFoundError(NotFoundError, FileNotFoundError):
    """There is no journal file (or no directory for a new one) at the given path.

    Both a `NotFoundError` and a `FileNotFoundError`.
    """


class UnsupportedOperationError(ValidationError):
    """The operation needs an encrypted journal file (e.g. `change_passphrase` on a URL)."""


class JournalClosedError(ZorivestError):
    """The journal has been closed; open it again to use it."""


class SchemaMissingError(NotFoundError):
    """A database URL names a database without the Zorivest schema; nothing was written.

    Server databases are only given the schema on purpose: ``zorivest init --url URL`` or
    ``Journal.connect(url, create_schema=True)``.
    """


__all__ = [
    "JournalClosedError",
    "JournalExistsError",
    "JournalNotFoundError",
    "NotAJournalDatabaseError",
    "SchemaMissingError",
    "UnsupportedOperationError",
]
