"""`Journal`: the one-call entry point to a Zorivest journal.

    with Journal.create("trades.db", passphrase) as journal:      # new encrypted file
        with journal.unit_of_work() as uow:
            uow.accounts.save(account)
            uow.commit()

    with Journal.open("trades.db", passphrase) as journal: ...    # existing file
    with Journal.connect("postgresql+psycopg://...") as journal: ...  # server database

An encrypted journal is ONE SQLCipher file (mode 0600) whose first 16 bytes are the salt of
the passphrase's Argon2id key (`zorivest_infra.database.connection`). Opening it costs one
Argon2id run; the derived key is kept (in a wipeable `JournalKey`) only while the journal is
open, and every pooled connection is keyed with it directly.

Schema: `create` migrates the new file to the newest revision (the baseline seeds the
defaults). `open` refuses a journal written by a newer Zorivest (`SchemaVersionError`,
nothing written); when migrations are pending it first writes an encrypted snapshot beside
the file, ``<stem>.pre-<revision>-<UTC timestamp>.db`` (same passphrase), then upgrades.

Copies (`backup`, snapshots) use SQLite's online backup API between two connections keyed
with the SAME raw key and salt, so a copy is a self-contained journal opened by the same
passphrase, encrypted page by page (never a plaintext intermediate), consistent (one read
transaction of the source; writers in WAL mode are not blocked), mode 0600, fsynced.

Passphrase changes (`change_passphrase`) use ``PRAGMA rekey`` with a new key under a new
salt, in WAL mode, in ONE transaction that also re-encrypts the stored market-provider API
keys. See that method for the crash behaviour.

Secrets: no passphrase or key ever appears in a log record, an exception message, a
``repr``, or an engine URL (encrypted engines have the URL ``sqlite://``; the key lives in
the pool's connection factory).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, Final, Self

from sqlalchemy import Connection, Engine, Table, create_engine, func, inspect, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from zorivest_core.domain.errors import (
    ConflictError,
    CorruptJournalError,
    DuplicateError,
    EncryptionUnavailableError,
    InvalidPassphraseError,
    NotFoundError,
    SchemaVersionError,
    ValidationError,
    ZorivestError,
)
from zorivest_infra.database import connection as _connection
from zorivest_infra.database import migrations
from zorivest_infra.database.connection import (
    SALT_LEN,
    CipherConnection,
    JournalKey,
    KdfParameters,
    classify_open_error,
    key_for_existing_journal,
    key_for_new_journal,
    open_keyed_connection,
    read_journal_salt,
)
from zorivest_infra.database.engine import create_engine_from_url, engine_for_key, for_writing
from zorivest_infra.database.models import Base
from zorivest_infra.database.unit_of_work import SqlAlchemyUnitOfWork
from zorivest_infra.secrets import SESSION_API_KEY_CIPHER, ApiKeyCipher, ApiKeyDecryptionError

__all__ = [
    "SESSION_API_KEY_CIPHER",
    "Journal",
    "JournalClosedError",
    "JournalExistsError",
    "JournalInfo",
    "JournalNotFoundError",
    "UnsupportedOperationError",
    "VerifyReport",
    "snapshot_path",
]

_log = logging.getLogger(__name__)


_SQLITE_HEADER: Final = b"SQLite format 3\x00"
_TIMESTAMP_FORMAT: Final = "%Y%m%dT%H%M%SZ"
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SIDE_SUFFIXES: Final = ("-wal", "-shm", "-journal")
_MAX_NAME_ATTEMPTS: Final = 100
_COPY_CHUNK: Final = 1 << 20


# ---------------------------------------------------------------------------------------------
# Errors and results
# ---------------------------------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What `Journal.verify` found.

    Attributes:
        ok: True when every check ran and found nothing.
        problems: One human-readable line per problem (e.g. ``cipher_integrity_check:
            HMAC verification failed for page 6``); empty when ``ok``.
        checks: Each check that ran, by name, with whether it passed. Names:
            ``open``, ``cipher_integrity_check``, ``integrity_check``,
            ``foreign_key_check``, ``schema_revision`` (which ones run depends on the
            backend).
    """

    ok: bool
    problems: list[str]
    checks: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JournalInfo:
    """A summary of a journal, for display (`Journal.info`).

    Attributes:
        location: The file path, or the URL with any password hidden.
        backend: ``"sqlcipher"`` (encrypted file), ``"sqlite"`` or ``"postgresql"``.
        encrypted: Whether the journal is an encrypted SQLCipher file.
        revision: The schema revision the database is at (None: not migrated).
        head_revision: The newest revision this code knows.
        row_counts: Rows per table of the schema, by table name.
        file_size: Bytes of the database file (None for a server or in-memory database).
        wal_size: Bytes of its write-ahead log, 0 when there is none (None as above).
        page_size: SQLite page size (None on PostgreSQL).
        page_count: SQLite pages in the database (None on PostgreSQL).
        cipher_version: SQLCipher's version (None unless encrypted).
        kdf: The Argon2id parameters passphrases are derived with (None unless encrypted).
    """

    location: str
    backend: str
    encrypted: bool
    revision: str | None
    head_revision: str
    row_counts: dict[str, int]
    file_size: int | None
    wal_size: int | None
    page_size: int | None
    page_count: int | None
    cipher_version: str | None
    kdf: KdfParameters | None


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def _as_path(path: str | os.PathLike[str], what: str = "path") -> Path:
    raw = os.fspath(path)
    if not isinstance(raw, str):
        raise TypeError(f"{what} must be a str or os.PathLike[str]")
    if not raw:
        raise ValidationError(f"{what}: must not be empty", field=what)
    return Path(os.path.abspath(raw))


def _require_parent(path: Path) -> None:
    if not path.parent.is_dir():
        raise JournalNotFoundError(f"directory {path.parent} does not exist (for {path})")


def _refuse_existing(path: Path, what: str) -> None:
    if os.path.lexists(path):
        raise JournalExistsError(f"{path} already exists; refusing to overwrite it with {what}")
    for suffix in _SIDE_SUFFIXES:
        side = f"{path}{suffix}"
        if os.path.lexists(side):
            # SQLite would replay a stale log into the new database.
            raise JournalExistsError(
                f"{side} exists (left over from an earlier database named {path.name}); "
                f"move it away before creating {what} there"
            )


@contextlib.contextmanager
def _published(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside `dest`; after the block, publish it as `dest`.

    The file is flushed, then linked to `dest` (``os.link`` never overwrites: an existing
    `dest` raises `JournalExistsError`) and the temporary name removed, so `dest` appears
    complete or not at all, also across a crash. A crash can leave a hidden
    ``.<name>.partial-<hex>`` file (encrypted), which may be deleted. On file systems
    without hard links the file is renamed instead (after checking that `dest` is free).
    """
    temporary = dest.with_name(f".{dest.name}.partial-{os.urandom(6).hex()}")
    try:
        yield temporary
        _fsync(temporary)
        try:
            os.link(temporary, dest)
        except FileExistsError:
            raise JournalExistsError(f"{dest} already exists; refusing to overwrite it") from None
        except OSError:
            if os.path.lexists(dest):
                raise JournalExistsError(
                    f"{dest} already exists; refusing to overwrite it"
                ) from None
            os.replace(temporary, dest)
        _fsync(dest.parent, directory=True)
    finally:
        _remove_files(temporary)


def _require_file(path: Path) -> None:
    if not path.exists():
        raise JournalNotFoundError(f"no journal at {path} (create one with Journal.create)")
    if not path.is_file():
        raise ValidationError(f"path: {path} is not a file", field="path", value=str(path))


def _remove_files(path: Path) -> None:
    """Remove a database this module created and could not finish, with its side files."""
    for suffix in ("", *_SIDE_SUFFIXES):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}{suffix}")


def _create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only (0600 whatever the umask)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise JournalExistsError(f"{path} already exists; refusing to overwrite it") from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _fsync(path: Path, *, directory: bool = False) -> None:
    """Flush a file (or a directory entry) to stable storage, where the platform can."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:  # e.g. Windows cannot open directories
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _utc_stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime(_TIMESTAMP_FORMAT)


def snapshot_path(path: str | os.PathLike[str], tag: str, *, stamp: str | None = None) -> Path:
    """The file name of a snapshot of `path`: ``<stem>.<tag>-<UTC timestamp><suffix>``.

    E.g. ``trades.db`` with tag ``pre-0001`` gives ``trades.pre-0001-20260127T101500Z.db``
    in the same directory (a file without a suffix gets ``.db``).

    Args:
        path: The journal file.
        tag: Letters, digits, ``.``, ``_`` and ``-`` (at most 64).
        stamp: The timestamp text; the current UTC time when omitted.

    Raises:
        ValidationError: The tag is not acceptable in a file name.
    """
    file_path = _as_path(path)
    if not _TAG.fullmatch(tag):
        raise ValidationError(
            "tag: use letters, digits, '.', '_' and '-' only (at most 64)", field="tag", value=tag
        )
    suffix = file_path.suffix or ".db"
    name = f"{file_path.stem}.{tag}-{stamp or _utc_stamp()}{suffix}"
    return file_path.with_name(name)


def _driver() -> ModuleType:
    try:
        from sqlcipher3 import dbapi2
    except ImportError as exc:
        raise EncryptionUnavailableError(
            "SQLCipher is not available (install the 'sqlcipher3' package); "
            "an encrypted journal is never handled without encryption"
        ) from exc
    module: ModuleType = dbapi2
    return module


def _driver_error() -> type[Exception]:
    error: type[Exception] = _driver().Error
    return error


def _ro_uri(path: Path) -> str:
    return f"{path.as_uri()}?mode=ro"


def _settle_wal(path: Path) -> None:
    """Apply a write-ahead log left behind by a crash, before the salt is read.

    The salt (the first 16 bytes) is read from the main file. If a process died after a
    committed ``PRAGMA rekey`` but before its checkpoint, the new page 1 (with the new salt)
    is still only in ``-wal``: the main file shows the old salt although the journal's
    committed state is under the new key, and no passphrase would derive the right key.
    SQLite checkpoints a log when the last connection closes, which needs no key (frames are
    copied as they are, and only committed ones), so one keyless connection is opened, made
    to look at the log, and closed. Without a hot log, or while another connection has the
    journal open (the checkpoint then does not happen), this changes nothing.
    """
    wal = Path(f"{path}-wal")
    if _file_size(wal) == 0:
        return
    with open(path, "rb") as handle:
        if handle.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER:
            return  # plaintext: the connection layer reports it
    driver = _driver()
    conn: CipherConnection = driver.connect(f"{path.as_uri()}?mode=rw", uri=True)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        # Fails with "file is not a database" (no key), after the log has been opened.
        with contextlib.suppress(driver.Error):
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()
    _log.debug("applied the write-ahead log of %s before opening it", path)


# ---------------------------------------------------------------------------------------------
# The journal
# ---------------------------------------------------------------------------------------------


class Journal:
    """An open journal: an encrypted file (`create`, `open`, `encrypt_plaintext`) or a
    database URL (`connect`).

    Use the classmethods to get one; the constructor is internal. A journal is safe to use
    from several threads through separate units of work (`unit_of_work()` returns a new one
    per call). `change_passphrase` and `close` must not run while units of work are in use.
    """

    __slots__ = (
        "_cipher",
        "_closed",
        "_encrypted",
        "_engine",
        "_key",
        "_location",
        "_lock",
        "_path",
        "_session_factory",
    )

    def __init__(
        self,
        engine: Engine,
        *,
        path: Path | None,
        key: JournalKey | None,
        location: str,
        api_key_cipher: ApiKeyCipher | None,
    ) -> None:
        self._engine = engine
        self._path = path
        self._key = key
        self._encrypted = key is not None
        self._location = location
        self._cipher = api_key_cipher
        self._lock = threading.RLock()
        self._closed = False
        self._session_factory = self._make_session_factory()

    # -- construction --------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike[str], passphrase: str) -> Journal:
        """Create a new encrypted journal file and migrate it to the newest schema.

        The file is created with mode 0600 (its ``-wal``/``-shm`` get the same mode) and
        the passphrase's Argon2id salt as its SQLCipher salt. The baseline migration seeds
        the application defaults.

        Raises:
            JournalExistsError: Something already exists at `path` (it is left alone).
            JournalNotFoundError: The directory does not exist.
            ValidationError: Empty passphrase.
            EncryptionUnavailableError: SQLCipher is not installed (no file is created).
        """
        file_path = _as_path(path)
        _refuse_existing(file_path, "a new journal")
        _require_parent(file_path)
        key = key_for_new_journal(passphrase)
        try:
            engine = engine_for_key(file_path, key, create=True)
        except FileExistsError:
            key.wipe()
            raise JournalExistsError(
                f"{file_path} already exists; refusing to overwrite it with a new journal"
            ) from None
        except BaseException:
            key.wipe()
            raise
        journal = cls._for_file(engine, file_path, key)
        try:
            journal._migrate(snapshot=False)
        except BaseException:
            journal.close()
            _remove_files(file_path)
            raise
        _log.info("created journal %s", file_path)
        return journal

    @classmethod
    def open(cls, path: str | os.PathLike[str], passphrase: str) -> Journal:
        """Open an existing encrypted journal, upgrading its schema when needed.

        A journal written by a newer Zorivest is refused before anything is written. When
        migrations are pending, an encrypted snapshot ``<stem>.pre-<revision>-<UTC
        timestamp>.db`` is written beside the file first (same passphrase, mode 0600);
        the upgrade then runs, each revision in its own transaction.

        Raises:
            JournalNotFoundError: No file at `path`.
            InvalidPassphraseError: Wrong passphrase. The file is left byte-identical;
                only a write-ahead log left behind by a crash is applied first (its
                transactions were committed; see `change_passphrase`).
            NotEncryptedError: The file is a plaintext SQLite database (see
                `encrypt_plaintext`).
            CorruptJournalError: The file is not a journal, or is damaged.
            SchemaVersionError: The journal is newer than this code (nothing written).
            ValidationError: Empty passphrase.
        """
        file_path = _as_path(path)
        _require_file(file_path)
        _settle_wal(file_path)
        key = key_for_existing_journal(file_path, passphrase)
        try:
            engine = engine_for_key(file_path, key, create=False)
        except BaseException:
            key.wipe()
            raise
        journal = cls._for_file(engine, file_path, key)
        try:
            journal._migrate(snapshot=True)
        except BaseException:
            journal.close()
            raise
        _log.info("opened journal %s", file_path)
        return journal

    @classmethod
    def connect(cls, url: str, *, api_key_cipher: ApiKeyCipher | None = None) -> Journal:
        """Open a journal in a database given by URL, upgrading its schema when needed.

        For a server (``postgresql+psycopg://...``) or a plain SQLite database
        (``sqlite:///path``, ``sqlite://`` in memory). The schema is checked and upgraded as
        by `open`, but NO snapshot is written first: back a server up with its own tools
        (e.g. ``pg_dump``) before upgrading Zorivest. Operations that need an encrypted file
        (`change_passphrase`, `backup`, `snapshot`) raise `UnsupportedOperationError`.

        Args:
            url: The database URL (its password is never shown in messages or ``repr``).
            api_key_cipher: Encrypts market-provider API keys; such a database has no
                journal key to derive one from, so the caller supplies it (e.g.
                ``ApiKeyCipher(secret_32_bytes)``). Without it, API keys cannot be stored.

        Raises:
            ValidationError: Unsupported URL.
            SchemaVersionError: The database is newer than this code (nothing written).
            InvalidPassphraseError: A ``sqlite:`` URL names an encrypted journal.
        """
        engine = create_engine_from_url(url)
        parsed = make_url(url)
        location = parsed.render_as_string(hide_password=True)
        database = parsed.database if parsed.get_backend_name() == "sqlite" else None
        path = _as_path(database) if database and database != ":memory:" else None
        journal = cls(engine, path=path, key=None, location=location, api_key_cipher=api_key_cipher)
        try:
            journal._migrate(snapshot=False)
        except BaseException:
            journal.close()
            raise
        _log.info("connected to journal %s", location)
        return journal

    @classmethod
    def encrypt_plaintext(
        cls,
        src: str | os.PathLike[str],
        dest: str | os.PathLike[str],
        passphrase: str,
    ) -> Journal:
        """Copy a plaintext SQLite database into a new encrypted journal and open that.

        `src` is only read (opened read-only). It may be an empty database, any SQLite
        database without Zorivest tables (the schema is then created next to its tables),
        or a Zorivest database at a known revision (it is upgraded to the newest). The copy
        is made with ``sqlcipher_export`` into `dest`, created with mode 0600 and the
        passphrase's Argon2id salt.

        Raises:
            JournalNotFoundError: No file at `src`, or no directory for `dest`.
            JournalExistsError: `dest` exists.
            ValidationError: `src` is not a plaintext SQLite database (e.g. it is already
                encrypted), or `src` and `dest` are the same file; empty passphrase.
            SchemaVersionError: `src` was written by a newer Zorivest, or has Zorivest
                tables but no schema revision; nothing is created.
        """
        src_path = _as_path(src, "src")
        dest_path = _as_path(dest, "dest")
        if not src_path.is_file():
            raise JournalNotFoundError(f"no database at {src_path}")
        if src_path == dest_path:
            raise ValidationError("dest: must differ from src", field="dest", value=str(dest_path))
        _refuse_existing(dest_path, "the encrypted journal")
        _require_parent(dest_path)
        _check_plaintext_source(src_path)
        key = key_for_new_journal(passphrase)
        published = False
        try:
            with _published(dest_path) as temporary:
                _create_private_file(temporary)
                _export_plaintext(src_path, temporary, key)
            published = True
            engine = engine_for_key(dest_path, key, create=False)
        except BaseException:
            key.wipe()
            if published:
                _remove_files(dest_path)
            raise
        journal = cls._for_file(engine, dest_path, key)
        try:
            journal._migrate(snapshot=False)
        except BaseException:
            journal.close()
            _remove_files(dest_path)
            raise
        _log.info("encrypted %s into journal %s", src_path, dest_path)
        return journal

    @classmethod
    def _for_file(cls, engine: Engine, path: Path, key: JournalKey) -> Journal:
        return cls(
            engine,
            path=path,
            key=key,
            location=str(path),
            api_key_cipher=ApiKeyCipher.from_journal_key(key),
        )

    # -- state ---------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for instrumentation). A new one after `change_passphrase`.

        Raises:
            JournalClosedError: The journal is closed.
        """
        self._require_open()
        return self._engine

    @property
    def path(self) -> Path | None:
        """The database file (absolute), or None for a server or in-memory database."""
        return self._path

    @property
    def encrypted(self) -> bool:
        """Whether this is an encrypted journal file."""
        return self._encrypted

    @property
    def closed(self) -> bool:
        """Whether `close` has run."""
        return self._closed

    @property
    def schema_revision(self) -> str | None:
        """The schema revision the database is at (the newest, once open succeeded)."""
        return migrations.current_revision(self.engine)

    def unit_of_work(self, *, read_only: bool = False) -> SqlAlchemyUnitOfWork:
        """A new unit of work on this journal (sessions keep objects readable after commit).

        Args:
            read_only: The block only reads. On an encrypted or SQLite file its transactions
                then start deferred and never wait for writers; a write transaction takes
                the write lock when it begins, so concurrent writers queue (up to the busy
                timeout) instead of failing.

        Raises:
            JournalClosedError: The journal is closed.
        """
        self._require_open()
        # Each block asks the journal for its current session factory, so a unit of work
        # kept across `change_passphrase` uses the new engine (and cipher) in its next block.
        return SqlAlchemyUnitOfWork(self._new_read_session if read_only else self._new_session)

    def _new_session(self) -> Session:
        self._require_open()
        return self._session_factory(bind=for_writing(self._engine))

    def _new_read_session(self) -> Session:
        self._require_open()
        return self._session_factory()

    def _make_session_factory(self) -> sessionmaker[Session]:
        info: dict[Any, Any] = {}
        if self._cipher is not None:
            info[SESSION_API_KEY_CIPHER] = self._cipher
        return sessionmaker(bind=self._engine, expire_on_commit=False, info=info)

    def _require_open(self) -> None:
        if self._closed:
            raise JournalClosedError(f"journal {self._location} is closed")

    def _require_key(self, operation: str) -> tuple[Path, JournalKey]:
        self._require_open()
        if self._key is None or self._path is None:
            raise UnsupportedOperationError(
                f"{operation} needs an encrypted journal file; {self._location} is a "
                "database URL (encrypt a plain SQLite file with Journal.encrypt_plaintext; "
                "back up a server with its own tools)"
            )
        return self._path, self._key

    # -- schema --------------------------------------------------------------------------

    def _migrate(self, *, snapshot: bool) -> None:
        """Refuse a newer schema, snapshot (when asked and there is data), then upgrade."""
        with self._translated_errors():
            if not migrations.needs_upgrade(self._engine):  # SchemaVersionError first
                return
            revision = migrations.current_revision(self._engine)
            if snapshot and revision is not None and self._key is not None:
                self.snapshot(f"pre-{revision}")
            migrations.upgrade(self._engine)
        _log.info("upgraded journal %s to schema revision %s", self._location, self._revision())

    def _revision(self) -> str | None:
        return migrations.current_revision(self._engine)

    @contextlib.contextmanager
    def _translated_errors(self) -> Iterator[None]:
        """Turn a driver error about the file itself (damaged, encrypted, full) into ours."""
        try:
            yield
        except sa_exc.DBAPIError as error:
            if error.orig is None or self._path is None:
                raise
            domain = classify_open_error(error.orig, self._path, keyed=self._key is not None)
            if domain is None:
                raise
            raise domain from error

    # -- copies --------------------------------------------------------------------------

    def backup(self, dest: str | os.PathLike[str]) -> Path:
        """Write a consistent encrypted copy of the journal to `dest`, while it is in use.

        The copy is taken with SQLite's online backup API in one read transaction of a
        separate connection (writers carry on in WAL mode; the copy holds every
        transaction committed before it started and none after). `dest` is keyed with the
        same key and salt, so it opens with the same passphrase on any machine; it is
        created with mode 0600 and flushed to disk before this returns.

        Returns:
            The absolute path of the copy.

        Raises:
            JournalExistsError: `dest` exists (it is never overwritten).
            JournalNotFoundError: The directory of `dest` does not exist.
            UnsupportedOperationError: The journal is a URL journal.
            StorageFullError: No space for the copy (nothing is left behind).
        """
        dest_path = _as_path(dest, "dest")
        with self._lock:
            path, key = self._require_key("backup")
            _refuse_existing(dest_path, "a backup")
            _require_parent(dest_path)
            _copy_encrypted(path, dest_path, key)
        _log.info("backed up journal %s to %s", path, dest_path)
        return dest_path

    def snapshot(self, tag: str = "snapshot") -> Path:
        """Write an encrypted copy beside the journal, named by `snapshot_path`.

        Same mechanism and guarantees as `backup`; `open` calls it with tag
        ``pre-<revision>`` before upgrading. A name already taken (two snapshots within a
        second) gets ``-2``, ``-3``, ... appended to the timestamp.

        Returns:
            The snapshot's path.

        Raises:
            UnsupportedOperationError: The journal is a URL journal.
            ValidationError: The tag is not acceptable in a file name.
        """
        with self._lock:
            path, key = self._require_key("snapshot")
            stamp = _utc_stamp()
            for attempt in range(1, _MAX_NAME_ATTEMPTS + 1):
                suffix = "" if attempt == 1 else f"-{attempt}"
                dest = snapshot_path(path, tag, stamp=stamp + suffix)
                if os.path.lexists(dest):
                    continue
                try:
                    _copy_encrypted(path, dest, key)
                except JournalExistsError:
                    continue  # taken between the check and the creation
                _log.info("wrote snapshot %s of journal %s", dest, path)
                return dest
        raise JournalExistsError(f"no free snapshot name for {path} with tag {tag!r}")

    # -- passphrase ----------------------------------------------------------------------

    def change_passphrase(self, new_passphrase: str) -> None:
        """Re-key the journal: afterwards only `new_passphrase` opens it; data is intact.

        Procedure: derive a key under a NEW random salt; close every pooled connection;
        on one connection, checkpoint the write-ahead log (TRUNCATE), then in ONE
        transaction re-encrypt the stored market-provider API keys under the new key's
        cipher and run ``PRAGMA rekey = "x'<new key><new salt>'"`` (SQLCipher rewrites
        every page under the new key and writes the new salt into page 1; the transaction
        commits atomically with it), checkpoint again so the main file carries the new
        salt, and rebuild the engine with the new key. The old key is wiped.

        Crash behaviour: the journal is in WAL mode, so the rewrite is a single commit in
        the log. A crash before that commit leaves the journal under the OLD passphrase
        (the uncommitted frames are discarded); after it, under the NEW one (with the
        matching API-key encryption in both cases). If the crash comes between the commit
        and the checkpoint, the main file still shows the old salt while the log holds the
        new page 1; `open` applies such a log first (see `_settle_wal`), so the new
        passphrase opens it. (Rekey in rollback-journal mode is NOT crash-safe: the salt in
        the header and the hot journal can disagree; journals are always in WAL mode.)

        Requires that no unit of work of this journal is in use and that no other process
        has the journal open (their connections would hold the old key).

        Raises:
            ValidationError: Empty new passphrase.
            ConflictError: Connections are still in use (nothing changed).
            UnsupportedOperationError: The journal is a URL journal.
            StorageFullError: No space to rewrite the pages (the old passphrase still works).
        """
        with self._lock:
            path, old_key = self._require_key("change_passphrase")
            in_use = _checked_out(self._engine)
            if in_use:
                raise ConflictError(
                    f"{in_use} connection(s) of journal {path} are still in use; finish every "
                    "unit of work before changing the passphrase (nothing was changed)"
                )
            new_key = key_for_new_journal(new_passphrase)
            self._engine.dispose()
            try:
                _rekey(path, old_key, new_key)
            except BaseException:
                self._reopen_after_failed_rekey(path, old_key, new_key)
                raise
            old_key.wipe()
            self._install_key(path, new_key)
        _log.info("changed the passphrase of journal %s", path)

    def _install_key(self, path: Path, key: JournalKey) -> None:
        self._engine = engine_for_key(path, key, create=False)
        self._key = key
        self._cipher = ApiKeyCipher.from_journal_key(key)
        self._session_factory = self._make_session_factory()

    def _reopen_after_failed_rekey(self, path: Path, old: JournalKey, new: JournalKey) -> None:
        """After a failed re-key, reopen under whichever key the file is under now."""
        try:
            _settle_wal(path)
            current, other = (new, old) if read_journal_salt(path) == new.salt else (old, new)
            self._install_key(path, current)
            other.wipe()
        except BaseException:
            _log.exception("journal %s could not be reopened after a failed re-key", path)
            self._closed = True
            old.wipe()
            new.wipe()

    # -- checks and summary --------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Check the journal and report every problem found (nothing is repaired).

        Encrypted file: ``PRAGMA cipher_integrity_check`` (the HMAC of every page of the
        journal's committed state, see `_cipher_check`), ``PRAGMA integrity_check``
        (b-trees, indexes, constraints, also of pages still in the write-ahead log),
        ``PRAGMA foreign_key_check``, and whether the schema is at the newest revision. A
        plain SQLite URL gets the same minus the cipher check; PostgreSQL (which enforces
        foreign keys itself) gets a check for foreign-key constraints that are not
        validated, and the revision check.

        Safe while the journal is in use: readers and writers carry on. While other
        readers hold the write-ahead log back, the cipher check works on a temporary copy
        beside the journal (mode 0600, encrypted, removed afterwards), which needs as much
        free space as the journal and its log.

        Returns:
            The report; ``ok`` is True when every check passed.

        Raises:
            JournalClosedError: The journal is closed.
        """
        with self._lock:
            self._require_open()
            checks: dict[str, bool] = {}
            problems: list[str] = []
            if self._engine.dialect.name == "sqlite":
                self._verify_sqlite(checks, problems)
            else:
                _run_check(checks, problems, "foreign_key_check", self._pg_foreign_keys)
            _run_check(checks, problems, "schema_revision", self._revision_problems)
        return VerifyReport(ok=not problems, problems=problems, checks=checks)

    def _verify_sqlite(self, checks: dict[str, bool], problems: list[str]) -> None:
        dbapi: Any
        if self._key is not None and self._path is not None:
            try:
                dbapi = open_keyed_connection(self._path, self._key, check_salt=False)
            except ZorivestError as error:
                checks["open"] = False
                problems.append(f"open: {error}")
                return
            checks["open"] = True
            close: Callable[[], None] = dbapi.close
            dbapi.isolation_level = None  # `_cipher_check` begins and ends its snapshot itself
            path, key = self._path, self._key
            _run_check(
                checks,
                problems,
                "cipher_integrity_check",
                lambda: _cipher_check(dbapi, path, key),
            )
        else:
            raw = self._engine.raw_connection()
            dbapi = raw.driver_connection
            close = raw.close
        try:
            _run_check(checks, problems, "integrity_check", lambda: _integrity_check(dbapi))
            _run_check(checks, problems, "foreign_key_check", lambda: _foreign_key_check(dbapi))
        finally:
            close()

    def _revision_problems(self) -> list[str]:
        head = migrations.head_revision()
        try:
            migrations.check_compatible(self._engine)
        except SchemaVersionError as error:
            return [f"schema revision: {error}"]
        current = self._revision()
        if current != head:
            return [
                f"schema revision: the journal is at {current or 'no revision'}, this code "
                f"expects {head}; open it again to upgrade"
            ]
        return []

    def _pg_foreign_keys(self) -> list[str]:
        query = text(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE contype = 'f' AND NOT convalidated "
            "AND connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            f"foreign_key_check: constraint {name} on table {table} is not validated"
            for table, name in rows
        ]

    def info(self) -> JournalInfo:
        """Summarise the journal: revision, rows per table, size, cipher and KDF settings.

        Raises:
            JournalClosedError: The journal is closed.
        """
        with self._lock:
            self._require_open()
            engine = self._engine
            sqlite = engine.dialect.name == "sqlite"
            with self._translated_errors(), engine.connect() as conn:
                present = set(inspect(conn).get_table_names())
                counts = {
                    table.name: int(
                        conn.execute(select(func.count()).select_from(table)).scalar_one()
                    )
                    for table in Base.metadata.sorted_tables
                    if table.name in present
                }
                page_size = page_count = None
                cipher_version = None
                if sqlite:
                    page_size = int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
                    page_count = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())
                if self._key is not None:
                    cipher_version = str(conn.exec_driver_sql("PRAGMA cipher_version").scalar())
            revision = self._revision()
        path = self._path
        encrypted = self._key is not None
        return JournalInfo(
            location=self._location,
            backend="sqlcipher" if encrypted else engine.dialect.name,
            encrypted=encrypted,
            revision=revision,
            head_revision=migrations.head_revision(),
            row_counts=dict(sorted(counts.items())),
            file_size=_file_size(path) if path is not None else None,
            wal_size=_file_size(Path(f"{path}-wal")) if path is not None else None,
            page_size=page_size,
            page_count=page_count,
            cipher_version=cipher_version,
            kdf=_connection.KDF_PARAMETERS if encrypted else None,
        )

    # -- closing -------------------------------------------------------------------------

    def close(self) -> None:
        """Close every pooled connection and wipe the key; calling it again does nothing.

        Units of work still in use keep their connection until they end.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._engine.dispose()
            finally:
                if self._key is not None:
                    self._key.wipe()
                self._cipher = None
                self._session_factory = sessionmaker()
        _log.debug("closed journal %s", self._location)

    def __enter__(self) -> Self:
        self._require_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        if self._encrypted:
            return f"Journal(path={str(self._path)!r}, encrypted, {state})"
        return f"Journal(url={self._location!r}, {state})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("Journal cannot be pickled or copied")


# ---------------------------------------------------------------------------------------------
# Helpers working on DB-API connections
# ---------------------------------------------------------------------------------------------


def _count_rows(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _checked_out(engine: Engine) -> int:
    checked_out = getattr(engine.pool, "checkedout", None)
    return int(checked_out()) if callable(checked_out) else 0


def _raise_classified(error: Exception, path: Path) -> None:
    domain = classify_open_error(error, path)
    if domain is not None:
        raise domain from error


def _copy_encrypted(src: Path, dest: Path, key: JournalKey) -> None:
    """Copy the journal `src` to a new file `dest`, encrypted under the same key and salt.

    The copy is written under a temporary name (`_published`): created 0600 and keyed with
    ``x'<key><salt>'`` by `open_keyed_connection(create=True)`; SQLite's backup API then
    copies every page in one step, i.e. in one read transaction of the source. Pages pass
    through SQLCipher: decrypted from the source, re-encrypted for the copy, never written
    in clear.
    """
    driver_error = _driver_error()
    with _published(dest) as temporary:
        target = open_keyed_connection(temporary, key, create=True)
        try:
            source = open_keyed_connection(src, key, check_salt=False)
            try:
                source.backup(target)
            finally:
                source.close()
        except driver_error as error:
            _raise_classified(error, dest)
            raise
        finally:
            target.close()
        _check_encrypted_copy(temporary, key)


def _check_encrypted_copy(dest: Path, key: JournalKey) -> None:
    with open(dest, "rb") as handle:
        head = handle.read(SALT_LEN)
    if head == _SQLITE_HEADER or head != key.salt:
        raise CorruptJournalError(f"the copy {dest} is not encrypted under the journal's key")
    mode = dest.stat().st_mode & 0o777
    if mode != 0o600:
        os.chmod(dest, 0o600)


def _rekey(path: Path, old: JournalKey, new: JournalKey) -> None:
    conn = open_keyed_connection(path, old)
    try:
        conn.isolation_level = None
        _checkpoint(conn, path)
        conn.execute("BEGIN IMMEDIATE")
        try:
            _reencrypt_api_keys(conn, old, new)
            _run_rekey(conn, path, new)
            # SQLCipher commits the rewrite itself; this ends the (now empty) transaction.
            if conn.in_transaction:
                conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(Exception):
                    conn.execute("ROLLBACK")
            raise
        _checkpoint(conn, path)
    finally:
        conn.close()
    _settle_wal(path)
    if read_journal_salt(path) != new.salt:
        raise ConflictError(
            f"journal {path} was re-keyed but its header still shows the old salt: another "
            "process has it open; close it there, then open the journal with the NEW passphrase"
        )


def _checkpoint(conn: CipherConnection, path: Path) -> None:
    row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if row is not None and row[0]:
        raise ConflictError(
            f"journal {path} is in use by another connection or process; close it and retry"
        )


def _run_rekey(conn: CipherConnection, path: Path, new: JournalKey) -> None:
    """``PRAGMA rekey`` with the new 96-hex literal, leaking the literal nowhere.

    A driver error is replaced by one without context (SQLite's messages can quote the
    statement), and the statement text is dropped before leaving the frame.
    """
    statement = f'PRAGMA rekey = "{new.pragma_literal(include_salt=True)}"'
    error: ZorivestError | None = None
    try:
        conn.execute(statement)
    except Exception as exc:  # any driver error; its message may quote key text
        error = classify_open_error(exc, path) or CorruptJournalError(
            f"SQLCipher could not re-key journal {path}; the old passphrase still opens it"
        )
    finally:
        del statement
    if error is not None:
        raise error


def _reencrypt_api_keys(conn: CipherConnection, old: JournalKey, new: JournalKey) -> None:
    """Re-encrypt ``market_provider_settings.encrypted_api_key`` under the new key's cipher."""
    table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'market_provider_settings'"
    ).fetchone()
    if table is None:
        return
    rows = conn.execute(
        "SELECT provider_name, encrypted_api_key FROM market_provider_settings "
        "WHERE encrypted_api_key IS NOT NULL"
    ).fetchall()
    if not rows:
        return
    old_cipher = ApiKeyCipher.from_journal_key(old)
    new_cipher = ApiKeyCipher.from_journal_key(new)
    for provider, stored in rows:
        if not ApiKeyCipher.is_encrypted(stored):
            _log.warning("API key of provider %r is not encrypted; left as it is", provider)
            continue
        try:
            plain = old_cipher.decrypt(stored)
        except ApiKeyDecryptionError:
            _log.warning(
                "API key of provider %r cannot be decrypted with this journal's key; left as it is",
                provider,
            )
            continue
        conn.execute(
            "UPDATE market_provider_settings SET encrypted_api_key = ? WHERE provider_name = ?",
            (new_cipher.encrypt(plain), provider),
        )
        del plain


def _check_plaintext_source(src: Path) -> None:
    """Refuse a source that is not plaintext SQLite or whose schema this code cannot take."""
    with open(src, "rb") as handle:
        head = handle.read(len(_SQLITE_HEADER))
    if head and head != _SQLITE_HEADER:
        raise ValidationError(
            f"src: {src} is not a plaintext SQLite database (it may already be encrypted)",
            field="src",
            value=str(src),
        )
    uri = _ro_uri(src)

    def creator() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    engine = create_engine("sqlite://", creator=creator, poolclass=NullPool)
    try:
        migrations.check_compatible(engine)
    except sa_exc.DBAPIError as error:
        raise ValidationError(
            f"src: {src} cannot be read as an SQLite database ({error.orig})",
            field="src",
            value=str(src),
        ) from error
    finally:
        engine.dispose()


def _export_plaintext(src: Path, dest: Path, key: JournalKey) -> None:
    """``sqlcipher_export`` a read-only plaintext `src` into the empty file `dest`.

    The destination is attached with ``KEY 'x'<key><salt>''`` passed as a bound parameter
    (never SQL text), so SQLCipher writes our salt into its header.
    """
    driver = _driver()
    conn: CipherConnection = driver.connect("file::memory:", uri=True, isolation_level=None)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        try:
            conn.execute("ATTACH DATABASE ? AS zorivest_plain", (_ro_uri(src),))
            conn.execute(
                "ATTACH DATABASE ? AS zorivest_encrypted KEY ?",
                (os.fspath(dest), key.pragma_literal(include_salt=True)),
            )
            conn.execute("SELECT sqlcipher_export('zorivest_encrypted', 'zorivest_plain')")
            conn.execute("DETACH DATABASE zorivest_encrypted")
            conn.execute("DETACH DATABASE zorivest_plain")
        except driver.Error as error:
            _raise_classified(error, dest)
            raise ValidationError(
                f"src: {src} could not be exported ({type(error).__name__}: {error})",
                field="src",
                value=str(src),
            ) from None
    finally:
        conn.close()
    if read_journal_salt(dest) != key.salt:
        raise CorruptJournalError(f"SQLCipher did not store the journal salt in {dest}")


def _run_check(
    checks: dict[str, bool], problems: list[str], name: str, check: Callable[[], list[str]]
) -> None:
    try:
        found = check()
    except (sa_exc.SQLAlchemyError, sqlite3.Error, ZorivestError, OSError) as error:
        found = [f"{name}: could not complete ({_short(error)})"]
    except Exception as error:
        if not isinstance(error, _driver_error()):
            raise
        found = [f"{name}: could not complete ({_short(error)})"]
    checks[name] = not found
    problems.extend(found)


def _short(error: BaseException) -> str:
    orig = getattr(error, "orig", None)
    message = str(orig if orig is not None else error)
    return message.splitlines()[0] if message else type(error).__name__


def _cipher_check(conn: CipherConnection, path: Path, key: JournalKey) -> list[str]:
    """Check the HMAC of every page of the journal's committed state, naming failed pages.

    ``PRAGMA cipher_integrity_check`` reads the main file only. In WAL mode the committed
    version of a page may live only in ``-wal`` until a checkpoint copies it over; while a
    reader holds the checkpoint back, the main file has stale pages and, where a later page
    was already copied, zero-filled holes, whose HMACs fail although the journal is
    healthy. So:

    1. `conn` begins a read transaction. From then on no checkpoint (of any connection)
       can copy a frame newer than its snapshot into the main file.
    2. A second connection runs a PASSIVE checkpoint (it never waits for anyone). If it
       copied every frame of the log, the main file is exactly the snapshot of `conn`
       and stays so while the snapshot is held: the check runs on the main file.
    3. Otherwise (other readers hold the log back, or writers went on) the check runs on
       a copy: the main file and then the log are copied byte for byte (ciphertext; a
       checkpoint can only have rewritten pages whose frames are still in the log, so the
       copy's own checkpoint restores them), the copy is checkpointed and checked, and
       removed. Page numbers are the journal's.

    The backup API is no substitute: it re-encrypts a page that fails to decrypt as a
    page of zeros, so the copy would authenticate.
    """
    conn.execute("BEGIN")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if _checkpoint_complete(path, key):
            rows = conn.execute("PRAGMA cipher_integrity_check").fetchall()
        else:
            rows = _cipher_check_copy(path, key)
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    return [f"cipher_integrity_check: {row[0]}" for row in rows]


def _checkpoint_complete(path: Path, key: JournalKey) -> bool:
    """Run a PASSIVE checkpoint; whether every frame of the log is now in the main file."""
    other = open_keyed_connection(path, key, check_salt=False)
    try:
        busy, log_frames, checkpointed = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        other.close()
    # (0, -1, -1) outside WAL mode: the main file is all there is.
    return bool(busy == 0 and log_frames == checkpointed)


def _cipher_check_copy(path: Path, key: JournalKey) -> list[tuple[str]]:
    """``cipher_integrity_check`` of a checkpointed copy of the journal and its log.

    Call it while holding a read transaction on the journal (see `_cipher_check`).
    """
    scratch = path.with_name(f".{path.name}.verify-{os.urandom(6).hex()}")
    _create_private_file(scratch)  # 0600; refuses an existing file (which is not ours)
    try:
        _copy_bytes(path, scratch)
        wal = Path(f"{path}-wal")
        if _file_size(wal):
            scratch_wal = Path(f"{scratch}-wal")
            _create_private_file(scratch_wal)
            _copy_bytes(wal, scratch_wal)
        try:
            copy = open_keyed_connection(scratch, key)
        except (CorruptJournalError, InvalidPassphraseError):
            # The key opened the journal itself, so the copy's first pages are damaged.
            return [("the first pages (header or schema) fail authentication",)]
        try:
            copy.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            rows: list[tuple[str]] = copy.execute("PRAGMA cipher_integrity_check").fetchall()
        finally:
            copy.close()
    finally:
        _remove_files(scratch)
    return rows


def _copy_bytes(src: Path, dest: Path) -> None:
    """Copy `src` byte for byte into the existing (private, empty) file `dest`.

    Caveat: closing this descriptor of the journal releases the POSIX locks SQLite holds
    on it in this process. Within the process verify's read transaction still pins the
    WAL; a second process using the journal at that instant would not see those locks.
    """
    with open(src, "rb") as source, open(dest, "wb") as target:
        shutil.copyfileobj(source, target, _COPY_CHUNK)


def _integrity_check(conn: Any) -> list[str]:
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    messages = [str(row[0]) for row in rows]
    if messages == ["ok"]:
        return []
    return [f"integrity_check: {message}" for message in messages]


def _foreign_key_check(conn: Any) -> list[str]:
    rows = conn.execute("PRAGMA foreign_key_check").fetchall()
    return [
        f"foreign_key_check: {table} row {rowid} references a missing row of {parent}"
        for table, rowid, parent, _fkid in rows
    ]
