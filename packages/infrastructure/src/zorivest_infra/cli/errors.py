"""Exit codes and the one place where errors become one line on stderr.

Every command runs inside :func:`handle_errors`. An error the user can act on (wrong
passphrase, a file that is not a journal, a bad CSV file, ...) is printed as ONE line,
``zorivest: error: <what was wrong>``, and the process exits with a code from
:class:`ExitCode`. A traceback is printed only with the global ``--debug`` option (or
``ZORIVEST_DEBUG=1``). Messages come from the domain's errors, which never carry a
passphrase or a key.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import ParamSpec, TypeVar

import typer

from zorivest_core.domain.errors import (
    BusyError,
    ConflictError,
    CorruptJournalError,
    DuplicateError,
    EncryptionUnavailableError,
    InvalidPassphraseError,
    NotAJournalDatabaseError,
    NotEncryptedError,
    NotFoundError,
    PassphraseChangedError,
    ReadOnlyError,
    SchemaVersionError,
    StorageFullError,
    ValidationError,
    ZorivestError,
)
from zorivest_infra.cli.render import safe

P = ParamSpec("P")
R = TypeVar("R")

DEBUG_ENV = "ZORIVEST_DEBUG"


class ExitCode(IntEnum):
    """The process exit codes of every ``zorivest`` command (listed in ``--help``)."""

    OK = 0
    ERROR = 1
    USAGE = 2
    WRONG_PASSPHRASE = 3
    NOT_ENCRYPTED = 4
    CORRUPT = 5
    SCHEMA_TOO_NEW = 6
    NOT_FOUND = 7
    INVALID_INPUT = 8
    ENCRYPTION_UNAVAILABLE = 9
    STORAGE_FULL = 10
    ALREADY_EXISTS = 11
    CONFLICT = 12
    BUSY = 13
    READ_ONLY = 14
    PASSPHRASE_CHANGED = 15
    NOT_A_JOURNAL_DATABASE = 16
    INTERRUPTED = 130


EXIT_CODE_HELP: tuple[tuple[ExitCode, str], ...] = (
    (ExitCode.OK, "success"),
    (ExitCode.ERROR, "other error; `verify` found problems"),
    (ExitCode.USAGE, "usage error (bad option or argument, no passphrase given)"),
    (ExitCode.WRONG_PASSPHRASE, "wrong passphrase"),
    (ExitCode.NOT_ENCRYPTED, "the file is a plaintext SQLite database, not an encrypted journal"),
    (ExitCode.CORRUPT, "the file is not a journal, or it is damaged"),
    (ExitCode.SCHEMA_TOO_NEW, "the journal was written by a newer Zorivest"),
    (ExitCode.NOT_FOUND, "journal, file, trade, image or account not found"),
    (ExitCode.INVALID_INPUT, "invalid input: bad CSV file, bad image, invalid value"),
    (ExitCode.ENCRYPTION_UNAVAILABLE, "SQLCipher is not installed"),
    (ExitCode.STORAGE_FULL, "disk full; nothing was written"),
    (ExitCode.ALREADY_EXISTS, "already exists (journal, backup file, account)"),
    (ExitCode.CONFLICT, "the database refused the change (e.g. an unknown account)"),
    (ExitCode.BUSY, "another zorivest command is writing to this journal; try again"),
    (ExitCode.READ_ONLY, "the journal is read-only here; nothing was written"),
    (ExitCode.PASSPHRASE_CHANGED, "the passphrase was changed meanwhile; run it again"),
    (ExitCode.NOT_A_JOURNAL_DATABASE, "`encrypt`: that SQLite file is not a Zorivest journal"),
    (ExitCode.INTERRUPTED, "interrupted (Ctrl-C); the current transaction was rolled back"),
)


class CliError(Exception):
    """An error found by the command line itself, with the exit code it maps to."""

    def __init__(self, message: str, code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class _State:
    debug: bool = False


STATE = _State()
"""Process-wide CLI switches set by the root callback (``--debug``)."""


def debug_enabled() -> bool:
    return STATE.debug or os.environ.get(DEBUG_ENV, "") not in ("", "0")


# Most specific first: InvalidImageError is a ValidationError, FileNotFoundError an OSError.
_DOMAIN_CODES: tuple[tuple[type[ZorivestError], ExitCode], ...] = (
    (BusyError, ExitCode.BUSY),
    (ReadOnlyError, ExitCode.READ_ONLY),
    (PassphraseChangedError, ExitCode.PASSPHRASE_CHANGED),
    (NotAJournalDatabaseError, ExitCode.NOT_A_JOURNAL_DATABASE),
    (InvalidPassphraseError, ExitCode.WRONG_PASSPHRASE),
    (NotEncryptedError, ExitCode.NOT_ENCRYPTED),
    (CorruptJournalError, ExitCode.CORRUPT),
    (SchemaVersionError, ExitCode.SCHEMA_TOO_NEW),
    (NotFoundError, ExitCode.NOT_FOUND),
    (ValidationError, ExitCode.INVALID_INPUT),
    (EncryptionUnavailableError, ExitCode.ENCRYPTION_UNAVAILABLE),
    (StorageFullError, ExitCode.STORAGE_FULL),
    (DuplicateError, ExitCode.ALREADY_EXISTS),
    (ConflictError, ExitCode.CONFLICT),
)


def classify(error: BaseException) -> tuple[ExitCode, str]:
    """The exit code and the one-line message for an error, or ERROR for unknown ones."""
    from sqlalchemy.exc import SQLAlchemyError

    code, message = ExitCode.ERROR, f"unexpected {type(error).__name__}: {error}"
    if isinstance(error, CliError):
        code, message = error.code, error.message
    elif isinstance(error, ZorivestError):
        message = str(error)
        code = next(
            (code for kind, code in _DOMAIN_CODES if isinstance(error, kind)), ExitCode.ERROR
        )
    elif isinstance(error, OSError):
        code, message = _classify_os_error(error)
    elif isinstance(error, KeyboardInterrupt):
        code, message = (
            ExitCode.INTERRUPTED,
            "interrupted; the current transaction was rolled back",
        )
    elif isinstance(error, SQLAlchemyError):
        # The driver's own message, not SQLAlchemy's, which appends the SQL and parameters.
        original = getattr(error, "orig", None)
        message = f"database error: {original if original is not None else error}"
    return code, message


def _classify_os_error(error: OSError) -> tuple[ExitCode, str]:
    where = f"{error.filename}: " if error.filename is not None else ""
    reason = error.strerror or str(error)
    if isinstance(error, FileNotFoundError):
        return ExitCode.NOT_FOUND, f"{where}{reason}"
    if isinstance(error, FileExistsError):
        return ExitCode.ALREADY_EXISTS, f"{where}{reason}"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return ExitCode.STORAGE_FULL, f"{where}{reason}"
    return ExitCode.ERROR, f"{where}{reason}"


def one_line(message: str) -> str:
    """Collapse a message onto one line (driver messages sometimes span several)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return "; ".join(lines) if lines else "failed"


def report(error: BaseException) -> ExitCode:
    """Print the error (one line, or a traceback with --debug) and return its exit code."""
    code, message = classify(error)
    if debug_enabled():
        traceback.print_exception(error, file=sys.stderr)
    print(f"zorivest: error: {safe(one_line(message))}", file=sys.stderr)
    return code


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command so that any error ends it with one line and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except BrokenPipeError:
            from zorivest_infra.cli.process import end_by_sigpipe

            end_by_sigpipe()  # the reader of our output stopped: end quietly
        except (Exception, KeyboardInterrupt) as error:
            raise typer.Exit(int(report(error))) from error

    return wrapper
