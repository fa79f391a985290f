"""Two processes upgrading one SQLite journal at once: the second waits, then does nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from zorivest_infra.database import migrations
from zorivest_infra.database.connection import (
    KdfParameters,
    key_for_new_journal,
    open_keyed_connection,
)
from zorivest_infra.journal import Journal

PASSPHRASE = "upgrade race passphrase"
CHEAP = KdfParameters(time_cost=1, memory_cost_kib=1024, parallelism=1)

# Upgrades the journal at argv[1] from scratch (the empty schema is the oldest "revision"
# there is); with argv[2] == "pause" it stops inside the upgrade, after the lock is taken,
# until a line arrives on stdin. Prints how many revisions it ran.
CHILD = textwrap.dedent(
    """
    import logging, sys
    from zorivest_infra.database import migrations
    from zorivest_infra.database.connection import key_for_existing_journal
    from zorivest_infra.database.engine import engine_for_key

    ran = []
    class Count(logging.Handler):
        def emit(self, record):
            if record.getMessage().startswith("Running upgrade"):
                ran.append(record.getMessage())
    log = logging.getLogger("alembic.runtime.migration")
    log.setLevel(logging.INFO)
    log.addHandler(Count())
    path, mode = sys.argv[1], sys.argv[2]
    engine = engine_for_key(path, key_for_existing_journal(path, sys.argv[3]), create=False)
    if mode == "pause":
        real = migrations.command.upgrade
        def paused(config, revision):
            print("locked", flush=True)
            sys.stdin.readline()
            return real(config, revision)
        migrations.command.upgrade = paused
    else:
        print("starting", flush=True)
    migrations.upgrade(engine)
    engine.dispose()
    print("ran", len(ran), flush=True)
    """
)


def blocked_on_flock(pid: int) -> bool:
    with open("/proc/locks") as locks:
        return any("->" in line and "FLOCK" in line and str(pid) in line.split() for line in locks)


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs /proc/locks")
def test_second_upgrade_waits_then_finds_nothing_to_do(tmp_path: Path) -> None:
    path = tmp_path / "j.zorivest"
    key = key_for_new_journal(PASSPHRASE, CHEAP)
    open_keyed_connection(path, key, create=True).close()  # a journal without schema
    key.wipe()

    def start(mode: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), mode, PASSPHRASE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    first = start("pause")
    second: subprocess.Popen[str] | None = None
    try:
        assert first.stdout is not None
        assert first.stdin is not None
        assert first.stdout.readline().strip() == "locked"
        second = start("plain")
        assert second.stdout is not None
        assert second.stdout.readline().strip() == "starting"
        # The second must now wait on the first's upgrade lock (not run the revisions).
        deadline = time.monotonic() + 60
        while not blocked_on_flock(second.pid):
            assert second.poll() is None, "the second upgrade did not wait for the first"
            assert time.monotonic() < deadline, "the second upgrade never waited"
            time.sleep(0.01)  # polling a condition, not timing anything
        first.stdin.write("go\n")
        first.stdin.flush()
        first_out, first_err = first.communicate(timeout=120)
        second_out, second_err = second.communicate(timeout=120)
    finally:
        for child in (first, second):
            if child is not None and child.poll() is None:
                child.kill()
                child.wait()
    assert first.returncode == 0, first_err
    assert second.returncode == 0, second_err
    revisions = len(list((migrations.MIGRATIONS_DIR / "versions").glob("[0-9]*.py")))
    assert first_out.strip().splitlines()[-1] == f"ran {revisions}"
    assert second_out.strip().splitlines()[-1] == "ran 0"
    with Journal.open(path, PASSPHRASE) as journal:
        assert journal.schema_revision == migrations.head_revision()
        assert journal.verify().ok
