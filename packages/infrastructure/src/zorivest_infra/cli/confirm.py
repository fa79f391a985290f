"""Asking before a destructive change: --yes, a prompt in a terminal, refusal otherwise."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from zorivest_infra.cli.errors import CliError, ExitCode
from zorivest_infra.cli.render import safe

Yes = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Do not ask (needed when stdin is not a terminal)."),
]


def confirm_or_refuse(what: str, *, yes: bool) -> None:
    """Go ahead with ``yes``; ask in a terminal; refuse when stdin is not a terminal.

    Raises:
        CliError: Declined at the prompt (exit 1), or no terminal to ask in (exit 2).
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError(
            f"not deleting {safe(what)} without --yes (stdin is not a terminal to ask in)",
            ExitCode.USAGE,
        )
    if not typer.confirm(f"Delete {safe(what)}?", default=False):
        raise CliError("nothing was deleted", ExitCode.ERROR)


__all__ = ["Yes", "confirm_or_refuse"]
