"""Reading a database file beside SQLite without dropping SQLite's locks.

POSIX record locks belong to a (process, file) pair: closing ANY descriptor of a file
releases every lock this process holds on it, SQLite's own included. So raw reads of a
journal (its header, a byte copy for verify) that may be open in this process share one
read-only descriptor per file, counted: `FileHold` takes a reference, and the descriptor is
closed when the last reference is released. A `Journal` takes one before its first
connection and releases it after ``engine.dispose()``, so while it is open no raw read ever
closes a descriptor of its file, and once it is closed nothing of the file is held.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Self

__all__ = ["FileHold", "held_count"]


@dataclass
class _Entry:
    descriptors: list[int]
    users: int = 0


# By (device, inode) of the file opened.
_ENTRIES: dict[tuple[int, int], _Entry] = {}
_LOCK = threading.Lock()


def _identity_of(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_dev, status.st_ino)


def held_count() -> int:
    """How many files this process holds descriptors of (for tests and diagnostics)."""
    with _LOCK:
        return len(_ENTRIES)


class FileHold:
    """One reference to the process's shared read-only descriptor of a file.

    Usable as a context manager (released on exit) or kept and released explicitly;
    releasing twice does nothing.

    Raises:
        OSError: The file cannot be opened for reading (e.g. ``FileNotFoundError``).
    """

    __slots__ = ("_descriptor", "_identity")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        with _LOCK:
            identity = _identity_of(path)
            entry = _ENTRIES.get(identity) if identity is not None else None
            if entry is None:
                descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
                opened = os.fstat(descriptor)
                identity = (opened.st_dev, opened.st_ino)
                entry = _ENTRIES.get(identity)
                if entry is None:
                    entry = _ENTRIES[identity] = _Entry(descriptors=[descriptor])
                else:
                    # The path now names a file already held (it was replaced between the
                    # stat and the open): closing this descriptor would drop its locks.
                    entry.descriptors.append(descriptor)
            entry.users += 1
            self._identity: tuple[int, int] | None = identity
            self._descriptor = entry.descriptors[0]

    @property
    def descriptor(self) -> int:
        """The shared descriptor (read with ``os.pread``; never close it yourself).

        Raises:
            ValueError: The hold has been released.
        """
        if self._identity is None:
            raise ValueError("the file hold has been released")
        return self._descriptor

    @property
    def released(self) -> bool:
        return self._identity is None

    def read(self, length: int, offset: int = 0) -> bytes:
        """Up to `length` bytes of the file from `offset`."""
        return os.pread(self.descriptor, length, offset)

    def size(self) -> int:
        """The file's current size in bytes."""
        return os.fstat(self.descriptor).st_size

    def release(self) -> None:
        """Drop this reference; the last one closes the descriptor(s)."""
        with _LOCK:
            identity, self._identity = self._identity, None
            if identity is None:
                return
            entry = _ENTRIES[identity]
            entry.users -= 1
            if entry.users:
                return
            del _ENTRIES[identity]
        for descriptor in entry.descriptors:
            os.close(descriptor)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self.release()
