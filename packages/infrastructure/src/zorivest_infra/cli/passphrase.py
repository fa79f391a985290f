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

import os
from pathlib import Path
from typing import Final

import typer

from zorivest_infra.cli.errors import CliError, ExitCode

PASSPHRASE_ENV: Final = "ZORIVEST_PASSPHRASE"  # noqa: S105 - a variable name
NEW_PASSPHRASE_ENV: Final = "ZORIVEST_NEW_PASSPHRASE"  # noqa: S105 - a variable name

# A passphrase file holds one line; anything much larger is the wrong file.
_MAX_FILE_BYTES: Final = 64 * 1024


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
    if not first:
        raise CliError(f"passphrase file {path} has an empty first line", ExitCode.INVALID_INPUT)
    return first


def _from_environment(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None:
        return None
    if not value:
        raise CliError(f"{name} is set but empty", ExitCode.USAGE)
    return value


def _prompt(text: str, *, confirm: bool) -> str:
    try:
        value: str = typer.prompt(
            text,
            hide_input=True,
            confirmation_prompt="Repeat for confirmation" if confirm else False,
            err=True,
        )
    except typer.Abort:
        raise CliError(
            f"no passphrase given: type it at the prompt, set {PASSPHRASE_ENV}, "
            "or use --passphrase-file",
            ExitCode.USAGE,
        ) from None
    if not value:
        raise CliError("the passphrase must not be empty", ExitCode.USAGE)
    return value


def current_passphrase(passphrase_file: Path | None, *, prompt: str = "Passphrase") -> str:
    """The passphrase of an existing journal, from the file, the environment or a prompt."""
    if passphrase_file is not None:
        return read_passphrase_file(passphrase_file)
    value = _from_environment(PASSPHRASE_ENV)
    if value is not None:
        return value
    return _prompt(prompt, confirm=False)


def optional_passphrase(passphrase_file: Path | None) -> str | None:
    """A passphrase from the file or the environment, or None; never prompts."""
    if passphrase_file is not None:
        return read_passphrase_file(passphrase_file)
    return _from_environment(PASSPHRASE_ENV)


def chosen_passphrase(
    passphrase_file: Path | None,
    *,
    environment: str = PASSPHRASE_ENV,
    prompt: str = "New passphrase",
) -> str:
    """A new passphrase, from the file, the environment or a prompt asked twice."""
    if passphrase_file is not None:
        return read_passphrase_file(passphrase_file)
    value = _from_environment(environment)
    if value is not None:
        return value
    return _prompt(prompt, confirm=True)
