"""Files a command writes where the user says (OUT, DEST, DIR): checked first, written whole.

Every such path is refused before any work when its directory does not exist, when it is
the journal itself, or when it exists and the command was not told to replace it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from zorivest_infra.atomic_files import publish
from zorivest_infra.cli.errors import CliError, ExitCode
from zorivest_infra.cli.target import Target


def existing_parent(path: Path) -> Path:
    """The directory `path` goes in, which must exist already."""
    parent = path.parent
    if not parent.is_dir():
        raise CliError(f"directory {parent} does not exist", ExitCode.NOT_FOUND)
    return parent


def refuse_output(out_path: Path, target: Target, *, force: bool) -> None:
    """Refuse an OUT that is the journal (or its log), or that exists without --force."""
    if target.path is not None:
        journal_files = [target.path, *(Path(f"{target.path}{end}") for end in ("-wal", "-shm"))]
        for journal_file in journal_files:
            if _same_file(out_path, journal_file):
                raise CliError(
                    f"{out_path} is the journal {target.path} (or its log); choose another OUT",
                    ExitCode.ALREADY_EXISTS,
                )
    if out_path.is_dir():
        raise CliError(f"{out_path} is a directory; OUT must be a file", ExitCode.ALREADY_EXISTS)
    if not force and (out_path.exists() or out_path.is_symlink()):
        raise CliError(
            f"{out_path} already exists; use --force to replace it", ExitCode.ALREADY_EXISTS
        )


def checked_output(name: str, target: Target, *, force: bool) -> Path:
    """OUT as a path whose directory exists and that `refuse_output` lets through."""
    out_path = Path(name)
    existing_parent(out_path)
    refuse_output(out_path, target, force=force)
    return out_path


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.samefile(second)
    except OSError:
        return False


def write_private_file(path: Path, data: bytes, *, replace: bool) -> None:
    """Write ``data`` to ``path`` (mode 0600) whole or not at all.

    The bytes go to a temporary file in the same directory (created 0600), published
    with `publish` (fsynced, linked into place or, with ``replace``, renamed over it).
    """
    parent = path.parent
    descriptor, temporary_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=parent
    )
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        try:
            publish(temporary, path, replace=replace)
        except FileExistsError:
            raise CliError(
                f"{path} already exists; use --force to replace it", ExitCode.ALREADY_EXISTS
            ) from None
    finally:
        temporary.unlink(missing_ok=True)
