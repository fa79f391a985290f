"""The ``zorivest`` command: create, fill, inspect and look after an encrypted journal.

``app`` is the Typer application (for ``typer.testing.CliRunner``); ``main`` is the console
script's entry point (``zorivest = "zorivest_infra.cli:main"``).
"""

from __future__ import annotations

import os
import sys

from zorivest_infra.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Run the command line, exiting with the command's exit code."""
    try:
        app(prog_name="zorivest")
    except BrokenPipeError:
        # Output piped into e.g. `head` that stopped reading: not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
