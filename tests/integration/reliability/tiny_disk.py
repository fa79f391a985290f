"""Small disks for the full-disk tests: a tmpfs of a given size, mounted under a temp dir.

Mounting needs root (CAP_SYS_ADMIN) on Linux; elsewhere the tests that use it are skipped
with that reason. Each disk is unmounted (lazily, so a descriptor this process still holds
does not keep it busy) when the test ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

PAGE: Final = 4096


def _skip_reason() -> str | None:
    if not sys.platform.startswith("linux"):
        return "tiny-disk tests mount a tmpfs, which needs Linux"
    if os.geteuid() != 0:
        return "tiny-disk tests mount a tmpfs, which needs root (run the suite as root)"
    return None


@contextlib.contextmanager
def tiny_disk(parent: Path, size: int, name: str = "disk") -> Iterator[Path]:
    """A fresh tmpfs of `size` bytes (rounded up to pages) mounted at ``parent/name``."""
    reason = _skip_reason()
    if reason is not None:
        pytest.skip(reason)
    mount, umount = shutil.which("mount"), shutil.which("umount")
    if mount is None or umount is None:
        pytest.skip("tiny-disk tests need the mount and umount commands")
    mount_point = parent / name
    mount_point.mkdir()
    pages = max(1, -(-size // PAGE))
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={pages * PAGE},mode=0700", "tmpfs", mount_point],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"could not mount a tmpfs ({done.stderr.strip()})")
    try:
        yield mount_point
    finally:
        subprocess.run([umount, "-l", mount_point], capture_output=True, check=False)


def free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def fill(disk: Path, leave: int) -> Path:
    """Write a filler file on `disk` so that about `leave` bytes stay free."""
    filler = disk / "filler"
    size = max(0, free_bytes(disk) - leave)
    with open(filler, "ab") as handle:
        handle.write(b"\0" * size)
    return filler


def entries(directory: Path) -> list[str]:
    """Every name in `directory`, hidden ones included, sorted."""
    return sorted(os.listdir(directory))
