"""Where a passphrase comes from. Never from a command-line argument value.

In order of precedence:

1. ``--passphrase-file PATH``: the file's first line (its line ending stripped, nothing else:
   spaces are part of a passphrase);
2. the ``ZORIVEST_PASSPHRASE`` environment variable;
3. a hidden interactive prompt (asked twice when a new passphrase is chosen).

A new passphrase for ``passwd`` comes from ``--new-passphrase-file``,
``ZORIVEST_NEW_PASSPHRASE`` or a hidden, confirmed prompt. Passphrases are only handed to
:class:`~zorivest_infra.journal.Journal`; nothing here prints or logs them.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Final

from zorivest_infra.cli.errors import CliError, ExitCode

PASSPHRASE_ENV: Final = "ZORIVEST_PASSPHRASE"  # noqa: S105 - a variable name
NEW_PASSPHRASE_ENV: Final = "ZORIVEST_NEW_PASSPHRASE"  # noqa: S105 - a variable name

# A passphrase file holds one line; anything much larger is the wrong file.
_MAX_FILE_BYTES: Final = 64 * 1024
_CONFIRM_ATTEMPTS: Final = 3


def _checked(value: str, source: str) -> str:
    """Refuse a passphrase that is not valid text, or that is empty or only whitespace.

    Messages name the source, never any part of the value. A value that is not valid text
    (bytes that are not UTF-8 arrive from the environment as lone surrogates) could not be
    typed again reliably, nor stored by the key derivation as the same bytes.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CliError(
            f"the passphrase from {source} is not valid text (it holds bytes that are not "
            "UTF-8); use a passphrase of UTF-8 characters",
            ExitCode.USAGE,
        ) from None
    if not value.strip():
        raise CliError(f"the passphrase from {source} is empty or only whitespace", ExitCode.USAGE)
    return value


def read_passphrase_file(path: Path) -> str:
    """The first line of ``path`` without its line ending.

    Raises:
        CliError: The file is missing, unreadable, too large, not UTF-8, or its first line
            is empty.
    """
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise CliError(f"passphrase file {path} does not exist", ExitCode.NOT_FOUND) from None
    except OSError as error:
        raise CliError(
            f"cannot read passphrase file {path}: {error.strerror or error}", ExitCode.ERROR
        ) from None
    if len(raw) > _MAX_FILE_BYTES:
        raise CliError(
            f"passphrase file {path} is larger than {_MAX_FILE_BYTES} bytes; "
            "it should hold the passphrase on its first line",
            ExitCode.INVALID_INPUT,
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(
            f"passphrase file {path} is not UTF-8 text", ExitCode.INVALID_INPUT
        ) from None
    first = text.split("\n", 1)[0].removesuffix("\r")
    if not first.strip():
        raise CliError(
            f"passphrase file {path} has an empty first line (or only whitespace)",
            ExitCode.INVALID_INPUT,
        )
    return _checked(first, f"passphrase file {path}")


def _from_environment(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None:
        return None
    if not value:
        raise CliError(f"{name} is set but empty", ExitCode.USAGE)
    return _checked(value, name)


def _ask(text: str) -> str:
    """One hidden answer; Ctrl-C exits 130, end of input is a usage error.

    Without a terminal (piped stdin) the line is read directly: `getpass` would warn
    (GetPassWarning) and read it anyway.
    """
    try:
        if sys.stdin is not None and sys.stdin.isatty():
            return getpass.getpass(f"{text}: ", stream=sys.stderr)
        return _read_piped_line(text)
    except KeyboardInterrupt:
        raise CliError(
            "interrupted at the passphrase prompt; nothing was changed", ExitCode.INTERRUPTED
        ) from None
    except EOFError:
        raise CliError(
            f"no passphrase given: type it at the prompt, set {PASSPHRASE_ENV}, "
            "or use --passphrase-file",
            ExitCode.USAGE,
        ) from None


def _read_piped_line(text: str) -> str:
    sys.stderr.write(f"{text}: ")
    sys.stderr.flush()
    line = sys.stdin.readline() if sys.stdin is not None else ""
    sys.stderr.write("\n")
    if not line:
        raise EOFError
    return line.removesuffix("\n").removesuffix("\r")


def _prompt(text: str, *, confirm: bool) -> str:
    for _ in range(_CONFIRM_ATTEMPTS):
        value = _checked(_ask(text), "the prompt")
        if not confirm or _ask("Repeat for confirmation") == value:
            return value
        sys.stderr.write("The two entries do not match; try again.\n")
    raise CliError("the two entries did not match", ExitCode.USAGE)


def _given_passphrase(passphrase_file: Path | None, environment: str) -> str | None:
    """The passphrase from the file, else from the environment variable; None if neither."""
    if passphrase_file is not None:
        return read_passphrase_file(passphrase_file)
    return _from_environment(environment)


def current_passphrase(passphrase_file: Path | None, *, prompt: str = "Passphrase") -> str:
    """The passphrase of an existing journal, from the file, the environment or a prompt."""
    given = _given_passphrase(passphrase_file, PASSPHRASE_ENV)
    return given if given is not None else _prompt(prompt, confirm=False)


def optional_passphrase(passphrase_file: Path | None) -> str | None:
    """A passphrase from the file or the environment, or None; never prompts."""
    return _given_passphrase(passphrase_file, PASSPHRASE_ENV)


def chosen_passphrase(
    passphrase_file: Path | None,
    *,
    environment: str = PASSPHRASE_ENV,
    prompt: str = "New passphrase",
) -> str:
    """A new passphrase, from the file, the environment or a prompt asked twice."""
    given = _given_passphrase(passphrase_file, environment)
    return given if given is not None else _prompt(prompt, confirm=True)
