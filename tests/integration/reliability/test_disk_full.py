"""Full disks: backups, snapshots, passphrase changes and commands on a tiny tmpfs.

Each copy is whole or absent (issue 12, items 1, 6, 7, 12): a backup to a disk without
room fails with `StorageFullError` (exit 10) naming the DESTINATION and leaves no partial
file; a passphrase change that does not fit leaves the old passphrase working and the
journal usable; commands on a full disk say so in one line with the path. The disks are
tmpfs mounts (root only; skipped with the reason otherwise).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.factories import png_bytes
from tests.integration.reliability.tiny_disk import entries, fill, tiny_disk
from zorivest_core.domain.entities import Account, Trade
from zorivest_core.domain.enums import AccountType, TradeAction
from zorivest_core.domain.errors import StorageFullError
from zorivest_infra.cli import app
from zorivest_infra.journal import Journal, copies, rekey

PASSPHRASE = "full disk passphrase 7q"
NEW_PASSPHRASE = "another passphrase 8r"
TRADES = 4_000
BASE_TIME = dt.datetime(2023, 5, 1, tzinfo=dt.UTC)


def _fill_journal(journal: Journal, count: int = TRADES) -> None:
    with journal.unit_of_work() as uow:
        uow.accounts.save(Account("DISK", "Disk", AccountType.BROKER))
        uow.trades.save_many(
            [
                Trade(
                    exec_id=f"D{index:06d}",
                    time=BASE_TIME + dt.timedelta(seconds=index),
                    instrument=f"SYMBOL-{index % 50:02d}-" + "y" * 30,
                    action=TradeAction.BOT,
                    quantity=Decimal(index + 1),
                    price=Decimal("123.4567"),
                    account_id="DISK",
                )
                for index in range(count)
            ]
        )
        uow.commit()


def _count(journal: Journal) -> int:
    with journal.unit_of_work(read_only=True) as uow:
        return uow.trades.count()


@pytest.fixture
def journal_file(tmp_path: Path, fast_kdf: None) -> Path:
    path = tmp_path / "journal.zorivest"
    with Journal.create(path, PASSPHRASE) as journal:
        _fill_journal(journal)
    return path


def _run(*args: object, env: dict[str, str | None] | None = None) -> Result:
    environment: dict[str, str | None] = {
        "ZORIVEST_PASSPHRASE": PASSPHRASE,
        "ZORIVEST_NEW_PASSPHRASE": NEW_PASSPHRASE,
        "ZORIVEST_DEBUG": None,
    }
    environment.update(env or {})
    return CliRunner().invoke(app, [str(arg) for arg in args], env=environment)


def _one_error_line(result: Result) -> str:
    lines = [line for line in result.output.splitlines() if line.startswith("zorivest: error:")]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


# -- item 1: backups and snapshots whole or absent -------------------------------------


def test_backup_to_a_disk_with_room_for_one_copy_writes_a_copy_that_opens(
    journal_file: Path, tmp_path: Path
) -> None:
    # Between one and two journals of room: a copy in WAL mode used to need both.
    size = journal_file.stat().st_size
    with tiny_disk(tmp_path, size * 3 // 2) as disk:
        dest = disk / "backup.zorivest"
        result = _run("backup", journal_file, dest)
        assert result.exit_code == 0, result.output
        assert entries(disk) == ["backup.zorivest"], "a partial or a log was left beside it"
        with Journal.open(dest, PASSPHRASE) as copy:
            report = copy.verify()
            assert report.ok, report.problems
            assert _count(copy) == TRADES


def test_backup_short_of_space_names_the_destination_and_leaves_nothing(
    journal_file: Path, tmp_path: Path
) -> None:
    size = journal_file.stat().st_size
    with tiny_disk(tmp_path, size * 6 // 10) as disk:
        dest = disk / "backup.zorivest"
        result = _run("backup", journal_file, dest)
        assert result.exit_code == 10, result.output
        line = _one_error_line(result)
        assert str(dest) in line, line
        assert "free" in line, line
        assert "needed" in line, line
        assert f"for the backup {dest}" in line, line
        assert entries(disk) == []


def test_backup_failing_half_way_removes_every_partial_file(
    journal_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the up-front check the copy runs into the full disk while writing pages.
    monkeypatch.setattr(copies, "require_space", lambda *args, **kwargs: None)
    size = journal_file.stat().st_size
    with tiny_disk(tmp_path, size * 6 // 10) as disk, Journal.open(journal_file, PASSPHRASE) as j:
        dest = disk / "backup.zorivest"
        with pytest.raises(StorageFullError) as caught:
            j.backup(dest)
        assert str(dest) in str(caught.value)
        assert entries(disk) == []
        assert _count(j) == TRADES


def test_snapshot_on_a_full_disk_leaves_only_the_journal(tmp_path: Path, fast_kdf: None) -> None:
    with tiny_disk(tmp_path, 4 * 1024 * 1024) as disk:
        path = disk / "journal.zorivest"
        with Journal.create(path, PASSPHRASE) as journal:
            _fill_journal(journal, 2_000)
            before = entries(disk)
            fill(disk, leave=path.stat().st_size // 3)
            with pytest.raises(StorageFullError) as caught:
                journal.snapshot("pre-test")
            assert "the snapshot" in str(caught.value)
            assert entries(disk) == sorted([*before, "filler"])
            assert _count(journal) == 2_000


# -- item 12: leftovers of crashed copies ----------------------------------------------


@pytest.fixture
def held_partial(tmp_path: Path) -> Iterator[Path]:
    """A partial file some running process is writing now (it holds the flock)."""
    backups = tmp_path / "backups"
    backups.mkdir()
    path = backups / ".other.zorivest.partial-bbbbbbbbbbbb"
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield path
    finally:
        os.close(descriptor)


def test_a_backup_removes_leftovers_of_crashed_copies_but_not_one_being_written(
    journal_file: Path, held_partial: Path
) -> None:
    backups = held_partial.parent
    crashed = [
        ".backup.zorivest.partial-0123456789ab",
        ".backup.zorivest.partial-0123456789ab-wal",
        ".backup.zorivest.partial-0123456789ab-shm",
        ".older.zorivest.partial-aaaaaaaaaaaa-journal",  # its main file already gone
    ]
    for name in crashed:
        (backups / name).write_bytes(b"\0" * 4096)
    (backups / ".other.zorivest.partial-bbbbbbbbbbbb-wal").write_bytes(b"\0" * 4096)
    unrelated = backups / "notes.partial-0123456789ab.txt"
    unrelated.write_text("mine", encoding="utf-8")
    result = _run("backup", journal_file, backups / "second.zorivest")
    assert result.exit_code == 0, result.output
    assert entries(backups) == sorted(
        [
            held_partial.name,
            f"{held_partial.name}-wal",
            unrelated.name,
            "second.zorivest",
        ]
    )


# -- item 6: passwd on a full disk -------------------------------------------------------


@pytest.mark.parametrize("checked_first", [True, False], ids=["up-front", "at-commit"])
def test_change_passphrase_on_a_full_disk_keeps_the_old_one_and_the_journal_usable(
    tmp_path: Path, fast_kdf: None, monkeypatch: pytest.MonkeyPatch, checked_first: bool
) -> None:
    if not checked_first:  # let the re-key run into the full disk while it writes
        monkeypatch.setattr(rekey, "require_space", lambda *args, **kwargs: None)
    with tiny_disk(tmp_path, 4 * 1024 * 1024) as disk:
        path = disk / "journal.zorivest"
        with Journal.create(path, PASSPHRASE) as journal:
            _fill_journal(journal, 3_000)
        fill(disk, leave=path.stat().st_size // 2)
        journal = Journal.open(path, PASSPHRASE)
        try:
            with pytest.raises(StorageFullError) as caught:
                journal.change_passphrase(NEW_PASSPHRASE)
            assert "the old passphrase still opens the journal" in str(caught.value)
            assert str(path) in str(caught.value)
            assert not journal.closed
            assert _count(journal) == 3_000
        finally:
            journal.close()
        with Journal.open(path, PASSPHRASE) as reopened:
            assert _count(reopened) == 3_000


def test_passwd_on_a_full_disk_exits_10_in_one_line(tmp_path: Path, fast_kdf: None) -> None:
    with tiny_disk(tmp_path, 4 * 1024 * 1024) as disk:
        path = disk / "journal.zorivest"
        with Journal.create(path, PASSPHRASE) as journal:
            _fill_journal(journal, 3_000)
        fill(disk, leave=path.stat().st_size // 2)
        result = _run("passwd", path)
        assert result.exit_code == 10, result.output
        assert "old passphrase still opens" in _one_error_line(result)


# -- item 7: full-disk messages everywhere -----------------------------------------------


def test_init_on_a_full_disk_exits_10_naming_the_new_journal(
    tmp_path: Path, fast_kdf: None
) -> None:
    with tiny_disk(tmp_path, 64 * 1024) as disk:
        fill(disk, leave=0)
        path = disk / "new.zorivest"
        result = _run("init", path)
        assert result.exit_code == 10, result.output
        line = _one_error_line(result)
        assert str(path) in line, line
        assert "free some space" in line, line
        assert entries(disk) == ["filler"]


def test_opening_a_journal_on_a_full_disk_says_so_and_never_advises_a_restore(
    tmp_path: Path, fast_kdf: None
) -> None:
    with tiny_disk(tmp_path, 2 * 1024 * 1024) as disk:
        path = disk / "journal.zorivest"
        with Journal.create(path, PASSPHRASE) as journal:
            _fill_journal(journal, 500)
        fill(disk, leave=0)
        for command in ("trades", "verify", "info"):
            result = _run(command, path)
            assert result.exit_code == 10, (command, result.output)
            line = _one_error_line(result)
            assert str(path) in line, line
            assert "I/O" not in line, line
            assert "restore" not in line, line


def test_attach_on_a_nearly_full_disk_speaks_user_language(tmp_path: Path, fast_kdf: None) -> None:
    image = tmp_path / "chart.png"
    image.write_bytes(png_bytes(1600, 1200, seed=3))
    with tiny_disk(tmp_path, 2 * 1024 * 1024) as disk:
        path = disk / "journal.zorivest"
        with Journal.create(path, PASSPHRASE) as journal:
            _fill_journal(journal, 100)
        fill(disk, leave=image.stat().st_size // 4 + 64 * 1024)
        result = _run("attach", path, "D000001", image)
        assert result.exit_code == 10, result.output
        line = _one_error_line(result)
        assert str(path) in line, line
        assert "nothing of this command was saved" in line, line
        assert "rollback()" not in line, line
        assert "commit()" not in line, line


def test_verify_without_room_for_its_copy_never_advises_a_restore(
    tmp_path: Path, fast_kdf: None
) -> None:
    with tiny_disk(tmp_path, 4 * 1024 * 1024) as disk:
        path = disk / "journal.zorivest"
        with Journal.create(path, PASSPHRASE) as journal:
            _fill_journal(journal, 1_000)
            with journal.unit_of_work(read_only=True) as reader:
                reader.trades.count()  # holds a snapshot: the log cannot be checkpointed
                with journal.unit_of_work() as writer:
                    writer.trades.save(
                        Trade(
                            "LATE",
                            BASE_TIME,
                            "LATE",
                            TradeAction.SLD,
                            Decimal(1),
                            Decimal(2),
                            "DISK",
                        )
                    )
                    writer.commit()
                fill(disk, leave=0)
                result = _run("verify", path)
        assert result.exit_code == 10, result.output
        line = _one_error_line(result)
        assert "restore" not in result.output
        assert "nothing damaged was found" in line
        assert "not enough space for verify's temporary copy" in result.output


KILLED_BACKUP = """
import sys
from zorivest_infra.database import connection
connection.KDF_PARAMETERS = connection.KdfParameters(
    time_cost=1, memory_cost_kib=1024, parallelism=1, hash_len=32
)
from zorivest_infra.journal import Journal, copies

original = copies._backup_without_log


def stop_half_way(source, temporary, key):
    original(source, temporary, key)
    sys.stdout.write("copied\\n")
    sys.stdout.flush()
    sys.stdin.readline()  # wait here until killed


copies._backup_without_log = stop_half_way
with Journal.open(sys.argv[1], sys.argv[2]) as journal:
    journal.backup(sys.argv[3])
"""


def test_leftovers_of_a_backup_killed_half_way_are_removed_by_the_next(
    journal_file: Path, tmp_path: Path
) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_BACKUP, journal_file, PASSPHRASE, backups / "b.zorivest"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == b"copied\n"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    leftovers = entries(backups)
    assert leftovers, "the killed backup left nothing to clean up"
    assert all(name.startswith(".b.zorivest.partial-") for name in leftovers), leftovers
    result = _run("backup", journal_file, backups / "next.zorivest")
    assert result.exit_code == 0, result.output
    assert entries(backups) == ["next.zorivest"]


def test_info_lists_leftovers_of_crashed_snapshots_beside_the_journal(journal_file: Path) -> None:
    leftover = journal_file.with_name(
        ".journal.pre-0001-20260101T000000Z.zorivest.partial-00ff00ff00ff"
    )
    leftover.write_bytes(b"\0" * 8192)
    result = _run("info", journal_file)
    assert result.exit_code == 0, result.output
    assert "Leftovers" in result.output
    listed = _run("info", journal_file, "--json")
    assert json.loads(listed.output)["leftovers"] == [str(leftover)]
