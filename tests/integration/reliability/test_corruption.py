"""Corruption: damaged, truncated and zeroed journal files.

A flipped byte anywhere in a page is caught by SQLCipher's per-page HMAC: either `open`
refuses the file with `CorruptJournalError` (the first pages, read while opening) or
`verify()` reports the damaged page by number. A truncated, zeroed or empty file never
opens and never raises anything but `CorruptJournalError`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc

from tests.factories import make_stored_image
from tests.integration.reliability._child import (
    ACCOUNT_ID,
    batch_exec_id,
    cheap_kdf,
    make_batch,
)
from zorivest_core.domain.entities import Account
from zorivest_core.domain.enums import AccountType
from zorivest_core.domain.errors import CorruptJournalError
from zorivest_infra.database import connection
from zorivest_infra.database.connection import PAGE_SIZE, SALT_LEN
from zorivest_infra.journal import Journal

RecordProperty = Callable[[str, object], None]

PASSPHRASE = "corruption passphrase"
SEED = 1234
FLIPS = 16
BATCHES = 10
BATCH = 100


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a closed, fully checkpointed journal with trades and an image."""
    path = tmp_path_factory.mktemp("pristine") / "pristine.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection, "KDF_PARAMETERS", cheap_kdf())
        with Journal.create(path, PASSPHRASE) as journal, journal.unit_of_work() as uow:
            uow.accounts.save(Account(ACCOUNT_ID, "Corruption", AccountType.BROKER))
            for batch in range(BATCHES):
                uow.trades.save_many(make_batch(batch, BATCH))
            uow.images.save(batch_exec_id(0, 0), make_stored_image(caption="chart"))
            uow.commit()
    assert not Path(f"{path}-wal").exists(), "closing should checkpoint and remove the log"
    data = path.read_bytes()
    assert len(data) % PAGE_SIZE == 0
    return data


@pytest.fixture
def same_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection, "KDF_PARAMETERS", cheap_kdf())


@pytest.fixture
def write_journal(tmp_path: Path, same_kdf: None) -> Callable[[bytes], Path]:
    counter = iter(range(1_000_000))

    def write(data: bytes) -> Path:
        path = tmp_path / f"damaged-{next(counter)}.db"
        path.write_bytes(data)
        return path

    return write


def _flipped(data: bytes, offset: int) -> bytes:
    damaged = bytearray(data)
    damaged[offset] ^= 0x5A
    return bytes(damaged)


@pytest.mark.parametrize("flips", [FLIPS], ids=lambda n: f"flips={n}")
def test_flipped_byte_in_a_data_page_is_named_by_verify(
    pristine: bytes,
    write_journal: Callable[[bytes], Path],
    flips: int,
    record_property: RecordProperty,
) -> None:
    rng = random.Random(SEED)
    pages = len(pristine) // PAGE_SIZE
    assert pages >= 10
    # Always the first data page after the schema, the last page, and random others.
    targets = [(3, 0), (pages, PAGE_SIZE - 1)] + [
        (rng.randint(3, pages), rng.randrange(PAGE_SIZE)) for _ in range(flips - 2)
    ]
    refused_at_open = named_by_verify = 0
    for page, offset in targets:
        path = write_journal(_flipped(pristine, (page - 1) * PAGE_SIZE + offset))
        try:
            journal = Journal.open(path, PASSPHRASE)
        except CorruptJournalError:
            refused_at_open += 1
            continue
        with journal:
            report = journal.verify()
        assert not report.ok, f"flip at page {page} offset {offset} not detected"
        assert any(f"page {page}" in problem for problem in report.problems), report.problems
        assert report.checks.get("cipher_integrity_check") is False, report.checks
        named_by_verify += 1
    print(
        f"corruption: {flips} flipped bytes in data pages of a {pages}-page journal: "
        f"{named_by_verify} named by verify() (page number in the report), "
        f"{refused_at_open} refused at open with CorruptJournalError"
    )
    record_property("flips_detected", flips)


@pytest.mark.parametrize(
    ("page", "offset"),
    [(1, SALT_LEN), (1, 100), (1, PAGE_SIZE - 1), (2, 0), (2, 2048)],
    ids=str,
)
def test_flipped_byte_in_the_first_pages_is_refused_at_open(
    pristine: bytes, write_journal: Callable[[bytes], Path], page: int, offset: int
) -> None:
    path = write_journal(_flipped(pristine, (page - 1) * PAGE_SIZE + offset))
    with pytest.raises(CorruptJournalError):
        Journal.open(path, PASSPHRASE)


_DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "truncated-to-100-bytes": lambda data: data[:100],
    "truncated-to-half": lambda data: data[: len(data) // 2],
    "truncated-to-half-whole-pages": lambda data: data[: len(data) // 2 // PAGE_SIZE * PAGE_SIZE],
    "truncated-to-one-page": lambda data: data[:PAGE_SIZE],
    "truncated-by-one-page": lambda data: data[:-PAGE_SIZE],
    "truncated-to-non-page-multiple": lambda data: data[: len(data) - 7],
    "grown-by-a-partial-page": lambda data: data + b"\x00" * 100,
    "all-zero-same-size": lambda data: bytes(len(data)),
    "all-zero-one-page": lambda _data: bytes(PAGE_SIZE),
    "empty": lambda _data: b"",
    "zeroed-first-page": lambda data: bytes(PAGE_SIZE) + data[PAGE_SIZE:],
}


@pytest.mark.parametrize("damage", list(_DAMAGE), ids=list(_DAMAGE))
def test_truncated_or_zeroed_file_raises_corrupt_journal_error(
    pristine: bytes, write_journal: Callable[[bytes], Path], damage: str
) -> None:
    path = write_journal(_DAMAGE[damage](pristine))
    with pytest.raises(CorruptJournalError) as caught:
        Journal.open(path, PASSPHRASE)
    assert PASSPHRASE not in str(caught.value)


def test_reading_a_damaged_page_raises_corrupt_journal_error(
    pristine: bytes, write_journal: Callable[[bytes], Path]
) -> None:
    pages = len(pristine) // PAGE_SIZE
    hit = 0
    for page in range(3, pages + 1):
        path = write_journal(_flipped(pristine, (page - 1) * PAGE_SIZE + 100))
        try:
            journal = Journal.open(path, PASSPHRASE)
        except CorruptJournalError:
            continue  # a page the open itself reads (the schema): refused, as it should be
        with journal, journal.unit_of_work() as uow:
            try:
                uow.trades.count()
                list(uow.trades.iter_for_account(ACCOUNT_ID, batch_size=500))
            except CorruptJournalError:
                hit += 1
            except sa_exc.DatabaseError as error:
                raise AssertionError(f"page {page}: {type(error).__name__}") from error
    assert hit


def test_verify_is_clean_on_a_healthy_journal_with_an_unchecked_wal(
    tmp_path: Path, same_kdf: None
) -> None:
    with Journal.create(tmp_path / "healthy.db", PASSPHRASE) as journal:
        with journal.unit_of_work() as uow:
            uow.accounts.save(Account(ACCOUNT_ID, "Healthy", AccountType.BROKER))
            uow.commit()
        reader = journal.unit_of_work(read_only=True)
        with reader:
            assert reader.trades.count() == 0  # holds a snapshot: checkpoints stop here
            for batch in range(120):
                with journal.unit_of_work() as uow:
                    uow.trades.save_many(make_batch(batch, 50))
                    uow.commit()
        report = journal.verify()
        assert report.checks.get("integrity_check") is True, report.problems
        assert report.ok, report.problems
