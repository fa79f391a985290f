"""Encrypted journal connections: Argon2id key derivation and keyed SQLCipher connections.

An encrypted journal is ONE self-contained SQLCipher 4 file. Its first 16 bytes are the
(plaintext) SQLCipher salt, and that same salt is the Argon2id salt of the passphrase; in
format v1 it also records the Argon2id parameters (`journal_format`), so the key never
depends on this process's `KDF_PARAMETERS`, which only apply to new journals. So:

* opening costs one Argon2id run (:func:`key_for_existing_journal` reads the salt from the
  file), after which every connection is keyed with the raw 256-bit key
  (:func:`open_keyed_connection`) and SQLCipher runs no KDF of its own: a pooled
  connection opens about as fast as a plain SQLite one;
* a new journal is keyed with the 96-hex form ``x'<key><salt>'`` so SQLCipher writes our
  Argon2id salt at the start of the file;
* copying the single file elsewhere and opening it with the passphrase just works.

Nothing here ever falls back to an unencrypted database, and the passphrase never reaches
SQL text: only a hex literal built from validated bytes does, and errors raised around it
never carry that text.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import tempfile
import unicodedata
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, Protocol, Self, TypeAlias

from argon2.low_level import Type, hash_secret_raw

from zorivest_core.domain.errors import (
    CorruptJournalError,
    EncryptionUnavailableError,
    InvalidPassphraseError,
    NotEncryptedError,
    PassphraseChangedError,
    ReadOnlyError,
    ValidationError,
    ZorivestError,
)
from zorivest_infra.core_dumps import disable_core_dumps
from zorivest_infra.database.descriptors import FileHold
from zorivest_infra.database.journal_format import (
    JournalFormat,
    KdfParameters,
    encode_salt,
    format_of_salt,
)
from zorivest_infra.database.sqlite_codes import (
    SQLITE_CORRUPT,
    SQLITE_FULL,
    SQLITE_IOERR,
    SQLITE_NOTADB,
    sqlite_result_code,
)
from zorivest_infra.disk_space import has_room, storage_full

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import DBAPIConnection

__all__ = [
    "BUSY_TIMEOUT_MS",
    "KDF_PARAMETERS",
    "KEY_LEN",
    "PAGE_SIZE",
    "SALT_LEN",
    "CipherConnection",
    "JournalFormat",
    "JournalKey",
    "KdfParameters",
    "apply_sqlite_settings",
    "classify_open_error",
    "committed_salt",
    "create_encrypted_connection",
    "derive_key",
    "file_is_read_only",
    "key_for_existing_journal",
    "key_for_new_journal",
    "new_salt",
    "open_keyed_connection",
    "passphrase_changed",
    "passphrase_changed_error",
    "read_file_head",
    "read_journal_salt",
    "require_sqlcipher",
]

_log = logging.getLogger(__name__)

KEY_LEN: Final = 32
"""Bytes in a journal key (SQLCipher 4 uses AES-256)."""

SALT_LEN: Final = 16
"""Bytes of salt SQLCipher keeps at the start of the file (and we use for Argon2id)."""

PAGE_SIZE: Final = 4096
"""SQLCipher 4's default page size; journals never change it, so files are whole pages."""

BUSY_TIMEOUT_MS: Final = 10_000
"""How long a connection waits for a lock held by another connection before failing."""

_SQLITE_HEADER: Final = b"SQLite format 3\x00"
_HEX_DIGITS: Final = b"0123456789abcdef"


_ENCRYPT_HINT: Final = (
    "convert it into an encrypted journal with "
    "zorivest_infra.journal.Journal.encrypt_plaintext(src, dest, passphrase)"
)

CipherConnection: TypeAlias = sqlite3.Connection
"""Static type of the connections this module returns.

At run time they are ``sqlcipher3.dbapi2.Connection`` objects. sqlcipher3 is a fork of the
standard library's ``sqlite3`` module with the same DB-API surface (plus ``set_key`` and
``reset_key``) but ships no type stubs, so the stdlib class describes it to the type checker.
Never ``isinstance``-check a connection against ``sqlite3.Connection``.
"""


class _Cursor(Protocol):
    def fetchone(self) -> Any: ...


class SupportsExecute(Protocol):
    """Any DB-API connection with the stdlib-``sqlite3``-style ``execute`` shortcut."""

    def execute(self, sql: str, /) -> _Cursor: ...


# ---------------------------------------------------------------------------------------------
# Key derivation
# ---------------------------------------------------------------------------------------------


KDF_PARAMETERS: KdfParameters = KdfParameters()
"""The parameters NEW journals are created with (and `change_passphrase` re-keys with).

RFC 9106's second recommended option (t=3, m=64 MiB, p=4): about 0.2 s per open. An
existing journal is always opened with the parameters recorded in its header
(`zorivest_infra.database.journal_format`), whatever this says. Read at call time, so tests
that are not about the KDF may replace it with cheap parameters.
"""


def derive_key(password: str, salt: bytes) -> bytes:
    """Derive a journal's 256-bit key from its passphrase with Argon2id.

    The parameters are those the salt records (format v1), or the fixed v0 parameters for
    a salt without the format magic (`journal_format.format_of_salt`); never the process's
    defaults.

    The passphrase is NFC-normalised before UTF-8 encoding, so the same visible passphrase
    typed on systems that compose accents differently opens the same journal.

    Args:
        password: The passphrase; any non-empty string (quotes, any Unicode, any length).
        salt: At least 16 bytes; a journal's salt is the first 16 bytes of its file.

    Returns:
        32 bytes, the same for the same passphrase and salt.

    Raises:
        ValidationError: ``salt`` is shorter than 16 bytes or ``password`` is empty.
        UnknownKdfProfileError: The salt records a profile this code does not know.
        TypeError: ``password`` is not a ``str``.
    """
    if not isinstance(password, str):
        raise TypeError("passphrase must be a str")
    disable_core_dumps()
    if not password:
        raise ValidationError("passphrase must not be empty", field="passphrase")
    salt = bytes(salt)
    if len(salt) < SALT_LEN:
        raise ValidationError(
            f"salt must be at least {SALT_LEN} bytes, got {len(salt)}",
            field="salt",
            value=len(salt),
        )
    params = format_of_salt(salt).kdf
    return hash_secret_raw(
        secret=unicodedata.normalize("NFC", password).encode("utf-8"),
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_cost_kib,
        parallelism=params.parallelism,
        hash_len=params.hash_len,
        type=Type.ID,
    )


def new_salt(kdf: KdfParameters | None = None) -> bytes:
    """A new journal's 16-byte format v1 salt, recording `kdf` (default `KDF_PARAMETERS`).

    Raises:
        ValidationError: `kdf` cannot be recorded in a journal header.
    """
    return encode_salt(kdf if kdf is not None else KDF_PARAMETERS)


class JournalKey:
    """A journal's raw 256-bit key and its 16-byte salt.

    The key bytes live in a ``bytearray`` that :meth:`wipe` zeroes; ``repr``/``str`` never
    show them and the object refuses to be pickled or copied. Usable as a context manager
    that wipes on exit.

    Args:
        key: Exactly 32 bytes (as returned by :func:`derive_key`).
        salt: Exactly 16 bytes, the salt the key was derived with.

    Raises:
        ValidationError: Wrong lengths, or an all-zero key.
    """

    __slots__ = ("_key", "_salt")

    def __init__(self, key: bytes | bytearray, salt: bytes) -> None:
        if len(key) != KEY_LEN:
            raise ValidationError(f"journal key must be {KEY_LEN} bytes", field="key")
        if not any(key):
            # All zeros is what wipe() leaves behind, never a derived key.
            raise ValidationError("journal key must not be all zeros", field="key")
        if len(salt) != SALT_LEN:
            raise ValidationError(
                f"journal salt must be {SALT_LEN} bytes, got {len(salt)}",
                field="salt",
                value=len(salt),
            )
        disable_core_dumps()
        self._key = bytearray(key)
        self._salt = bytes(salt)

    @property
    def salt(self) -> bytes:
        """The 16-byte salt (not secret: it is stored in clear at the start of the file)."""
        return self._salt

    @property
    def format(self) -> JournalFormat:
        """The journal format and Argon2id parameters the salt records."""
        return format_of_salt(self._salt)

    @property
    def wiped(self) -> bool:
        """Whether :meth:`wipe` has run."""
        return not any(self._key)

    def pragma_literal(self, include_salt: bool) -> str:
        """Return the SQLCipher raw-key literal for ``PRAGMA key``/``PRAGMA rekey``.

        Args:
            include_salt: ``True`` for ``x'<64 hex key><32 hex salt>'``, which makes SQLCipher
                use our salt for a new file (or a re-key); ``False`` for ``x'<64 hex key>'``,
                which opens an existing file with the salt stored in it.

        Returns:
            The literal, built only from hex digits of validated bytes. It is the key in
            another form: never log it or put it in an error message.

        Raises:
            ValueError: The key has been wiped.
        """
        if self.wiped:
            raise ValueError("journal key has been wiped")
        hex_text = self._key.hex() + (self._salt.hex() if include_salt else "")
        return f"x'{hex_text}'"

    def literal_buffer(self, include_salt: bool) -> bytearray:
        """The same literal as `pragma_literal`, in a mutable buffer the caller wipes.

        Built digit by digit, so no immutable copy of the key (a ``str``) is ever made;
        hand it to ``Connection.set_key``/``reset_key`` and zero it right after.

        Raises:
            ValueError: The key has been wiped.
        """
        if self.wiped:
            raise ValueError("journal key has been wiped")
        tail = self._salt if include_salt else b""
        buffer = bytearray(3 + 2 * (len(self._key) + len(tail)))
        buffer[0:2] = b"x'"
        position = 2
        for source in (self._key, tail):
            for byte in source:
                buffer[position] = _HEX_DIGITS[byte >> 4]
                buffer[position + 1] = _HEX_DIGITS[byte & 0x0F]
                position += 2
        buffer[position] = ord("'")
        return buffer

    def derive_subkey(self, label: bytes, length: int = 32) -> bytes:
        """Derive an independent key for another purpose with HKDF-SHA256.

        Args:
            label: A constant naming the purpose (e.g. ``b"zorivest/provider-api-keys"``);
                distinct labels give unrelated keys.
            length: Output length in bytes.

        Returns:
            ``length`` bytes that reveal nothing about the journal key.

        Raises:
            ValueError: Empty label, or the key has been wiped.
        """
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        if not label:
            raise ValueError("subkey label must not be empty")
        if self.wiped:
            raise ValueError("journal key has been wiped")
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=self._salt, info=label).derive(
            self._key
        )

    def wipe(self) -> None:
        """Overwrite the key bytes with zeros; the object is unusable afterwards."""
        for index in range(len(self._key)):
            self._key[index] = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self.wipe()

    def __repr__(self) -> str:
        return "JournalKey(<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling or copying would put the key bytes somewhere we cannot wipe.
        raise TypeError("JournalKey cannot be pickled or copied")


def key_for_new_journal(passphrase: str, kdf: KdfParameters | None = None) -> JournalKey:
    """Derive the key for a journal that does not exist yet, under a fresh format v1 salt.

    Args:
        passphrase: The new journal's passphrase.
        kdf: The Argon2id parameters to create it with (recorded in the salt); the current
            `KDF_PARAMETERS` when omitted.

    Returns:
        The key; create the file with ``open_keyed_connection(path, key, create=True)``.

    Raises:
        ValidationError: Empty passphrase, or `kdf` cannot be recorded in a header.
    """
    salt = new_salt(kdf)
    return JournalKey(derive_key(passphrase, salt), salt)


def key_for_existing_journal(path: str | os.PathLike[str], passphrase: str) -> JournalKey:
    """Derive the key of an existing journal, with the salt read from its first 16 bytes.

    Whether the passphrase is right is only known once a connection reads the file.

    Args:
        path: The journal file.
        passphrase: Its passphrase.

    Returns:
        The key, for any number of :func:`open_keyed_connection` calls.

    Raises:
        NotEncryptedError: The file is a plaintext SQLite database.
        CorruptJournalError: The file cannot be an encrypted journal.
        ValidationError: Empty passphrase.
        OSError: The file cannot be read (e.g. ``FileNotFoundError``).
    """
    salt = read_journal_salt(path)
    return JournalKey(derive_key(passphrase, salt), salt)


# ---------------------------------------------------------------------------------------------
# Recognising files
# ---------------------------------------------------------------------------------------------


def read_file_head(path: str | os.PathLike[str], length: int) -> tuple[bytes, int]:
    """The first `length` bytes of `path` and its size.

    Read through the process's shared descriptor of the file (`FileHold`): while a journal
    holds the file, no descriptor of it is closed here (which would drop SQLite's locks).
    """
    with FileHold(path) as held:
        return held.read(length), held.size()


_WAL_MAGICS: Final = (0x377F0682, 0x377F0683)
_WAL_HEADER_LEN: Final = 32
_WAL_FRAME_HEADER_LEN: Final = 24


def committed_salt(path: str | os.PathLike[str]) -> bytes:
    """The salt of the journal's newest committed page 1, looking into its write-ahead log.

    After a re-key committed in the log but not yet checkpointed (another process held the
    journal open), the main file still shows the old salt; the log's last committed frame
    of page 1 carries the new one (page 1's first 16 bytes are in clear in every copy).
    Frames of an older log generation (other salts) and of an uncommitted transaction are
    ignored.
    """
    salt = read_file_head(path, SALT_LEN)[0]
    try:
        log = open(f"{os.fspath(path)}-wal", "rb")  # noqa: SIM115 - closed below
    except OSError:
        return salt
    with log:
        header = log.read(_WAL_HEADER_LEN)
        if len(header) < _WAL_HEADER_LEN or int.from_bytes(header[:4], "big") not in _WAL_MAGICS:
            return salt
        page_size = int.from_bytes(header[8:12], "big")
        generation = header[16:24]
        offset, pending = _WAL_HEADER_LEN, None
        while True:
            frame = os.pread(log.fileno(), _WAL_FRAME_HEADER_LEN + SALT_LEN, offset)
            if len(frame) < _WAL_FRAME_HEADER_LEN + SALT_LEN or frame[8:16] != generation:
                return salt
            if int.from_bytes(frame[:4], "big") == 1:
                pending = frame[_WAL_FRAME_HEADER_LEN:]
            if int.from_bytes(frame[4:8], "big") and pending is not None:  # a commit frame
                salt, pending = pending, None
            offset += _WAL_FRAME_HEADER_LEN + page_size


def passphrase_changed(path: str | os.PathLike[str], key: JournalKey) -> bool:
    """Whether the journal at `path` was re-keyed since `key` opened it (another salt)."""
    try:
        return committed_salt(path) != key.salt
    except OSError:
        return False


def passphrase_changed_error(path: str | os.PathLike[str]) -> PassphraseChangedError:
    return PassphraseChangedError(
        f"the passphrase of journal {os.fspath(path)} was changed by another program while "
        "this one had it open; the journal is fine: close it and open it again with the "
        "new passphrase"
    )


def read_journal_salt(path: str | os.PathLike[str]) -> bytes:
    """Return the 16-byte salt at the start of an existing encrypted journal.

    The file is classified first, without any key: a plaintext SQLite header, an empty or
    zeroed file, or a size that is not a whole number of 4096-byte pages (a truncated or
    foreign file) cannot be an encrypted journal.

    Args:
        path: The journal file.

    Returns:
        The file's first 16 bytes.

    Raises:
        NotEncryptedError: The file is a plaintext SQLite database (the message says how to
            encrypt it).
        CorruptJournalError: The file is empty, zeroed, truncated or otherwise not a journal.
        OSError: The file cannot be read (e.g. ``FileNotFoundError``).
    """
    shown = os.fspath(path)
    first_page, size = read_file_head(path, PAGE_SIZE)
    if first_page.startswith(_SQLITE_HEADER):
        raise NotEncryptedError(
            f"{shown} is a plaintext SQLite database, not an encrypted journal; {_ENCRYPT_HINT}"
        )
    if size == 0:
        raise CorruptJournalError(
            f"{shown} is empty (0 bytes), not an encrypted journal; "
            "delete it to create a new journal there"
        )
    if size < PAGE_SIZE or size % PAGE_SIZE:
        raise CorruptJournalError(
            f"{shown} is not an encrypted journal or is truncated: {size} bytes is not a "
            f"whole number of {PAGE_SIZE}-byte pages"
        )
    if not any(first_page[:SALT_LEN]):
        raise CorruptJournalError(f"{shown} is damaged: its header is zeroed")
    return first_page[:SALT_LEN]


def _classify_not_a_database(path: str | os.PathLike[str], *, keyed: bool) -> ZorivestError:
    shown = os.fspath(path)
    try:
        read_journal_salt(path)
    except (NotEncryptedError, CorruptJournalError) as classified:
        return classified
    except OSError:
        return CorruptJournalError(f"{shown} is not a database")
    if keyed:
        return InvalidPassphraseError(f"wrong passphrase for journal {shown}")
    return InvalidPassphraseError(f"{shown} is an encrypted journal; open it with its passphrase")


def classify_open_error(
    exc: BaseException, path: str | os.PathLike[str], *, keyed: bool = True
) -> ZorivestError | None:
    """Translate a SQLite/SQLCipher driver error into the project's error, if it is one.

    Works for errors of ``sqlcipher3`` and of the stdlib ``sqlite3`` alike, at open time or
    later. The caller raises the result ``from exc`` (driver messages never contain SQL text
    or key material), or re-raises ``exc`` when the result is ``None``.

    ``SQLITE_NOTADB`` is refined by looking at the file: a plaintext header gives
    :class:`NotEncryptedError`, a file that cannot be a journal :class:`CorruptJournalError`,
    a plausible encrypted file :class:`InvalidPassphraseError` (with ``keyed=False``, i.e. a
    plain ``sqlite3`` connection, the message says the file is encrypted instead).
    ``SQLITE_CORRUPT`` gives :class:`CorruptJournalError`, ``SQLITE_FULL`` (and an I/O
    error while the file's disk is nearly full) :class:`StorageFullError`.

    Args:
        exc: The driver exception.
        path: The database file the connection is on (only used in messages and to classify).
        keyed: Whether the failing connection had been given a key.

    Returns:
        The error to raise, or ``None`` for errors this function does not classify.
    """
    shown = os.fspath(path)
    code = sqlite_result_code(exc)
    if code == SQLITE_NOTADB:
        return _classify_not_a_database(path, keyed=keyed)
    if code == SQLITE_CORRUPT:
        return CorruptJournalError(
            f"journal {shown} is damaged (database disk image is malformed); "
            "run verify or restore a backup"
        )
    if code == SQLITE_FULL or (code == SQLITE_IOERR and not has_room(Path(shown))):
        # A full disk also shows as an I/O error (the -shm or -wal file cannot grow).
        return storage_full(
            Path(os.path.abspath(shown)),
            "the journal",
            step="nothing was written; free some space on that disk and retry",
        )
    return None


# ---------------------------------------------------------------------------------------------
# Connections
# ---------------------------------------------------------------------------------------------


def load_sqlcipher() -> ModuleType:
    """Import sqlcipher3's DB-API module lazily: a missing driver is an error only when needed.

    The one place the driver is loaded (connections, engines, copies, verify).

    Raises:
        EncryptionUnavailableError: sqlcipher3 is not installed; an encrypted journal is
            never opened without encryption.
    """
    try:
        from sqlcipher3 import dbapi2
    except ImportError as exc:
        raise EncryptionUnavailableError(
            "SQLCipher is not available (install the 'sqlcipher3' package); "
            "an encrypted journal is never opened without encryption"
        ) from exc
    module: ModuleType = dbapi2
    return module


def require_sqlcipher() -> None:
    """Raise `EncryptionUnavailableError` unless a working SQLCipher driver is installed.

    Checked on an in-memory database, so a caller can refuse before creating any file.
    """
    _probe_driver(load_sqlcipher())


def _driver_error(driver: ModuleType) -> type[Exception]:
    error: type[Exception] = driver.Error
    return error


def _require_cipher(conn: CipherConnection) -> None:
    """Refuse a driver that is not really built with SQLCipher (it would ignore the key)."""
    row = conn.execute("PRAGMA cipher_version").fetchone()
    if not row or not row[0]:
        raise EncryptionUnavailableError(
            "the 'sqlcipher3' module is not built with SQLCipher; "
            "an encrypted journal is never opened without encryption"
        )


def _probe_driver(driver: ModuleType) -> None:
    """Check the driver on an in-memory database, before any file is created."""
    probe: CipherConnection = driver.connect(":memory:")
    try:
        _require_cipher(probe)
    finally:
        probe.close()


def _apply_key(conn: CipherConnection, key: JournalKey, *, include_salt: bool) -> None:
    """Key the connection with the raw-key literal, leaking the literal nowhere.

    The literal goes to ``set_key`` (SQLCipher's ``sqlite3_key``, what ``PRAGMA key`` runs)
    in a mutable buffer that is zeroed right after: no SQL text, no immutable copy. Any
    failure is replaced by an error without context (tracebacks keep frame locals alive).
    """
    literal = key.literal_buffer(include_salt)
    failed = False
    try:
        conn.set_key(literal)  # type: ignore[attr-defined]  # sqlcipher3's extension
    except Exception:  # any driver error: never let its text or frame carry the key
        failed = True
    finally:
        literal[:] = bytes(len(literal))
    if failed:
        raise EncryptionUnavailableError("SQLCipher refused the journal key")


def _is_file_database(conn: SupportsExecute | DBAPIConnection) -> bool:
    # PRAGMA database_list gives (seq, name, file); file is "" for :memory: and temp DBs.
    row = conn.execute("PRAGMA database_list").fetchone()
    return bool(row and row[2])


def apply_sqlite_settings(
    dbapi_connection: SupportsExecute | DBAPIConnection, *, read_only: bool = False
) -> None:
    """Apply the project's per-connection SQLite settings.

    With `read_only` (a journal on a read-only file or file system) nothing that writes is
    set; ``query_only=ON`` is, so every write fails at once with SQLITE_READONLY.

    ``foreign_keys=ON`` and ``busy_timeout`` always; for a file database also
    ``journal_mode=WAL`` and ``synchronous=NORMAL`` (WAL makes readers and a writer not block
    each other; NORMAL is durable against application crashes and the usual pairing with
    WAL). An in-memory database keeps its ``memory`` journal. Works for ``sqlite3`` and
    ``sqlcipher3`` connections (e.g. from an SQLAlchemy ``connect`` event); an encrypted
    connection must already be keyed. Call it outside a transaction.

    Args:
        dbapi_connection: The raw DB-API connection (SQLAlchemy's ``connect`` event hands
            over exactly that).
    """
    dbapi_connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    dbapi_connection.execute("PRAGMA foreign_keys = ON")
    if read_only:
        dbapi_connection.execute("PRAGMA query_only = ON")
        return
    if _is_file_database(dbapi_connection):
        row = dbapi_connection.execute("PRAGMA journal_mode = WAL").fetchone()
        if not row or str(row[0]).lower() != "wal":
            # E.g. a read-only medium; the database still works in its current mode.
            _log.warning("could not switch a database to WAL mode (journal_mode=%s)", row)
        dbapi_connection.execute("PRAGMA synchronous = NORMAL")


def _uri(path: str | os.PathLike[str], mode: str) -> str:
    # A URI with mode=rw keeps SQLite from creating a missing file on an "open existing";
    # as_uri() percent-encodes '?', '#', '%' and non-ASCII characters in the path.
    return f"{Path(os.path.abspath(path)).as_uri()}?mode={mode}"


def file_is_read_only(path: str | os.PathLike[str]) -> bool:
    """Whether a journal at `path` can only be read here (read-only file or file system).

    A journal in WAL mode also writes ``-wal`` and ``-shm`` beside the file: without a
    writable directory they must already exist and be writable. Root passes permission
    checks (only a read-only file system stops it).
    """
    base = os.fspath(path)
    if not os.access(base, os.W_OK):
        return True  # a read-only file, or EROFS
    if os.access(os.path.dirname(os.path.abspath(base)), os.W_OK | os.X_OK):
        return False
    return not all(os.access(base + suffix, os.W_OK) for suffix in ("-wal", "-shm"))


def _read_only_uri(path: str | os.PathLike[str]) -> str:
    """The URI that opens a journal for reading only, wherever it lies.

    SQLite reads a WAL database only with its ``-shm`` index, which it must be able to
    open or create. When it cannot (a read-only directory or file system without one)
    and there is no log to apply, the file alone is the whole journal and is opened
    ``immutable`` (no locks, no index). A log that cannot be read is an error: opening
    without it would show an old state of the journal as if it were the current one.
    """
    base = os.path.abspath(path)
    shm_usable = os.path.exists(base + "-shm") and os.access(base + "-shm", os.R_OK)
    directory_writable = os.access(os.path.dirname(base), os.W_OK | os.X_OK)
    if shm_usable or directory_writable:
        return _uri(base, "ro")
    try:
        log_size = os.path.getsize(base + "-wal")
    except OSError:
        log_size = 0
    if log_size:
        raise ReadOnlyError(
            f"journal {base} has a write-ahead log ({base}-wal) that cannot be read where "
            "it is (read-only, without its -shm file); open it once where it is writable"
        )
    return _uri(base, "ro") + "&immutable=1"


def _create_private_file(path: str | os.PathLike[str]) -> None:
    """Create an empty file readable by its owner only; ``FileExistsError`` if it exists.

    O_EXCL makes creation atomic and refuses symlinks; the explicit fchmod makes the mode
    0600 whatever the umask. SQLite gives the -wal and -shm files the database file's mode.
    """
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _remove_new_journal(path: str | os.PathLike[str]) -> None:
    """Remove a journal this call created and could not finish, with its side files."""
    base = os.fspath(path)
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(base + suffix)


def _page_one_damaged(driver: ModuleType, path: str | os.PathLike[str], key: JournalKey) -> bool:
    """Tell a damaged first page from a wrong key after ``file is not a database``.

    Page 1 fails authentication either way. Page 2 passes only under the right key, so a copy
    of the first two pages (ciphertext only) is checked with ``cipher_integrity_check``;
    the copy keeps the cost independent of the journal's size and the journal untouched.
    """
    try:
        head, _ = read_file_head(path, 2 * PAGE_SIZE)
    except OSError:
        return False
    if len(head) < 2 * PAGE_SIZE:
        return False
    fd, scratch = tempfile.mkstemp(prefix="zorivest-check-", suffix=".db")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(head)
        conn: CipherConnection = driver.connect(scratch)
        try:
            conn.execute("PRAGMA cipher_log_level = NONE")
            _apply_key(conn, key, include_salt=False)
            rows = conn.execute("PRAGMA cipher_integrity_check").fetchall()
        finally:
            conn.close()
    except Exception:  # undecidable: report the likelier wrong passphrase
        return False
    finally:
        with contextlib.suppress(OSError):
            os.remove(scratch)
    failed = {int(n) for row in rows for n in re.findall(r"page (\d+)", str(row[0]))}
    return 1 in failed and 2 not in failed


def _check_salt_stored(path: str | os.PathLike[str], key: JournalKey) -> None:
    # Guards the one-file format: a journal whose salt is not the Argon2id salt could never
    # be opened from its passphrase again, so fail at creation rather than at the next open.
    if read_journal_salt(path) != key.salt:
        raise CorruptJournalError(f"SQLCipher did not store the journal salt in {os.fspath(path)}")


def _prepare_new_file(path: str | os.PathLike[str]) -> bool:
    """Make sure a private, empty file is there; return whether this call created it."""
    try:
        _create_private_file(path)
    except FileExistsError:
        if os.path.getsize(path) != 0:
            raise FileExistsError(
                f"{os.fspath(path)} already exists; open it with create=False"
            ) from None
        # An empty file the caller declares new (e.g. just created): make it private.
        os.chmod(path, 0o600)
        return False
    return True


def open_keyed_connection(
    path: str | os.PathLike[str],
    key: JournalKey,
    *,
    create: bool = False,
    check_same_thread: bool = False,
    check_salt: bool = True,
    read_only: bool | None = None,
) -> CipherConnection:
    """Open a connection to an encrypted journal with an already derived key.

    This is the per-connection fast path (no KDF): use it as an SQLAlchemy pool's creator.
    The key is verified by a read before anything can write, so a wrong key leaves the file
    (and any -wal) byte-identical. Then :func:`apply_sqlite_settings` runs.

    Args:
        path: The journal file.
        key: From :func:`key_for_existing_journal` (or :func:`key_for_new_journal` with
            ``create=True``); the caller keeps it and wipes it when done.
        create: Initialise a new journal with ``key.salt`` as the file's salt. The file must
            be missing (it is created with mode 0600) or empty.
        check_same_thread: Passed to the driver; ``False`` lets a pool hand the connection to
            another thread (use one connection per thread at a time).
        check_salt: Read the file's header first to classify it and compare its salt with
            ``key.salt``. Pass False once the journal is open in this process (pooled and
            helper connections): closing a file descriptor of the journal releases every
            POSIX lock this process holds on it, including SQLite's own.
        read_only: Open for reading only (every write fails with SQLITE_READONLY); None
            decides by the file (`file_is_read_only`), so a journal on a read-only file or
            file system opens for reading.

    Returns:
        An open ``sqlcipher3`` connection (typed as :data:`CipherConnection`).

    Raises:
        EncryptionUnavailableError: sqlcipher3 is missing or not built with SQLCipher.
        InvalidPassphraseError: The key does not open the file.
        NotEncryptedError: The file is a plaintext SQLite database.
        CorruptJournalError: The file is not a journal, or is damaged.
        FileNotFoundError: ``create=False`` and the file does not exist.
        FileExistsError: ``create=True`` and the file exists and is not empty.
    """
    driver = load_sqlcipher()
    shown = os.fspath(path)
    created = False
    if create:
        read_only = False
    elif read_only is None:
        read_only = file_is_read_only(path)
    if create:
        created = _prepare_new_file(path)
    elif check_salt:
        file_salt = read_journal_salt(path)
        if file_salt != key.salt:
            # The key was derived for another file (e.g. the file was replaced).
            raise InvalidPassphraseError(
                f"wrong passphrase for journal {shown} (the key belongs to another journal)"
            )

    try:
        conn = _open_and_verify(
            driver,
            path,
            key,
            create=create,
            check_same_thread=check_same_thread,
            read_only=read_only,
        )
    except BaseException:
        if created:
            _remove_new_journal(path)
        raise
    _log.debug("opened encrypted journal %s", shown)
    return conn


def _open_and_verify(
    driver: ModuleType,
    path: str | os.PathLike[str],
    key: JournalKey,
    *,
    create: bool,
    check_same_thread: bool,
    read_only: bool = False,
) -> CipherConnection:
    shown = os.fspath(path)
    uri = _read_only_uri(path) if read_only else _uri(path, "rwc" if create else "rw")
    conn: CipherConnection = driver.connect(
        uri,
        uri=True,
        timeout=BUSY_TIMEOUT_MS / 1000,
        check_same_thread=check_same_thread,
    )
    try:
        _require_cipher(conn)
        # Before the key and its first read: SQLCipher otherwise prints "ERROR CORE ..." lines
        # to stderr when a page fails to decrypt. The level is process-wide in SQLCipher;
        # setting it on every connection keeps it silenced even if other code raised it.
        conn.execute("PRAGMA cipher_log_level = NONE")
        _apply_key(conn, key, include_salt=create)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except _driver_error(driver) as exc:
            error = classify_open_error(exc, path)
            if isinstance(error, InvalidPassphraseError) and _page_one_damaged(driver, path, key):
                error = CorruptJournalError(
                    f"journal {shown} is damaged: its first page fails authentication "
                    "although the passphrase is right; restore a backup"
                )
            if error is None:
                raise
            raise error from exc
        # Only now that the key is known to be right may anything write (WAL switch).
        try:
            apply_sqlite_settings(conn, read_only=read_only)
        except _driver_error(driver) as exc:  # e.g. no room for the log on a full disk
            settings_error = classify_open_error(exc, path)
            if settings_error is None:
                raise
            raise settings_error from exc
        if create:
            _check_salt_stored(path, key)
    except BaseException:
        conn.close()
        raise
    return conn


def create_encrypted_connection(path: str | os.PathLike[str], passphrase: str) -> CipherConnection:
    """Open an encrypted journal from its passphrase, creating it when missing.

    The passphrase goes through Argon2id once: with the salt read from the file when it
    exists, or a fresh salt for a new file (created with mode 0600, its -wal and -shm get
    the same mode). For several connections derive the key once
    (:func:`key_for_existing_journal`) and use :func:`open_keyed_connection` instead.

    Args:
        path: The journal file; its directory must exist.
        passphrase: The journal's passphrase (never logged, never put into SQL).

    Returns:
        An open, keyed ``sqlcipher3`` connection with the project's settings applied.

    Raises:
        EncryptionUnavailableError: sqlcipher3 is missing; no file is created.
        InvalidPassphraseError: Wrong passphrase for an existing journal (file untouched).
        NotEncryptedError: The file is a plaintext SQLite database.
        CorruptJournalError: The file is not a journal, is damaged, or is an empty file this
            call did not create.
        ValidationError: Empty passphrase.
    """
    driver = load_sqlcipher()
    # A driver without SQLCipher must fail before a file exists, never after writing one.
    _probe_driver(driver)
    if not passphrase:
        raise ValidationError("passphrase must not be empty", field="passphrase")
    try:
        _create_private_file(path)
    except FileExistsError:
        with key_for_existing_journal(path, passphrase) as key:
            return open_keyed_connection(path, key)
    try:
        with key_for_new_journal(passphrase) as key:
            return open_keyed_connection(path, key, create=True)
    except BaseException:
        _remove_new_journal(path)
        raise
