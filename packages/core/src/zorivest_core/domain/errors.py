"""One exception hierarchy for the whole data layer.

Messages name what was wrong and the offending value, never a secret (passphrases and keys
are not values any error ever carries).
"""

from __future__ import annotations


class ZorivestError(Exception):
    """Base of every error the data layer raises on purpose."""


class ValidationError(ZorivestError):
    """A value does not satisfy the domain's rules.

    Attributes:
        field: The name of the offending field, when there is one.
        value: A short representation of the offending value, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class InvalidImageError(ValidationError):
    """Image bytes that are not an accepted, safe-to-decode image."""


class NotFoundError(ZorivestError):
    """A row that was asked for by key does not exist."""


class DuplicateError(ZorivestError):
    """A row with the same unique key already exists."""


class ConflictError(ZorivestError):
    """The database refused a reference or constraint (e.g. an unknown foreign key)."""


class InvalidPassphraseError(ZorivestError):
    """The passphrase does not open this encrypted journal."""


class NotEncryptedError(ZorivestError):
    """The file is a plaintext SQLite database, not an encrypted journal."""


class EncryptionUnavailableError(ZorivestError):
    """SQLCipher is not installed; nothing falls back to an unencrypted file."""


class CorruptJournalError(ZorivestError):
    """The file is not a database, or its pages are damaged."""


class SchemaVersionError(ZorivestError):
    """The journal's schema is newer than this code understands."""


class StorageFullError(ZorivestError):
    """The disk or the database's page limit is full; the write was rolled back."""


class UnknownKdfProfileError(SchemaVersionError):
    """The journal's header names a key-derivation profile this code does not know.

    Written by a newer Zorivest (or the header is not a journal's); no key derivation is
    ever run with guessed parameters.
    """


class ReadOnlyError(ZorivestError):
    """A write was attempted where only reading is allowed; nothing was written.

    Raised inside ``unit_of_work(read_only=True)`` and on a journal opened read-only (a
    read-only file or file system).
    """


class BusyError(ZorivestError):
    """Another connection or process holds the lock this operation needs; try again.

    SQLite's busy timeout ran out, or PostgreSQL reported a lock or serialisation failure.
    Nothing of the failed transaction was written.
    """


class PassphraseChangedError(ZorivestError):
    """The journal was re-keyed by another process while this one had it open.

    The journal is healthy: open it again with the new passphrase.
    """


class NotAJournalDatabaseError(ValidationError):
    """A plaintext SQLite database to encrypt is not a Zorivest journal.

    Only a database holding Zorivest's tables and its schema revision (``alembic_version``)
    and nothing else is converted; nothing is created for any other.
    """
