"""Bring a journal's schema to the newest revision."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from zorivest_core.application.ports import SchemaUpgrade, UpgradableJournal


def upgrade_journal(
    open_journal: Callable[[], AbstractContextManager[UpgradableJournal]],
) -> SchemaUpgrade:
    """Open the journal (which upgrades it, snapshotting a file first) and report what changed.

    The journal facade owns the upgrade: opening refuses a newer schema, writes an
    encrypted snapshot of a journal file with pending migrations, then migrates. This use
    case only opens and closes it, so the upgrade is never run twice or by another path.

    Args:
        open_journal: Opens the journal (a file with its passphrase, or a database URL).

    Raises:
        SchemaVersionError: The journal was written by a newer Zorivest (nothing written).
    """
    with open_journal() as journal:
        return journal.schema_upgrade
