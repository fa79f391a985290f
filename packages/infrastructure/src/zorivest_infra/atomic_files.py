"""Publishing a file whole or not at all: fsync, link (or rename) into place, fsync the directory.

Every file Zorivest writes besides the journal itself (backups, snapshots, thumbnails)
is written to a temporary name in the destination's directory and published with
`publish`, so a reader or a crash sees the complete file or no file.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Final

NO_HARD_LINKS: Final = frozenset(
    {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EMLINK}
)
"""What `os.link` raises on file systems without hard links (FAT, some network shares)."""


def fsync_path(path: Path, *, directory: bool = False) -> None:
    """Flush a file (or a directory entry) to stable storage, where the platform can."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:  # e.g. Windows cannot open directories
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def publish(temporary: Path, dest: Path, *, replace: bool = False) -> None:
    """Make the complete file `temporary` appear as `dest`, durably.

    The file is fsynced, then hard-linked to `dest` (never overwriting) or, with
    `replace`, renamed over it; then the directory entry is fsynced. On a file system
    without hard links it is renamed after checking that `dest` is free. The caller
    removes `temporary` afterwards (it is gone after a rename).

    Raises:
        FileExistsError: `dest` exists and `replace` is false (nothing published).
    """
    fsync_path(temporary)
    if replace:
        os.replace(temporary, dest)
    else:
        try:
            os.link(temporary, dest)
        except OSError as error:
            if error.errno not in NO_HARD_LINKS:
                raise  # FileExistsError included
            if os.path.lexists(dest):
                raise FileExistsError(errno.EEXIST, "file exists", str(dest)) from None
            os.replace(temporary, dest)
    fsync_path(dest.parent, directory=True)


def publish_directory(temporary: Path, dest: Path) -> None:
    """Make the complete directory tree `temporary` appear as `dest`, durably.

    Every file and directory of the tree is fsynced (so a crash after the rename cannot
    leave a published tree with missing or short files), then the tree is renamed into
    place in one step (POSIX `rename` replaces an empty directory `dest` itself, and
    refuses one that is not empty or is not a directory), then the parent's directory
    entry is fsynced.

    Raises:
        OSError: `dest` exists and is not an empty directory, or a part of the tree could
            not be read or flushed (nothing published).
    """
    for root, _directories, files in os.walk(temporary, topdown=False, onerror=_raise):
        for name in files:
            fsync_path(Path(root, name))
        fsync_path(Path(root), directory=True)
    os.rename(temporary, dest)
    fsync_path(dest.parent, directory=True)


def _raise(error: OSError) -> None:
    raise error
