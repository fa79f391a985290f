"""Raw baselines: plain `sqlcipher3` DB-API code on the same schema, keyed the same way.

Nothing here goes through SQLAlchemy, the repositories or the journal: a connection is a
``sqlcipher3.dbapi2`` connection keyed with a raw 256-bit key (``PRAGMA key =
"x'<hex>'"``, no KDF per connection, exactly the method the journal uses), with the same
per-connection settings the project applies (foreign keys on, WAL, ``synchronous=NORMAL``,
busy timeout). The schema is the DDL SQLAlchemy renders from ``Base.metadata`` for SQLite:
the same tables, column types and indexes as a journal's, so the only difference measured
is the layer on top.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable

from bench.data import INSERT_TRADE_SQL, NO_DETAILS, SELECT_TRADE_COLUMNS, RawTrade
from zorivest_infra.database.models import Base

__all__ = [
    "RAW_GET_SQL",
    "RAW_ITER_SQL",
    "RAW_LIST_SQL",
    "RAW_TOTALS_SQL",
    "RawConnection",
    "create_raw_database",
    "insert_account",
    "insert_or_ignore",
    "insert_trades",
    "open_raw",
    "raw_key_literal",
    "raw_reimport",
    "schema_ddl",
]

RawConnection = sqlite3.Connection
"""Static type of a ``sqlcipher3`` connection (it has the stdlib module's surface)."""

RAW_GET_SQL: Final = f"SELECT {SELECT_TRADE_COLUMNS} FROM trades WHERE exec_id = ?"
RAW_LIST_SQL: Final = (
    f"SELECT {SELECT_TRADE_COLUMNS} FROM trades WHERE account_id = ? "
    "ORDER BY time DESC, exec_id DESC LIMIT ?"
)
RAW_ITER_SQL: Final = (
    f"SELECT {SELECT_TRADE_COLUMNS} FROM trades WHERE account_id = ? "
    "ORDER BY time DESC, exec_id DESC"
)
RAW_TOTALS_SQL: Final = (
    "SELECT count(*), sum(commission), sum(realized_pnl) "
    "FROM trades INDEXED BY ix_trades_account_id_time WHERE account_id = ?"
)
REIMPORT_CHUNK: Final = 1_000
"""Rows per existence query in `raw_reimport` (the repository's chunk size too)."""


def schema_ddl() -> list[str]:
    """CREATE TABLE and CREATE INDEX statements of every table, as SQLite DDL."""
    dialect = sqlite_dialect.dialect()
    statements: list[str] = []
    for table in Base.metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        statements.extend(
            str(CreateIndex(index).compile(dialect=dialect)).strip()
            for index in sorted(table.indexes, key=lambda index: str(index.name))
        )
    return statements


def raw_key_literal(key: bytes, salt: bytes | None = None) -> str:
    """``x'<64 hex>'`` (or ``x'<64 hex><32 hex>'`` with a salt for a new file)."""
    if len(key) != 32 or (salt is not None and len(salt) != 16):
        raise ValueError("a raw key is 32 bytes and a salt 16 bytes")
    return f"x'{key.hex()}{salt.hex() if salt is not None else ''}'"


def open_raw(path: str | os.PathLike[str], key_literal: str) -> RawConnection:
    """A keyed ``sqlcipher3`` connection in autocommit mode (BEGIN/COMMIT are explicit).

    The same settings as the project's connections: the key, a first read that checks it,
    then busy timeout, foreign keys, WAL and ``synchronous=NORMAL``.
    """
    conn: RawConnection = sqlcipher.connect(
        os.fspath(path), isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f'PRAGMA key = "{key_literal}"')
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL").fetchone()
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def create_raw_database(path: Path) -> tuple[RawConnection, str]:
    """A new encrypted file with the journal schema; returns it and its reopening key.

    Keyed like a new journal: a random 256-bit raw key with a random salt written into the
    file header (the 96-hex form); reopened with the 64-hex form.
    """
    key, salt = os.urandom(32), os.urandom(16)
    conn = open_raw(path, raw_key_literal(key, salt))
    conn.execute("BEGIN")
    for statement in schema_ddl():
        conn.execute(statement)
    conn.execute("COMMIT")
    return conn, raw_key_literal(key)


def insert_account(conn: RawConnection, account_id: str) -> None:
    conn.execute(
        "INSERT INTO accounts (account_id, name, account_type, currency, is_tax_advantaged, "
        "created_at) VALUES (?, ?, 'broker', 'USD', 0, '2019-01-01 00:00:00.000000')",
        (account_id, f"Account {account_id}"),
    )


def insert_trades(conn: RawConnection, chunks: Iterable[Sequence[RawTrade]]) -> int:
    """``executemany`` of the rows in one transaction; returns the row count."""
    count = 0
    conn.execute("BEGIN")
    for rows in chunks:
        conn.executemany(INSERT_TRADE_SQL, rows)
        count += len(rows)
    conn.execute("COMMIT")
    return count


def raw_reimport(conn: RawConnection, rows: Sequence[RawTrade]) -> tuple[int, int, int]:
    """What an idempotent import does, in plain DB-API: returns (inserted, duplicates,
    conflicts).

    Per chunk of 1,000 rows: one ``SELECT ... WHERE exec_id IN (...)`` of the stored rows,
    a tuple comparison per row (identical -> duplicate, different -> conflict, missing ->
    new), and one ``executemany`` of the new rows; all in one transaction.
    """
    inserted = duplicates = conflicts = 0
    conn.execute("BEGIN")
    for first in range(0, len(rows), REIMPORT_CHUNK):
        chunk = rows[first : first + REIMPORT_CHUNK]
        marks = ", ".join("?" * len(chunk))
        stored: dict[str, tuple[Any, ...]] = {
            row[0]: tuple(row)
            for row in conn.execute(
                f"SELECT {SELECT_TRADE_COLUMNS} FROM trades WHERE exec_id IN ({marks})",
                [row[0] for row in chunk],
            )
        }
        new_rows: list[RawTrade] = []
        for row in chunk:
            existing = stored.get(row[0])
            if existing is None:
                stored[row[0]] = row + NO_DETAILS
                new_rows.append(row)
            elif existing == row + NO_DETAILS:  # a stored trade has all 17 columns
                duplicates += 1
            else:
                conflicts += 1
        if new_rows:
            conn.executemany(INSERT_TRADE_SQL, new_rows)
            inserted += len(new_rows)
    conn.execute("COMMIT")
    return inserted, duplicates, conflicts


def insert_or_ignore(conn: RawConnection, rows: Sequence[RawTrade]) -> int:
    """The cheapest possible re-import: ``INSERT OR IGNORE`` executemany (no conflict
    detection at all); returns the number of rows inserted."""
    before = conn.total_changes
    conn.execute("BEGIN")
    conn.executemany(INSERT_TRADE_SQL.replace("INSERT", "INSERT OR IGNORE", 1), rows)
    conn.execute("COMMIT")
    return conn.total_changes - before
