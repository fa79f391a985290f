"""Recovering a write-ahead log that a crash left behind, before a journal is keyed.

A journal's salt is read from the first bytes of its main file; after a crash between a
committed re-key and its checkpoint the new salt is only in ``-wal``. `_settle_wal` applies
such a log with a keyless connection so that the salt read afterwards is the committed one.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from zorivest_infra.database.connection import CipherConnection, read_file_head
from zorivest_infra.journal.driver import _SQLITE_HEADER, _driver
from zorivest_infra.journal.files import _file_size

_log = logging.getLogger("zorivest_infra.journal")  # one logger for the whole package


def _settle_wal(path: Path) -> None:
    """Apply a write-ahead log left behind by a crash, before the salt is read.

    The salt (the first 16 bytes) is read from the main file. If a process died after a
    committed ``PRAGMA rekey`` but before its checkpoint, the new page 1 (with the new salt)
    is still only in ``-wal``: the main file shows the old salt although the journal's
    committed state is under the new key, and no passphrase would derive the right key.
    SQLite checkpoints a log when the last connection closes, which needs no key (frames are
    copied as they are, and only committed ones), so one keyless connection is opened, made
    to look at the log, and closed. Without a hot log, or while another connection has the
    journal open (the checkpoint then does not happen), this changes nothing.
    """
    wal = Path(f"{path}-wal")
    if _file_size(wal) == 0:
        return
    head, _ = read_file_head(path, len(_SQLITE_HEADER))
    if head == _SQLITE_HEADER:
        return  # plaintext: the connection layer reports it
    driver = _driver()
    conn: CipherConnection = driver.connect(f"{path.as_uri()}?mode=rw", uri=True)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        # Fails with "file is not a database" (no key), after the log has been opened.
        with contextlib.suppress(driver.Error):
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()
    _log.debug("applied the write-ahead log of %s before opening it", path)
