"""Listings stream: 200,000 trades to a pipe, as CSV and as a table, in bounded memory.

Each listing runs as a real `zorivest` child process with stdout on a pipe that the test
drains; the child's own peak RSS comes from `wait4`. Growth is the peak of the full
listing minus the peak of the same command listing one trade (start-up, the KDF and the
imports are the same in both), and must stay within 50 MB (the issue's bound).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path
from typing import IO, Final

import pytest

from zorivest_core.domain.entities import Account, Trade
from zorivest_core.domain.enums import AccountType, TradeAction
from zorivest_infra.journal import Journal

TRADES: Final = 200_000
ACCOUNTS: Final = ("ACC-A", "ACC-B")
GROWTH_LIMIT_KB: Final = 50 * 1024
PASSPHRASE: Final = "listing memory test passphrase"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def big_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200,000 trades over two accounts (the real KDF: the child opens it as a user would)."""
    path = tmp_path_factory.mktemp("listing") / "big.zorivest"
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    with Journal.create(path, PASSPHRASE) as journal, journal.unit_of_work() as uow:
        for account in ACCOUNTS:
            uow.accounts.save(Account(account, f"Account {account}", AccountType.BROKER))
        chunk: list[Trade] = []
        for number in range(TRADES):
            chunk.append(
                Trade(
                    exec_id=f"0000{number:08x}.65f1a2b3.01.01",
                    time=start + dt.timedelta(seconds=37 * number),
                    instrument=("AAPL", "MSFT", "BTC-USD")[number % 3],
                    action=TradeAction.BOT if number % 2 else TradeAction.SLD,
                    quantity=Decimal(number % 500 + 1),
                    price=Decimal("189.25") + Decimal(number % 1000) / 100,
                    account_id=ACCOUNTS[number % 2],
                    commission=Decimal("1.05"),
                    realized_pnl=Decimal(number % 301 - 150),
                )
            )
            if len(chunk) == 10_000:
                uow.trades.save_many(chunk)
                chunk = []
        uow.commit()
    return path


def _drain(stream: IO[bytes], counts: list[int]) -> None:
    lines = 0
    for block in iter(lambda: stream.read(1 << 16), b""):
        lines += block.count(b"\n")
    counts.append(lines)


def listing_peak(journal: Path, *arguments: str) -> tuple[int, int]:
    """Run `zorivest trades JOURNAL ARGS` with stdout on a pipe: (peak RSS KB, lines)."""
    environment = {**os.environ, "ZORIVEST_PASSPHRASE": PASSPHRASE}
    environment.pop("COLUMNS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "zorivest_infra.cli", "trades", str(journal), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=environment,
    )
    assert process.stdout is not None
    counts: list[int] = []
    reader = threading.Thread(target=_drain, args=(process.stdout, counts))
    reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    process.stdout.close()
    assert process.returncode == 0
    return usage.ru_maxrss, counts[0]


@pytest.mark.parametrize(
    ("output_format", "extra_lines"),
    [("csv", 1), ("table", 3)],  # CSV: a header; table: header, rule, footer
)
def test_a_full_listing_streams_in_bounded_memory(
    big_journal: Path, output_format: str, extra_lines: int
) -> None:
    baseline, _ = listing_peak(big_journal, "--limit", "1", "--format", output_format)
    peak, lines = listing_peak(big_journal, "--limit", "0", "--format", output_format)
    assert lines == TRADES + extra_lines
    growth = peak - baseline
    assert growth <= GROWTH_LIMIT_KB, f"{output_format}: peak RSS grew by {growth / 1024:.0f} MB"
