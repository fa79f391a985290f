"""The ``zorivest`` command: create, fill, inspect and look after an encrypted journal.

``app`` is the Typer application (for ``typer.testing.CliRunner``); ``main`` is the console
script's entry point (``zorivest = "zorivest_infra.cli:main"``).
"""

from __future__ import annotations

import os
import sys
import warnings

from zorivest_infra.cli.app import app
from zorivest_infra.cli.errors import DEBUG_ENV, ExitCode
from zorivest_infra.cli.process import end_by_sigpipe
from zorivest_infra.core_dumps import disable_core_dumps

__all__ = ["app", "main"]


def main() -> None:
    """Run the command line, exiting with the command's exit code.

    Process edges: core dumps are off before any passphrase is read; output piped into a
    reader that stopped (``zorivest trades --json | head -2``) ends the process quietly the
    conventional way (killed by SIGPIPE, status 141 in a shell); Ctrl-C outside a command
    exits 130 with one line; Python's warnings reach the user only with ZORIVEST_DEBUG.
    """
    disable_core_dumps()
    if os.environ.get(DEBUG_ENV, "") in ("", "0"):
        warnings.simplefilter("ignore")
    try:
        app(prog_name="zorivest")
    except BrokenPipeError:
        end_by_sigpipe()
    except KeyboardInterrupt:
        print("zorivest: interrupted", file=sys.stderr)
        sys.exit(int(ExitCode.INTERRUPTED))
