"""Free space on the disk of a file, and the error that says a write did not fit.

A write that runs out of room must fail with `StorageFullError` naming the file it was
writing (never another one), saying how much room there was and what to do. SQLite reports
a full disk as ``SQLITE_FULL``, but also as an I/O error when the shared-memory file or an
fsync cannot grow or flush; `is_out_of_space` tells those apart from real I/O failures by
looking at the disk.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path
from typing import Final

from zorivest_core.domain.errors import StorageFullError
from zorivest_infra.database.sqlite_codes import SQLITE_FULL, SQLITE_IOERR, sqlite_result_code

# Below this much free space an I/O error while writing is taken to be a full disk.
_NEARLY_FULL_BYTES: Final = 1 << 20


def free_bytes(path: Path) -> int | None:
    """Bytes an unprivileged writer may still use on the disk holding `path` (or its parent).

    None when the file system cannot say (e.g. the directory is gone).
    """
    where = path if path.is_dir() else path.parent
    try:
        return shutil.disk_usage(where).free
    except OSError:
        return None


def size_text(count: int) -> str:
    """A byte count for people: ``12.3 MB`` (decimal units, as disk tools show them)."""
    if count < 1_000:
        return f"{count} bytes"
    if count < 1_000_000:
        return f"{count / 1e3:.1f} kB"
    if count < 1_000_000_000:
        return f"{count / 1e6:.1f} MB"
    return f"{count / 1e9:.1f} GB"


def is_out_of_space(error: BaseException, path: Path) -> bool:
    """Whether `error` (a driver error or an `OSError`) means the disk of `path` is full."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    code = sqlite_result_code(error)
    if code == SQLITE_FULL:
        return True
    if code == SQLITE_IOERR:
        free = free_bytes(path)
        return free is not None and free < _NEARLY_FULL_BYTES
    return False


def storage_full(
    path: Path, what: str, *, needed: int | None = None, step: str
) -> StorageFullError:
    """The `StorageFullError` for `what` (e.g. ``the backup``) not fitting beside `path`.

    Args:
        path: The file that was being written; the message names it and its directory.
        what: What was being written, for the message.
        needed: About how many bytes it needs, when known.
        step: What was done about it and what to do next (one clause).
    """
    free = free_bytes(path)
    room = f"{size_text(free)} free" if free is not None else "no free space"
    wanted = f", about {size_text(needed)} needed" if needed is not None else ""
    return StorageFullError(
        f"not enough space for {what} {path} on the disk of {path.parent} ({room}{wanted}); {step}"
    )


def require_space(
    path: Path,
    needed: int,
    what: str,
    *,
    step: str = "nothing was written; free some space there or choose another place",
) -> None:
    """Refuse to start writing `what` at `path` when its disk has less than `needed` free.

    Raises:
        StorageFullError: Not enough free space (nothing has been written).
    """
    free = free_bytes(path)
    if free is not None and free < needed:
        raise storage_full(
            path,
            what,
            needed=needed,
            step=step,
        )


def has_room(path: Path) -> bool:
    """Whether the disk of `path` has more than a nearly-full margin left (unknown: True)."""
    free = free_bytes(path)
    return free is None or free >= _NEARLY_FULL_BYTES
