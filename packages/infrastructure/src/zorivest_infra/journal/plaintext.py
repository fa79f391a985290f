"""Encrypting a plaintext SQLite database into a new journal file.

The checks and the copy behind `Journal.encrypt_plaintext`: the source must be a plaintext
SQLite database whose schema this code can take (it is only ever opened read-only), and
the destination a free name; the copy is made with ``sqlcipher_export`` into a new 0600
file keyed with the passphrase's key and salt, and published complete or not at all.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

from zorivest_core.domain.errors import CorruptJournalError, ValidationError
from zorivest_infra.database.connection import CipherConnection, JournalKey, read_journal_salt
from zorivest_infra.database.models import Base
from zorivest_infra.journal.copies import _published
from zorivest_infra.journal.driver import _SQLITE_HEADER, _driver, _raise_classified, _ro_uri
from zorivest_infra.journal.errors import JournalNotFoundError, NotAJournalDatabaseError
from zorivest_infra.journal.files import (
    _as_path,
    _refuse_existing,
    _require_parent,
)


def _plaintext_paths(
    src: str | os.PathLike[str], dest: str | os.PathLike[str]
) -> tuple[Path, Path]:
    """Check `src` and `dest` of `Journal.encrypt_plaintext`; their absolute paths."""
    src_path = _as_path(src, "src")
    dest_path = _as_path(dest, "dest")
    if not src_path.is_file():
        raise JournalNotFoundError(f"no database at {src_path}")
    if src_path == dest_path:
        raise ValidationError("dest: must differ from src", field="dest", value=str(dest_path))
    _refuse_existing(dest_path, "the encrypted journal")
    _require_parent(dest_path)
    _check_plaintext_source(src_path)
    return src_path, dest_path


def _write_encrypted(src: Path, dest: Path, key: JournalKey) -> None:
    """Export `src` into a new private file, published as `dest` once complete."""
    with _published(dest) as temporary:
        _export_plaintext(src, temporary, key)


def _refused(
    src: Path, problem: str, *, kind: type[ValidationError] = ValidationError
) -> ValidationError:
    """The error for a source database that cannot be encrypted: `src: <path> <problem>`."""
    return kind(f"src: {src} {problem}", field="src", value=str(src))


def _check_plaintext_source(src: Path) -> None:
    """Refuse a source that is not plaintext SQLite or whose schema this code cannot take."""
    with open(src, "rb") as handle:
        head = handle.read(len(_SQLITE_HEADER))
    if head and head != _SQLITE_HEADER:
        raise _refused(src, "is not a plaintext SQLite database (it may already be encrypted)")
    uri = _ro_uri(src)

    def creator() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    from zorivest_infra.database import migrations  # Alembic: only for this rare path

    engine = create_engine("sqlite://", creator=creator, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
        _require_journal_tables(src, tables)
        migrations.check_compatible(engine)  # a revision this code does not know: newer
    except sa_exc.DBAPIError as error:
        raise _refused(src, f"cannot be read as an SQLite database ({error.orig})") from error
    finally:
        engine.dispose()


def _require_journal_tables(src: Path, tables: set[str]) -> None:
    """Refuse a database that is not a plaintext Zorivest journal (nothing is grafted)."""
    foreign = sorted(tables - set(Base.metadata.tables) - {"alembic_version"})
    if "alembic_version" not in tables or foreign:
        reason = (
            f"it has tables that are not Zorivest's ({', '.join(foreign[:5])}"
            f"{', ...' if len(foreign) > 5 else ''})"
            if foreign
            else "it has no Zorivest schema revision (alembic_version)"
        )
        raise _refused(
            src,
            f"is not a plaintext Zorivest journal: {reason}; only a Zorivest journal is "
            "encrypted (create a new one with: zorivest init)",
            kind=NotAJournalDatabaseError,
        )


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
            raise _refused(
                src, f"could not be exported ({type(error).__name__}: {error})"
            ) from None
    finally:
        conn.close()
    if read_journal_salt(dest) != key.salt:
        raise CorruptJournalError(f"SQLCipher did not store the journal salt in {dest}")
