"""Publishing files and directory trees whole or not at all (`zorivest_infra.atomic_files`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from zorivest_infra.atomic_files import publish, publish_directory
from zorivest_infra.cli.target import Target


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The paths fsynced, in order (read back from each descriptor)."""
    seen: list[Path] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        seen.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


def _tree(root: Path) -> Path:
    (root / "tables").mkdir(parents=True)
    (root / "tables" / "trades.csv").write_text("exec_id\nX1\n")
    (root / "manifest.json").write_text("{}")
    return root


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name descriptors")
def test_a_tree_is_fsynced_file_by_file_before_it_appears(
    tmp_path: Path, synced: list[Path]
) -> None:
    building = _tree(tmp_path / ".out.partial")
    destination = tmp_path / "out"

    publish_directory(building, destination)

    assert not building.exists()
    assert (destination / "tables" / "trades.csv").read_text() == "exec_id\nX1\n"
    assert (destination / "manifest.json").read_text() == "{}"
    # every file and directory of the tree before the rename, the parent after it
    assert set(synced[:-1]) == {
        building / "tables" / "trades.csv",
        building / "tables",
        building / "manifest.json",
        building,
    }
    assert synced[-1] == tmp_path


def test_an_empty_destination_directory_is_replaced(tmp_path: Path) -> None:
    destination = tmp_path / "out"
    destination.mkdir()

    publish_directory(_tree(tmp_path / ".out.partial"), destination)

    assert sorted(path.name for path in destination.iterdir()) == ["manifest.json", "tables"]


def test_a_destination_with_files_is_never_replaced(tmp_path: Path) -> None:
    destination = tmp_path / "out"
    destination.mkdir()
    (destination / "mine.txt").write_text("keep")
    building = _tree(tmp_path / ".out.partial")

    with pytest.raises(OSError):
        publish_directory(building, destination)

    assert [path.name for path in destination.iterdir()] == ["mine.txt"]
    assert (building / "manifest.json").exists()  # left for the caller to remove


def test_publish_never_overwrites_a_file(tmp_path: Path) -> None:
    temporary = tmp_path / ".journal.partial"
    temporary.write_bytes(b"new")
    destination = tmp_path / "journal"
    destination.write_bytes(b"old")

    with pytest.raises(FileExistsError):
        publish(temporary, destination)

    assert destination.read_bytes() == b"old"


def test_a_target_s_repr_never_shows_a_url_password() -> None:
    target = Target(url="postgresql+psycopg://trader:s3cret-pw@db.example/journal")

    assert "s3cret-pw" not in repr(target)
    assert "s3cret-pw" not in target.shown
    assert "db.example" in target.shown
