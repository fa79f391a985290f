"""`Journal`: the one-call entry point to a Zorivest journal.

    with Journal.create("trades.db", passphrase) as journal:      # new encrypted file
        with journal.unit_of_work() as uow:
            uow.accounts.save(account)
            uow.commit()

    with Journal.open("trades.db", passphrase) as journal: ...    # existing file
    with Journal.connect("postgresql+psycopg://...") as journal: ...  # server database
    Journal.connect(url, create_schema=True).close()  # give a new database the schema

An encrypted journal is ONE SQLCipher file (mode 0600) whose first 16 bytes are the salt of
the passphrase's Argon2id key and record the Argon2id parameters (format v1,
`zorivest_infra.database.journal_format`), so it opens whatever a process's defaults.
Opening it costs one Argon2id run; the derived key is kept (in a wipeable `JournalKey`)
only while the journal is open, and every pooled connection is keyed with it directly. A
closed journal holds nothing of its file (`zorivest_infra.database.descriptors`); a journal
on a read-only file or file system opens read-only.

Schema: `create` migrates the new file to the newest revision (the baseline seeds the
defaults). `open` refuses a journal written by a newer Zorivest (`SchemaVersionError`,
nothing written); when migrations are pending it first writes an encrypted snapshot beside
the file, ``<stem>.pre-<revision>-<UTC timestamp>.db`` (same passphrase), then upgrades.

Copies (`backup`, snapshots) use SQLite's online backup API between two connections keyed
with the SAME raw key and salt, so a copy is a self-contained journal opened by the same
passphrase, encrypted page by page (never a plaintext intermediate), consistent (one read
transaction of the source; writers in WAL mode are not blocked), mode 0600, fsynced.

Passphrase changes (`change_passphrase`) use ``PRAGMA rekey`` with a new key under a new
salt, in WAL mode, in ONE transaction that also re-encrypts the stored market-provider API
keys. See that method for the crash behaviour.

Secrets: no passphrase or key ever appears in a log record, an exception message, a
``repr``, or an engine URL (encrypted engines have the URL ``sqlite://``; the key lives in
the pool's connection factory).

Modules, one concern each (import from this package, not from them): `_journal` (the
`Journal` facade and its state), `errors`, `files` (paths and private files), `driver`
(the SQLCipher driver and its errors), `wal` (applying a log left by a crash), `copies`
(backups and snapshots, whole or absent), `partials` (their temporary files and the
leftovers of crashed copies), `rekey` (`change_passphrase`), `plaintext` (`encrypt_plaintext`),
`verify` (`VerifyReport` and the checks) and `info` (`JournalInfo`).
"""

from __future__ import annotations

from zorivest_infra.journal._journal import Journal
from zorivest_infra.journal.copies import snapshot_path
from zorivest_infra.journal.errors import (
    JournalClosedError,
    JournalExistsError,
    JournalNotFoundError,
    NotAJournalDatabaseError,
    SchemaMissingError,
    UnsupportedOperationError,
)
from zorivest_infra.journal.info import JournalInfo
from zorivest_infra.journal.verify import VerifyReport
from zorivest_infra.secrets import SESSION_API_KEY_CIPHER

__all__ = [
    "SESSION_API_KEY_CIPHER",
    "Journal",
    "JournalClosedError",
    "JournalExistsError",
    "JournalInfo",
    "JournalNotFoundError",
    "NotAJournalDatabaseError",
    "SchemaMissingError",
    "UnsupportedOperationError",
    "VerifyReport",
    "snapshot_path",
]
