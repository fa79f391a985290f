"""`Journal`: the one-call entry point, on real encrypted files under tmp_path.

Every test uses cheap Argon2id parameters (`fast_kdf`) except the one about the KDF's own
parameters. Keys are obtained in a test-only way (`derive_key` with the file's salt) to
prove they never leak.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import pickle
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tests.factories import make_account, make_trade
from tests.pg import private_schema, url_in_schema
from zorivest_core.domain.entities import MarketProviderSetting
from zorivest_core.domain.errors import (
    ConflictError,
    CorruptJournalError,
    DuplicateError,
    InvalidPassphraseError,
    NotEncryptedError,
    NotFoundError,
    SchemaVersionError,
    ValidationError,
)
from zorivest_infra import journal as journal_module
from zorivest_infra.database import connection, migrations
from zorivest_infra.database.connection import (
    CipherConnection,
    JournalKey,
    KdfParameters,
    derive_key,
    key_for_existing_journal,
    open_keyed_connection,
    read_journal_salt,
)
from zorivest_infra.database.engine import create_engine_from_url
from zorivest_infra.database.models import Base
from zorivest_infra.journal import (
    Journal,
    JournalClosedError,
    JournalExistsError,
    JournalNotFoundError,
    NotAJournalDatabaseError,
    UnsupportedOperationError,
    VerifyReport,
    snapshot_path,
)
from zorivest_infra.secrets import ApiKeyCipher, ApiKeyCipherUnavailableError

PASSPHRASE = "correct horse battery staple"
MARKER = "ZVMARKER7F3A9C"
SQLITE_HEADER = b"SQLite format 3\x00"

pytestmark = pytest.mark.usefixtures("fast_kdf")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def key_hex(path: Path, passphrase: str) -> str:
    """The journal key as hex, derived the way only a test should (never from the API)."""
    return derive_key(passphrase, read_journal_salt(path)).hex()


def raw_connection(path: Path, passphrase: str) -> CipherConnection:
    with key_for_existing_journal(path, passphrase) as key:
        return open_keyed_connection(path, key)


def create_with_trades(path: Path, passphrase: str = PASSPHRASE, count: int = 1) -> None:
    with Journal.create(path, passphrase) as journal:
        save_trades(journal, [f"T{i:05d}" for i in range(count)], account=True)


def save_trades(
    journal: Journal, exec_ids: list[str], *, account: bool = False, instrument: str = "AAPL"
) -> None:
    with journal.unit_of_work() as uow:
        if account:
            uow.accounts.save(make_account("ACC1", notes=f"notes {MARKER}"))
        for exec_id in exec_ids:
            uow.trades.save(make_trade(exec_id, instrument=instrument))
        uow.commit()


def trade_count(journal: Journal) -> int:
    with journal.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM trades")).scalar_one())


def listing(directory: Path) -> set[str]:
    return {entry.name for entry in directory.iterdir()}


def is_wiped(key: JournalKey) -> bool:
    return key.wiped


def exception_text(error: BaseException) -> str:
    """Everything an error would show: message, repr, and the formatted chain."""
    return "\n".join(
        [str(error), repr(error), *traceback.format_exception(type(error), error, None)]
    )


# ---------------------------------------------------------------------------------------------
# create / open
# ---------------------------------------------------------------------------------------------


def test_create_open_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with Journal.create(path, PASSPHRASE) as journal:
        assert journal.path == path
        assert journal.encrypted
        assert journal.schema_revision == migrations.head_revision()
        with journal.unit_of_work() as uow:
            uow.accounts.save(make_account("ACC1"))
            uow.trades.save(make_trade("T1", instrument="MSFT"))
            uow.commit()
        assert journal.verify() == VerifyReport(
            ok=True,
            problems=[],
            checks={
                "open": True,
                "cipher_integrity_check": True,
                "integrity_check": True,
                "foreign_key_check": True,
                "schema_revision": True,
            },
        )
    assert journal.closed

    with Journal.open(str(path), PASSPHRASE) as reopened:
        with reopened.unit_of_work() as uow:
            account = uow.accounts.get("ACC1")
            trade = uow.trades.get("T1")
        assert account is not None
        assert account.name == "Account ACC1"
        assert trade == make_trade("T1", instrument="MSFT")
        # The baseline migration seeded the defaults and the MCP guard row.
        counts = reopened.info().row_counts
        assert counts["app_defaults"] > 0
        assert counts["mcp_guard"] == 1


def test_create_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path)
    before = sha256(path)
    with pytest.raises(JournalExistsError, match="already exists") as caught:
        Journal.create(path, PASSPHRASE)
    assert isinstance(caught.value, DuplicateError)
    assert isinstance(caught.value, FileExistsError)
    assert sha256(path) == before

    other = tmp_path / "notes.txt"
    other.write_text("not a journal")
    with pytest.raises(JournalExistsError):
        Journal.create(other, PASSPHRASE)
    assert other.read_text() == "not a journal"


def test_create_and_backup_refuse_a_stale_write_ahead_log(tmp_path: Path) -> None:
    stale = tmp_path / "journal.db-wal"
    stale.write_bytes(b"stale log of a deleted database")
    with pytest.raises(JournalExistsError, match="-wal"):
        Journal.create(tmp_path / "journal.db", PASSPHRASE)
    assert listing(tmp_path) == {"journal.db-wal"}
    create_with_trades(tmp_path / "other.db")
    (tmp_path / "backup.db-journal").write_bytes(b"stale")
    journal = Journal.open(tmp_path / "other.db", PASSPHRASE)
    try:
        with pytest.raises(JournalExistsError, match="-journal"):
            journal.backup(tmp_path / "backup.db")
    finally:
        journal.close()
    assert not (tmp_path / "backup.db").exists()


def test_the_same_journal_open_twice_in_one_process(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path, count=2)
    with Journal.open(path, PASSPHRASE) as first:
        save_trades(first, ["F1"])  # committed, still in the WAL
        with Journal.open(path, PASSPHRASE) as second:
            assert trade_count(second) == 3
            save_trades(second, ["S1"])
            assert trade_count(first) == 4
        save_trades(first, ["F2"])
    with Journal.open(path, PASSPHRASE) as journal:
        assert trade_count(journal) == 5
        assert journal.verify().ok


def test_create_in_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(JournalNotFoundError, match="does not exist"):
        Journal.create(tmp_path / "missing" / "journal.db", PASSPHRASE)


def test_create_refuses_an_empty_passphrase(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Journal.create(tmp_path / "journal.db", "")
    assert not (tmp_path / "journal.db").exists()


def test_open_a_missing_journal(tmp_path: Path) -> None:
    with pytest.raises(JournalNotFoundError, match="no journal") as caught:
        Journal.open(tmp_path / "missing.db", PASSPHRASE)
    assert isinstance(caught.value, NotFoundError)
    assert isinstance(caught.value, FileNotFoundError)
    assert not (tmp_path / "missing.db").exists()


def test_open_a_plaintext_database_or_garbage(tmp_path: Path) -> None:
    plain = tmp_path / "plain.db"
    with sqlite3.connect(plain) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(NotEncryptedError, match="encrypt_plaintext"):
        Journal.open(plain, PASSPHRASE)

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(4096 * 3))
    with pytest.raises((CorruptJournalError, InvalidPassphraseError)):
        Journal.open(garbage, PASSPHRASE)

    text_file = tmp_path / "text.db"
    text_file.write_text("hello")
    with pytest.raises(CorruptJournalError):
        Journal.open(text_file, PASSPHRASE)


def test_plain_sqlite3_cannot_read_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path)
    assert path.read_bytes()[:16] != SQLITE_HEADER
    conn = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="not a database"):
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()


def test_marker_is_absent_from_the_file_its_wal_and_its_backup(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    wal = Path(f"{path}-wal")
    with Journal.create(path, PASSPHRASE) as journal:
        save_trades(journal, ["M1", "M2"], account=True, instrument=MARKER)
        # Still open, not checkpointed: the new rows are in the WAL.
        assert wal.exists()
        assert wal.stat().st_size > 0
        for part in (path, wal):
            raw = part.read_bytes()
            assert MARKER.encode() not in raw
            assert MARKER.encode("utf-16-le") not in raw
        backup = journal.backup(tmp_path / "backup.db")
        assert MARKER.encode() not in backup.read_bytes()
        with journal.unit_of_work() as uow:
            stored = uow.trades.get("M1")
        assert stored is not None
        assert stored.instrument == MARKER
    assert MARKER.encode() not in path.read_bytes()
    with Journal.open(backup, PASSPHRASE) as copy, copy.unit_of_work() as uow:
        restored = uow.trades.get("M2")
    assert restored is not None
    assert restored.instrument == MARKER


@pytest.mark.parametrize(
    "wrong",
    [
        "wrong passphrase",
        PASSPHRASE[:-1] + "f",  # one character different
        PASSPHRASE + " ",
        PASSPHRASE.upper(),
    ],
)
def test_wrong_passphrase_raises_and_leaves_the_file_unchanged(tmp_path: Path, wrong: str) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path)
    before = sha256(path)
    files = listing(tmp_path)
    with pytest.raises(InvalidPassphraseError, match="wrong passphrase"):
        Journal.open(path, wrong)
    assert sha256(path) == before
    assert listing(tmp_path) == files
    with Journal.open(path, PASSPHRASE) as journal:
        assert trade_count(journal) == 1


@pytest.mark.parametrize(
    "passphrase",
    [
        "it's a \"quoted\" pass'phrase'; DROP TABLE trades; --",
        "x'00'",
        "pässwörd 🔐 密码 пароль",
        "p" * 1000,
        "é" * 1000,
    ],
    ids=["quotes", "hex-literal-lookalike", "unicode", "1000-ascii", "1000-unicode"],
)
def test_unusual_passphrases_work(tmp_path: Path, passphrase: str) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path, passphrase)
    with Journal.open(path, passphrase) as journal:
        assert trade_count(journal) == 1
    with pytest.raises(InvalidPassphraseError):
        Journal.open(path, passphrase[:-1] or "other")


def test_the_single_closed_file_opens_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "a" / "journal.db"
    path.parent.mkdir()
    create_with_trades(path, count=3)
    assert listing(path.parent) == {"journal.db"}  # no side files once closed
    moved = tmp_path / "b" / "renamed.journal"
    moved.parent.mkdir()
    shutil.copyfile(path, moved)
    with Journal.open(moved, PASSPHRASE) as journal:
        assert trade_count(journal) == 3
        assert journal.verify().ok


def test_paths_may_be_str_or_pathlike(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with Journal.create(str(path), PASSPHRASE) as journal:
        assert journal.path == path
    with Journal.open(path, PASSPHRASE) as journal:
        assert isinstance(journal.path, Path)
        backup = journal.backup(str(tmp_path / "b.db"))
    assert backup == tmp_path / "b.db"


# ---------------------------------------------------------------------------------------------
# KDF runs
# ---------------------------------------------------------------------------------------------


def test_fifty_pooled_connections_cost_one_kdf_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path, count=2)

    derive_calls: list[int] = []
    argon_calls: list[int] = []
    real_derive = connection.derive_key
    real_argon = connection.hash_secret_raw  # type: ignore[attr-defined]

    def counting_derive(password: str, salt: bytes) -> bytes:
        derive_calls.append(1)
        return real_derive(password, salt)

    def counting_argon(**kwargs: Any) -> bytes:
        argon_calls.append(1)
        result: bytes = real_argon(**kwargs)
        return result

    monkeypatch.setattr(connection, "derive_key", counting_derive)
    monkeypatch.setattr(connection, "hash_secret_raw", counting_argon)

    with Journal.open(path, PASSPHRASE) as journal:
        assert (len(derive_calls), len(argon_calls)) == (1, 1)
        held = [journal.engine.connect() for _ in range(50)]
        try:
            counts = [
                conn.execute(text("SELECT count(*) FROM trades")).scalar_one() for conn in held
            ]
            assert counts == [2] * 50
            assert journal.engine.pool.checkedout() == 50  # type: ignore[attr-defined]
        finally:
            for conn in held:
                conn.close()
    assert (len(derive_calls), len(argon_calls)) == (1, 1)


def test_real_kdf_parameters_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The one test with the production Argon2id parameters (RFC 9106, 64 MiB, t=3, p=4).
    monkeypatch.setattr(connection, "KDF_PARAMETERS", KdfParameters())
    path = tmp_path / "journal.db"
    with Journal.create(path, PASSPHRASE) as journal:
        info = journal.info()
    assert info.kdf == KdfParameters(time_cost=3, memory_cost_kib=65_536, parallelism=4)
    assert info.encrypted
    assert info.backend == "sqlcipher"
    assert info.cipher_version is not None
    assert info.cipher_version.startswith("4.")
    with Journal.open(path, PASSPHRASE) as journal:
        assert journal.schema_revision == migrations.head_revision()


# ---------------------------------------------------------------------------------------------
# change_passphrase
# ---------------------------------------------------------------------------------------------


def test_change_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    new = "a new 'passphrase' ✓"
    create_with_trades(path, count=5)
    old_salt = read_journal_salt(path)
    with Journal.open(path, PASSPHRASE) as journal:
        old_engine = journal.engine
        journal.change_passphrase(new)
        assert journal.engine is not old_engine
        # Still usable, with the data intact, without reopening.
        assert trade_count(journal) == 5
        save_trades(journal, ["AFTER"])
        assert journal.verify().ok
    assert read_journal_salt(path) != old_salt
    assert listing(tmp_path) == {"journal.db"}

    with pytest.raises(InvalidPassphraseError):
        Journal.open(path, PASSPHRASE)
    with Journal.open(path, new) as journal:
        assert trade_count(journal) == 6
        with journal.unit_of_work() as uow:
            assert uow.trades.get("T00003") == make_trade("T00003")


def test_change_passphrase_reencrypts_provider_api_keys(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path)
    api_key = "sk-live-0123456789"
    # Store an API key as the market-provider repository would (journal-key cipher).
    with key_for_existing_journal(path, PASSPHRASE) as key:
        stored = ApiKeyCipher.from_journal_key(key).encrypt(api_key)
    conn = raw_connection(path, PASSPHRASE)
    try:
        conn.execute(
            "INSERT INTO market_provider_settings (provider_name, encrypted_api_key, created_at)"
            " VALUES ('polygon', ?, '2024-01-01 00:00:00.000000')",
            (stored,),
        )
        conn.commit()
    finally:
        conn.close()

    with Journal.open(path, PASSPHRASE) as journal:
        journal.change_passphrase("second")
        with journal.engine.connect() as db:
            after = db.execute(
                text("SELECT encrypted_api_key FROM market_provider_settings")
            ).scalar_one()
    assert after != stored
    assert ApiKeyCipher.is_encrypted(after)
    with key_for_existing_journal(path, "second") as key:
        assert ApiKeyCipher.from_journal_key(key).decrypt(after) == api_key


def test_provider_api_keys_through_the_unit_of_work(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    api_key = "pk-" + MARKER
    with Journal.create(path, PASSPHRASE) as journal:
        kept = journal.unit_of_work()
        with kept as uow:
            uow.market_providers.save(MarketProviderSetting("polygon"), api_key=api_key)
            uow.commit()
        with journal.engine.connect() as db:
            stored = db.execute(
                text("SELECT encrypted_api_key FROM market_provider_settings")
            ).scalar_one()
        assert ApiKeyCipher.is_encrypted(stored)
        assert MARKER not in stored
        journal.change_passphrase("second")
        with kept as uow:  # a unit of work kept across the change uses the new key
            assert uow.market_providers.get_api_key("polygon") == api_key
    with Journal.open(path, "second") as journal, journal.unit_of_work() as uow:
        assert uow.market_providers.get_api_key("polygon") == api_key
    with Journal.connect("sqlite://", create_schema=True) as plain, plain.unit_of_work() as uow:
        uow.market_providers.save(MarketProviderSetting("polygon"))
        with pytest.raises(ApiKeyCipherUnavailableError):
            uow.market_providers.set_api_key("polygon", api_key)
    cipher = ApiKeyCipher(os.urandom(32))
    with (
        Journal.connect("sqlite://", create_schema=True, api_key_cipher=cipher) as plain,
        plain.unit_of_work() as uow,
    ):
        uow.market_providers.save(MarketProviderSetting("polygon"), api_key=api_key)
        assert uow.market_providers.get_api_key("polygon") == api_key


def test_change_passphrase_refuses_while_a_unit_of_work_is_in_use(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path)
    before = sha256(path)
    with Journal.open(path, PASSPHRASE) as journal:
        with journal.unit_of_work() as uow:
            assert uow.trades.get("T00000") is not None
            with pytest.raises(ConflictError, match="still in use"):
                journal.change_passphrase("other")
        with pytest.raises(ValidationError):
            journal.change_passphrase("")
        assert trade_count(journal) == 1
    assert sha256(path) == before
    with Journal.open(path, PASSPHRASE) as journal:
        assert trade_count(journal) == 1


CRASH_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from zorivest_infra.database import connection
    from zorivest_infra import journal as journal_module
    from zorivest_infra.journal import rekey as rekey_module

    connection.KDF_PARAMETERS = connection.KdfParameters(
        time_cost=1, memory_cost_kib=1024, parallelism=1, hash_len=32
    )
    real_checkpoint = rekey_module._checkpoint
    calls = []

    def checkpoint(conn, path):
        calls.append(1)
        if len(calls) == 2:  # the re-key has committed; its checkpoint has not run
            os.kill(os.getpid(), signal.SIGKILL)
        real_checkpoint(conn, path)

    rekey_module._checkpoint = checkpoint
    journal = journal_module.Journal.open(sys.argv[1], sys.argv[2])
    journal.change_passphrase(sys.argv[3])
    """
)


@pytest.mark.parametrize("first", ["new", "old"])
def test_crash_between_rekey_commit_and_checkpoint(tmp_path: Path, first: str) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path, count=200)
    old_salt = read_journal_salt(path)
    result = subprocess.run(
        [sys.executable, "-c", CRASH_CHILD, str(path), PASSPHRASE, "new passphrase"],
        check=False,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()
    # The crash window: the main file still shows the old salt, the log the new page 1.
    assert read_journal_salt(path) == old_salt
    assert Path(f"{path}-wal").stat().st_size > 0

    passphrases = {"new": "new passphrase", "old": PASSPHRASE}
    if first == "old":
        with pytest.raises(InvalidPassphraseError):
            Journal.open(path, passphrases["old"])
    with Journal.open(path, passphrases["new"]) as journal:  # at the first attempt
        assert trade_count(journal) == 200
        assert journal.verify().ok
    with pytest.raises(InvalidPassphraseError):
        Journal.open(path, passphrases["old"])


def test_change_passphrase_keeps_the_journal_usable_when_the_last_checkpoint_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zorivest_infra.journal import rekey as rekey_module

    path = tmp_path / "journal.db"
    create_with_trades(path, count=3)
    real_checkpoint = rekey_module._checkpoint

    class Busy:
        """A connection whose checkpoint reports that a reader held the log back."""

        def execute(self, statement: str) -> Any:
            class Row:
                @staticmethod
                def fetchone() -> tuple[int, int, int]:
                    return (1, -1, -1)

            return Row()

    calls: list[Path] = []

    def checkpoint(conn: CipherConnection, checkpointed: Path) -> None:
        calls.append(checkpointed)
        # The second checkpoint runs after the re-key has committed.
        real_checkpoint(Busy() if len(calls) == 2 else conn, checkpointed)  # type: ignore[arg-type]

    with Journal.open(path, PASSPHRASE) as journal:
        with monkeypatch.context() as patch:
            patch.setattr(rekey_module, "_checkpoint", checkpoint)
            with pytest.raises(rekey_module.RekeyCommittedError, match="NEW passphrase") as caught:
                journal.change_passphrase("new passphrase")
        assert isinstance(caught.value, ConflictError)
        assert len(calls) == 2
        # The same object carries on under the NEW key: it reads and writes.
        assert not journal.closed
        with journal.unit_of_work(read_only=True) as uow:
            assert uow.trades.get("T00001") == make_trade("T00001")
        save_trades(journal, ["AFTER"])
        assert trade_count(journal) == 4
        assert journal.verify().ok
    with pytest.raises(InvalidPassphraseError):
        Journal.open(path, PASSPHRASE)
    with Journal.open(path, "new passphrase") as journal:
        assert trade_count(journal) == 4


# ---------------------------------------------------------------------------------------------
# backup and snapshots
# ---------------------------------------------------------------------------------------------


def test_backup_while_another_thread_writes(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path, count=0)
    stop = threading.Event()
    errors: list[BaseException] = []
    written = [0]

    with Journal.open(path, PASSPHRASE) as journal:

        def writer() -> None:
            try:
                index = 0
                while not stop.is_set():
                    # Two trades per transaction: a consistent copy holds an even number.
                    save_trades(journal, [f"W{index:06d}a", f"W{index:06d}b"])
                    written[0] += 2
                    index += 1
            except BaseException as error:
                errors.append(error)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            deadline = time.monotonic() + 30
            while written[0] < 40 and time.monotonic() < deadline and not errors:
                time.sleep(0.01)
            at_start = written[0]
            backup = journal.backup(tmp_path / "backup.db")
            at_end = written[0]
            time.sleep(0.05)
        finally:
            stop.set()
            thread.join(timeout=30)
        assert not errors, errors
        assert at_end >= at_start >= 40
        final = trade_count(journal)
        assert final == written[0]

    assert mode_of(backup) == 0o600
    head = backup.read_bytes()[:16]
    assert head != SQLITE_HEADER
    assert head == read_journal_salt(path)
    with Journal.open(backup, PASSPHRASE) as copy:
        copied = trade_count(copy)
        assert copy.verify().ok
    assert copied % 2 == 0
    assert at_start <= copied <= final
    assert listing(tmp_path) == {"journal.db", "backup.db"}


def test_backup_refuses_an_existing_destination(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    dest = tmp_path / "backup.db"
    dest.write_bytes(b"precious")
    create_with_trades(path)
    with Journal.open(path, PASSPHRASE) as journal:
        with pytest.raises(JournalExistsError):
            journal.backup(dest)
        with pytest.raises(JournalExistsError):
            journal.backup(path)
        with pytest.raises(JournalNotFoundError):
            journal.backup(tmp_path / "missing" / "backup.db")
    assert dest.read_bytes() == b"precious"


def test_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    old_umask = os.umask(0o022)
    try:
        with Journal.create(path, PASSPHRASE) as journal:
            save_trades(journal, ["P1"], account=True)
            for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                assert mode_of(part) == 0o600, part
            backup = journal.backup(tmp_path / "backup.db")
            snapshot = journal.snapshot()
    finally:
        os.umask(old_umask)
    for part in (path, backup, snapshot):
        assert mode_of(part) == 0o600, part


def test_snapshot_is_an_encrypted_copy_beside_the_file(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path, count=3)
    with Journal.open(path, PASSPHRASE) as journal:
        first = journal.snapshot("pre-0001")
        second = journal.snapshot("pre-0001")
        with pytest.raises(ValidationError):
            journal.snapshot("../escape")
    assert first.parent == second.parent == tmp_path
    assert first != second
    assert re.fullmatch(r"journal\.pre-0001-\d{8}T\d{6}Z(-\d+)?\.db", first.name)
    assert re.fullmatch(r"journal\.pre-0001-\d{8}T\d{6}Z(-\d+)?\.db", second.name)
    for copy in (first, second):
        assert mode_of(copy) == 0o600
        assert read_journal_salt(copy) == read_journal_salt(path)
        with Journal.open(copy, PASSPHRASE) as restored:
            assert trade_count(restored) == 3
    stamped = snapshot_path(tmp_path / "trades", "pre-0001", stamp="20260101T000000Z")
    assert stamped == tmp_path / "trades.pre-0001-20260101T000000Z.db"


def test_open_at_head_writes_no_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path)
    assert listing(tmp_path) == {"journal.db"}
    with Journal.open(path, PASSPHRASE):
        pass
    assert listing(tmp_path) == {"journal.db"}


def test_open_with_pending_migrations_snapshots_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The journal is at head, so "pending" is simulated: the wiring is tested.
    path = tmp_path / "journal.db"
    create_with_trades(path, count=4)
    with Journal.open(path, PASSPHRASE) as journal, journal.engine.connect() as connection:
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    seen_at_upgrade: list[set[str]] = []

    def fake_upgrade(engine: Engine, *, revision: str = "head") -> None:
        del engine, revision
        seen_at_upgrade.append(listing(tmp_path))

    with monkeypatch.context() as patch:
        patch.setattr(migrations, "needs_upgrade", lambda engine: True)
        patch.setattr(migrations, "upgrade", fake_upgrade)
        with Journal.open(path, PASSPHRASE):
            pass
    snapshots = sorted(listing(tmp_path) - {"journal.db"})
    assert len(snapshots) == 1
    # Named after the revision the journal was at before the upgrade.
    assert re.fullmatch(rf"journal\.pre-{revision}-\d{{8}}T\d{{6}}Z\.db", snapshots[0])
    assert len(seen_at_upgrade) == 1
    assert snapshots[0] in seen_at_upgrade[0]  # written before the upgrade ran
    with Journal.open(tmp_path / snapshots[0], PASSPHRASE) as snapshot:
        assert trade_count(snapshot) == 4
        assert mode_of(tmp_path / snapshots[0]) == 0o600


def test_newer_schema_is_refused_and_the_file_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path)
    conn = raw_connection(path, PASSPHRASE)
    try:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
        conn.commit()
    finally:
        conn.close()
    before = sha256(path)
    files = listing(tmp_path)
    with pytest.raises(SchemaVersionError, match="newer"):
        Journal.open(path, PASSPHRASE)
    assert sha256(path) == before
    assert listing(tmp_path) == files


# ---------------------------------------------------------------------------------------------
# verify
# ---------------------------------------------------------------------------------------------


def test_verify_catches_a_flipped_byte_in_a_data_page(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path, count=300)
    conn = raw_connection(path, PASSPHRASE)
    try:
        root = int(
            conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'trades'").fetchone()[0]
        )
    finally:
        conn.close()
    assert root >= 3
    data = bytearray(path.read_bytes())
    data[(root - 1) * 4096 + 2000] ^= 0x01
    path.write_bytes(bytes(data))

    # Opening reads only the schema and alembic_version pages, so it succeeds; the damage
    # is found by verify.
    with Journal.open(path, PASSPHRASE) as journal:
        report = journal.verify()
        assert not report.ok
        assert report.checks["cipher_integrity_check"] is False
        assert report.checks["integrity_check"] is False
        assert report.checks["schema_revision"] is True
        assert any(f"page {root}" in problem for problem in report.problems), report.problems
        assert all(problem.strip() for problem in report.problems)
        # Reading the damaged table fails loudly, never with wrong data, and as the domain's
        # error (chained to the driver's), also through the bare engine.
        with (
            pytest.raises(CorruptJournalError, match="malformed") as caught,
            journal.engine.connect() as db,
        ):
            db.execute(text("SELECT exec_id, instrument FROM trades NOT INDEXED")).all()
        assert str(path) in str(caught.value)
        assert "malformed" in str(caught.value.__cause__)  # the driver's error
        with pytest.raises(CorruptJournalError), journal.unit_of_work() as uow:
            list(uow.trades.iter_for_account("ACC1"))


def commit_batches(journal: Journal, batches: int, size: int = 50) -> None:
    """Commit `batches` units of work of `size` trades each (account ACC1 must exist)."""
    for batch in range(batches):
        with journal.unit_of_work() as uow:
            uow.trades.save_many(
                [
                    make_trade(f"B{batch:04d}-{index:03d}", instrument=f"SYM{index % 17}")
                    for index in range(size)
                ]
            )
            uow.commit()


def wal_frames_not_in_main_file(path: Path) -> bool:
    """Whether committed pages still live only in the log (a PASSIVE checkpoint is short)."""
    conn = raw_connection(path, PASSPHRASE)
    try:
        conn.execute("BEGIN")  # hold the current snapshot: the checkpoint cannot pass it
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        other = raw_connection(path, PASSPHRASE)
        try:
            _busy, log, done = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            other.close()
        return bool(log > done)
    finally:
        conn.close()


def test_verify_is_clean_after_a_reader_held_the_checkpoint_back(tmp_path: Path) -> None:
    # A reader's snapshot stops checkpoints at its mark; the automatic checkpoints of the
    # commits then copy only part of the log, leaving stale pages and zero-filled holes in
    # the main file whose committed versions are in -wal. Those are not damage.
    path = tmp_path / "journal.db"
    with Journal.create(path, PASSPHRASE) as journal:
        save_trades(journal, [], account=True)
        with journal.unit_of_work(read_only=True) as reader:
            assert reader.trades.count() == 0
            commit_batches(journal, 120)
        before = listing(tmp_path)
        report = journal.verify()
        assert report.ok, report.problems
        assert report.checks["cipher_integrity_check"] is True
        assert report.checks["integrity_check"] is True
        assert listing(tmp_path) == before
        assert trade_count(journal) == 120 * 50


def test_verify_is_clean_while_a_reader_holds_the_checkpoint_back(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with Journal.create(path, PASSPHRASE) as journal:
        save_trades(journal, [], account=True)
        with journal.unit_of_work(read_only=True) as reader:
            assert reader.trades.count() == 0
            commit_batches(journal, 120)
            assert wal_frames_not_in_main_file(path)
            before = listing(tmp_path)
            report = journal.verify()
            # The reader still sees its snapshot; verify's temporary copy is gone.
            assert reader.trades.count() == 0
        assert listing(tmp_path) == before
    assert report.ok, report.problems
    assert report.checks["cipher_integrity_check"] is True


def test_verify_names_a_damaged_page_while_a_reader_holds_the_checkpoint_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path)
    conn = raw_connection(path, PASSPHRASE)
    try:
        # A table no write below touches: its page's committed version stays in the file.
        root = int(
            conn.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = 'app_defaults'"
            ).fetchone()[0]
        )
    finally:
        conn.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * 4096 + 1000] ^= 0x5A
    path.write_bytes(bytes(data))

    with Journal.open(path, PASSPHRASE) as journal:
        with journal.unit_of_work(read_only=True) as reader:
            assert reader.trades.count() == 1
            commit_batches(journal, 120)
            assert wal_frames_not_in_main_file(path)
            before = listing(tmp_path)
            report = journal.verify()
        assert listing(tmp_path) == before
    assert not report.ok
    assert report.checks["cipher_integrity_check"] is False
    assert any(
        problem.startswith("cipher_integrity_check:") and f"page {root}" in problem
        for problem in report.problems
    ), report.problems


def test_verify_reports_dangling_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path)
    conn = raw_connection(path, PASSPHRASE)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("UPDATE trades SET account_id = 'GHOST'")
        conn.commit()
    finally:
        conn.close()
    with Journal.open(path, PASSPHRASE) as journal:
        report = journal.verify()
    assert not report.ok
    assert report.checks["foreign_key_check"] is False
    assert report.checks["cipher_integrity_check"] is True
    assert report.problems == [
        "foreign_key_check: trades row 1 references a missing row of accounts"
    ]


# ---------------------------------------------------------------------------------------------
# encrypt_plaintext
# ---------------------------------------------------------------------------------------------


def plain_journal(path: Path) -> None:
    """A plaintext SQLite Zorivest database at the newest revision, with data."""
    engine = create_engine_from_url(f"sqlite:///{path}")
    try:
        migrations.upgrade(engine)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (account_id, name, account_type, created_at) "
                    "VALUES ('ACC1', :name, 'broker', '2024-01-01 00:00:00.000000')"
                ),
                {"name": MARKER},
            )
    finally:
        engine.dispose()
    # Leave no WAL behind: the source is a single plain file.
    plain = sqlite3.connect(path)
    try:
        plain.execute("PRAGMA journal_mode = DELETE")
    finally:
        plain.close()


def test_encrypt_plaintext_with_our_schema(tmp_path: Path) -> None:
    src = tmp_path / "plain.db"
    dest = tmp_path / "secret.db"
    plain_journal(src)
    src_hash = sha256(src)
    assert MARKER.encode() in src.read_bytes()
    with Journal.encrypt_plaintext(src, dest, PASSPHRASE) as journal:
        assert journal.schema_revision == migrations.head_revision()
        with journal.unit_of_work() as uow:
            account = uow.accounts.get("ACC1")
            assert account is not None
            assert account.name == MARKER
            uow.trades.save(make_trade("E1"))
            uow.commit()
        assert journal.verify().ok
    assert sha256(src) == src_hash
    assert mode_of(dest) == 0o600
    raw = dest.read_bytes()
    assert raw[:16] != SQLITE_HEADER
    assert MARKER.encode() not in raw
    with Journal.open(dest, PASSPHRASE) as journal:
        assert trade_count(journal) == 1
    with pytest.raises(InvalidPassphraseError):
        Journal.open(dest, "not it")


def test_encrypt_plaintext_of_a_foreign_database_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "other.db"
    with sqlite3.connect(src) as conn:
        conn.execute("CREATE TABLE legacy (note TEXT)")
        conn.execute("INSERT INTO legacy VALUES (?)", (MARKER,))
    conn.close()
    before = sha256(src)
    with pytest.raises(NotAJournalDatabaseError, match="legacy"):
        Journal.encrypt_plaintext(src, tmp_path / "secret.db", PASSPHRASE)
    assert not (tmp_path / "secret.db").exists()
    assert sha256(src) == before


def test_encrypt_plaintext_refusals(tmp_path: Path) -> None:
    # Our tables but no schema revision (made by create_all): refused, nothing created.
    unversioned = tmp_path / "unversioned.db"
    engine = create_engine(f"sqlite:///{unversioned}")
    Base.metadata.create_all(engine)
    engine.dispose()
    with pytest.raises(NotAJournalDatabaseError, match="no Zorivest schema revision"):
        Journal.encrypt_plaintext(unversioned, tmp_path / "a.db", PASSPHRASE)
    assert not (tmp_path / "a.db").exists()

    # A newer schema: refused.
    newer = tmp_path / "newer.db"
    plain_journal(newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
    conn.close()
    with pytest.raises(SchemaVersionError):
        Journal.encrypt_plaintext(newer, tmp_path / "b.db", PASSPHRASE)
    assert not (tmp_path / "b.db").exists()

    # Already encrypted, missing, same file, existing destination.
    encrypted = tmp_path / "encrypted.db"
    create_with_trades(encrypted)
    with pytest.raises(ValidationError, match="not a plaintext SQLite database"):
        Journal.encrypt_plaintext(encrypted, tmp_path / "c.db", PASSPHRASE)
    with pytest.raises(JournalNotFoundError):
        Journal.encrypt_plaintext(tmp_path / "missing.db", tmp_path / "d.db", PASSPHRASE)
    plain = tmp_path / "plain.db"
    plain_journal(plain)
    with pytest.raises(ValidationError):
        Journal.encrypt_plaintext(plain, plain, PASSPHRASE)
    with pytest.raises(JournalExistsError):
        Journal.encrypt_plaintext(plain, encrypted, PASSPHRASE)
    assert not {"a.db", "b.db", "c.db", "d.db"} & listing(tmp_path)


# ---------------------------------------------------------------------------------------------
# URL journals
# ---------------------------------------------------------------------------------------------


def check_url_journal(journal: Journal, tmp_path: Path) -> None:
    assert not journal.encrypted
    assert journal.schema_revision == migrations.head_revision()
    save_trades(journal, ["U1"], account=True)
    assert trade_count(journal) == 1
    report = journal.verify()
    assert report.ok, report.problems
    assert "cipher_integrity_check" not in report.checks
    info = journal.info()
    assert info.revision == migrations.head_revision()
    assert info.cipher_version is None
    assert info.kdf is None
    with pytest.raises(UnsupportedOperationError, match="encrypted journal file"):
        journal.change_passphrase("anything")
    with pytest.raises(UnsupportedOperationError):
        journal.backup(tmp_path / "backup.db")
    with pytest.raises(UnsupportedOperationError):
        journal.snapshot()
    assert not (tmp_path / "backup.db").exists()


def test_connect_to_sqlite_in_memory(tmp_path: Path) -> None:
    with Journal.connect("sqlite://", create_schema=True) as journal:
        assert journal.path is None
        assert repr(journal) == "Journal(url='sqlite://', open)"
        check_url_journal(journal, tmp_path)


def test_connect_to_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    with Journal.connect(f"sqlite:///{path}", create_schema=True) as journal:
        assert journal.path == path
        check_url_journal(journal, tmp_path)
        assert journal.info().file_size is not None


def test_connect_to_an_encrypted_journal_by_url_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    create_with_trades(path)
    before = sha256(path)
    with pytest.raises(InvalidPassphraseError, match="passphrase"):
        Journal.connect(f"sqlite:///{path}")
    assert sha256(path) == before


@pytest.fixture
def pg_url() -> Iterator[str]:
    with private_schema("zj") as (url, schema):
        yield url_in_schema(url, schema)


@pytest.mark.postgres
def test_connect_to_postgresql(pg_url: str, tmp_path: Path) -> None:
    with Journal.connect(pg_url, create_schema=True) as journal:
        check_url_journal(journal, tmp_path)
        assert journal.info().file_size is None
        password = make_url(pg_url).password
        if password:
            assert str(password) not in repr(journal)
    # Connecting again finds the schema at head and changes nothing.
    with Journal.connect(pg_url) as journal:
        assert trade_count(journal) == 1


# ---------------------------------------------------------------------------------------------
# lifecycle and secrets
# ---------------------------------------------------------------------------------------------


def test_close_is_idempotent_and_wipes_the_key(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    journal = Journal.create(path, PASSPHRASE)
    key = journal._key
    assert key is not None
    assert not is_wiped(key)
    journal.close()
    journal.close()
    assert is_wiped(key)
    assert journal.closed
    assert repr(journal) == f"Journal(path={str(path)!r}, encrypted, closed)"
    for operation in (
        lambda: journal.engine,
        journal.unit_of_work,
        journal.verify,
        journal.info,
        lambda: journal.backup(tmp_path / "b.db"),
        lambda: journal.change_passphrase("x"),
    ):
        with pytest.raises(JournalClosedError):
            operation()
    with pytest.raises(TypeError):
        pickle.dumps(journal)


def test_secrets_never_appear_in_reprs_urls_or_errors(tmp_path: Path) -> None:
    passphrase = "SECRET-passphrase-" + uuid.uuid4().hex
    new_passphrase = "SECRET-new-" + uuid.uuid4().hex
    path = tmp_path / "journal.db"
    journal = Journal.create(path, passphrase)
    secrets = [passphrase, key_hex(path, passphrase)]
    shown: list[str] = [repr(journal), str(journal), str(journal.engine.url), repr(journal.engine)]
    shown += [repr(journal.info()), repr(journal.verify())]
    errors: list[BaseException] = []

    def collect(action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as error:
            errors.append(error)
        else:
            pytest.fail("expected an error")

    collect(lambda: Journal.create(path, passphrase))
    collect(lambda: journal.backup(path))
    collect(lambda: journal.change_passphrase(""))
    with journal.unit_of_work() as uow:
        assert uow.trades.get("none") is None  # holds a connection
        collect(lambda: journal.change_passphrase(new_passphrase))
    journal.change_passphrase(new_passphrase)
    secrets += [new_passphrase, key_hex(path, new_passphrase)]
    shown += [repr(journal), str(journal.engine.url)]
    journal.close()
    collect(lambda: Journal.open(path, passphrase))
    collect(lambda: Journal.open(path, passphrase + "x"))
    collect(lambda: Journal.open(tmp_path / "missing.db", passphrase))
    collect(journal.verify)
    assert len(errors) == 8
    shown += [exception_text(error) for error in errors]
    everything = "\n".join(shown)
    for secret in secrets:
        assert secret not in everything
        assert secret.upper() not in everything


def test_logs_at_debug_contain_no_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    passphrase = "SECRET-passphrase-" + uuid.uuid4().hex
    new_passphrase = "SECRET-new-" + uuid.uuid4().hex
    path = tmp_path / "journal.db"
    with Journal.create(path, passphrase) as journal:
        save_trades(journal, ["L1"], account=True)
    old_hex = key_hex(path, passphrase)
    with Journal.open(path, passphrase) as journal:
        journal.backup(tmp_path / "backup.db")
        journal.snapshot()
        journal.change_passphrase(new_passphrase)
        journal.verify()
        journal.info()
    with pytest.raises(InvalidPassphraseError):
        Journal.open(path, passphrase)
    new_hex = key_hex(path, new_passphrase)
    assert caplog.records  # the journal does log what it does
    logged = caplog.text + "\n".join(
        f"{record.getMessage()} {record.args!r}" for record in caplog.records
    )
    assert str(path) in logged
    for secret in (passphrase, new_passphrase, old_hex, new_hex):
        assert secret not in logged
        assert secret.upper() not in logged


def test_journal_module_exports() -> None:
    for name in journal_module.__all__:
        assert hasattr(journal_module, name)
    assert dt.UTC is not None


def test_concurrent_writers_that_read_first_queue_instead_of_failing(tmp_path: Path) -> None:
    """save_many reads before it writes; two such writers must wait for each other.

    With deferred transactions the second writer could not upgrade its read snapshot once
    the first had committed and failed at once with "database is locked".
    """
    path = tmp_path / "j.db"
    writers, rounds, batch = 3, 8, 40
    errors: list[BaseException] = []
    with Journal.create(path, PASSPHRASE) as journal:
        with journal.unit_of_work() as uow:
            for index in range(writers):
                uow.accounts.save(make_account(f"ACC{index}"))
            uow.commit()
        start = threading.Barrier(writers)

        def write(index: int) -> None:
            try:
                start.wait()
                for round_number in range(rounds):
                    trades = [
                        make_trade(f"W{index}-{round_number}-{n}", account_id=f"ACC{index}")
                        for n in range(batch)
                    ]
                    with journal.unit_of_work() as uow:
                        assert uow.trades.exists(f"W{index}-0-0") == (round_number > 0)
                        uow.trades.save_many(trades)
                        uow.commit()
            except BaseException as error:  # collected and re-raised in the main thread
                errors.append(error)

        threads = [threading.Thread(target=write, args=(index,)) for index in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert trade_count(journal) == writers * rounds * batch


def test_read_only_unit_of_work_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    create_with_trades(path, count=3)
    with Journal.open(path, PASSPHRASE) as journal:
        with journal.unit_of_work() as writer:
            writer.trades.save(make_trade("PENDING"))  # holds the write lock, uncommitted
            with journal.unit_of_work(read_only=True) as reader:
                started = time.monotonic()
                assert reader.trades.count() == 3  # sees committed data only
                assert reader.trades.get("PENDING") is None
                # The busy timeout is 10 s; a reader that queued behind the writer would
                # have waited for it rather than answering from its snapshot.
                assert time.monotonic() - started < 5
        with journal.unit_of_work(read_only=True) as reader:
            assert reader.trades.count() == 3  # the writer left without commit()


def test_backup_of_a_damaged_journal_is_refused(tmp_path: Path) -> None:
    """SQLCipher's backup copies a page failing its HMAC as zeros, which hid the damage."""
    path = tmp_path / "journal.db"
    create_with_trades(path, count=3000)
    pages = path.stat().st_size // 4096
    assert pages > 80
    # A page near the end of the file (trade rows and index entries), which opening the
    # journal does not read.
    data = bytearray(path.read_bytes())
    data[(pages - 4) * 4096 + 2000] ^= 0x01
    path.write_bytes(bytes(data))
    dest = tmp_path / "backup.db"
    with (
        Journal.open(path, PASSPHRASE) as journal,
        pytest.raises(
            CorruptJournalError, match=r"journal\.db (has damaged pages|is damaged)"
        ) as caught,
    ):
        journal.backup(dest)
    assert "backup.db" not in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not dest.exists()
    assert not [name for name in listing(tmp_path) if name.startswith((".backup", "backup"))]


def _posix_locks_on(path: Path) -> list[str]:
    """This process's POSIX locks on `path`'s inode, as /proc/locks lists them."""
    identity = path.stat()
    device = f"{os.major(identity.st_dev):02x}:{os.minor(identity.st_dev):02x}:{identity.st_ino}"
    pid = str(os.getpid())
    lines = Path("/proc/locks").read_text().splitlines()
    return sorted(
        " ".join(fields[1:4] + fields[6:])
        for fields in (line.split() for line in lines)
        if len(fields) > 7 and fields[1] == "POSIX" and fields[4] == pid and fields[5] == device
    )


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux /proc/locks")
def test_verify_while_a_reader_is_active_keeps_sqlites_file_locks(tmp_path: Path) -> None:
    # Closing any descriptor of the journal would drop every POSIX lock this process holds
    # on it; verify's raw copy must leave SQLite's locks in place.
    path = tmp_path / "journal.db"
    create_with_trades(path, count=1)
    with (
        Journal.open(path, PASSPHRASE) as journal,
        journal.unit_of_work(read_only=True) as reader,
    ):
        assert reader.trades.count() == 1  # a read transaction: SQLite holds its locks
        for batch in range(3):
            save_trades(journal, [f"B{batch}-{n}" for n in range(50)])
        before = _posix_locks_on(path)
        assert before, "SQLite should hold a lock on the journal while a reader is open"
        report = journal.verify()
        assert report.ok, report.problems
        assert _posix_locks_on(path) == before


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux /proc/locks")
def test_opening_the_same_journal_again_keeps_sqlites_file_locks(tmp_path: Path) -> None:
    # Reading the header of a file this process already has open must not close a
    # descriptor of it (that would release SQLite's POSIX locks).
    path = tmp_path / "journal.db"
    create_with_trades(path, count=1)
    with (
        Journal.open(path, PASSPHRASE) as journal,
        journal.unit_of_work(read_only=True) as reader,
    ):
        assert reader.trades.count() == 1
        before = _posix_locks_on(path)
        assert before
        with Journal.open(path, PASSPHRASE) as again:
            assert trade_count(again) == 1
        with pytest.raises(InvalidPassphraseError):
            Journal.open(path, PASSPHRASE + "x")
        assert _posix_locks_on(path) == before
