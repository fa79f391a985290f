"""Shared fixtures: the backends every contract test runs against.

`backend_engine` is parametrised over in-memory SQLite, an encrypted SQLCipher file and
PostgreSQL. PostgreSQL runs when ZORIVEST_TEST_PG_URL is set (CI sets it) and is skipped
with that reason otherwise. Each test run gets its own PostgreSQL schema, so concurrent
runs on one server do not interfere.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from tests.pg import private_schema, search_path_args
from zorivest_infra.database.models import Base
from zorivest_infra.database.seed import seed_defaults

# Property tests: "ci" is derandomised (the same examples every run, no example database),
# "dev" (the default) explores new random examples each run, and "fuzz" is the opt-in long
# run: HYPOTHESIS_PROFILE=fuzz uv run pytest tests/unit/test_entity_properties.py
settings.register_profile(
    "ci", max_examples=150, deadline=None, derandomize=True, database=None, print_blob=True
)
settings.register_profile("dev", max_examples=150, deadline=None)
settings.register_profile("fuzz", max_examples=20_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

BACKENDS = ("sqlite", "sqlcipher", "postgresql")


@pytest.fixture(scope="session")
def pg_schema_engine() -> Iterator[Engine]:
    """An engine on a private schema of the PostgreSQL test database, created once per run."""
    from zorivest_infra.database.engine import create_engine_from_url

    with private_schema("zt") as (url, schema):
        engine = create_engine_from_url(url, connect_args=search_path_args(schema))
        Base.metadata.create_all(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def _reset_pg(engine: Engine) -> None:
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        seed_defaults(connection)


def _sqlite_memory_engine() -> Engine:
    from zorivest_infra.database.engine import create_engine_from_url

    return create_engine_from_url("sqlite://")


def _sqlcipher_engine(path: Path) -> Engine:
    from zorivest_infra.database.engine import create_encrypted_engine

    return create_encrypted_engine(path, "contract-suite passphrase")


@pytest.fixture
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap Argon2id parameters for tests that are not about the KDF itself."""
    from zorivest_infra.database import connection

    monkeypatch.setattr(
        connection,
        "KDF_PARAMETERS",
        connection.KdfParameters(time_cost=1, memory_cost_kib=1024, parallelism=1, hash_len=32),
    )


@pytest.fixture(params=BACKENDS)
def backend_engine(
    request: pytest.FixtureRequest, tmp_path: Path, fast_kdf: None
) -> Iterator[Engine]:
    """A freshly created, seeded schema on each backend."""
    name = request.param
    if name == "postgresql":
        engine = request.getfixturevalue("pg_schema_engine")
        _reset_pg(engine)
        yield engine
        return
    engine = _sqlite_memory_engine() if name == "sqlite" else _sqlcipher_engine(tmp_path / "j.db")
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        seed_defaults(connection)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def session_factory(backend_engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=backend_engine, expire_on_commit=False)


@pytest.fixture
def backend_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def seed_session() -> Iterator[Session]:
    """The seed's own fixture: a plain in-memory SQLite engine with create_all."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Skipped tests as one line per reason with a count (not one line per test)."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons = Counter(_skip_reason(report) for report in skipped)
    terminalreporter.section("skipped, by reason", sep="-")
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count:>5}  {reason}")
