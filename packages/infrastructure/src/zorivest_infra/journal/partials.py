"""Temporary ``.<name>.partial-<hex>`` files: naming, claiming, and clearing leftovers.

A new journal file (backup, snapshot, encrypted copy) is written under a hidden partial
name beside its destination and published only once complete (`copies._published`). While
it is being written, the writing process holds an exclusive ``flock`` on it. A crash
(SIGKILL, power loss) can leave the partial file behind, with its ``-wal``/``-shm``/
``-journal`` side files: about the journal's size each time. `clear_leftovers` removes the
ones no running process holds; `find_leftovers` lists them.

``flock`` locks are independent of the POSIX record locks SQLite uses, so holding one does
not disturb SQLite; the descriptor is closed only after every SQLite connection to the
file has closed (closing a descriptor of a file drops this process's POSIX locks on it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

if sys.platform == "win32":  # no flock: leftovers there are never removed automatically
    _LOCKABLE = False
else:
    import fcntl

    _LOCKABLE = True

_log = logging.getLogger("zorivest_infra.journal")  # one logger for the whole package

_PARTIAL: Final = re.compile(r"\.(?P<name>.+)\.partial-[0-9a-f]{12}(?P<side>-wal|-shm|-journal)?")
_SIDE_SUFFIXES: Final = ("-wal", "-shm", "-journal")


def partial_name(dest: Path) -> Path:
    """A fresh hidden partial name beside `dest`: ``.<name>.partial-<12 hex>``."""
    return dest.with_name(f".{dest.name}.partial-{os.urandom(6).hex()}")


@contextlib.contextmanager
def claimed(partial: Path) -> Iterator[None]:
    """Create `partial` (0600, must not exist) and hold an exclusive flock on it meanwhile.

    Raises:
        FileExistsError: `partial` exists.
    """
    descriptor = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, 0o600)
        if _LOCKABLE:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(descriptor)


def _held_by_someone(path: Path) -> bool:
    """Whether a running process holds `path` (it is being written now)."""
    if not _LOCKABLE:
        return True  # cannot tell: never remove
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(descriptor)  # also releases the flock just taken
    return False


def find_leftovers(directory: Path) -> list[Path]:
    """The partial files (and orphaned side files) in `directory` that nobody is writing.

    Sorted by name; each main file is followed by its side files.
    """
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        return []
    mains: set[str] = set()
    found: list[Path] = []
    for entry in entries:
        match = _PARTIAL.fullmatch(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        base = entry.name.removesuffix(match.group("side") or "")
        if match.group("side") is None:
            if _held_by_someone(Path(entry.path)):
                continue
            mains.add(base)
        elif base not in mains and (directory / base).exists():
            continue  # the side file of a main file being written now
        found.append(Path(entry.path))
    return found


def clear_leftovers(directory: Path) -> list[Path]:
    """Remove the partial files of crashed copies in `directory`; return what was removed."""
    removed: list[Path] = []
    for path in find_leftovers(directory):
        try:
            os.remove(path)
        except FileNotFoundError:
            continue
        except OSError as error:
            _log.warning("could not remove the leftover %s: %s", path, error.strerror)
            continue
        removed.append(path)
    if removed:
        _log.info(
            "removed %d leftover file(s) of interrupted copies in %s", len(removed), directory
        )
    return removed


def remove_partial(partial: Path) -> None:
    """Remove `partial` and its side files (missing ones are fine)."""
    for suffix in ("", *_SIDE_SUFFIXES):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{partial}{suffix}")
