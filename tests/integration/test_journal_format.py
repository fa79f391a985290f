"""Journal format v1: the file records how its key is derived (docs/decisions/0006).

The header bytes are checked against values written by hand here, never against the
encoder under test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from zorivest_core.domain.errors import (
    InvalidPassphraseError,
    SchemaVersionError,
    UnknownKdfProfileError,
    ValidationError,
)
from zorivest_infra.database import connection
from zorivest_infra.database.connection import KdfParameters
from zorivest_infra.journal import Journal

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# Made by scripts run once: v1 by this code (Journal.create with the default profile), v0
# by the code before format v1 (commit aef290e). Both hold account U123 and trade E1.
V1_FIXTURE = FIXTURES / "journal-format-v1.zorivest"
V1_PASSPHRASE = "format v1 fixture: it's ünïcode"
V0_FIXTURE = FIXTURES / "journal-format-v0.zorivest"
V0_PASSPHRASE = "format v0 fixture: it's ünïcode"

PASSPHRASE = "format test passphrase"
CHEAP = KdfParameters(time_cost=1, memory_cost_kib=1024, parallelism=1)
OTHER_CHEAP = KdfParameters(time_cost=2, memory_cost_kib=2048, parallelism=2)


def header(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(16)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def argon_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Records the parameters of every Argon2id run."""
    calls: list[dict[str, Any]] = []
    real = connection.hash_secret_raw  # type: ignore[attr-defined]

    def recording(**kwargs: Any) -> bytes:
        calls.append({k: v for k, v in kwargs.items() if k != "secret"})
        result: bytes = real(**kwargs)
        return result

    monkeypatch.setattr(connection, "hash_secret_raw", recording)
    return calls


def test_header_records_the_chosen_parameters(tmp_path: Path) -> None:
    path = tmp_path / "j.zorivest"
    Journal.create(path, PASSPHRASE, kdf=CHEAP).close()
    # "ZVJ", version 1, Argon2id, t=1, log2(1024 KiB)=10, p=1, then 8 random bytes.
    assert header(path)[:8] == b"ZVJ\x01\x01\x01\x0a\x01"


def test_opens_whatever_the_process_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argon_calls: list[dict[str, Any]]
) -> None:
    path = tmp_path / "j.zorivest"
    monkeypatch.setattr(connection, "KDF_PARAMETERS", OTHER_CHEAP)
    Journal.create(path, PASSPHRASE, kdf=CHEAP).close()
    monkeypatch.setattr(connection, "KDF_PARAMETERS", KdfParameters())
    with Journal.open(path, PASSPHRASE) as journal:
        info = journal.info()
    assert info.kdf == CHEAP
    assert info.format_version == 1
    assert [(c["time_cost"], c["memory_cost"], c["parallelism"]) for c in argon_calls] == [
        (1, 1024, 1),
        (1, 1024, 1),
    ]


def test_change_passphrase_writes_the_current_default_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.zorivest"
    Journal.create(path, PASSPHRASE, kdf=CHEAP).close()
    monkeypatch.setattr(connection, "KDF_PARAMETERS", OTHER_CHEAP)
    with Journal.open(path, PASSPHRASE) as journal:
        journal.change_passphrase("the new passphrase")
        assert journal.info().kdf == OTHER_CHEAP
    assert header(path)[:8] == b"ZVJ\x01\x01\x02\x0b\x02"
    monkeypatch.setattr(connection, "KDF_PARAMETERS", CHEAP)
    with Journal.open(path, "the new passphrase") as journal:
        assert journal.info().kdf == OTHER_CHEAP


@pytest.mark.parametrize(
    ("offset", "value", "what"),
    [
        (3, 0x02, "format version 2"),
        (4, 0x02, "algorithm 0x02"),
        (5, 0x00, "t=0"),
        (5, 200, "t=200"),
        (6, 40, "m=2^40"),
        (7, 0x00, "p=0"),
    ],
)
def test_unknown_profile_is_a_named_error_without_any_kdf_run(
    tmp_path: Path,
    offset: int,
    value: int,
    what: str,
    argon_calls: list[dict[str, Any]],
) -> None:
    path = tmp_path / "j.zorivest"
    Journal.create(path, PASSPHRASE, kdf=CHEAP).close()
    data = bytearray(path.read_bytes())
    data[offset] = value
    path.write_bytes(bytes(data))
    before = sha256(path)
    argon_calls.clear()
    with pytest.raises(UnknownKdfProfileError) as caught:
        Journal.open(path, PASSPHRASE)
    assert what in str(caught.value)
    assert "newer Zorivest" in str(caught.value)
    assert isinstance(caught.value, SchemaVersionError)  # the CLI's "newer Zorivest" code
    assert argon_calls == []
    assert sha256(path) == before


@pytest.mark.parametrize(
    "kdf",
    [
        KdfParameters(time_cost=1, memory_cost_kib=1000, parallelism=1),  # not a power of 2
        KdfParameters(time_cost=65, memory_cost_kib=1024, parallelism=1),
        KdfParameters(time_cost=1, memory_cost_kib=1 << 23, parallelism=1),
    ],
)
def test_parameters_a_header_cannot_record_are_refused(tmp_path: Path, kdf: KdfParameters) -> None:
    path = tmp_path / "j.zorivest"
    with pytest.raises(ValidationError):
        Journal.create(path, PASSPHRASE, kdf=kdf)
    assert not path.exists()


def test_fixture_v1_keeps_opening(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Format regression: a journal made by the format v1 code must open forever.
    monkeypatch.setattr(connection, "KDF_PARAMETERS", CHEAP)  # defaults do not matter
    copy = tmp_path / V1_FIXTURE.name
    shutil.copyfile(V1_FIXTURE, copy)
    assert header(copy)[:8] == b"ZVJ\x01\x01\x03\x10\x04"
    with Journal.open(copy, V1_PASSPHRASE) as journal:
        info = journal.info()
        with journal.unit_of_work(read_only=True) as uow:
            trade = uow.trades.get("E1")
    assert info.format_version == 1
    assert info.kdf == KdfParameters(time_cost=3, memory_cost_kib=65_536, parallelism=4)
    assert trade is not None
    assert trade.price == Decimal("189.25")
    assert trade.time == dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.UTC)
    with pytest.raises(InvalidPassphraseError):
        Journal.open(copy, V0_PASSPHRASE)


def test_fixture_v0_opens_with_the_v0_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A journal made before format v1 (16 random bytes of salt) is derived with the v0
    # parameters, whatever the process's defaults.
    monkeypatch.setattr(connection, "KDF_PARAMETERS", CHEAP)
    copy = tmp_path / V0_FIXTURE.name
    shutil.copyfile(V0_FIXTURE, copy)
    assert header(copy)[:3] != b"ZVJ"
    with Journal.open(copy, V0_PASSPHRASE) as journal:
        info = journal.info()
        with journal.unit_of_work(read_only=True) as uow:
            assert uow.accounts.exists("U123")
        # Re-keying moves it to format v1 with the current defaults.
        journal.change_passphrase(V1_PASSPHRASE)
        assert journal.info().format_version == 1
    assert info.format_version == 0
    assert info.kdf == KdfParameters(time_cost=3, memory_cost_kib=65_536, parallelism=4)
    assert header(copy)[:8] == b"ZVJ\x01\x01\x01\x0a\x01"
