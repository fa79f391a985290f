"""The `Journal` facade: opening, connecting, and the state of one open journal.

The classmethods (`create`, `open`, `connect`, `encrypt_plaintext`) turn a path or a URL
into an open journal whose schema is at the newest revision; the instance hands out units
of work, holds the derived key (wiped on `close`) and the API-key cipher, and serialises
the operations that need the whole journal (copies, re-key, verify, info). The mechanics
of those operations live in the sibling modules (`copies`, `rekey`, `verify`, `info`,
`plaintext`, `wal`); this module keeps only the journal's own state and its transitions.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any, Self

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from zorivest_core.application.ports import SchemaUpgrade
from zorivest_core.domain.errors import ConflictError, ReadOnlyError
from zorivest_infra.database import schema_version
from zorivest_infra.database.connection import (
    JournalKey,
    KdfParameters,
    file_is_read_only,
    key_for_existing_journal,
    key_for_new_journal,
    passphrase_changed,
    passphrase_changed_error,
    require_sqlcipher,
)
from zorivest_infra.database.descriptors import FileHold
from zorivest_infra.database.engine import (
    create_engine_from_url,
    engine_for_key,
    for_reading,
    for_writing,
)
from zorivest_infra.database.unit_of_work import SqlAlchemyUnitOfWork
from zorivest_infra.journal.copies import _write_backup, _write_snapshot
from zorivest_infra.journal.driver import _translated_errors
from zorivest_infra.journal.errors import (
    JournalClosedError,
    SchemaMissingError,
    UnsupportedOperationError,
)
from zorivest_infra.journal.files import (
    _as_path,
    _create_private_file,
    _refuse_existing,
    _remove_files,
    _require_file,
    _require_parent,
)
from zorivest_infra.journal.info import JournalInfo, _describe_journal
from zorivest_infra.journal.plaintext import _plaintext_paths, _write_encrypted
from zorivest_infra.journal.rekey import RekeyProgress, _checked_out, _rekey
from zorivest_infra.journal.verify import VerifyReport, _verify_journal
from zorivest_infra.journal.wal import _settle_wal
from zorivest_infra.secrets import ApiKeyCipher

_log = logging.getLogger("zorivest_infra.journal")  # one logger for the whole package


class Journal:
    """An open journal: an encrypted file (`create`, `open`, `encrypt_plaintext`) or a
    database URL (`connect`).

    Use the classmethods to get one; the constructor is internal. A journal is safe to use
    from several threads through separate units of work (`unit_of_work()` returns a new one
    per call). `change_passphrase` and `close` must not run while units of work are in use.
    """

    __slots__ = (
        "_bound_engines",
        "_cipher",
        "_closed",
        "_encrypted",
        "_engine",
        "_hold",
        "_key",
        "_location",
        "_lock",
        "_path",
        "_read_only",
        "_schema_upgrade",
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
        hold: FileHold | None = None,
        read_only: bool = False,
    ) -> None:
        self._engine = engine
        self._hold = hold
        self._read_only = read_only
        self._path = path
        self._key = key
        self._encrypted = key is not None
        self._location = location
        self._cipher = api_key_cipher
        self._lock = threading.RLock()
        self._closed = False
        self._session_factory = self._make_session_factory()
        self._schema_upgrade = SchemaUpgrade(before=None, after=None)

    # -- construction --------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        passphrase: str,
        *,
        kdf: KdfParameters | None = None,
    ) -> Journal:
        """Create a new encrypted journal file and migrate it to the newest schema.

        The file is created with mode 0600 (its ``-wal``/``-shm`` get the same mode). Its
        first 16 bytes, the SQLCipher salt, record the journal format and the Argon2id
        parameters (format v1, docs/decisions/0006-journal-format-v1.md), so any process
        opens it whatever its defaults. The baseline migration seeds the defaults.

        Args:
            path: The new file.
            passphrase: Its passphrase.
            kdf: Argon2id parameters (memory a power of two KiB); the current default
                (`connection.KDF_PARAMETERS`, RFC 9106's second recommendation) if omitted.

        Raises:
            JournalExistsError: Something already exists at `path` (it is left alone).
            JournalNotFoundError: The directory does not exist.
            ValidationError: Empty passphrase, or `kdf` cannot be recorded in the header.
            EncryptionUnavailableError: SQLCipher is not installed (no file is created).
        """
        file_path = _as_path(path)
        _refuse_existing(file_path, "a new journal")
        _require_parent(file_path)
        require_sqlcipher()  # before a file exists
        key = key_for_new_journal(passphrase, kdf)
        try:
            _create_private_file(file_path)
        except BaseException:
            key.wipe()
            raise
        hold: FileHold | None = None
        try:
            hold = FileHold(file_path)
            engine = engine_for_key(file_path, key, create=True)
        except BaseException:
            key.wipe()
            if hold is not None:
                hold.release()
            _remove_files(file_path)
            raise
        journal = cls._for_file(engine, file_path, key, hold)
        try:
            journal._migrate(snapshot=False)
        except BaseException:
            journal.close()
            _remove_files(file_path)
            raise
        _log.info("created journal %s", file_path)
        return journal

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        passphrase: str,
        *,
        read_only: bool | None = None,
    ) -> Journal:
        """Open an existing encrypted journal, upgrading its schema when needed.

        The key is derived with the Argon2id parameters the file's header records (see
        `create`), whatever this process's defaults are.

        A journal on a read-only file or file system (or with ``read_only=True``) opens
        for reading: units of work read, `info`, `verify` and `backup` to elsewhere work,
        and every write raises `ReadOnlyError`. Such a journal must already be at the
        newest schema revision (an upgrade would have to write).

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
            SchemaVersionError: The journal is newer than this code (nothing written);
                `UnknownKdfProfileError` when its header names a key-derivation profile
                this code does not know (no key derivation is run).
            ReadOnlyError: A read-only journal needs a schema upgrade.
            ValidationError: Empty passphrase.
        """
        file_path = _as_path(path)
        _require_file(file_path)
        if read_only is None:
            read_only = file_is_read_only(file_path)
        # Held from before the first connection until after the last one has closed.
        hold = FileHold(file_path)
        key: JournalKey | None = None
        try:
            if not read_only:
                _settle_wal(file_path)
            key = key_for_existing_journal(file_path, passphrase)
            engine = engine_for_key(file_path, key, create=False, read_only=read_only)
        except BaseException:
            if key is not None:
                key.wipe()
            hold.release()
            raise
        journal = cls._for_file(engine, file_path, key, hold, read_only=read_only)
        try:
            journal._migrate(snapshot=True)
        except BaseException:
            journal.close()
            raise
        _log.info("opened journal %s", file_path)
        return journal

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        create_schema: bool = False,
        api_key_cipher: ApiKeyCipher | None = None,
    ) -> Journal:
        """Open a journal in a database given by URL, upgrading its schema when needed.

        For a server (``postgresql+psycopg://...``) or a plain SQLite database
        (``sqlite:///path``, ``sqlite://`` in memory). A database without the Zorivest
        schema is given it only with ``create_schema=True`` (``zorivest init --url``);
        otherwise it is refused before anything is written. An existing schema is checked
        and upgraded as by `open`, but NO snapshot is written first: back a server up with
        its own tools (e.g. ``pg_dump``) before upgrading Zorivest. Operations that need an
        encrypted file (`change_passphrase`, `backup`, `snapshot`) raise
        `UnsupportedOperationError`.

        Args:
            url: The database URL (its password is never shown in messages or ``repr``).
            create_schema: Create the schema (and seed the defaults) in a database that
                has none. Never touches a database with a schema, or someone else's tables.
            api_key_cipher: Encrypts market-provider API keys; such a database has no
                journal key to derive one from, so the caller supplies it (e.g.
                ``ApiKeyCipher(secret_32_bytes)``). Without it, API keys cannot be stored.

        Raises:
            ValidationError: Unsupported URL.
            SchemaMissingError: No Zorivest schema and ``create_schema=False`` (nothing
                written).
            SchemaVersionError: The database is newer than this code (nothing written).
            InvalidPassphraseError: A ``sqlite:`` URL names an encrypted journal.
            BusyError: Another process holds a lock the schema check or upgrade needs.
        """
        engine = create_engine_from_url(url)
        parsed = make_url(url)
        location = parsed.render_as_string(hide_password=True)
        database = parsed.database if parsed.get_backend_name() == "sqlite" else None
        path = _as_path(database) if database and database != ":memory:" else None
        if path is not None and not path.exists() and not create_schema:
            engine.dispose()
            raise SchemaMissingError(
                f"no database at {path} (nothing was created); create it with: "
                "zorivest init --url URL (in Python: Journal.connect(url, create_schema=True))"
            )
        hold = FileHold(path) if path is not None and path.is_file() else None
        journal = cls(
            engine,
            path=path,
            key=None,
            location=location,
            api_key_cipher=api_key_cipher,
            hold=hold,
        )
        try:
            journal._migrate(snapshot=False, create_schema=create_schema)
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
        *,
        kdf: KdfParameters | None = None,
    ) -> Journal:
        """Copy a plaintext SQLite database into a new encrypted journal and open that.

        `src` is only read (opened read-only). It must be a plaintext Zorivest journal: the
        Zorivest tables and a known schema revision (``alembic_version``), nothing else; it
        is upgraded to the newest revision in the copy. Any other SQLite database is
        refused (`NotAJournalDatabaseError`) and nothing is created. The copy
        is made with ``sqlcipher_export`` into `dest`, created with mode 0600 and the
        passphrase's Argon2id salt.

        Raises:
            JournalNotFoundError: No file at `src`, or no directory for `dest`.
            JournalExistsError: `dest` exists.
            NotAJournalDatabaseError: `src` is an SQLite database but not a Zorivest
                journal (other tables, or no schema revision).
            ValidationError: `src` is not a plaintext SQLite database (e.g. it is already
                encrypted), or `src` and `dest` are the same file; empty passphrase.
            SchemaVersionError: `src` was written by a newer Zorivest, or has Zorivest
                tables but no schema revision; nothing is created.
        """
        src_path, dest_path = _plaintext_paths(src, dest)
        key = key_for_new_journal(passphrase, kdf)
        published = False
        hold: FileHold | None = None
        try:
            _write_encrypted(src_path, dest_path, key)
            published = True
            hold = FileHold(dest_path)
            engine = engine_for_key(dest_path, key, create=False)
        except BaseException:
            key.wipe()
            if hold is not None:
                hold.release()
            if published:
                _remove_files(dest_path)
            raise
        journal = cls._for_file(engine, dest_path, key, hold)
        try:
            journal._migrate(snapshot=False)
        except BaseException:
            journal.close()
            _remove_files(dest_path)
            raise
        _log.info("encrypted %s into journal %s", src_path, dest_path)
        return journal

    @classmethod
    def _for_file(
        cls,
        engine: Engine,
        path: Path,
        key: JournalKey,
        hold: FileHold,
        *,
        read_only: bool = False,
    ) -> Journal:
        return cls(
            engine,
            path=path,
            key=key,
            location=str(path),
            api_key_cipher=ApiKeyCipher.from_journal_key(key),
            hold=hold,
            read_only=read_only,
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
    def read_only(self) -> bool:
        """Whether the journal was opened for reading only (every write is refused)."""
        return self._read_only

    @property
    def closed(self) -> bool:
        """Whether `close` has run."""
        return self._closed

    @property
    def schema_revision(self) -> str | None:
        """The schema revision the database is at (the newest, once open succeeded)."""
        return schema_version.read_revision(self.engine)

    @property
    def schema_upgrade(self) -> SchemaUpgrade:
        """What opening this journal did to its schema (revisions before/after, snapshot)."""
        return self._schema_upgrade

    def unit_of_work(self, *, read_only: bool = False) -> SqlAlchemyUnitOfWork:
        """A new unit of work on this journal (sessions keep objects readable after commit).

        Args:
            read_only: The block only reads, and the database enforces it: a write raises
                `ReadOnlyError` and nothing is written (SQLite's ``query_only``,
                PostgreSQL's ``SET TRANSACTION READ ONLY``). On an encrypted or SQLite file
                its transactions start deferred and never wait for writers; a write
                transaction takes the write lock when it begins, so concurrent writers
                queue (up to the busy timeout, then `BusyError`) instead of failing.

        Raises:
            JournalClosedError: The journal is closed.
        """
        self._require_open()
        # Each block asks the journal for its current session factory, so a unit of work
        # kept across `change_passphrase` uses the new engine (and cipher) in its next block.
        return SqlAlchemyUnitOfWork(
            self._new_read_session if read_only else self._new_session,
            api_key_cipher=self._current_cipher,
        )

    def _current_cipher(self) -> ApiKeyCipher | None:
        return self._cipher

    def _new_session(self) -> Session:
        self._require_open()
        return self._session_factory(bind=self._bound_engines[0])

    def _new_read_session(self) -> Session:
        self._require_open()
        return self._session_factory(bind=self._bound_engines[1])

    def _make_session_factory(self) -> sessionmaker[Session]:
        # The writing and reading views of the engine, built once per engine: building
        # one (`Engine.execution_options`) cost a third of a unit of work's start.
        self._bound_engines = (for_writing(self._engine), for_reading(self._engine))
        return sessionmaker(bind=self._engine, expire_on_commit=False)

    def _require_open(self) -> None:
        if self._closed:
            raise JournalClosedError(f"journal {self._location} is closed")

    def _require_writable(self, operation: str) -> None:
        if self._read_only:
            raise ReadOnlyError(
                f"{operation}: journal {self._location} is opened read-only; nothing changed"
            )

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

    def _migrate(self, *, snapshot: bool, create_schema: bool = True) -> None:
        """Refuse a newer schema, snapshot (when asked and there is data), then upgrade.

        A database without any schema is refused unless `create_schema`.
        """
        with _translated_errors(self._path, keyed=self._key is not None):
            if schema_version.is_at_head(self._engine):  # one SELECT, no Alembic
                head = schema_version.HEAD_REVISION
                self._schema_upgrade = SchemaUpgrade(before=head, after=head)
                return
            from zorivest_infra.database import migrations  # Alembic: only when needed

            needed = migrations.needs_upgrade(self._engine)  # SchemaVersionError first
            revision = migrations.current_revision(self._engine)
            if not needed:
                self._schema_upgrade = SchemaUpgrade(before=revision, after=revision)
                return
            if revision is None and not create_schema:
                raise SchemaMissingError(
                    f"{self._location} has no Zorivest schema, and none is created unless "
                    "asked (nothing was written); create it with: zorivest init --url URL "
                    "(in Python: Journal.connect(url, create_schema=True))"
                )
            if self._read_only:
                raise ReadOnlyError(
                    f"journal {self._location} is at schema revision {revision or 'none'} "
                    f"and needs an upgrade to {migrations.head_revision()}, which cannot be "
                    "written where it is (read-only); open it once where it is writable"
                )
            written: Path | None = None
            if snapshot and revision is not None and self._key is not None:
                written = self.snapshot(f"pre-{revision}")
            migrations.upgrade(self._engine)
        after = self._revision()
        self._schema_upgrade = SchemaUpgrade(before=revision, after=after, snapshot=written)
        _log.info("upgraded journal %s to schema revision %s", self._location, after)

    def _revision(self) -> str | None:
        return schema_version.read_revision(self._engine)

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
            _write_backup(path, dest_path, key)
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
            return _write_snapshot(path, key, tag)

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
        has the journal open (their connections would hold the old key). If one does, the
        final checkpoint fails after the commit: `RekeyCommittedError` is raised and this
        journal carries on under the NEW key (it is closed if even that cannot be opened).

        Raises:
            ValidationError: Empty new passphrase.
            ConflictError: Connections are still in use (nothing changed).
            RekeyCommittedError: (a `ConflictError`) The re-key committed, so the NEW
                passphrase opens the journal, but another connection or process holds it.
            UnsupportedOperationError: The journal is a URL journal.
            StorageFullError: No space to rewrite the pages (the old passphrase still works).
        """
        with self._lock:
            path, old_key = self._require_key("change_passphrase")
            self._require_writable("change_passphrase")
            in_use = _checked_out(self._engine)
            if in_use:
                raise ConflictError(
                    f"{in_use} connection(s) of journal {path} are still in use; finish every "
                    "unit of work before changing the passphrase (nothing was changed)"
                )
            new_key = key_for_new_journal(new_passphrase)
            self._engine.dispose()
            progress = RekeyProgress()
            try:
                _rekey(path, old_key, new_key, progress)
            except BaseException:
                self._reopen_after_failed_rekey(
                    path, old_key, new_key, committed=progress.committed
                )
                raise
            old_key.wipe()
            self._install_key(path, new_key)
        _log.info("changed the passphrase of journal %s", path)

    def _install_key(self, path: Path, key: JournalKey) -> None:
        # The key is known to be the journal's (this process just re-keyed it), while the
        # main file may still show the old salt until the log is checkpointed.
        self._engine = engine_for_key(path, key, create=False, check_salt=False)
        self._key = key
        self._cipher = ApiKeyCipher.from_journal_key(key)
        self._session_factory = self._make_session_factory()

    def _reopen_after_failed_rekey(
        self, path: Path, old: JournalKey, new: JournalKey, *, committed: bool
    ) -> None:
        """After a failed re-key, reopen under the key the journal is under now.

        That is the NEW key once the re-key committed, else the old one. It is decided by
        `committed`, never by the header's salt: after a commit whose checkpoint failed, the
        main file still shows the OLD salt (the new page 1 is only in the log).
        """
        current, other = (new, old) if committed else (old, new)
        try:
            _settle_wal(path)
            self._install_key(path, current)
            other.wipe()
        except BaseException:
            # The caller raises the re-key's own error; the details are for --debug logs.
            _log.debug(
                "journal %s could not be reopened after a failed re-key", path, exc_info=True
            )
            self._closed = True
            old.wipe()
            new.wipe()
            if self._hold is not None:  # the engine was disposed before the re-key
                self._hold.release()

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
            PassphraseChangedError: Another process changed the passphrase meanwhile (the
                journal is healthy; open it again with the new passphrase).
        """
        with self._lock:
            self._require_open()
            key, path = self._key, self._path
            if key is not None and path is not None and passphrase_changed(path, key):
                raise passphrase_changed_error(path)
            return _verify_journal(self._engine, self._path, self._key)

    def info(self) -> JournalInfo:
        """Summarise the journal: revision, rows per table, size, cipher and KDF settings.

        Raises:
            JournalClosedError: The journal is closed.
        """
        with self._lock:
            self._require_open()
            return _describe_journal(
                self._engine,
                location=self._location,
                path=self._path,
                journal_format=self._key.format if self._key is not None else None,
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
                # Only now that every connection of the journal is closed may the shared
                # descriptor go (closing it earlier would drop SQLite's locks).
                if self._hold is not None:
                    self._hold.release()
        _log.debug("closed journal %s", self._location)

    def __enter__(self) -> Self:
        self._require_open()
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        if self._encrypted:
            return f"Journal(path={str(self._path)!r}, encrypted, {state})"
        return f"Journal(url={self._location!r}, {state})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("Journal cannot be pickled or copied")
