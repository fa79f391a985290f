"""Another process changes the passphrase while this one has the journal open."""

from __future__ import annotations

from pathlib import Path

import pytest

from zorivest_core.domain.entities import Account
from zorivest_core.domain.enums import AccountType
from zorivest_core.domain.errors import CorruptJournalError, PassphraseChangedError
from zorivest_infra.database.connection import KdfParameters
from zorivest_infra.journal import Journal

OLD = "the old passphrase"
NEW = "the new passphrase"
CHEAP = KdfParameters(time_cost=1, memory_cost_kib=1024, parallelism=1)


def passwd_elsewhere(path: Path, cwd: Path) -> tuple[int, str]:
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if not key.startswith("ZORIVEST_")}
    env.update(ZORIVEST_PASSPHRASE=OLD, ZORIVEST_NEW_PASSPHRASE=NEW)
    done = subprocess.run(
        [sys.executable, "-m", "zorivest_infra.cli", "passwd", str(path)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stderr


def read_accounts(journal: Journal) -> None:
    with journal.unit_of_work(read_only=True) as uow:
        uow.accounts.list_all()


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "j.zorivest"
    with Journal.create(path, OLD, kdf=CHEAP) as created, created.unit_of_work() as uow:
        uow.accounts.save(Account("A1", "Main", AccountType.BROKER))
        uow.commit()
    return path


def test_idle_process_is_told_the_passphrase_changed(journal: Path, tmp_path: Path) -> None:
    with Journal.open(journal, OLD) as opened:
        read_accounts(opened)
        code, stderr = passwd_elsewhere(journal, tmp_path)
        assert code == 0, stderr
        with pytest.raises(PassphraseChangedError, match="open it again with the new") as caught:
            read_accounts(opened)
        assert not isinstance(caught.value, CorruptJournalError)
        assert "restore" not in str(caught.value)
        assert "damaged" not in str(caught.value)
        with pytest.raises(PassphraseChangedError):
            opened.verify()
    with Journal.open(journal, NEW) as reopened:
        assert reopened.verify().ok


def test_long_reader_blocks_passwd_without_tracebacks(journal: Path, tmp_path: Path) -> None:
    with Journal.open(journal, OLD) as opened:
        with opened.unit_of_work(read_only=True) as uow:
            uow.accounts.list_all()  # a read transaction holds the log back
            code, stderr = passwd_elsewhere(journal, tmp_path)
        # The re-key committed in the log, but its checkpoint could not run.
        assert code == 12, stderr
        assert "NEW passphrase opens it" in stderr
        assert "Traceback" not in stderr
        assert len([line for line in stderr.splitlines() if line.strip()]) == 1
        with pytest.raises(PassphraseChangedError):
            read_accounts(opened)
        with pytest.raises(PassphraseChangedError):
            opened.verify()
    with Journal.open(journal, NEW) as reopened:
        assert reopened.verify().ok


def test_cli_maps_passphrase_changed_to_its_own_exit_code() -> None:
    from zorivest_infra.cli.errors import ExitCode, classify

    code, message = classify(PassphraseChangedError("changed; open it again"))
    assert code == ExitCode.PASSPHRASE_CHANGED
    assert int(code) == 15
    assert message == "changed; open it again"
