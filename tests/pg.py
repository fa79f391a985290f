"""PostgreSQL test databases: one private schema per use, dropped afterwards.

Tests that need PostgreSQL read ZORIVEST_TEST_PG_URL and are skipped with that reason when
it is unset. Each use gets its own schema, so concurrent runs on one server do not meet.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL_VARIABLE = "ZORIVEST_TEST_PG_URL"


def pg_url() -> str | None:
    """The PostgreSQL test server's URL, or None when PostgreSQL tests are not configured."""
    return os.environ.get(PG_URL_VARIABLE) or None


def require_pg_url() -> str:
    """The PostgreSQL test server's URL; skips the test when it is not configured."""
    url = pg_url()
    if url is None:
        pytest.skip(f"PostgreSQL tests need {PG_URL_VARIABLE} (e.g. postgresql+psycopg://...)")
    return url


@contextmanager
def private_schema(prefix: str) -> Iterator[tuple[str, str]]:
    """Create a fresh schema (skipping when PostgreSQL is not configured); yield (url, schema).

    Connect into it with `search_path_args(schema)` or `url_in_schema(url, schema)`.
    """
    url = require_pg_url()
    schema = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield url, schema
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def search_path_args(schema: str) -> dict[str, str]:
    """psycopg connect arguments that put a connection's search_path on `schema`."""
    return {"options": f"-csearch_path={schema}"}


def url_in_schema(url: str, schema: str) -> str:
    """`url` with its search_path on `schema` (for APIs that take only a URL)."""
    with_options = make_url(url).update_query_dict(search_path_args(schema))
    return with_options.render_as_string(hide_password=False)
