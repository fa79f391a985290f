"""How to write a `zorivest` command line that runs as printed in the user's shell.

``uv run zorivest ...`` puts the environment's ``bin`` on PATH only for that one process,
so a hint printed from inside it must say ``uv run zorivest`` again; the README installs
uv with pip, where ``uv`` itself may not be on PATH either.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path


def _same_file(first: str, second: str) -> bool:
    try:
        return Path(first).samefile(second)
    except OSError:
        return False


def command_prefix() -> str:
    """The words that start a runnable ``zorivest`` command here, shell-quoted."""
    if os.environ.get("UV_RUN_RECURSION_DEPTH"):
        uv = os.environ.get("UV", "")
        on_path = shutil.which("uv")
        if on_path is not None and (not uv or _same_file(on_path, uv)):
            return "uv run zorivest"
        if uv:
            return f"{shlex.quote(uv)} run zorivest"
        return "python3 -m uv run zorivest"
    if shutil.which("zorivest") is not None:
        return "zorivest"
    return f"{shlex.quote(sys.executable)} -m zorivest_infra.cli"


def command_line(*arguments: str | os.PathLike[str]) -> str:
    """``zorivest ARGUMENTS`` as a shell line that runs as printed (arguments quoted)."""
    return " ".join([command_prefix(), *(shlex.quote(os.fspath(item)) for item in arguments)])


__all__ = ["command_line", "command_prefix"]
