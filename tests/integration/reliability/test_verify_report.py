"""`zorivest verify` on damaged journals (issue 12, item 10): a short list, exit 1.

Damage near the start of the file kept the journal from opening and exited 5 with advice
to run verify; damage elsewhere printed SQLite's raw report (about 100 lines). Now any
damage exits 1 with a few lines saying what is damaged; SQLite's text only with --debug.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from zorivest_core.domain.entities import Account, Trade
from zorivest_core.domain.enums import AccountType, TradeAction
from zorivest_infra.cli import app
from zorivest_infra.journal import Journal

PASSPHRASE = "verify report passphrase"
PAGE = 4096


@pytest.fixture
def journal(tmp_path: Path, fast_kdf: None) -> Path:
    path = tmp_path / "journal.zorivest"
    with Journal.create(path, PASSPHRASE) as created, created.unit_of_work() as uow:
        uow.accounts.save(Account("V", "Verify", AccountType.BROKER))
        uow.trades.save_many(
            [
                Trade(
                    f"V{index:05d}",
                    dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=index),
                    f"SYM{index % 30}",
                    TradeAction.BOT,
                    Decimal(index + 1),
                    Decimal("10.5"),
                    "V",
                )
                for index in range(3_000)
            ]
        )
        uow.commit()
    return path


def _damage(path: Path, pages: list[int]) -> None:
    data = bytearray(path.read_bytes())
    for page in pages:
        data[page * PAGE + 300] ^= 0xFF
    path.write_bytes(bytes(data))


def _verify(path: Path, *options: str) -> Result:
    return CliRunner().invoke(
        app,
        [*options, "verify", str(path)],
        env={"ZORIVEST_PASSPHRASE": PASSPHRASE, "ZORIVEST_DEBUG": None},
    )


def test_damage_near_the_start_exits_1_and_says_to_restore(journal: Path) -> None:
    _damage(journal, [0])
    result = _verify(journal)
    assert result.exit_code == 1, result.output
    assert "run verify" not in result.output
    assert "restore a backup" in result.output
    assert len(result.output.splitlines()) <= 3, result.output


def test_damage_in_many_pages_is_a_short_list_and_raw_text_only_with_debug(
    journal: Path,
) -> None:
    pages = journal.stat().st_size // PAGE
    _damage(journal, list(range(pages // 3, pages - 1, 3)))
    result = _verify(journal)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert 1 < len(lines) <= 6, result.output
    assert any("fail authentication" in line for line in lines), result.output
    assert "Tree " not in result.output
    assert "btreeInitPage" not in result.output
    debug = _verify(journal, "--debug")
    assert debug.exit_code == 1
    assert len(debug.output.splitlines()) > len(lines)
