"""`zorivest reconcile` against the IBKR Flex fixture, whose fifoPnlRealized values were
computed by hand from IBKR's published definition (see the comment in the fixture).

Our FIFO realized P&L of every closing execution must equal the file's exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

import pytest

from tests.integration.test_cli import Cli, ok
from zorivest_infra.cli.errors import ExitCode

FLEX: Final = Path(__file__).parents[1] / "fixtures" / "imports" / "ibkr-flex" / "trades.xml"
NY: Final = ("--tz", "America/New_York")


@pytest.fixture
def cli(fast_kdf: None) -> Cli:
    return Cli()


@pytest.fixture
def imported(cli: Cli, tmp_path: Path) -> Path:
    path = tmp_path / "journal.zorivest"
    ok(cli("init", path))
    ok(cli("account", "add", path, "U1234567", "--name", "IBKR", "--type", "broker"))
    ok(cli("import", path, FLEX, *NY))
    return path


def test_every_execution_matches_the_brokers_fifo_realized_pnl(cli: Cli, imported: Path) -> None:
    result = ok(cli("reconcile", imported, FLEX, *NY))
    # All 16 rows carry fifoPnlRealized (0 on openings and on the cancelled pair); every
    # one is in the journal and agrees.
    assert result.stdout.startswith("Reconciled 16 execution(s) of ")
    assert result.stdout.rstrip().endswith(": 0 differ, 0 not in the journal.")


def test_the_import_made_round_trips_with_the_brokers_numbers(cli: Cli, imported: Path) -> None:
    trips = json.loads(ok(cli("roundtrips", imported, "--json")).stdout)
    closed = {
        (trip["instrument"], trip["direction"]): trip["realized_pnl"]
        for trip in trips
        if trip["status"] == "closed"
    }
    # Sums of the fixture's fifoPnlRealized per round trip (hand-computed in its comment).
    assert closed[("AAPL", "BOT")] == "532"  # 577.60 - 45.60
    assert closed[("TSLA", "SLD")] == "57.7"  # 89.50 - 31.80
    assert closed[("ESM4", "BOT")] == "1316.52"
    assert closed[("AAPL  240419C00175000", "BOT")] == "-281.96"  # 63.69 - 345.65
    sap = [trip for trip in trips if trip["instrument"] == "SAP"]
    assert [(t["status"], t["currency"]) for t in sap] == [("open", "EUR")]


def test_a_differing_value_is_reported_with_both(cli: Cli, imported: Path, tmp_path: Path) -> None:
    edited = tmp_path / "edited.xml"
    text = FLEX.read_text(encoding="utf-8")
    assert text.count('fifoPnlRealized="89.5"') == 1
    edited.write_text(text.replace('fifoPnlRealized="89.5"', 'fifoPnlRealized="89.49"'))
    result = cli("reconcile", imported, edited, *NY)
    assert result.exit_code == ExitCode.ERROR
    assert "1 differ" in result.stdout
    line = next(row for row in result.stdout.splitlines() if "ours 89.5" in row)
    assert "broker 89.49" in line
    assert "TSLA" in line


def test_executions_missing_from_the_journal_are_listed(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "empty.zorivest"
    ok(cli("init", path))
    result = cli("reconcile", path, FLEX, *NY)
    assert result.exit_code == ExitCode.ERROR
    assert "not in the journal" in result.stdout
