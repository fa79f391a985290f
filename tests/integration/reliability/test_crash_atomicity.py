"""Crash atomicity: SIGKILL a process in the middle of imports and passphrase changes.

A forked worker (see `_child.py`) writes to an encrypted journal and reports each commit on
an unbuffered pipe; the test kills it with SIGKILL at seeded random moments and then, in
its own process, reopens the journal: it must open, `verify()` must be clean, and it must
hold exactly the transactions that committed (whole batches only: at least every
acknowledged batch, at most the one batch whose acknowledgement the kill cut off).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.reliability._child import (
    ACCOUNT_ID,
    ForkServer,
    WorkerRun,
    batch_exec_id,
    cheap_kdf,
    make_batch,
)
from zorivest_core.domain.entities import Account
from zorivest_core.domain.enums import AccountType
from zorivest_core.domain.errors import InvalidPassphraseError
from zorivest_infra.database import connection
from zorivest_infra.journal import Journal

RecordProperty = Callable[[str, object], None]

SEED = 1234
IMPORT_KILLS = 24
REKEY_KILLS = 8
BATCH = 100
REKEY_JOURNAL_BATCHES = 150  # 15,000 trades: a re-key rewrites ~3 MB, long enough to hit
PASSPHRASE = 'crash-test passphrase: it\'s "quoted" & long'
OTHER_PASSPHRASE = "the other passphrase \u00e9\u00e8 \U0001f510"


@pytest.fixture
def same_kdf_as_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent derives keys exactly as the child does (cheap Argon2id)."""
    monkeypatch.setattr(connection, "KDF_PARAMETERS", cheap_kdf())


@pytest.fixture(scope="module")
def fork_server() -> Iterator[ForkServer]:
    server = ForkServer()
    try:
        yield server
    finally:
        server.close()


def _new_journal(path: Path, batches: int = 0) -> None:
    with Journal.create(path, PASSPHRASE) as journal:
        with journal.unit_of_work() as uow:
            uow.accounts.save(Account(ACCOUNT_ID, "Crash account", AccountType.BROKER))
            uow.commit()
        for batch in range(batches):
            with journal.unit_of_work() as uow:
                uow.trades.save_many(make_batch(batch, BATCH))
                uow.commit()


def _check_after_kill(path: Path, passphrase: str) -> int:
    """Reopen, verify, and return the number of whole batches stored (asserting they are)."""
    with Journal.open(path, passphrase) as journal:
        report = journal.verify()
        assert report.ok, report.problems
        with journal.unit_of_work() as uow:
            count = uow.trades.count()
            totals = uow.trades.totals(ACCOUNT_ID)
            assert count % BATCH == 0, f"{count} trades: a batch was partially committed"
            batches = count // BATCH
            # Whole batches 0..batches-1, nothing beyond: no hole, no stray rows.
            if batches:
                assert uow.trades.exists(batch_exec_id(batches - 1, BATCH - 1))
            assert not uow.trades.exists(batch_exec_id(batches, 0))
            assert totals.count == count
            assert totals.commission == Decimal(count)
            assert totals.realized_pnl == Decimal("0.000001") * count
    return batches


def _describe(run: WorkerRun) -> str:
    return f"worker {run.pid} status={run.status} said {run.messages[-5:]}"


@pytest.mark.parametrize("kills", [IMPORT_KILLS], ids=lambda n: f"sigkills={n}")
def test_import_killed_at_random_moments_keeps_whole_batches(
    same_kdf_as_child: None,
    fork_server: ForkServer,
    tmp_path: Path,
    kills: int,
    record_property: RecordProperty,
) -> None:
    rng = random.Random(SEED)
    path = tmp_path / "crash.db"
    _new_journal(path)
    stored = 0  # whole batches known to be in the journal
    mid_import = 0
    lost_acks = 0
    started = time.monotonic()
    for _ in range(kills):
        run = fork_server.start(
            {"task": "import", "path": str(path), "passphrase": PASSPHRASE, "batch": BATCH}
        )
        # Kill anywhere: one kill in five while the worker opens the journal (recovering
        # the previous kill's log), the others between commits or inside one.
        if rng.random() < 0.2:
            time.sleep(rng.uniform(0.0, 0.01))
        else:
            fork_server.wait_for(run, "opened")
            time.sleep(rng.uniform(0.0, 0.3))
        fork_server.kill(run)
        assert run.killed, _describe(run)
        assert not run.errors(), _describe(run)
        acknowledged = max(run.values("committed"), default=stored)
        found = _check_after_kill(path, PASSPHRASE)
        assert acknowledged <= found <= acknowledged + 1, (
            f"journal holds {found} batches; the worker acknowledged {acknowledged} "
            f"({_describe(run)})"
        )
        if run.values("opened"):
            mid_import += 1
        lost_acks += found - acknowledged
        stored = found
    elapsed = time.monotonic() - started
    summary = (
        f"crash atomicity (import): {kills} SIGKILLs survived ({mid_import} after the journal "
        f"was open, {kills - mid_import} while opening), {stored} batches = "
        f"{stored * BATCH} trades intact, {lost_acks} kills landed between a commit and its "
        f"acknowledgement, {elapsed:.1f}s"
    )
    print(summary)
    record_property("kills_survived", kills)
    record_property("kills_mid_import", mid_import)
    record_property("trades_intact", stored * BATCH)
    assert stored > 0, "no batch ever committed: the kills never landed mid-import"
    assert mid_import >= kills // 2, summary
    assert lost_acks <= kills


@pytest.mark.parametrize("kills", [REKEY_KILLS], ids=lambda n: f"sigkills={n}")
def test_change_passphrase_killed_midway_opens_with_old_or_new(
    same_kdf_as_child: None,
    fork_server: ForkServer,
    tmp_path: Path,
    kills: int,
    record_property: RecordProperty,
) -> None:
    rng = random.Random(SEED + 1)
    passphrases = [PASSPHRASE, OTHER_PASSPHRASE]
    path = tmp_path / "rekey.db"
    _new_journal(path, batches=REKEY_JOURNAL_BATCHES)
    opened_with = {0: 0, 1: 0}
    rekeys_acknowledged = 0
    started = time.monotonic()
    for _ in range(kills):
        run = fork_server.start({"task": "rekey", "path": str(path), "passphrases": passphrases})
        fork_server.wait_for(run, "opened")
        assert run.values("opened"), _describe(run)
        # A re-key of this journal takes ~0.1-0.3 s: kills land inside one or between two.
        time.sleep(rng.uniform(0.0, 0.5))
        fork_server.kill(run)
        assert run.killed, _describe(run)
        assert not run.errors(), _describe(run)
        rekeys_acknowledged += len(run.values("rekeyed"))

        opening = []
        for index, passphrase in enumerate(passphrases):
            try:
                batches = _check_after_kill(path, passphrase)
            except InvalidPassphraseError:
                continue
            assert batches == REKEY_JOURNAL_BATCHES
            opening.append(index)
        assert len(opening) == 1, f"opened by passphrases {opening} ({_describe(run)})"
        last = (run.values("opened") + run.values("rekeyed"))[-1]
        assert opening[0] in (last, 1 - last)
        opened_with[opening[0]] += 1
    elapsed = time.monotonic() - started
    summary = (
        f"crash atomicity (change_passphrase): {kills} SIGKILLs survived during re-keys of a "
        f"{REKEY_JOURNAL_BATCHES * BATCH}-trade journal ({rekeys_acknowledged} re-keys "
        f"completed in between); afterwards it opened with the first passphrase "
        f"{opened_with[0]}x, with the second {opened_with[1]}x, never with neither, "
        f"{elapsed:.1f}s"
    )
    print(summary)
    record_property("rekey_kills_survived", kills)
    record_property("rekeys_completed", rekeys_acknowledged)
