"""Encrypted copies of a journal file: backups, snapshots, and publishing a new file.

Copies use SQLite's online backup API between two connections keyed with the SAME raw key
and salt, so a copy is a self-contained journal opened by the same passphrase, encrypted
page by page (never a plaintext intermediate), consistent (one read transaction of the
source; writers in WAL mode are not blocked), mode 0600, fsynced. Every new file is
written under a temporary name and published with `_published`, so it appears complete or
not at all; `snapshot_path` names snapshots.
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
from zorivest_infra.atomic_files import publish
from zorivest_infra.database.connection import SALT_LEN, JournalKey, open_keyed_connection
from zorivest_infra.journal.driver import _SQLITE_HEADER, _driver_error, _raise_classified
from zorivest_infra.journal.errors import JournalExistsError
from zorivest_infra.journal.files import (
    _as_path,
    _refuse_existing,
    _remove_files,
    _require_parent,
)

_log = logging.getLogger("zorivest_infra.journal")  # one logger for the whole package

_TIMESTAMP_FORMAT: Final = "%Y%m%dT%H%M%SZ"
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_MAX_NAME_ATTEMPTS: Final = 100


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
        try:
            publish(temporary, dest)
        except FileExistsError:
            raise JournalExistsError(f"{dest} already exists; refusing to overwrite it") from None
    finally:
        _remove_files(temporary)


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
    _copy_encrypted(path, dest, key)


def _write_snapshot(path: Path, key: JournalKey, tag: str) -> Path:
    """The copy behind `Journal.snapshot`: copy to the first free `snapshot_path` name."""
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
            _refuse_damaged_copy(target, src)
        except driver_error as error:
            _raise_classified(error, src)
            raise
        finally:
            target.close()
        _check_encrypted_copy(temporary, key)


def _refuse_damaged_copy(copy: Any, src: Path) -> None:
    """Refuse to publish a copy of a damaged journal.

    SQLCipher's backup copies a source page that fails authentication as a page of zeros,
    re-encrypted, so the copy would pass the cipher check while its tables are broken. The
    copy's own integrity check (no writers touch it) finds those pages.
    """
    rows = copy.execute("PRAGMA integrity_check").fetchall()
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
