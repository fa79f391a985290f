"""`zorivest demo DIR` never reaches outside DIR (issue 12, item 2).

A crafted marker listing ``out/precious.txt`` with ``DIR/out`` a link to another
directory made the demo delete that file; a pre-placed ``DIR/sample-import.csv`` link had
its target overwritten. Files are now removed only when their identity (device, inode)
matches what the demo recorded, nothing is followed through a link, and a directory of
another user is refused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from zorivest_infra.cli import app
from zorivest_infra.cli.demo import MARKER_NAME, SAMPLE_CSV_NAME


def _demo(directory: Path) -> Result:
    return CliRunner().invoke(
        app,
        ["demo", str(directory), "--executions", "50"],
        env={"ZORIVEST_PASSPHRASE": None, "ZORIVEST_DEBUG": None},
    )


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    outside = tmp_path / "victim"
    outside.mkdir()
    (outside / "precious.txt").write_text("precious", encoding="utf-8")
    return outside


def test_a_crafted_marker_cannot_delete_through_a_link(
    tmp_path: Path, victim: Path, fast_kdf: None
) -> None:
    directory = tmp_path / "demo"
    directory.mkdir()
    (directory / "out").symlink_to(victim)
    precious = victim / "precious.txt"
    identity = precious.stat()
    marker = {
        "created_by": "zorivest demo",
        "files": [
            "out/precious.txt",
            {
                "name": "out/precious.txt",
                "device": identity.st_dev,
                "inode": identity.st_ino,
                "size": identity.st_size,
                "mtime_ns": identity.st_mtime_ns,
            },
        ],
    }
    (directory / MARKER_NAME).write_text(json.dumps(marker), encoding="utf-8")
    result = _demo(directory)
    assert precious.read_text(encoding="utf-8") == "precious"
    assert result.exit_code == 0, result.output
    assert (directory / "out").is_symlink()


def test_a_file_with_a_recorded_name_but_another_identity_is_kept(
    tmp_path: Path, fast_kdf: None
) -> None:
    directory = tmp_path / "demo"
    assert _demo(directory).exit_code == 0
    sample = directory / SAMPLE_CSV_NAME
    sample.unlink()
    sample.write_text("the user's own file now", encoding="utf-8")
    result = _demo(directory)
    assert result.exit_code != 0
    assert sample.read_text(encoding="utf-8") == "the user's own file now"


def test_a_pre_placed_link_is_never_written_through(
    tmp_path: Path, victim: Path, fast_kdf: None
) -> None:
    directory = tmp_path / "demo"
    assert _demo(directory).exit_code == 0
    # Replace the demo's sample with a link to the victim file, keeping the marker.
    (directory / SAMPLE_CSV_NAME).unlink()
    (directory / SAMPLE_CSV_NAME).symlink_to(victim / "precious.txt")
    result = _demo(directory)
    assert (victim / "precious.txt").read_text(encoding="utf-8") == "precious"
    assert result.exit_code != 0
    assert "not created by `zorivest demo`" in result.output


def test_a_directory_link_or_a_directory_of_another_user_is_refused(
    tmp_path: Path, victim: Path, fast_kdf: None
) -> None:
    link = tmp_path / "link"
    link.symlink_to(victim)
    assert _demo(link).exit_code != 0
    assert sorted(os.listdir(victim)) == ["precious.txt"]
    if os.geteuid() != 0:
        pytest.skip("giving a directory to another user needs root")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    os.chown(foreign, 65534, 65534)
    result = _demo(foreign)
    assert result.exit_code != 0
    assert "another user" in result.output
    assert os.listdir(foreign) == []
