"""How the process ends when its output pipe is closed by the reader."""

from __future__ import annotations

import os
import signal
import sys
from typing import NoReturn


def end_by_sigpipe() -> NoReturn:
    """Die of SIGPIPE, as a command writing into a closed pipe conventionally does.

    E.g. ``zorivest trades --json | head -2``: no message, and the shell sees status 141
    (128 + SIGPIPE), so ``set -o pipefail`` scripts can tell it from a real error.
    """
    # Whatever is still buffered for stdout must not fail again at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGPIPE)
    sys.exit(128 + int(getattr(signal, "SIGPIPE", 13)))
