"""Schema migrations: the Alembic environment of the journal, driven from Python.

Other code calls `upgrade(engine)`; nothing here needs an ``alembic.ini`` at run time. The
Alembic configuration is built in code, with ``script_location`` pointing at this package,
and the caller's engine hands one of its connections to ``env.py`` through
``config.attributes["connection"]``. That is what makes an encrypted engine work: its URL is
only ``sqlite://`` (the key lives in its ``creator``), so ``env.py`` must never build an
engine of its own when it is given a connection.

A database whose ``alembic_version`` names a revision this code does not know was written by
a newer Zorivest; every entry point that would touch such a database raises
`SchemaVersionError` first and changes nothing.

The autogenerate options (`autogenerate_options`) live here rather than in ``env.py`` so the
test that proves "migrations == models" compares with exactly the options ``env.py`` uses.
"""

from __future__ import annotations

import functools
import re

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's own locks only
    fcntl = None  # type: ignore[assignment]
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Dialect, Engine, inspect, text
from sqlalchemy.types import TypeDecorator, TypeEngine

from zorivest_core.domain.errors import SchemaVersionError
from zorivest_core.domain.validation import SIGNIFICANT_DIGITS
from zorivest_infra.database.descriptors import FileHold
from zorivest_infra.database.types import ExactDecimal, JSONText, UTCDateTime

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext
    from sqlalchemy import Column

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "autogenerate_options",
    "check_compatible",
    "compare_type",
    "current_revision",
    "downgrade",
    "head_revision",
    "needs_upgrade",
    "render_item",
    "upgrade",
]

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent

# Session-level advisory lock that serialises concurrent upgrades of one PostgreSQL
# database (two application instances starting at once). "Zorivest" in ASCII.
_PG_LOCK_KEY: Final = 0x5A6F726976657374

# Alembic's `context`/`op` proxies are process-global: one command at a time per process.
_COMMAND_LOCK: Final = threading.Lock()

# Tables the baseline creates. A database holding any of them but no alembic_version row
# was not created by these migrations (e.g. by `Base.metadata.create_all`): upgrading it
# would fail half-way on "table already exists", so it is refused up front instead.
_BASELINE_TABLES: Final = frozenset(
    {
        "accounts",
        "app_defaults",
        "balance_snapshots",
        "bank_import_configs",
        "bank_transactions",
        "broker_configs",
        "excursion_metrics",
        "identifier_cache",
        "images",
        "market_provider_settings",
        "mcp_guard",
        "mistake_entries",
        "options_strategies",
        "round_trips",
        "settings",
        "trade_plans",
        "trade_reports",
        "trades",
        "transaction_ledger",
        "watchlist_items",
        "watchlists",
    }
)


# --------------------------------------------------------------------------- configuration


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration of this package, built in code (no ini file read).

    Args:
        connection: Handed to ``env.py``, which then runs on it and never builds an engine.
    """
    config = Config()
    # ConfigParser interpolation: a literal "%" in the install path must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


@functools.cache
def _known_revisions() -> frozenset[str]:
    # Exact identifiers: Alembic's own lookup also accepts unique prefixes, which would
    # let a stranger's "00" pass for "0001".
    return frozenset(script.revision for script in _script().walk_revisions())


def head_revision() -> str:
    """The newest revision this code knows (the schema of `models`)."""
    head = _script().get_current_head()
    if head is None:  # pragma: no cover - the baseline always exists
        raise RuntimeError(f"no migration revisions found in {MIGRATIONS_DIR / 'versions'}")
    return head


# --------------------------------------------------------------------------- version checks


def _current_heads(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def _check_connection(connection: Connection) -> tuple[str, ...]:
    """Raise SchemaVersionError unless this code can migrate the database; return its heads."""
    heads = _current_heads(connection)
    unknown = sorted(head for head in heads if head not in _known_revisions())
    if unknown:
        raise SchemaVersionError(
            f"the database is at schema revision {', '.join(unknown)}, which this version of "
            f"Zorivest does not know (newest known: {head_revision()}); it was written by a "
            "newer Zorivest: upgrade Zorivest to open it"
        )
    if not heads:
        present = sorted(_BASELINE_TABLES.intersection(inspect(connection).get_table_names()))
        if present:
            raise SchemaVersionError(
                "the database has Zorivest tables but no schema revision (alembic_version): "
                f"it was not created by migrations ({', '.join(present[:3])}, ...); "
                "refusing to migrate it"
            )
    return heads


def _sqlite_file(connection: Connection) -> str | None:
    """The main database file of a SQLite connection ("" / None in memory)."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        row = cursor.execute("PRAGMA database_list").fetchone()
    finally:
        cursor.close()
    return str(row[2]) if row and row[2] else None


@contextmanager
def _sqlite_upgrade_lock(connection: Connection) -> Iterator[None]:
    """Serialise upgrades of one SQLite file across processes (an ``flock`` on it).

    Each revision commits on its own, so SQLite's write lock alone would let a second
    process read the old revision, then run the same revision again after the first
    committed it. With this lock the second waits for the first to finish, then finds
    nothing to do. ``flock`` locks are apart from the POSIX record locks SQLite uses, and
    the descriptor is the process's shared one (`FileHold`), never one whose closing
    would drop SQLite's locks while the journal is open.
    """
    file = _sqlite_file(connection)
    if file is None or fcntl is None:
        yield
        return
    with FileHold(file) as held:
        fcntl.flock(held.descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held.descriptor, fcntl.LOCK_UN)


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection outside any transaction, holding the migration lock of its database.

    PostgreSQL: a session-level advisory lock; a SQLite file: an ``flock`` on the file.
    """
    with engine.connect() as connection:
        locked = connection.dialect.name == "postgresql"
        if locked:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
            connection.commit()
        try:
            if connection.dialect.name == "sqlite":
                with _sqlite_upgrade_lock(connection):
                    yield connection
            else:
                yield connection
        finally:
            if connection.in_transaction():
                connection.rollback()
            if locked and not connection.invalidated:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
                connection.commit()


def check_compatible(engine: Engine) -> None:
    """Raise SchemaVersionError when the database's revision is unknown to this code.

    Unknown means newer: written by a later Zorivest. Also refused: a database holding
    Zorivest tables without any revision (created outside the migrations). An empty
    database and one at an older known revision are compatible.
    """
    with engine.connect() as connection:
        _check_connection(connection)


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None for a database never migrated (or at base)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def needs_upgrade(engine: Engine) -> bool:
    """Whether `upgrade` would change the database (SchemaVersionError if it is too new)."""
    with engine.connect() as connection:
        heads = _check_connection(connection)
    return heads != (head_revision(),)


# --------------------------------------------------------------------------- commands


def upgrade(engine: Engine, *, revision: str = "head") -> None:
    """Bring the database (empty or at an older revision) to `revision`; idempotent.

    Each revision runs in its own transaction. On SQLite foreign keys are off while a
    revision runs (batch mode rebuilds tables) and `PRAGMA foreign_key_check` must come
    back empty before it commits.

    Raises:
        SchemaVersionError: The database is newer than this code; nothing was changed.
    """
    with _migration_connection(engine) as connection:
        _check_connection(connection)
        connection.commit()  # end the autobegun read: env.py must start outside a transaction
        with _COMMAND_LOCK:
            command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to `revision` ("base" drops every table). Destroys data.

    Raises:
        SchemaVersionError: The database is newer than this code; nothing was changed.
    """
    with _migration_connection(engine) as connection:
        _check_connection(connection)
        connection.commit()
        with _COMMAND_LOCK:
            command.downgrade(alembic_config(connection), revision)


# --------------------------------------------------------------------------- autogenerate

_WHITESPACE = re.compile(r"\s+")


def _storage_type(type_: TypeEngine[Any], dialect: Dialect) -> TypeEngine[Any]:
    """The type a column really has in `dialect`'s DDL, looking through our TypeDecorators."""
    while isinstance(type_, TypeDecorator):
        type_ = type_.load_dialect_impl(dialect)
    return type_


def _ddl(type_: TypeEngine[Any], dialect: Dialect) -> str:
    rendered = dialect.type_compiler_instance.process(_storage_type(type_, dialect))
    return _WHITESPACE.sub(" ", rendered).replace(", ", ",").strip().upper()


def compare_type(
    context: MigrationContext,
    inspected_column: Column[Any],
    metadata_column: Column[Any],
    inspected_type: TypeEngine[Any],
    metadata_type: TypeEngine[Any],
) -> bool | None:
    """Alembic ``compare_type`` hook: True when the stored type differs from the model's.

    The models' TypeDecorators (ExactDecimal, UTCDateTime, JSONText) are resolved to the
    type they really store on this dialect: `ExactDecimal(scale)` is BIGINT on SQLite and
    NUMERIC(18, scale) on PostgreSQL, `UTCDateTime` is DATETIME / TIMESTAMP WITH TIME ZONE,
    `JSONText` is TEXT. That DDL is compared exactly with the reflected column's DDL, so a
    changed scale on PostgreSQL or a changed storage type is reported, and nothing else is.
    Plain types that render identically are equal; for the rest Alembic's own comparison
    (which knows its type synonyms) decides.

    On SQLite an ExactDecimal's scale is not visible in the schema (it is BIGINT for every
    scale): changing a scale needs a hand-written data migration either way.
    """
    dialect = context.dialect
    same = _ddl(metadata_type, dialect) == _ddl(inspected_type, dialect)
    if isinstance(metadata_type, TypeDecorator):
        return not same
    return False if same else None


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render our TypeDecorators as plain SQLAlchemy types in generated revisions.

    A revision is frozen history: it must create the same DDL in five years, whatever
    `zorivest_infra.database.types` has become by then. So autogenerate writes the storage
    type, e.g. ``sa.Numeric(18, 10).with_variant(sa.BigInteger(), "sqlite")`` for a price.
    """
    if type_ != "type":
        return False
    if isinstance(obj, ExactDecimal):
        return (
            f'sa.Numeric({SIGNIFICANT_DIGITS}, {obj.scale}).with_variant(sa.BigInteger(), "sqlite")'
        )
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, JSONText):
        return "sa.Text()"
    return False


def autogenerate_options(dialect_name: str) -> dict[str, Any]:
    """Options ``env.py`` passes to ``context.configure`` (and tests to MigrationContext)."""
    return {
        "compare_type": compare_type,
        "compare_server_default": True,
        "render_item": render_item,
        "render_as_batch": dialect_name == "sqlite",
    }
