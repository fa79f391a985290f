"""`zorivest import` with statement formats: detection, forcing, stdin, replace, messages."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Final

import pytest

from tests.integration.test_cli import Cli, ok, one_error_line, stored_trades, summary_counts
from zorivest_infra.cli.errors import ExitCode

FIXTURES: Final = Path(__file__).parents[1] / "fixtures" / "imports"
FLEX: Final = FIXTURES / "ibkr-flex" / "trades.xml"
NY: Final = ("--tz", "America/New_York")


@pytest.fixture
def cli(fast_kdf: None) -> Cli:
    return Cli()


@pytest.fixture
def journal(cli: Cli, tmp_path: Path) -> Path:
    path = tmp_path / "journal.zorivest"
    ok(cli("init", path))
    ok(cli("account", "add", path, "U1234567", "--name", "IBKR", "--type", "broker"))
    ok(cli("account", "add", path, "CHK-0042", "--name", "Checking", "--type", "bank"))
    return path


def test_a_flex_statement_is_detected_imported_and_reimported(cli: Cli, journal: Path) -> None:
    first = ok(cli("import", journal, FLEX, *NY))
    assert "format      ibkr-flex (detected from its content)" in first.stdout
    assert summary_counts(first.stdout) == {
        "rows read": 16,
        "inserted": 16,
        "duplicates": 0,
        "conflicts": 0,
        "rejected": 0,
    }
    assert re.search(r"^\s+fees\s+1\b", first.stdout, re.MULTILINE)
    assert re.search(r"^\s+identifiers\s+14\b", first.stdout, re.MULTILINE)
    again = ok(cli("import", journal, FLEX, *NY))
    assert summary_counts(again.stdout)["duplicates"] == 16
    assert len(stored_trades(journal)) == 16
    for line in (first.stdout + again.stdout).splitlines():
        assert line.startswith("Imported ") or len(line) <= 80, line  # paths aside


def test_replace_reports_each_change(cli: Cli, journal: Path, tmp_path: Path) -> None:
    ok(cli("import", journal, FLEX, *NY))
    changed = tmp_path / "changed.xml"
    changed.write_bytes(FLEX.read_bytes().replace(b'tradePrice="171"', b'tradePrice="171.01"'))

    kept = ok(cli("import", journal, changed, *NY))
    assert "line 31: 0000a001.65e9d0aa.01.01" in kept.stdout
    assert "price: 171 -> 171.01" in kept.stdout
    assert str(stored_trades(journal)["0000a001.65e9d0aa.01.01"].price) == "171"

    replaced = ok(cli("import", journal, changed, *NY, "--replace"))
    assert "Replaced (old -> new):" in replaced.stdout
    assert "price: 171 -> 171.01" in replaced.stdout
    assert str(stored_trades(journal)["0000a001.65e9d0aa.01.01"].price) == "171.01"


def test_standard_input_and_a_forced_format(cli: Cli, journal: Path) -> None:
    ofx = (FIXTURES / "ofx" / "checking-v1.ofx").read_text(encoding="latin-1")
    result = ok(cli("import", journal, "-", "--format", "ofx", input=ofx))
    assert "Imported <stdin>" in result.stdout
    assert "ofx (chosen with --format)" in result.stdout
    assert re.search(r"^\s+bank lines\s+4\b", result.stdout, re.MULTILINE)


def test_formats_are_listed(cli: Cli) -> None:
    result = ok(cli("import", "--formats", passphrase=None))
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == [
        "ibkr-flex",
        "ibkr-csv",
        "ofx",
        "schwab",
        "fidelity",
        "tradovate",
        "degiro",
        "generic",
    ]
    assert all(len(line) <= 80 for line in result.stdout.splitlines()), result.stdout


def test_a_semicolon_file_gets_a_delimiter_hint(cli: Cli, journal: Path, tmp_path: Path) -> None:
    path = tmp_path / "degiro.csv"
    path.write_text("Datum;Tijd;Product;ISIN;Aantal;Koers\n01-03-2024;09:30;X;NL0;1;2\n")
    result = cli("import", journal, path)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "use --delimiter ';' or --format degiro" in one_error_line(result)


def test_an_unknown_file_names_the_closest_format(cli: Cli, journal: Path, tmp_path: Path) -> None:
    path = tmp_path / "other.xml"
    path.write_text("<?xml version='1.0'?><Statement/>\n")
    result = cli("import", journal, path)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "closest is ibkr-flex: XML, but no <FlexQueryResponse>" in one_error_line(result)


def test_a_flex_file_needs_its_zone_and_keeps_nothing_without(cli: Cli, journal: Path) -> None:
    result = cli("import", journal, FLEX)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "--tz" in one_error_line(result)
    assert stored_trades(journal) == {}


def test_a_forced_wrong_format_is_refused_whole(cli: Cli, journal: Path) -> None:
    result = cli("import", journal, FLEX, "--format", "ofx")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "not a valid OFX statement" in one_error_line(result)
    assert stored_trades(journal) == {}


def test_an_unknown_format_name_lists_the_formats(cli: Cli, journal: Path) -> None:
    result = cli("import", journal, FLEX, "--format", "schwabb")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "the formats are: ibkr-flex, ibkr-csv, ofx" in one_error_line(result)


@pytest.mark.postgres
def test_a_flex_statement_imports_into_a_server_database(cli: Cli) -> None:
    from sqlalchemy import create_engine, text

    from tests.pg import private_schema, url_in_schema

    with private_schema("zci") as (url, schema):
        server = url_in_schema(url, schema)
        ok(cli("init", "--url", server, passphrase=None))
        ok(cli("account", "add", "--url", server, "U1234567", "--name", "IBKR", passphrase=None))
        first = ok(cli("import", "--url", server, FLEX, *NY, passphrase=None))
        again = ok(cli("import", "--url", server, FLEX, *NY, passphrase=None))
        assert summary_counts(first.stdout)["inserted"] == 16
        assert summary_counts(again.stdout)["duplicates"] == 16
        engine = create_engine(server)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT multiplier, strike, expiry, option_right FROM trades "
                        "WHERE exec_id = 'IBKR-T501000016'"
                    )
                ).all()
        finally:
            engine.dispose()
        assert [tuple(row) for row in rows] == [
            (Decimal("100.0000000000"), Decimal("175.0000000000"), dt.date(2024, 4, 19), "C")
        ]
