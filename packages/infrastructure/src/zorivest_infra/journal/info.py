"""Summarising a journal for display: `JournalInfo` and how `Journal.info` gathers it.

Reads the schema revision, the rows of each table of the schema, the file and log sizes,
SQLite's page settings, and for an encrypted journal SQLCipher's version and the Argon2id
parameters passphrases are derived with. Only reads; nothing secret is included.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select

from zorivest_infra.database import migrations
from zorivest_infra.database.connection import JournalFormat, KdfParameters
from zorivest_infra.database.models import Base
from zorivest_infra.journal.driver import _translated_errors
from zorivest_infra.journal.files import _file_size


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
        kdf: The Argon2id parameters the journal's own header records (format v0: the v0
            parameters), which its passphrase is derived with; None unless encrypted.
        format_version: The journal file format (0 or 1; None unless encrypted), see
            docs/decisions/0006-journal-format-v1.md.
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
    format_version: int | None = None


def _describe_journal(
    engine: Engine, *, location: str, path: Path | None, journal_format: JournalFormat | None
) -> JournalInfo:
    """The `JournalInfo` of the journal behind `engine` (see `Journal.info`)."""
    sqlite = engine.dialect.name == "sqlite"
    encrypted = journal_format is not None
    with _translated_errors(path, keyed=encrypted), engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        counts = {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in Base.metadata.sorted_tables
            if table.name in present
        }
        page_size = page_count = None
        cipher_version = None
        if sqlite:
            page_size = int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
            page_count = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())
        if encrypted:
            cipher_version = str(conn.exec_driver_sql("PRAGMA cipher_version").scalar())
    revision = migrations.current_revision(engine)
    return JournalInfo(
        location=location,
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
        kdf=journal_format.kdf if journal_format is not None else None,
        format_version=journal_format.version if journal_format is not None else None,
    )
