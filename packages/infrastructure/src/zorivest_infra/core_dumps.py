"""Keeping passphrases and keys out of core dumps.

A core dump is a copy of the process's memory on disk: after a crash (or ``kill -SEGV``)
with ``ulimit -c unlimited`` it would hold the passphrase and the journal key in clear,
however carefully they were wiped, since Python strings and freed buffers are not. So as
soon as a passphrase or key is in memory, `disable_core_dumps` sets the core-file size
limit to 0 (soft and hard) and, on Linux, marks the process not dumpable
(``prctl(PR_SET_DUMPABLE, 0)``, which also stops core handlers such as systemd-coredump
and keeps other processes of the same user from attaching a debugger). Both stay in force
for the rest of the process: copies of a secret can outlive the objects that held it.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading
from typing import Final

_log = logging.getLogger(__name__)

_PR_SET_DUMPABLE: Final = 4
_lock = threading.Lock()
_disabled = False


def disable_core_dumps() -> None:
    """Stop this process from writing core dumps (idempotent, cheap after the first call)."""
    global _disabled  # noqa: PLW0603 - once per process
    with _lock:
        if _disabled:
            return
        _limit_core_size()
        _not_dumpable()
        _disabled = True


def _limit_core_size() -> None:
    if sys.platform == "win32":  # no core files there
        return
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError) as error:
        _log.warning("could not disable core dumps (RLIMIT_CORE): %s", error)


def _not_dumpable() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        failed = libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0
    except (OSError, AttributeError) as error:
        _log.warning("could not mark the process not dumpable: %s", error)
        return
    if failed:
        _log.warning("could not mark the process not dumpable (errno %d)", ctypes.get_errno())
