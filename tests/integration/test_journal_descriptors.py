"""A closed journal holds nothing of its file: no descriptor, no lock, no thread."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from zorivest_infra.database.connection import KdfParameters
from zorivest_infra.database.descriptors import held_count
from zorivest_infra.journal import Journal

PASSPHRASE = "descriptor test passphrase"
CHEAP = KdfParameters(time_cost=1, memory_cost_kib=1024, parallelism=1)

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd to list descriptors"
)


def descriptors_under(directory: Path) -> list[str]:
    """What this process's descriptors point at inside `directory` (deleted files too)."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the listing's own descriptor, already closed
        if target.startswith(str(directory)):
            found.append(target)
    return found


def test_a_closed_journal_holds_no_descriptor_of_its_file(tmp_path: Path) -> None:
    path = tmp_path / "j.zorivest"
    threads = threading.active_count()
    with Journal.create(path, PASSPHRASE, kdf=CHEAP) as journal:
        journal.verify()  # reads the file raw beside SQLite
        assert descriptors_under(tmp_path)  # open: SQLite's and the shared one
    assert descriptors_under(tmp_path) == []
    with Journal.open(path, PASSPHRASE) as journal, journal.unit_of_work() as uow:
        uow.accounts.list_all()
    assert descriptors_under(tmp_path) == []
    assert threading.active_count() == threads


def test_thousand_open_close_delete_cycles_leave_nothing_on_deleted_files(
    tmp_path: Path,
) -> None:
    template = tmp_path / "template.zorivest"
    Journal.create(template, PASSPHRASE, kdf=CHEAP).close()
    work = tmp_path / "cycles"
    work.mkdir()
    held_before = held_count()
    # Full creations are slower (the schema is migrated each time): 50 of them, then a
    # thousand opens of fresh copies; each journal is deleted after it is closed.
    for cycle in range(1050):
        path = work / f"j{cycle}.zorivest"
        if cycle < 50:
            Journal.create(path, PASSPHRASE, kdf=CHEAP).close()
        else:
            shutil.copyfile(template, path)
        with Journal.open(path, PASSPHRASE) as journal, journal.unit_of_work() as uow:
            uow.accounts.list_all()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    assert [fd for fd in descriptors_under(work) if fd.endswith("(deleted)")] == []
    assert descriptors_under(work) == []
    assert held_count() == held_before
