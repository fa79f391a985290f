"""Journal files on disk: paths, private (0600) files, flushing, and clean-up.

Turns user-supplied paths into absolute `Path` objects, refuses to overwrite a file or a
left-over ``-wal``/``-shm``/``-journal`` side file, creates files readable by their owner
only, fsyncs files and directory entries, and removes a database this package created and
could not finish, together with its side files.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Final

from zorivest_core.domain.errors import ValidationError
from zorivest_infra.atomic_files import fsync_path
from zorivest_infra.journal.errors import JournalExistsError, JournalNotFoundError

_SIDE_SUFFIXES: Final = ("-wal", "-shm", "-journal")


def _as_path(path: str | os.PathLike[str], what: str = "path") -> Path:
    raw = os.fspath(path)
    if not isinstance(raw, str):
        raise TypeError(f"{what} must be a str or os.PathLike[str]")
    if not raw:
        raise ValidationError(f"{what}: must not be empty", field=what)
    return Path(os.path.abspath(raw))


def _require_parent(path: Path) -> None:
    if not path.parent.is_dir():
        raise JournalNotFoundError(f"directory {path.parent} does not exist (for {path})")


def _refuse_existing(path: Path, what: str) -> None:
    if os.path.lexists(path):
        raise JournalExistsError(f"{path} already exists; refusing to overwrite it with {what}")
    for suffix in _SIDE_SUFFIXES:
        side = f"{path}{suffix}"
        if os.path.lexists(side):
            # SQLite would replay a stale log into the new database.
            raise JournalExistsError(
                f"{side} exists (left over from an earlier database named {path.name}); "
                f"move it away before creating {what} there"
            )


def _require_file(path: Path) -> None:
    if not path.exists():
        raise JournalNotFoundError(f"no journal at {path} (create one with Journal.create)")
    if not path.is_file():
        raise ValidationError(f"path: {path} is not a file", field="path", value=str(path))


def _remove_files(path: Path) -> None:
    """Remove a database this module created and could not finish, with its side files."""
    for suffix in ("", *_SIDE_SUFFIXES):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}{suffix}")


def _create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only (0600 whatever the umask)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise JournalExistsError(f"{path} already exists; refusing to overwrite it") from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _fsync(path: Path, *, directory: bool = False) -> None:
    fsync_path(path, directory=directory)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
