"""Changing a journal's passphrase: the re-key of the file and of its stored API keys.

`Journal.change_passphrase` uses ``PRAGMA rekey`` with a new key under a new salt, in WAL
mode, in ONE transaction that also re-encrypts the stored market-provider API keys (see
that method for the crash behaviour). This module holds the mechanics on a raw SQLCipher
connection: checkpointing the log around the re-key, running the pragma without leaking
the key literal, re-encrypting the API keys, and checking that the header took the new
salt.

`_rekey` records in a `RekeyProgress` whether the re-key committed, so that a caller whose
re-key failed afterwards (a busy final checkpoint) reinstalls the NEW key, not the old one:
until that checkpoint lands, the main file's header still shows the OLD salt.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import Engine

from zorivest_core.domain.errors import (
    ConflictError,
    CorruptJournalError,
    StorageFullError,
    ZorivestError,
)
from zorivest_infra.database.connection import (
    CipherConnection,
    JournalKey,
    classify_open_error,
    open_keyed_connection,
    read_journal_salt,
)
from zorivest_infra.disk_space import is_out_of_space, require_space, storage_full
from zorivest_infra.journal.wal import _settle_wal
from zorivest_infra.secrets import ApiKeyCipher, ApiKeyDecryptionError

_log = logging.getLogger("zorivest_infra.journal")  # one logger for the whole package

_WHAT: Final = "re-encrypting the journal"
_NOT_CHANGED: Final = (
    "the passphrase was NOT changed: the old passphrase still opens the journal; free "
    "some space on that disk and retry"
)
# Room for the log's header and the API-key updates beyond the rewritten pages.
_MARGIN_PAGES: Final = 16


class RekeyCommittedError(ConflictError):
    """The re-key committed (only the NEW passphrase opens the journal) but a later step failed."""


@dataclass
class RekeyProgress:
    """How far `_rekey` got: ``committed`` is True once the new key is the journal's key."""

    committed: bool = False


def _checked_out(engine: Engine) -> int:
    checked_out = getattr(engine.pool, "checkedout", None)
    return int(checked_out()) if callable(checked_out) else 0


def _rekey(
    path: Path, old: JournalKey, new: JournalKey, progress: RekeyProgress | None = None
) -> None:
    """Re-key `path` from `old` to `new`; `progress.committed` tells whether it committed.

    Raises:
        RekeyCommittedError: The re-key committed, but the log could not be checkpointed
            into the main file (another connection or process has the journal open).
    """
    progress = progress if progress is not None else RekeyProgress()
    conn = open_keyed_connection(path, old)
    try:
        conn.isolation_level = None
        _checkpoint(conn, path)
        # Every page is rewritten into the log before the commit: about the journal's size.
        needed = _journal_bytes(conn)
        require_space(path, needed, _WHAT, step=_NOT_CHANGED)
        conn.execute("BEGIN IMMEDIATE")
        try:
            _reencrypt_api_keys(conn, old, new)
            _run_rekey(conn, path, new)
            # The rewrite commits with this COMMIT (or already did, with the pragma); only
            # once it has returned is the new key the journal's key.
            if conn.in_transaction:
                conn.execute("COMMIT")
            progress.committed = True
        except BaseException as error:
            if conn.in_transaction:
                with contextlib.suppress(Exception):
                    conn.execute("ROLLBACK")
            if _out_of_space(error, path):
                raise storage_full(path, _WHAT, needed=needed, step=_NOT_CHANGED) from error
            raise
        try:
            _checkpoint(conn, path)
        except ConflictError:
            raise RekeyCommittedError(
                f"journal {path} was re-keyed: the NEW passphrase opens it now (the old one "
                "no longer does), but another connection or process still has it open; close "
                "it there, then open the journal with the NEW passphrase"
            ) from None
    finally:
        conn.close()
    _settle_wal(path)
    if read_journal_salt(path) != new.salt:
        raise RekeyCommittedError(
            f"journal {path} was re-keyed but its header still shows the old salt: another "
            "process has it open; close it there, then open the journal with the NEW passphrase"
        )


def _journal_bytes(conn: CipherConnection) -> int:
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    return (pages + _MARGIN_PAGES) * page_size


def _out_of_space(error: BaseException, path: Path) -> bool:
    if isinstance(error, StorageFullError):
        return True
    return not isinstance(error, ZorivestError) and is_out_of_space(error, path)


def _checkpoint(conn: CipherConnection, path: Path) -> None:
    row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if row is not None and row[0]:
        raise ConflictError(
            f"journal {path} is in use by another connection or process; close it and retry "
            "(nothing was changed: the old passphrase still opens it)"
        )


def _run_rekey(conn: CipherConnection, path: Path, new: JournalKey) -> None:
    """SQLCipher's re-key (``PRAGMA rekey``) to the new 96-hex literal, leaking it nowhere.

    The literal goes to ``reset_key`` in a mutable buffer zeroed right after; a driver
    error is replaced by one without context.
    """
    literal = new.literal_buffer(include_salt=True)
    error: ZorivestError | None = None
    try:
        conn.reset_key(literal)  # type: ignore[attr-defined]  # sqlcipher3's extension
    except Exception as exc:  # any driver error; never let it carry the key
        error = classify_open_error(exc, path) or CorruptJournalError(
            f"SQLCipher could not re-key journal {path}; the old passphrase still opens it"
        )
    finally:
        literal[:] = bytes(len(literal))
    if error is not None:
        raise error


def _reencrypt_api_keys(conn: CipherConnection, old: JournalKey, new: JournalKey) -> None:
    """Re-encrypt ``market_provider_settings.encrypted_api_key`` under the new key's cipher."""
    table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'market_provider_settings'"
    ).fetchone()
    if table is None:
        return
    rows = conn.execute(
        "SELECT provider_name, encrypted_api_key FROM market_provider_settings "
        "WHERE encrypted_api_key IS NOT NULL"
    ).fetchall()
    if not rows:
        return
    old_cipher = ApiKeyCipher.from_journal_key(old)
    new_cipher = ApiKeyCipher.from_journal_key(new)
    for provider, stored in rows:
        if not ApiKeyCipher.is_encrypted(stored):
            _log.warning("API key of provider %r is not encrypted; left as it is", provider)
            continue
        try:
            plain = old_cipher.decrypt(stored)
        except ApiKeyDecryptionError:
            _log.warning(
                "API key of provider %r cannot be decrypted with this journal's key; left as it is",
                provider,
            )
            continue
        conn.execute(
            "UPDATE market_provider_settings SET encrypted_api_key = ? WHERE provider_name = ?",
            (new_cipher.encrypt(plain), provider),
        )
        del plain
