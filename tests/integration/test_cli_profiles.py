"""`zorivest profile add|list|show|delete`; zone names and counts in CLI messages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.integration.test_cli import Cli, ok
from zorivest_infra.cli.errors import ExitCode


@pytest.fixture
def cli(fast_kdf: None) -> Cli:
    return Cli()


@pytest.fixture
def journal(cli: Cli, tmp_path: Path) -> Path:
    path = tmp_path / "journal.zorivest"
    ok(cli("init", path))
    return path


BROKER_X = (
    "--column", "time=Datum",
    "--column", "instrument=Wertpapier",
    "--column", "action=Richtung",
    "--date-format", "%d.%m.%Y %H:%M",
    "--delimiter", ";",
    "--decimal", ",",
    "--buy", "Kauf",
    "--sell", "Verkauf",
    "--tz", "Europe/Berlin",
    "--ids", "derived",
    "--description", "Broker X",
)  # fmt: skip


def test_add_list_show_delete(cli: Cli, journal: Path) -> None:
    added = ok(cli("profile", "add", journal, "broker-x", *BROKER_X))
    assert added.stdout.splitlines() == [
        f"Saved profile broker-x in {journal}.",
        f"Use it with: zorivest import {journal} FILE --profile broker-x",
    ]
    assert ok(cli("profile", "list", journal)).stdout == "broker-x  Broker X\n"
    shown = json.loads(ok(cli("profile", "show", journal, "broker-x", "--json")).stdout)
    assert shown == {
        "name": "broker-x",
        "description": "Broker X",
        "columns": {"time": "Datum", "instrument": "Wertpapier", "action": "Richtung"},
        "date_format": "%d.%m.%Y %H:%M",
        "delimiter": ";",
        "decimal": ",",
        "buy_words": ["Kauf"],
        "sell_words": ["Verkauf"],
        "zone": "Europe/Berlin",
        "id_strategy": "derived",
        "account_id": None,
        "encoding": "utf-8",
    }
    table = ok(cli("profile", "show", journal, "broker-x")).stdout.splitlines()
    assert table[:5] == [
        "name:         broker-x",
        "description:  Broker X",
        "columns:",
        "  time        'Datum'",
        "  instrument  'Wertpapier'",
    ]
    assert max(len(line) for line in table) <= 80
    ok(cli("profile", "delete", journal, "broker-x"))
    assert ok(cli("profile", "list", journal)).stdout.startswith("No profiles in")


def test_an_existing_name_needs_replace(cli: Cli, journal: Path) -> None:
    ok(cli("profile", "add", journal, "p1"))
    again = cli("profile", "add", journal, "p1", "--decimal", ",")
    assert again.exit_code == ExitCode.ALREADY_EXISTS
    assert "profile 'p1' already exists (add --replace to overwrite it)" in again.stderr
    replaced = ok(cli("profile", "add", journal, "p1", "--decimal", ",", "--replace"))
    assert replaced.stdout.startswith("Replaced profile p1")


def test_unknown_profile_names_the_saved_ones(cli: Cli, journal: Path) -> None:
    ok(cli("profile", "add", journal, "p1"))
    result = cli("profile", "show", journal, "p2")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert result.stderr == (
        "zorivest: error: no profile 'p2' (saved profiles: p1; add one with zorivest profile add)\n"
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--tz", "EST"), ExitCode.INVALID_INPUT, "it may mean America/New_York"),
        (("--column", "time"), ExitCode.USAGE, "write FIELD=HEADER"),
        (("--column", "ticker=Symbol"), ExitCode.INVALID_INPUT, "unknown field(s) ticker"),
        (("--ids", "uuid"), ExitCode.USAGE, "--ids must be one of column, derived"),
    ],
)
def test_bad_profiles_are_refused(
    cli: Cli, journal: Path, args: tuple[str, ...], code: ExitCode, message: str
) -> None:
    result = cli("profile", "add", journal, "bad", *args)
    assert result.exit_code == code
    assert message in result.stderr
    assert ok(cli("profile", "list", journal)).stdout.startswith("No profiles in")


def test_import_refuses_zone_abbreviations(cli: Cli, journal: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "t.csv"
    csv_file.write_text("exec_id,time,instrument,action,quantity,price,account_id\n")
    result = cli("import", journal, csv_file, "--tz", "EST")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == (
        "zorivest: error: time zone 'EST' is an abbreviation or fixed offset, not an IANA "
        "zone name (it would ignore daylight saving time); it may mean America/New_York, "
        "America/Toronto, America/Panama\n"
    )


def test_counts_take_the_right_number(cli: Cli, journal: Path, tmp_path: Path) -> None:
    ok(cli("account", "add", journal, "ACC1", "--name", "Main"))
    csv_file = tmp_path / "one.csv"
    csv_file.write_text(
        "exec_id,time,instrument,action,quantity,price,account_id\n"
        "E1,2024-03-08T14:30:00Z,AAPL,BOT,1,10,ACC1\n"
        "E2,2024-03-08T14:30:00Z,AAPL,BOT,-1,10,ACC1\n"
    )
    strict = cli("import", journal, csv_file, "--strict")
    assert "--strict: 1 row rejected and 0 conflicts; nothing was imported" in strict.stderr
    ok(cli("import", journal, csv_file))
    listing = ok(cli("trades", journal)).stdout
    assert "1 newest trade shown (all accounts; 1 in all)" in listing


def test_import_with_a_saved_profile(cli: Cli, journal: Path, tmp_path: Path) -> None:
    ok(cli("account", "add", journal, "EU1", "--name", "Broker X"))
    ok(
        cli(
            "profile", "add", journal, "broker-x",
            "--column", "time=Datum", "--column", "instrument=Wertpapier",
            "--column", "action=Richtung", "--column", "quantity=Stück",
            "--column", "price=Kurs", "--column", "commission=Provision",
            "--date-format", "%d.%m.%Y %H:%M", "--delimiter", ";", "--decimal", ",",
            "--buy", "Kauf", "--sell", "Verkauf", "--tz", "Europe/Berlin",
            "--ids", "derived", "--account", "EU1",
        )
    )  # fmt: skip
    fixture = Path(__file__).parents[1] / "fixtures" / "imports" / "generic" / "broker-x.csv"
    first = ok(cli("import", journal, fixture, "--profile", "broker-x"))
    assert "generic (with profile broker-x)" in first.stdout
    assert re.search(r"^\s+inserted\s+3$", first.stdout, re.MULTILINE), first.stdout
    assert "line 5: time: 2024-10-27T02:30:00 happened twice in Europe/Berlin" in first.stdout
    again = ok(cli("import", journal, fixture, "--profile", "broker-x"))
    assert re.search(r"^\s+inserted\s+0$", again.stdout, re.MULTILINE), again.stdout
    assert re.search(r"^\s+duplicates\s+3\b", again.stdout, re.MULTILINE), again.stdout
    listed = json.loads(ok(cli("trades", journal, "--json")).stdout)
    assert sorted((item["time"], item["price"], item["account_id"]) for item in listed) == [
        ("2024-07-02T07:05:00+00:00", "181.52", "EU1"),
        ("2024-07-02T07:05:00+00:00", "181.52", "EU1"),
        ("2024-07-05T15:20:00+00:00", "1190", "EU1"),
    ]


def test_profile_and_format_together_are_refused(cli: Cli, journal: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "t.csv"
    csv_file.write_text("x\n")
    result = cli("import", journal, csv_file, "--profile", "p", "--format", "generic")
    assert result.exit_code == ExitCode.USAGE
    assert "give --profile or --format, not both" in result.stderr


def test_import_with_an_unknown_profile_names_the_saved_ones(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    csv_file = tmp_path / "t.csv"
    csv_file.write_text("x\n")
    result = cli("import", journal, csv_file, "--profile", "nope")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "no profile 'nope' (no profile is saved yet" in result.stderr
