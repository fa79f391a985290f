"""Read-only that is read-only, busy journals, and server schemas created on purpose.

Stored data is checked with raw SQL (sqlite3/SQLCipher or a fresh engine), never through
the code under test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.pg import private_schema, url_in_schema
from zorivest_core.domain.entities import Account, Trade
from zorivest_core.domain.enums import AccountType, TradeAction
from zorivest_core.domain.errors import BusyError, ReadOnlyError, ZorivestError
from zorivest_infra.database.connection import KdfParameters
from zorivest_infra.journal import Journal, SchemaMissingError

PASSPHRASE = "access test passphrase"
CHEAP = KdfParameters(time_cost=1, memory_cost_kib=1024, parallelism=1)
FILLED = dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.UTC)


def trade(exec_id: str) -> Trade:
    return Trade(exec_id, FILLED, "AAPL", TradeAction.BOT, Decimal(1), Decimal("10.5"), "A1")


def fill(journal: Journal) -> None:
    with journal.unit_of_work() as uow:
        uow.accounts.save(Account("A1", "Main", AccountType.BROKER))
        uow.trades.save(trade("T1"))
        uow.commit()


def save_trade(journal: Journal, exec_id: str) -> None:
    with journal.unit_of_work() as uow:
        uow.trades.save(trade(exec_id))
        uow.commit()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(params=["sqlite", "sqlcipher", "postgresql"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Journal]:
    if request.param == "postgresql":
        with private_schema("za") as (url, schema):
            opened = Journal.connect(url_in_schema(url, schema), create_schema=True)
            try:
                yield opened
            finally:
                opened.close()
        return
    if request.param == "sqlite":
        opened = Journal.connect(f"sqlite:///{tmp_path / 'plain.db'}", create_schema=True)
    else:
        opened = Journal.create(tmp_path / "j.zorivest", PASSPHRASE, kdf=CHEAP)
    with opened:
        yield opened


def count_trades(journal: Journal) -> int:
    # A fresh connection outside the units of work under test.
    with journal.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM trades")).scalar_one())


# ---------------------------------------------------------------------------------------------
# unit_of_work(read_only=True)
# ---------------------------------------------------------------------------------------------


def test_write_in_a_read_only_unit_of_work_raises_and_writes_nothing(journal: Journal) -> None:
    fill(journal)
    with journal.unit_of_work(read_only=True) as uow:
        assert uow.trades.get("T1") is not None
        with pytest.raises(ReadOnlyError, match="read-only unit of work"):
            uow.trades.save(trade("T2"))
        uow.commit()
    assert count_trades(journal) == 1
    # The same pooled connections write again in a writing unit of work.
    with journal.unit_of_work() as uow:
        uow.trades.save(trade("T3"))
        uow.commit()
    assert count_trades(journal) == 2


def test_read_only_error_is_a_zorivest_error() -> None:
    assert issubclass(ReadOnlyError, ZorivestError)
    assert issubclass(BusyError, ZorivestError)


# ---------------------------------------------------------------------------------------------
# A journal on a read-only file system / a read-only file
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def read_only_directory(directory: Path) -> Iterator[None]:
    """Make `directory` (and its files) unwritable for this process, then restore it.

    Not root: chmod 0444 files in a 0555 directory. Root passes permission checks, so a
    tmpfs holding copies of the files is mounted over the directory and made read-only.
    """
    if os.geteuid() != 0:
        for item in directory.iterdir():
            item.chmod(0o444)
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)
            for item in directory.iterdir():
                item.chmod(0o600)
        return
    mount, umount = shutil.which("mount"), shutil.which("umount")
    if mount is None or umount is None:
        pytest.skip("running as root without mount(8): cannot make a read-only file system")
    staging = directory.with_name(directory.name + "-staging")
    shutil.copytree(directory, staging)
    mounted = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(directory)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"running as root and cannot mount a tmpfs: {mounted.stderr!r}")
    try:
        for item in staging.iterdir():
            shutil.copy2(item, directory / item.name)
            (directory / item.name).chmod(0o444)
        subprocess.run([mount, "-o", "remount,ro", str(directory)], check=True)
        yield
    finally:
        subprocess.run([umount, str(directory)], check=True)


def test_journal_on_a_read_only_file_system_opens_for_reading(tmp_path: Path) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    path = directory / "j.zorivest"
    with Journal.create(path, PASSPHRASE, kdf=CHEAP) as journal:
        fill(journal)
    before = sha256(path)
    backup = tmp_path / "backup.zorivest"
    with read_only_directory(directory):
        with Journal.open(path, PASSPHRASE) as journal:
            assert journal.read_only
            with journal.unit_of_work(read_only=True) as uow:
                assert uow.trades.get("T1") is not None
            info = journal.info()
            assert info.row_counts["trades"] == 1
            report = journal.verify()
            assert report.ok, report.problems
            journal.backup(backup)
            with pytest.raises(ReadOnlyError):
                save_trade(journal, "T2")
            with pytest.raises(ReadOnlyError):
                journal.change_passphrase("another passphrase")
        assert sorted(p.name for p in directory.iterdir()) == ["j.zorivest"]
        assert sha256(path) == before
    with Journal.open(backup, PASSPHRASE) as copy, copy.unit_of_work(read_only=True) as uow:
        assert uow.trades.get("T1") is not None


def test_cli_reads_a_journal_on_a_read_only_file_system(tmp_path: Path) -> None:
    from tests.integration.test_cli import run_zorivest

    directory = tmp_path / "ro"
    directory.mkdir()
    path = directory / "j.zorivest"
    with Journal.create(path, PASSPHRASE) as journal:  # the CLI derives with the file's
        fill(journal)
    with read_only_directory(directory):
        for command in (["trades", path], ["info", path], ["verify", path]):
            result = run_zorivest(*command, cwd=tmp_path, passphrase=PASSPHRASE)
            assert result.returncode == 0, result.stderr
        backup = run_zorivest(
            "backup", path, tmp_path / "b.zorivest", cwd=tmp_path, passphrase=PASSPHRASE
        )
        assert backup.returncode == 0, backup.stderr
        written = run_zorivest(
            "account", "add", path, "NEW", "--name", "x", cwd=tmp_path, passphrase=PASSPHRASE
        )
        assert written.returncode == 14, written.stderr
        assert "read-only" in written.stderr
        assert "Traceback" not in written.stderr


# ---------------------------------------------------------------------------------------------
# Busy
# ---------------------------------------------------------------------------------------------


def test_busy_timeout_is_a_busy_error_with_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from zorivest_infra.database import connection

    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 0)
    path = tmp_path / "plain.db"
    with Journal.connect(f"sqlite:///{path}", create_schema=True) as journal:
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
            with pytest.raises(BusyError) as caught:
                fill(journal)
            assert "another zorivest command is writing to this journal; try again" in str(
                caught.value
            )
        finally:
            other.execute("ROLLBACK")
            other.close()


@pytest.mark.postgres
def test_postgresql_lock_failure_is_a_busy_error() -> None:
    with private_schema("zb") as (url, schema):
        scoped = url_in_schema(url, schema)
        with Journal.connect(scoped, create_schema=True) as journal:
            fill(journal)
            holder = create_engine(scoped)
            try:
                with holder.begin() as conn:
                    conn.execute(text("SELECT * FROM trades FOR UPDATE"))
                    with journal.unit_of_work() as uow:
                        session_conn = uow.trades._connection()  # type: ignore[attr-defined]
                        session_conn.execute(text("SET LOCAL lock_timeout = '1ms'"))
                        with pytest.raises(BusyError, match="try again"):
                            uow.trades.delete("T1")
            finally:
                holder.dispose()


# ---------------------------------------------------------------------------------------------
# Server databases get the schema on purpose only
# ---------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_connect_without_schema_refuses_and_writes_nothing() -> None:
    with private_schema("zs") as (url, schema):
        scoped = url_in_schema(url, schema)
        admin = create_engine(scoped)
        try:
            with admin.begin() as conn:
                conn.execute(text("CREATE TABLE someone_elses (x int)"))
            with pytest.raises(SchemaMissingError, match="init --url"):
                Journal.connect(scoped)
            with admin.connect() as conn:
                assert inspect(conn).get_table_names() == ["someone_elses"]
            with Journal.connect(scoped, create_schema=True) as journal:
                fill(journal)
            with Journal.connect(scoped) as journal:
                assert count_trades(journal) == 1
        finally:
            admin.dispose()


@pytest.mark.postgres
def test_cli_init_url_creates_and_other_commands_refuse_without_schema(tmp_path: Path) -> None:
    from tests.integration.test_cli import run_zorivest

    with private_schema("zc") as (url, schema):
        scoped = url_in_schema(url, schema)
        refused = run_zorivest("trades", "--url", scoped, cwd=tmp_path, passphrase=None)
        assert refused.returncode == 7, refused.stderr
        assert "init --url" in refused.stderr
        assert "Traceback" not in refused.stderr
        upgrade = run_zorivest("upgrade", "--url", scoped, cwd=tmp_path, passphrase=None)
        assert upgrade.returncode == 7, upgrade.stderr
        admin = create_engine(scoped)
        try:
            with admin.connect() as conn:
                assert inspect(conn).get_table_names() == []
        finally:
            admin.dispose()
        created = run_zorivest("init", "--url", scoped, cwd=tmp_path, passphrase=None)
        assert created.returncode == 0, created.stderr
        again = run_zorivest("init", "--url", scoped, cwd=tmp_path, passphrase=None)
        assert again.returncode == 11, again.stderr
        listed = run_zorivest("trades", "--url", scoped, cwd=tmp_path, passphrase=None)
        assert listed.returncode == 0, listed.stderr
        upgraded = run_zorivest("upgrade", "--url", scoped, cwd=tmp_path, passphrase=None)
        assert upgraded.returncode == 0, upgraded.stderr


def test_sqlite_url_to_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / f"{uuid.uuid4().hex}.db"
    with pytest.raises(SchemaMissingError):
        Journal.connect(f"sqlite:///{path}")
    assert not path.exists()


def test_cli_busy_journal_has_its_own_exit_code_and_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from zorivest_infra.cli.app import app
    from zorivest_infra.database import connection
    from zorivest_infra.database.connection import (
        key_for_existing_journal,
        open_keyed_connection,
    )

    path = tmp_path / "j.zorivest"
    Journal.create(path, PASSPHRASE, kdf=CHEAP).close()
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 0)
    with key_for_existing_journal(path, PASSPHRASE) as key:
        other = open_keyed_connection(path, key)
    other.isolation_level = None
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
        result = CliRunner().invoke(
            app,
            ["account", "add", str(path), "A1", "--name", "Main"],
            env={"ZORIVEST_PASSPHRASE": PASSPHRASE},
        )
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.exit_code == 13, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "another zorivest command is writing to this journal; try again" in lines[0]
    assert "Traceback" not in result.output
