"""Encrypted copies of a journal file: backups, snapshots, and publishing a new file.

Copies use SQLite's online backup API between two connections keyed with the SAME raw key
and salt, so a copy is a self-contained journal opened by the same passphrase, encrypted
page by page (never a plaintext intermediate), consistent (one read transaction of the
source; writers in WAL mode are not blocked), mode 0600, fsynced. Every new file is
written under a temporary name and published with `_published`, so it appears complete or
not at all: written without a write-ahead log, checked for room first and for integrity
last, and removed with its side files on any failure. `snapshot_path` names snapshots.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from zorivest_core.domain.errors import CorruptJournalError, ValidationError
from zorivest_infra.database.connection import (
    SALT_LEN,
    JournalKey,
    _apply_key,
    open_keyed_connection,
)
from zorivest_infra.disk_space import is_out_of_space, require_space, storage_full
from zorivest_infra.journal.driver import (
    _SQLITE_HEADER,
    _driver,
    _driver_error,
    _raise_classified,
    _ro_uri,
)
from zorivest_infra.journal.errors import JournalExistsError
from zorivest_infra.journal.files import (
    _as_path,
    _file_size,
    _fsync,
    _refuse_existing,
    _require_parent,
)
from zorivest_infra.journal.partials import (
    claimed,
    clear_leftovers,
    partial_name,
    remove_partial,
)

_log = logging.getLogger("zorivest_infra.journal")  # one logger for the whole package

_TIMESTAMP_FORMAT: Final = "%Y%m%dT%H%M%SZ"
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_MAX_NAME_ATTEMPTS: Final = 100
# Room for the copy's rollback journal and header beyond its pages.
_MARGIN_PAGES: Final = 16
_NOTHING_WRITTEN: Final = (
    "nothing was written (no partial file is left); free some space there or choose another place"
)


@contextlib.contextmanager
def _published(dest: Path) -> Iterator[Path]:
    """Yield a new, empty, private partial file beside `dest`; afterwards publish it as `dest`.

    Leftovers of copies that crashed earlier in that directory are removed first
    (`partials.clear_leftovers`). The partial file is created 0600 and held (flock) while the
    block writes it; then it is flushed, linked to `dest` (``os.link`` never overwrites: an
    existing `dest` raises `JournalExistsError`) and its temporary name removed, so `dest`
    appears complete or not at all, also across a crash. Whatever happens, the partial file
    and its side files are gone afterwards. On file systems without hard links the file is
    renamed instead (after checking that `dest` is free). Running out of space anywhere in
    this raises `StorageFullError` naming `dest`.
    """
    clear_leftovers(dest.parent)
    temporary = partial_name(dest)
    try:
        with claimed(temporary):
            yield temporary
            _fsync(temporary)
            try:
                os.link(temporary, dest)
            except FileExistsError:
                raise JournalExistsError(
                    f"{dest} already exists; refusing to overwrite it"
                ) from None
            except OSError as error:
                if is_out_of_space(error, dest):
                    raise
                if os.path.lexists(dest):
                    raise JournalExistsError(
                        f"{dest} already exists; refusing to overwrite it"
                    ) from None
                os.replace(temporary, dest)
            _fsync(dest.parent, directory=True)
    except OSError as error:
        if not is_out_of_space(error, dest):
            raise
        raise storage_full(dest, "the copy", step=_NOTHING_WRITTEN) from error
    finally:
        remove_partial(temporary)


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


def _write_backup(path: Path, dest: Path, key: JournalKey) -> None:
    """The copy behind `Journal.backup`: refuse an existing `dest`, then copy to it."""
    _refuse_existing(dest, "a backup")
    _require_parent(dest)
    _copy_encrypted(path, dest, key, "the backup")


def _write_snapshot(path: Path, key: JournalKey, tag: str) -> Path:
    """The copy behind `Journal.snapshot`: copy to the first free `snapshot_path` name."""
    stamp = _utc_stamp()
    for attempt in range(1, _MAX_NAME_ATTEMPTS + 1):
        suffix = "" if attempt == 1 else f"-{attempt}"
        dest = snapshot_path(path, tag, stamp=stamp + suffix)
        if os.path.lexists(dest):
            continue
        try:
            _copy_encrypted(path, dest, key, "the snapshot")
        except JournalExistsError:
            continue  # taken between the check and the creation
        _log.info("wrote snapshot %s of journal %s", dest, path)
        return dest
    raise JournalExistsError(f"no free snapshot name for {path} with tag {tag!r}")


def _copy_encrypted(src: Path, dest: Path, key: JournalKey, what: str) -> None:
    """Copy the journal `src` to a new file `dest`, encrypted under the same key and salt.

    Whole or absent: the copy is written under a partial name (`_published`), created 0600
    and keyed with ``x'<key><salt>'``; the disk of `dest` must have room for the journal's
    committed pages first. The copy is written WITHOUT a write-ahead log (rollback journal
    mode): a log would take the pages and leave them to a checkpoint at close, whose failure
    on a full disk nobody sees. SQLite's backup API copies every page in one step, i.e. in
    one read transaction of the source; pages pass through SQLCipher (decrypted from the
    source, re-encrypted for the copy, never written in clear). The closed copy is then
    reopened read-only and integrity-checked before it is published.

    Raises:
        StorageFullError: The disk of `dest` has no room for the copy (nothing is left).
        CorruptJournalError: The journal has damaged pages (no copy is written).
    """
    driver_error = _driver_error()
    with _published(dest) as temporary:
        source = open_keyed_connection(src, key, check_salt=False)
        try:
            needed = _committed_bytes(source)
            require_space(dest, needed, what)
            try:
                _backup_without_log(source, temporary, key)
            except driver_error as error:
                if is_out_of_space(error, dest):
                    raise storage_full(dest, what, needed=needed, step=_NOTHING_WRITTEN) from error
                _raise_classified(error, src)
                raise
        finally:
            source.close()
        if _file_size(Path(f"{temporary}-wal")) or _file_size(Path(f"{temporary}-journal")):
            # A log left behind holds pages the main file lacks: never publish that.
            raise storage_full(dest, what, needed=needed, step=_NOTHING_WRITTEN)
        _check_copy(temporary, key, src)
        _check_encrypted_copy(temporary, key)


def _committed_bytes(source: Any) -> int:
    """The size of the journal's committed state (the log included), plus a small margin."""
    pages = int(source.execute("PRAGMA page_count").fetchone()[0])
    page_size = int(source.execute("PRAGMA page_size").fetchone()[0])
    return (pages + _MARGIN_PAGES) * page_size


def _backup_without_log(source: Any, temporary: Path, key: JournalKey) -> None:
    """Copy every page of `source` into the empty `temporary`, in rollback-journal mode."""
    target = open_keyed_connection(temporary, key, create=True)
    try:
        _rollback_journal_mode(target)
        source.backup(target)
        # The copied first page says WAL (as the source's does): switching again checkpoints
        # the empty log, removes it and rewrites the header, and reports any failure.
        _rollback_journal_mode(target)
    finally:
        target.close()


def _rollback_journal_mode(conn: Any) -> None:
    row = conn.execute("PRAGMA journal_mode = DELETE").fetchone()
    if not row or str(row[0]).lower() != "delete":
        raise CorruptJournalError(f"could not leave write-ahead-log mode (journal_mode={row})")


def _check_copy(copy: Path, key: JournalKey, src: Path) -> None:
    """Reopen the closed copy read-only and run SQLite's integrity check on it.

    SQLCipher's backup copies a source page that fails authentication as a page of zeros,
    re-encrypted, so the copy would pass the cipher check while its tables are broken; a
    write that did not reach the disk shows up here too. Either way nothing is published.
    """
    driver = _driver()
    conn = driver.connect(_ro_uri(copy), uri=True)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        _apply_key(conn, key, include_salt=False)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        except driver.Error as error:
            rows = [(f"the copy does not read back ({error})",)]
    finally:
        conn.close()
    if [str(row[0]) for row in rows] == ["ok"]:
        return
    problems = [
        line
        for row in rows
        for line in str(row[0]).splitlines()
        if line.strip() and not line.startswith("***")
    ]
    first = problems[0] if problems else "integrity check failed"
    more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
    raise CorruptJournalError(
        f"journal {src} has damaged pages ({first}{more}); no copy was written. "
        "Run verify to see every problem."
    )


def _check_encrypted_copy(dest: Path, key: JournalKey) -> None:
    with open(dest, "rb") as handle:
        head = handle.read(SALT_LEN)
    if head == _SQLITE_HEADER or head != key.salt:
        raise CorruptJournalError(f"the copy {dest} is not encrypted under the journal's key")
    mode = dest.stat().st_mode & 0o777
    if mode != 0o600:
        os.chmod(dest, 0o600)
