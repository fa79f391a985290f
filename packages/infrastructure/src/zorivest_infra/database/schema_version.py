"""The schema revision a database is at, read with one SELECT and without Alembic.

Opening a journal that is already at `HEAD_REVISION` (the common case) needs only this
module; Alembic is imported (by `zorivest_infra.database.migrations`) when an upgrade or
a full version check is due. `tests/integration/test_migrations.py` checks that
`HEAD_REVISION` is Alembic's head, so a new revision cannot forget to move it.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Engine, exc, text

HEAD_REVISION: Final = "0004"
"""The newest revision this code knows (Alembic's head)."""


def read_revisions(engine: Engine) -> tuple[str, ...] | None:
    """The revisions in ``alembic_version``, or None when the table does not exist."""
    with engine.connect() as connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            return tuple(sorted(str(row[0]) for row in rows))
        except exc.DBAPIError:
            # No such table (or no permission to read it): only the full check can tell.
            connection.rollback()
            return None


def read_revision(engine: Engine) -> str | None:
    """The single revision the database is at; None if none or several."""
    revisions = read_revisions(engine)
    return revisions[0] if revisions is not None and len(revisions) == 1 else None


def is_at_head(engine: Engine) -> bool:
    """Whether the database is exactly at `HEAD_REVISION` (one SELECT)."""
    return read_revisions(engine) == (HEAD_REVISION,)
