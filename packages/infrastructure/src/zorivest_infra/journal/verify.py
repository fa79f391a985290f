"""Checking a journal: `VerifyReport` and the checks behind `Journal.verify`.

An encrypted file gets SQLCipher's HMAC check of every page of its committed state (aware
of the write-ahead log, see `_cipher_check`), SQLite's integrity and foreign-key checks,
and the schema-revision check; a plain SQLite database the same minus the cipher check;
PostgreSQL a check for foreign-key constraints that are not validated, and the revision
check. Each check runs on its own; one that cannot complete is reported as a problem, and
nothing is ever repaired.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, text
from sqlalchemy import exc as sa_exc

from zorivest_core.domain.errors import (
    CorruptJournalError,
    InvalidPassphraseError,
    SchemaVersionError,
    StorageFullError,
    ZorivestError,
)
from zorivest_infra.database import migrations
from zorivest_infra.database.connection import (
    CipherConnection,
    JournalKey,
    open_keyed_connection,
)
from zorivest_infra.database.descriptors import FileHold
from zorivest_infra.disk_space import is_out_of_space, require_space, storage_full
from zorivest_infra.journal.driver import _driver_error
from zorivest_infra.journal.files import (
    _create_private_file,
    _file_size,
    _remove_files,
)

_COPY_CHUNK: Final = 1 << 20
_NOT_CHECKED: Final = (
    "the cipher check could not run (nothing was found damaged); free some space on that "
    "disk and run verify again"
)


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


def _verify_journal(engine: Engine, path: Path | None, key: JournalKey | None) -> VerifyReport:
    """Run every check that applies to the journal's backend (see `Journal.verify`)."""
    checks: dict[str, bool] = {}
    problems: list[str] = []
    if engine.dialect.name == "sqlite":
        _verify_sqlite(engine, path, key, checks, problems)
    else:
        _run_check(checks, problems, "foreign_key_check", lambda: _pg_foreign_keys(engine))
    _run_check(checks, problems, "schema_revision", lambda: _revision_problems(engine))
    return VerifyReport(ok=not problems, problems=problems, checks=checks)


def _verify_sqlite(
    engine: Engine,
    path: Path | None,
    key: JournalKey | None,
    checks: dict[str, bool],
    problems: list[str],
) -> None:
    dbapi: Any
    if key is not None and path is not None:
        try:
            dbapi = open_keyed_connection(path, key, check_salt=False)
        except ZorivestError as error:
            checks["open"] = False
            problems.append(f"open: {error}")
            return
        checks["open"] = True
        close: Callable[[], None] = dbapi.close
        dbapi.isolation_level = None  # `_cipher_check` begins and ends its snapshot itself
        file_path, file_key = path, key
        _run_check(
            checks,
            problems,
            "cipher_integrity_check",
            lambda: _cipher_check(dbapi, file_path, file_key),
        )
    else:
        raw = engine.raw_connection()
        dbapi = raw.driver_connection
        close = raw.close
    try:
        _run_check(checks, problems, "integrity_check", lambda: _integrity_check(dbapi))
        _run_check(checks, problems, "foreign_key_check", lambda: _foreign_key_check(dbapi))
    finally:
        close()


def _revision_problems(engine: Engine) -> list[str]:
    head = migrations.head_revision()
    try:
        migrations.check_compatible(engine)
    except SchemaVersionError as error:
        return [f"schema revision: {error}"]
    current = migrations.current_revision(engine)
    if current != head:
        return [
            f"schema revision: the journal is at {current or 'no revision'}, this code "
            f"expects {head}; open it again to upgrade"
        ]
    return []


def _pg_foreign_keys(engine: Engine) -> list[str]:
    query = text(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint "
        "WHERE contype = 'f' AND NOT convalidated "
        "AND connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        f"foreign_key_check: constraint {name} on table {table} is not validated"
        for table, name in rows
    ]


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
    except _driver_error():
        # A read-only journal cannot checkpoint, nor can a full disk grow the main file:
        # check a copy instead (if it fits).
        return False
    finally:
        other.close()
    # (0, -1, -1) outside WAL mode: the main file is all there is.
    return bool(busy == 0 and log_frames == checkpointed)


def _cipher_check_copy(path: Path, key: JournalKey) -> list[tuple[str]]:
    """``cipher_integrity_check`` of a checkpointed copy of the journal and its log.

    Call it while holding a read transaction on the journal (see `_cipher_check`).
    """
    scratch = path.with_name(f".{path.name}.verify-{os.urandom(6).hex()}")
    needed = _file_size(path) + _file_size(Path(f"{path}-wal"))
    require_space(path, needed, "verify's temporary copy of", step=_NOT_CHECKED)
    try:
        return _checked_copy(path, key, scratch)
    except (OSError, StorageFullError) as error:
        if isinstance(error, OSError) and not is_out_of_space(error, path):
            raise
        raise storage_full(
            path, "verify's temporary copy of", needed=needed, step=_NOT_CHECKED
        ) from error


def _checked_copy(path: Path, key: JournalKey, scratch: Path) -> list[tuple[str]]:
    _create_private_file(scratch)  # 0600; refuses an existing file (which is not ours)
    try:
        _copy_journal_bytes(path, scratch)
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


def _copy_journal_bytes(journal: Path, dest: Path) -> None:
    """Copy the open journal's main file byte for byte into the private, empty `dest`.

    Reads through the descriptor the open journal holds (`FileHold`): closing one of its
    own would release the POSIX locks SQLite holds on the file in this process.
    """
    offset = 0
    with FileHold(journal) as source, open(dest, "wb") as target:
        while chunk := source.read(_COPY_CHUNK, offset):
            target.write(chunk)
            offset += len(chunk)


def _copy_bytes(src: Path, dest: Path) -> None:
    """Copy `src` (the journal's log, which SQLite does not lock) into the empty `dest`."""
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


_MAX_LISTED: Final = 8


def summarise_problems(problems: list[str]) -> list[str]:
    """A short list of what is damaged, for people: one line per kind of damage.

    SQLite's own lines (one per broken cell or index entry, often hundreds) are folded
    into counts with the pages or tables concerned; `VerifyReport.problems` keeps them all.
    """
    by_check: dict[str, list[str]] = {}
    for problem in problems:
        name, _, detail = problem.partition(": ")
        by_check.setdefault(name, []).append(detail)
    lines: list[str] = []
    for name, details in by_check.items():
        incomplete = [detail for detail in details if detail.startswith("could not complete")]
        lines.extend(f"{name}: {detail}" for detail in incomplete[:1])
        found = [
            line.strip()
            for detail in details
            if detail not in incomplete
            for line in detail.splitlines()
            if line.strip() and not line.startswith("***")
        ]
        if found:
            lines.append(_summary_line(name, found))
    return lines


def _summary_line(name: str, details: list[str]) -> str:
    pages = sorted({int(number) for d in details for number in re.findall(r"[Pp]age (\d+)", d)})
    where = f" (pages {_listed(pages)})" if pages else ""
    if name == "cipher_integrity_check":
        count = len(pages) or len(details)
        return f"{count} page(s) fail authentication: damaged or altered on disk{where}"
    if name == "integrity_check":
        return f"{len(details)} problem(s) in the structure of tables or indexes{where}"
    if name == "foreign_key_check":
        tables = sorted({d.split(" row ", 1)[0] for d in details if " row " in d})
        named = f" (in {', '.join(tables)})" if tables else ""
        return f"{len(details)} row(s) refer to rows that do not exist{named}"
    if name == "open":
        return f"the journal does not open: {details[0]}"
    more = f" and {len(details) - 1} more" if len(details) > 1 else ""
    return f"{name}: {details[0]}{more}"


def _listed(numbers: list[int]) -> str:
    shown = ", ".join(str(number) for number in numbers[:_MAX_LISTED])
    return shown + (f" and {len(numbers) - _MAX_LISTED} more" if len(numbers) > _MAX_LISTED else "")
