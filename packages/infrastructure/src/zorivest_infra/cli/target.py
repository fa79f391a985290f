"""Which database a command works on: an encrypted journal file, or ``--url``.

Commands that make sense on a server database take ``[JOURNAL]`` and ``--url``; exactly one
must be given. With ``--url`` the remaining positional arguments move up one place, so
``zorivest attach --url URL EXEC_ID IMAGE`` reads as naturally as
``zorivest attach JOURNAL EXEC_ID IMAGE``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from zorivest_core.domain.errors import StorageFullError
from zorivest_infra.cli.errors import CliError, ExitCode
from zorivest_infra.cli.passphrase import current_passphrase
from zorivest_infra.disk_space import storage_full

if TYPE_CHECKING:
    from zorivest_infra.database.unit_of_work import SqlAlchemyUnitOfWork
    from zorivest_infra.journal import Journal


@dataclass(frozen=True, slots=True)
class Target:
    """A journal file or a database URL (exactly one is set)."""

    path: Path | None = None
    url: str | None = field(default=None, repr=False)  # may hold a password: see `shown`

    @property
    def shown(self) -> str:
        """How to name the target in messages (a URL's password is hidden)."""
        if self.path is not None:
            return str(self.path)
        return safe_url(self.url or "")


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


def resolve(
    journal: str | None,
    url: str | None,
    rest: Sequence[str | None],
    names: Sequence[str],
) -> tuple[Target, list[str]]:
    """Split the positional arguments into the target and the command's own arguments.

    Args:
        journal: The first positional argument (JOURNAL, unless ``--url`` is given).
        url: The ``--url`` option.
        rest: The remaining positional arguments, None where not given.
        names: The names of ``rest`` for error messages (e.g. ``("EXEC_ID", "IMAGE")``).

    Returns:
        The target and the command's positional arguments, all present.

    Raises:
        CliError: Neither or both of JOURNAL and --url, or a missing argument.
    """
    values = list(rest)
    if url is not None:
        if journal is not None and (not values or values[-1] is not None):
            raise CliError(
                f"give either a JOURNAL path or --url, not both (got {journal!r} and --url)",
                ExitCode.USAGE,
            )
        if journal is not None:
            values = [journal, *values[:-1]]
        target = Target(url=url)
    else:
        if journal is None:
            raise CliError("give a JOURNAL path (or --url for a server database)", ExitCode.USAGE)
        target = Target(path=Path(journal))
    present: list[str] = []
    for value, name in zip(values, names, strict=True):
        if value is None:
            raise CliError(f"missing argument {name}", ExitCode.USAGE)
        present.append(value)
    return target, present


def require_existing_journal(path: Path) -> None:
    """Fail early (before asking for a passphrase) when there is no journal file."""
    if not path.exists():
        raise CliError(
            f"no journal at {path} (create one with: zorivest init {path})", ExitCode.NOT_FOUND
        )
    if path.is_dir():
        raise CliError(f"{path} is a directory, not a journal file", ExitCode.INVALID_INPUT)


def open_journal_file(path: Path, passphrase: str) -> Journal:
    """``Journal.open``, with the CLI's hint (``zorivest encrypt``) for a plaintext file."""
    from zorivest_core.domain.errors import NotEncryptedError
    from zorivest_infra.journal import Journal

    try:
        return Journal.open(os.fspath(path), passphrase)
    except NotEncryptedError:
        raise CliError(
            f"{path} is a plaintext SQLite database, not an encrypted journal; "
            f"encrypt a copy of it with: zorivest encrypt {path} NEW.zorivest",
            ExitCode.NOT_ENCRYPTED,
        ) from None


@contextmanager
def open_journal(target: Target, passphrase_file: Path | None) -> Iterator[Journal]:
    """Open the target's journal (asking for the passphrase of a file) and close it after."""
    from zorivest_infra.journal import Journal

    if target.path is not None:
        require_existing_journal(target.path)
        journal = open_journal_file(target.path, current_passphrase(passphrase_file))
    else:
        journal = Journal.connect(target.url or "")
    try:
        yield journal
    except StorageFullError as error:
        if target.path is None or not _lost_transaction(error):
            raise
        # The API's words ("commit() will refuse; call rollback()") mean nothing here.
        raise storage_full(
            Path(os.path.abspath(target.path)),
            "the journal",
            step="nothing of this command was saved; free some space on that disk and retry",
        ) from error
    finally:
        journal.close()


@contextmanager
def open_unit_of_work(
    target: Target, passphrase_file: Path | None, *, read_only: bool = False
) -> Iterator[SqlAlchemyUnitOfWork]:
    """One unit of work on the target's journal, which is opened for it and closed after."""
    with (
        open_journal(target, passphrase_file) as opened,
        opened.unit_of_work(read_only=read_only) as uow,
    ):
        yield uow


def _lost_transaction(error: StorageFullError) -> bool:
    from zorivest_infra.database.errors import TRANSACTION_LOST_NOTE

    message = str(error)
    return TRANSACTION_LOST_NOTE in message or message.startswith("the journal's storage is full")
