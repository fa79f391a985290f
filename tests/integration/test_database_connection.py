"""SQLCipher connection factory and Argon2id key derivation, on real files under tmp_path."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import shutil
import sqlite3
import stat
import sys
import threading
import types
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from argon2.low_level import Type, hash_secret_raw

from zorivest_core.domain.errors import (
    CorruptJournalError,
    EncryptionUnavailableError,
    InvalidPassphraseError,
    NotEncryptedError,
    ValidationError,
    ZorivestError,
)
from zorivest_infra.database import connection
from zorivest_infra.database.connection import (
    KDF_PARAMETERS,
    CipherConnection,
    JournalKey,
    KdfParameters,
    apply_sqlite_settings,
    classify_open_error,
    create_encrypted_connection,
    derive_key,
    key_for_existing_journal,
    key_for_new_journal,
    new_salt,
    open_keyed_connection,
    read_journal_salt,
)

PASSPHRASE = "correct horse battery staple"
MARKER = "ZORIVEST-MARKER-7f3a9c"
SALT = b"0123456789abcdef"


@pytest.fixture
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> KdfParameters:
    """Cheap Argon2id parameters, for tests that are not about the KDF itself."""
    cheap = KdfParameters(time_cost=1, memory_cost_kib=1024, parallelism=1)
    monkeypatch.setattr(connection, "KDF_PARAMETERS", cheap)
    return cheap


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def side(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def make_journal(path: Path, passphrase: str = PASSPHRASE, rows: int = 1) -> None:
    """Create a closed journal holding a table with the marker (and ``rows`` rows)."""
    conn = create_encrypted_connection(path, passphrase)
    try:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        conn.executemany(
            "INSERT INTO notes (body) VALUES (?)",
            [(f"{MARKER} {i} {'x' * 200}",) for i in range(rows)],
        )
        conn.commit()
    finally:
        conn.close()


def read_notes(conn: CipherConnection) -> list[str]:
    return [str(row[0]) for row in conn.execute("SELECT body FROM notes ORDER BY id")]


def exception_texts(exc: BaseException) -> str:
    """str and repr of an exception and of every exception chained to it."""
    texts: list[str] = []
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), *map(str, current.args)]
        pending += [current.__cause__, current.__context__]
    return "\n".join(texts)


# ---------------------------------------------------------------------------------------------
# The seed's tests (bodies verbatim; signatures annotated for mypy --strict)
# ---------------------------------------------------------------------------------------------


class TestSqlCipherConnection:
    def test_create_encrypted_database(self, tmp_path: Path) -> None:
        db_path = tmp_path / "test.db"
        conn = create_encrypted_connection(str(db_path), passphrase="test123")
        # Write something
        conn.execute("CREATE TABLE test (id INTEGER PRIMARY KEY)")
        conn.commit()
        conn.close()

        # Verify: opening without passphrase fails
        import sqlite3

        raw_conn = sqlite3.connect(str(db_path))
        with pytest.raises(Exception):  # noqa: B017 - the seed's test, verbatim
            raw_conn.execute("SELECT * FROM test")

    def test_argon2_key_derivation(self) -> None:
        key1 = derive_key("password", salt=b"0123456789abcdef")
        key2 = derive_key("password", salt=b"0123456789abcdef")
        assert key1 == key2  # deterministic
        assert len(key1) == 32  # 256-bit


# ---------------------------------------------------------------------------------------------
# Argon2id (real parameters: these tests are about the KDF)
# ---------------------------------------------------------------------------------------------


class TestDeriveKey:
    def test_parameters_are_rfc9106_second_recommendation(self) -> None:
        params = connection.KDF_PARAMETERS
        assert params is KDF_PARAMETERS
        assert (params.time_cost, params.memory_cost_kib, params.parallelism) == (3, 65536, 4)
        assert params.hash_len == 32

    def test_is_argon2id_over_utf8_with_the_module_parameters(self) -> None:
        # Pins the journal format: any change here makes existing journals unopenable.
        expected = hash_secret_raw(
            secret="pässwörd".encode(),
            salt=SALT,
            time_cost=3,
            memory_cost=65536,
            parallelism=4,
            hash_len=32,
            type=Type.ID,
        )
        assert derive_key("pässwörd", SALT) == expected

    def test_key_depends_on_salt_and_password(self) -> None:
        base = derive_key("password", SALT)
        assert derive_key("password", b"fedcba9876543210") != base
        assert derive_key("passwore", SALT) != base
        assert derive_key("password", SALT + b"x") != base

    @pytest.mark.parametrize("salt", [b"", b"short", b"0123456789abcde"])
    def test_salt_shorter_than_16_bytes_is_rejected(self, salt: bytes) -> None:
        with pytest.raises(ValidationError) as caught:
            derive_key("s3cret-passphrase", salt)
        assert caught.value.field == "salt"
        assert "s3cret-passphrase" not in exception_texts(caught.value)

    def test_empty_password_is_rejected(self) -> None:
        with pytest.raises(ValidationError) as caught:
            derive_key("", SALT)
        assert caught.value.field == "passphrase"

    def test_non_str_password_is_a_type_error(self) -> None:
        with pytest.raises(TypeError):
            derive_key(b"bytes", SALT)  # type: ignore[arg-type]

    def test_parameters_come_from_the_salt_not_the_process_defaults(
        self, fast_kdf: KdfParameters
    ) -> None:
        # A v0 salt (no format magic) is derived with the v0 parameters even while the
        # process's defaults are cheap ones; a v1 salt with the parameters it records.
        v0_expected = hash_secret_raw(
            secret=b"password",
            salt=SALT,
            time_cost=3,
            memory_cost=65536,
            parallelism=4,
            hash_len=32,
            type=Type.ID,
        )
        assert derive_key("password", SALT) == v0_expected
        v1_salt = b"ZVJ\x01\x01\x02\x0b\x01" + b"\xaa" * 8  # t=2, m=2^11 KiB, p=1
        v1_expected = hash_secret_raw(
            secret=b"password",
            salt=v1_salt,
            time_cost=2,
            memory_cost=2048,
            parallelism=1,
            hash_len=32,
            type=Type.ID,
        )
        assert derive_key("password", v1_salt) == v1_expected

    @pytest.mark.parametrize(
        "params",
        [
            {"time_cost": 0},
            {"parallelism": 0},
            {"memory_cost_kib": 7, "parallelism": 1},
            {"hash_len": 16},
        ],
    )
    def test_invalid_parameters_are_rejected(self, params: dict[str, int]) -> None:
        with pytest.raises(ValidationError):
            KdfParameters(**params)


@pytest.mark.usefixtures("fast_kdf")
class TestDeriveKeyInputs:
    def test_unicode_composition_does_not_matter(self) -> None:
        composed = unicodedata.normalize("NFC", "pässwörd")
        decomposed = unicodedata.normalize("NFD", "pässwörd")
        assert composed != decomposed
        assert derive_key(composed, SALT) == derive_key(decomposed, SALT)

    def test_new_salt_is_16_random_bytes(self) -> None:
        salts = {new_salt() for _ in range(10)}
        assert len(salts) == 10
        assert all(len(s) == 16 for s in salts)


# ---------------------------------------------------------------------------------------------
# JournalKey
# ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("fast_kdf")
class TestJournalKey:
    def test_pragma_literal_forms(self) -> None:
        raw = bytes(range(32))
        key = JournalKey(raw, SALT)
        assert key.pragma_literal(include_salt=False) == f"x'{raw.hex()}'"
        assert key.pragma_literal(include_salt=True) == f"x'{raw.hex()}{SALT.hex()}'"
        assert key.salt == SALT

    def test_repr_and_str_hide_the_key(self) -> None:
        raw = bytes(range(100, 132))
        key = JournalKey(raw, SALT)
        for text in (repr(key), str(key), f"{key}", f"{key!r}"):
            assert raw.hex() not in text
            assert raw.hex()[:8] not in text
            assert "redacted" in text

    def test_cannot_be_pickled_or_copied(self) -> None:
        import copy

        key = JournalKey(bytes(32 * [7]), SALT)
        with pytest.raises(TypeError):
            pickle.dumps(key)
        with pytest.raises(TypeError):
            copy.copy(key)

    def test_wipe_zeroes_the_key(self) -> None:
        key = JournalKey(bytes(32 * [7]), SALT)
        wiped_before = key.wiped
        key.wipe()
        assert not wiped_before
        assert key.wiped
        assert not any(key._key)  # the bytearray itself is zeroed
        with pytest.raises(ValueError, match="wiped"):
            key.pragma_literal(include_salt=False)

    def test_context_manager_wipes(self) -> None:
        with key_for_new_journal(PASSPHRASE) as key:
            assert not key.wiped
        assert key.wiped

    @pytest.mark.parametrize(
        ("raw", "salt"), [(bytes(31 * [1]), SALT), (bytes(32 * [1]), b"short"), (bytes(32), SALT)]
    )
    def test_lengths_are_validated(self, raw: bytes, salt: bytes) -> None:
        with pytest.raises(ValidationError):
            JournalKey(raw, salt)

    def test_subkeys_are_distinct_and_deterministic(self) -> None:
        key = JournalKey(bytes(range(32)), SALT)
        a = key.derive_subkey(b"zorivest/provider-api-keys")
        b = key.derive_subkey(b"zorivest/other")
        assert len(a) == 32
        assert a != b
        assert a == key.derive_subkey(b"zorivest/provider-api-keys")
        assert a != bytes(range(32))

    def test_key_for_new_journal_uses_a_fresh_salt(self) -> None:
        one, two = key_for_new_journal(PASSPHRASE), key_for_new_journal(PASSPHRASE)
        assert one.salt != two.salt
        assert one.pragma_literal(include_salt=False) != two.pragma_literal(include_salt=False)


# ---------------------------------------------------------------------------------------------
# Encrypted files
# ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("fast_kdf")
class TestEncryptedFile:
    def test_plain_sqlite_cannot_read_it(self, tmp_path: Path) -> None:
        path = tmp_path / "journal.db"
        make_journal(path)
        raw = sqlite3.connect(path)
        try:
            with pytest.raises(sqlite3.DatabaseError, match="not a database"):
                raw.execute("SELECT count(*) FROM sqlite_master").fetchall()
        finally:
            raw.close()

    def test_file_starts_with_the_argon2id_salt(self, tmp_path: Path) -> None:
        path = tmp_path / "journal.db"
        with key_for_new_journal(PASSPHRASE) as key:
            conn = open_keyed_connection(path, key, create=True)
            conn.close()
            assert path.read_bytes()[:16] == key.salt
            assert read_journal_salt(path) == key.salt

    def test_copied_single_file_opens_elsewhere(self, tmp_path: Path) -> None:
        original = tmp_path / "a" / "journal.db"
        original.parent.mkdir()
        make_journal(original, rows=50)
        assert not side(original, "-wal").exists()  # closing checkpointed everything
        moved = tmp_path / "b" / "copy.db"
        moved.parent.mkdir()
        shutil.copyfile(original, moved)
        conn = create_encrypted_connection(moved, PASSPHRASE)
        try:
            assert len(read_notes(conn)) == 50
        finally:
            conn.close()

    def test_marker_absent_from_file_and_wal(self, tmp_path: Path) -> None:
        path = tmp_path / "journal.db"
        conn = create_encrypted_connection(path, PASSPHRASE)
        try:
            conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            conn.execute("INSERT INTO notes (body) VALUES (?)", (MARKER,))
            conn.commit()
            wal = side(path, "-wal")
            # Still open and not checkpointed: the row lives in the WAL right now.
            assert wal.stat().st_size > 0
            assert MARKER.encode() not in wal.read_bytes()
            assert MARKER.encode() not in path.read_bytes()
            assert read_notes(conn) == [MARKER]
        finally:
            conn.close()
        assert MARKER.encode() not in path.read_bytes()

    def test_marker_search_would_find_plaintext(self, tmp_path: Path) -> None:
        # Control for the test above: the same search does see an unencrypted row.
        path = tmp_path / "plain.db"
        plain = sqlite3.connect(path)
        plain.execute("CREATE TABLE notes (body TEXT)")
        plain.execute("INSERT INTO notes VALUES (?)", (MARKER,))
        plain.commit()
        plain.close()
        assert MARKER.encode() in path.read_bytes()

    @pytest.mark.parametrize(
        "passphrase",
        [
            'it\'s "x"',
            "pässwörd 🔐 كلمة",
            "'; DROP TABLE notes; --",
            "x'00'",
            "p" * 1000,
            "  leading and trailing  ",
        ],
        ids=["quotes", "unicode", "injection", "hex-literal", "1000-chars", "spaces"],
    )
    def test_passphrases_round_trip(self, tmp_path: Path, passphrase: str) -> None:
        path = tmp_path / "journal.db"
        make_journal(path, passphrase)
        conn = create_encrypted_connection(path, passphrase)
        try:
            assert len(read_notes(conn)) == 1
        finally:
            conn.close()
        with pytest.raises(InvalidPassphraseError):
            create_encrypted_connection(path, passphrase[:-1] + "!")

    def test_path_with_uri_special_characters(self, tmp_path: Path) -> None:
        folder = tmp_path / "dir #1 ?x% ö"
        folder.mkdir()
        path = folder / "my journal?.db"
        make_journal(path)
        conn = create_encrypted_connection(str(path), PASSPHRASE)
        try:
            assert len(read_notes(conn)) == 1
        finally:
            conn.close()
        assert sorted(p.name for p in folder.iterdir()) == ["my journal?.db"]


@pytest.mark.usefixtures("fast_kdf")
class TestSettings:
    def test_pragmas_read_back_as_set(self, tmp_path: Path) -> None:
        path = tmp_path / "journal.db"
        make_journal(path)
        for conn in (
            create_encrypted_connection(path, PASSPHRASE),
            open_keyed_connection(path, key_for_existing_journal(path, PASSPHRASE)),
        ):
            try:
                assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
                assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
                assert conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
                assert conn.execute("PRAGMA busy_timeout").fetchone() == (10000,)
            finally:
                conn.close()

    def test_foreign_keys_are_enforced(self, tmp_path: Path) -> None:
        conn = create_encrypted_connection(tmp_path / "journal.db", PASSPHRASE)
        try:
            conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
            conn.execute("CREATE TABLE child (parent_id INTEGER REFERENCES parent(id))")
            with pytest.raises(conn.IntegrityError):
                conn.execute("INSERT INTO child VALUES (42)")
        finally:
            conn.close()

    def test_apply_sqlite_settings_on_plain_sqlite(self, tmp_path: Path) -> None:
        memory = sqlite3.connect(":memory:")
        apply_sqlite_settings(memory)
        assert memory.execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert memory.execute("PRAGMA journal_mode").fetchone() == ("memory",)
        assert memory.execute("PRAGMA busy_timeout").fetchone() == (10000,)
        memory.close()

        on_file = sqlite3.connect(tmp_path / "plain.db")
        apply_sqlite_settings(on_file)
        assert on_file.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert on_file.execute("PRAGMA synchronous").fetchone() == (1,)
        assert on_file.execute("PRAGMA foreign_keys").fetchone() == (1,)
        on_file.close()

    def test_connection_usable_from_another_thread(self, tmp_path: Path) -> None:
        path = tmp_path / "journal.db"
        make_journal(path)
        conn = create_encrypted_connection(path, PASSPHRASE)
        result: list[list[str]] = []
        worker = threading.Thread(target=lambda: result.append(read_notes(conn)))
        worker.start()
        worker.join()
        conn.close()
        assert len(result) == 1
        assert len(result[0]) == 1


@pytest.mark.usefixtures("fast_kdf")
class TestFileModes:
    def test_journal_and_wal_are_0600(self, tmp_path: Path) -> None:
        path = tmp_path / "journal.db"
        conn = create_encrypted_connection(path, PASSPHRASE)
        try:
            conn.execute("CREATE TABLE t (x)")
            conn.commit()
            for file in (path, side(path, "-wal"), side(path, "-shm")):
                assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
        finally:
            conn.close()

    @pytest.mark.parametrize("umask", [0o000, 0o277], ids=["permissive", "owner-read-only"])
    def test_mode_does_not_depend_on_umask(self, tmp_path: Path, umask: int) -> None:
        path = tmp_path / "journal.db"
        previous = os.umask(umask)  # process-wide; restored at once (pytest runs tests serially)
        try:
            conn = create_encrypted_connection(path, PASSPHRASE)
            conn.execute("CREATE TABLE t (x)")
            conn.commit()
        finally:
            os.umask(previous)
        try:
            for file in (path, side(path, "-wal"), side(path, "-shm")):
                assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
        finally:
            conn.close()


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("fast_kdf")
class TestWrongPassphrase:
    @pytest.mark.parametrize(
        "wrong", ["totally different", PASSPHRASE[:-1] + "f", PASSPHRASE + " ", PASSPHRASE.upper()]
    )
    def test_raises_and_leaves_file_identical(self, tmp_path: Path, wrong: str) -> None:
        path = tmp_path / "journal.db"
        make_journal(path, rows=30)
        before = sha256(path)
        with pytest.raises(InvalidPassphraseError, match="wrong passphrase for journal"):
            create_encrypted_connection(path, wrong)
        assert sha256(path) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.db"]

    def test_leaves_a_live_wal_identical(self, tmp_path: Path) -> None:
        path = tmp_path / "journal.db"
        make_journal(path)
        writer = create_encrypted_connection(path, PASSPHRASE)
        try:
            writer.execute("INSERT INTO notes (body) VALUES ('uncheckpointed')")
            writer.commit()
            wal = side(path, "-wal")
            before = (sha256(path), sha256(wal))
            with pytest.raises(InvalidPassphraseError):
                create_encrypted_connection(path, PASSPHRASE + "x")
            assert (sha256(path), sha256(wal)) == before
            # The right passphrase still sees the uncheckpointed row.
            reader = create_encrypted_connection(path, PASSPHRASE)
            try:
                assert read_notes(reader)[-1] == "uncheckpointed"
            finally:
                reader.close()
        finally:
            writer.close()

    def test_nothing_printed_to_stderr(
        self, tmp_path: Path, capfd: pytest.CaptureFixture[str]
    ) -> None:
        import sqlcipher3.dbapi2 as driver

        path = tmp_path / "journal.db"
        make_journal(path)
        # Control: with SQLCipher's default log level a failed decrypt does print. The level is
        # process-wide, so reset it before checking that the factory silences it again.
        raw = driver.connect(str(path))
        raw.execute("PRAGMA cipher_log_level = WARN")
        raw.execute(f"PRAGMA key = \"x'{'00' * 32}'\"")
        with pytest.raises(driver.DatabaseError):
            raw.execute("SELECT count(*) FROM sqlite_master").fetchall()
        raw.close()
        assert "ERROR" in capfd.readouterr().err

        raw = driver.connect(":memory:")
        raw.execute("PRAGMA cipher_log_level = WARN")
        raw.close()
        with pytest.raises(InvalidPassphraseError):
            create_encrypted_connection(path, "wrong passphrase")
        captured = capfd.readouterr()
        assert captured.err == ""
        assert captured.out == ""

    def test_secrets_absent_from_errors_and_logs(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        path = tmp_path / "journal.db"
        secret = "my-very-secret-passphrase"
        caplog.set_level(logging.DEBUG)
        make_journal(path, secret)
        wrong = secret + "!"
        with pytest.raises(InvalidPassphraseError) as caught:
            create_encrypted_connection(path, wrong)
        texts = exception_texts(caught.value)
        assert str(path) in str(caught.value)
        key_hex = derive_key(secret, read_journal_salt(path)).hex()
        wrong_hex = derive_key(wrong, read_journal_salt(path)).hex()
        logged = "\n".join(r.getMessage() for r in caplog.records)
        for needle in (secret, wrong, key_hex, wrong_hex, key_hex[:16], wrong_hex[:16]):
            assert needle not in texts
            assert needle not in logged

    def test_key_of_another_journal_is_refused(self, tmp_path: Path) -> None:
        first, second = tmp_path / "one.db", tmp_path / "two.db"
        make_journal(first)
        make_journal(second)  # same passphrase, different salt
        before = sha256(second)
        with (
            key_for_existing_journal(first, PASSPHRASE) as key,
            pytest.raises(InvalidPassphraseError, match="another journal"),
        ):
            open_keyed_connection(second, key)
        assert sha256(second) == before


@pytest.mark.usefixtures("fast_kdf")
class TestNotAJournal:
    def test_plaintext_sqlite_is_not_encrypted(self, tmp_path: Path) -> None:
        path = tmp_path / "plain.db"
        plain = sqlite3.connect(path)
        plain.execute("CREATE TABLE t (x)")
        plain.commit()
        plain.close()
        before = sha256(path)
        with pytest.raises(NotEncryptedError, match="encrypt_plaintext"):
            create_encrypted_connection(path, PASSPHRASE)
        with pytest.raises(NotEncryptedError):
            read_journal_salt(path)
        assert sha256(path) == before

    @pytest.mark.parametrize(
        "content",
        [
            os.urandom(5000),  # not whole pages
            os.urandom(1000),
            bytes(8192),  # zeroed
            b"hello, not a database\n",
        ],
        ids=["random-5000", "random-1000", "zeroed", "text"],
    )
    def test_non_database_is_corrupt(self, tmp_path: Path, content: bytes) -> None:
        path = tmp_path / "junk.db"
        path.write_bytes(content)
        with pytest.raises(CorruptJournalError):
            create_encrypted_connection(path, PASSPHRASE)
        assert path.read_bytes() == content

    def test_existing_empty_file_is_corrupt(self, tmp_path: Path) -> None:
        path = tmp_path / "empty.db"
        path.touch()
        with pytest.raises(CorruptJournalError, match="empty"):
            create_encrypted_connection(path, PASSPHRASE)
        assert path.stat().st_size == 0

    @pytest.mark.parametrize("size", [100, 4096, 4096 + 100])
    def test_truncated_journal_is_corrupt(self, tmp_path: Path, size: int) -> None:
        path = tmp_path / "journal.db"
        make_journal(path, rows=200)
        assert path.stat().st_size > 3 * 4096
        with path.open("r+b") as handle:
            handle.truncate(size)
        with pytest.raises(CorruptJournalError):
            create_encrypted_connection(path, PASSPHRASE)

    def test_damaged_first_page_is_corrupt_not_wrong_passphrase(self, tmp_path: Path) -> None:
        path = tmp_path / "journal.db"
        make_journal(path, rows=200)
        data = bytearray(path.read_bytes())
        data[100] ^= 0x01
        path.write_bytes(bytes(data))
        with pytest.raises(CorruptJournalError, match="first page"):
            create_encrypted_connection(path, PASSPHRASE)
        with pytest.raises(InvalidPassphraseError):
            create_encrypted_connection(path, "another passphrase")

    def test_damaged_later_page_is_reported_when_read(self, tmp_path: Path) -> None:
        path = tmp_path / "journal.db"
        make_journal(path, rows=200)
        data = bytearray(path.read_bytes())
        data[3 * 4096 + 100] ^= 0x01
        path.write_bytes(bytes(data))
        conn = create_encrypted_connection(path, PASSPHRASE)
        try:
            with pytest.raises(conn.DatabaseError) as caught:
                read_notes(conn)
            error = classify_open_error(caught.value, path)
            assert isinstance(error, CorruptJournalError)
        finally:
            conn.close()


@pytest.mark.usefixtures("fast_kdf")
class TestOpenKeyedConnection:
    def test_many_connections_one_kdf_run(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "journal.db"
        make_journal(path)
        calls = 0

        def counting(**kwargs: Any) -> bytes:
            nonlocal calls
            calls += 1
            return hash_secret_raw(**kwargs)

        monkeypatch.setattr(connection, "hash_secret_raw", counting)
        with key_for_existing_journal(path, PASSPHRASE) as key:
            conns = [open_keyed_connection(path, key) for _ in range(50)]
        try:
            assert calls == 1
            assert all(len(read_notes(c)) == 1 for c in conns)
        finally:
            for c in conns:
                c.close()

    def test_create_refuses_an_existing_journal(self, tmp_path: Path) -> None:
        path = tmp_path / "journal.db"
        make_journal(path)
        before = sha256(path)
        with key_for_new_journal(PASSPHRASE) as key, pytest.raises(FileExistsError):
            open_keyed_connection(path, key, create=True)
        assert sha256(path) == before

    def test_open_missing_file_creates_nothing(self, tmp_path: Path) -> None:
        path = tmp_path / "missing.db"
        with key_for_new_journal(PASSPHRASE) as key, pytest.raises(FileNotFoundError):
            open_keyed_connection(path, key)
        assert not path.exists()

    def test_create_into_an_empty_file_makes_it_private(self, tmp_path: Path) -> None:
        path = tmp_path / "journal.db"
        path.touch(mode=0o644)
        with key_for_new_journal(PASSPHRASE) as key:
            conn = open_keyed_connection(path, key, create=True)
            conn.close()
            assert read_journal_salt(path) == key.salt
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def test_failed_creation_leaves_no_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(conn: object, **_options: object) -> None:
            raise RuntimeError("simulated failure")

        monkeypatch.setattr(connection, "apply_sqlite_settings", broken)
        with pytest.raises(RuntimeError, match="simulated"):
            create_encrypted_connection(tmp_path / "journal.db", PASSPHRASE)
        assert list(tmp_path.iterdir()) == []

    def test_empty_passphrase_creates_nothing(self, tmp_path: Path) -> None:
        with pytest.raises(ValidationError):
            create_encrypted_connection(tmp_path / "journal.db", "")
        assert list(tmp_path.iterdir()) == []


class TestClassifyOpenError:
    def test_plain_sqlite_on_a_journal(self, tmp_path: Path, fast_kdf: KdfParameters) -> None:
        path = tmp_path / "journal.db"
        make_journal(path)
        raw = sqlite3.connect(path)
        try:
            with pytest.raises(sqlite3.DatabaseError) as caught:
                raw.execute("SELECT 1 FROM sqlite_master").fetchall()
        finally:
            raw.close()
        error = classify_open_error(caught.value, path, keyed=False)
        assert isinstance(error, InvalidPassphraseError)
        assert "encrypted" in str(error)

    def test_unclassified_errors_give_none(self, tmp_path: Path) -> None:
        conn = sqlite3.connect(":memory:")
        try:
            with pytest.raises(sqlite3.OperationalError) as caught:
                conn.execute("SELECT * FROM no_such_table")
        finally:
            conn.close()
        assert classify_open_error(caught.value, tmp_path / "x.db") is None

    def test_errors_are_zorivest_errors(self, tmp_path: Path) -> None:
        path = tmp_path / "junk.db"
        path.write_bytes(b"junk")
        error = classify_open_error(sqlite3.DatabaseError("file is not a database"), path)
        assert isinstance(error, CorruptJournalError)
        assert isinstance(error, ZorivestError)


# ---------------------------------------------------------------------------------------------
# SQLCipher unavailable: never a plaintext fallback
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def no_sqlcipher(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry makes `import sqlcipher3` raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "sqlcipher3", None)
    monkeypatch.setitem(sys.modules, "sqlcipher3.dbapi2", None)


@pytest.mark.usefixtures("fast_kdf")
class TestEncryptionUnavailable:
    @pytest.mark.usefixtures("no_sqlcipher")
    def test_create_raises_and_writes_nothing(self, tmp_path: Path) -> None:
        path = tmp_path / "journal.db"
        with pytest.raises(EncryptionUnavailableError):
            create_encrypted_connection(path, PASSPHRASE)
        assert list(tmp_path.iterdir()) == []

    def test_open_raises_and_leaves_journal_identical(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "journal.db"
        make_journal(path)
        before = sha256(path)
        key = key_for_existing_journal(path, PASSPHRASE)
        monkeypatch.setitem(sys.modules, "sqlcipher3", None)
        monkeypatch.setitem(sys.modules, "sqlcipher3.dbapi2", None)
        with pytest.raises(EncryptionUnavailableError):
            open_keyed_connection(path, key)
        with pytest.raises(EncryptionUnavailableError):
            create_encrypted_connection(path, PASSPHRASE)
        assert sha256(path) == before

    def test_driver_without_sqlcipher_is_refused(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A "sqlcipher3" that is really plain SQLite would ignore the key and write plaintext.
        impostor = types.ModuleType("sqlcipher3")
        impostor.dbapi2 = sqlite3  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "sqlcipher3", impostor)
        monkeypatch.setitem(sys.modules, "sqlcipher3.dbapi2", sqlite3)
        path = tmp_path / "journal.db"
        with pytest.raises(EncryptionUnavailableError, match="not built with SQLCipher"):
            create_encrypted_connection(path, PASSPHRASE)
        assert list(tmp_path.iterdir()) == []
        with key_for_new_journal(PASSPHRASE) as key, pytest.raises(EncryptionUnavailableError):
            open_keyed_connection(path, key, create=True)
        assert list(tmp_path.iterdir()) == []
