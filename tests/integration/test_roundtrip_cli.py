"""`zorivest roundtrips`, `roundtrips rebuild` and `report`, in-process on a real journal.

Expected values are worked out by hand in the comments.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text

from tests.integration.test_cli import PASSPHRASE, Cli, cli, journal, ok, write_csv
from zorivest_core.application.use_cases.report import REPORT_KEYS
from zorivest_infra.cli.errors import ExitCode
from zorivest_infra.journal import Journal

# ACC1 MSFT: scale in 100 @ 10, 50 @ 11; out 120 @ 12, 30 @ 9 -> +157 net of 3.00.
# ACC1 NVDA: long 100 @ 20 flipped by 300 @ 21 (1.00 split 1/3 : 2/3), covered 200 @ 20.5 on
# the next day -> +98.666667 and +97.333333. ACC1 AMD: 10 @ 150 sold at 140.25 -> -98.50.
# ACC1 TSLA: short 10 @ 20 still open.
ROWS = [
    "A,2024-03-08T14:30:00Z,MSFT,BOT,100,10,ACC1,1.00",
    "B,2024-03-08T14:31:00Z,MSFT,BOT,50,11,ACC1,0.50",
    "C,2024-03-08T14:32:00Z,MSFT,SLD,120,12,ACC1,1.20",
    "D,2024-03-08T14:33:00Z,MSFT,SLD,30,9,ACC1,0.30",
    "L1,2024-03-08T14:40:00Z,NVDA,BOT,100,20,ACC1,1.00",
    "FLIP,2024-03-08T14:45:00Z,NVDA,SLD,300,21,ACC1,1.00",
    "C1,2024-03-09T15:30:00Z,NVDA,BOT,200,20.5,ACC1,2.00",
    "M1,2024-03-11T14:30:00Z,AMD,BOT,10,150,ACC1,0.50",
    "M2,2024-03-11T16:30:00Z,AMD,SLD,10,140.25,ACC1,0.50",
    "E,2024-03-12T14:30:00Z,TSLA,SLD,10,20,ACC1,0.10",
]
__all__ = ["cli", "journal"]  # fixtures shared with test_cli

HEADER = "exec_id,time,instrument,action,quantity,price,account_id,commission"


@pytest.fixture
def traded(cli: Cli, journal: Path, tmp_path: Path) -> Path:
    ok(cli("import", journal, write_csv(tmp_path / "fills.csv", ROWS, HEADER)))
    return journal


def stored_trip_count(journal: Path) -> int:
    with Journal.open(journal, PASSPHRASE) as opened, opened.engine.connect() as connection:
        return int(connection.execute(text("SELECT COUNT(*) FROM round_trips")).scalar_one())


def test_import_keeps_round_trips_current_and_reimport_changes_nothing(
    cli: Cli, traded: Path, tmp_path: Path
) -> None:
    assert stored_trip_count(traded) == 5
    listing = json.loads(ok(cli("roundtrips", traded, "--json")).stdout)
    ok(cli("import", traded, write_csv(tmp_path / "again.csv", ROWS, HEADER)))
    assert json.loads(ok(cli("roundtrips", traded, "--json")).stdout) == listing
    msft = listing[0]
    assert list(msft) == [
        "account_id",
        "instrument",
        "direction",
        "entry_exec_ids",
        "exit_exec_ids",
        "entry_avg_price",
        "exit_avg_price",
        "total_quantity",
        "realized_pnl",
        "total_commission",
        "opened_at",
        "closed_at",
        "status",
        "holding_period_seconds",
        "currency",
    ]
    assert msft == {
        "account_id": "ACC1",
        "instrument": "MSFT",
        "direction": "BOT",
        "entry_exec_ids": ["A", "B"],
        "exit_exec_ids": ["C", "D"],
        "entry_avg_price": "10.3333333333",
        "exit_avg_price": "11.4",
        "total_quantity": "150",
        "realized_pnl": "157",
        "total_commission": "3",
        "opened_at": "2024-03-08T14:30:00+00:00",
        "closed_at": "2024-03-08T14:33:00+00:00",
        "status": "closed",
        "holding_period_seconds": 180,
        "currency": None,
    }
    # Appending the cover of TSLA later recomputes that pair only.
    ok(
        cli(
            "import",
            traded,
            write_csv(
                tmp_path / "more.csv", ["E2,2024-03-13T14:30:00Z,TSLA,BOT,10,18,ACC1,0.10"], HEADER
            ),
        )
    )
    closed = json.loads(ok(cli("roundtrips", traded, "--instrument", "TSLA", "--json")).stdout)
    assert [(t["status"], t["realized_pnl"]) for t in closed] == [("closed", "19.8")]


def test_roundtrips_filters_and_table(cli: Cli, traded: Path) -> None:
    still_open = json.loads(ok(cli("roundtrips", traded, "--open", "--json")).stdout)
    assert [(t["instrument"], t["direction"], t["realized_pnl"]) for t in still_open] == [
        ("TSLA", "SLD", "0")
    ]
    nvda = json.loads(
        ok(cli("roundtrips", traded, "--closed", "--instrument", "NVDA", "--json")).stdout
    )
    assert [t["realized_pnl"] for t in nvda] == ["98.666667", "97.333333"]
    since = json.loads(
        ok(cli("roundtrips", traded, "--since", "2024-03-09T00:00Z", "--json")).stdout
    )
    assert [t["instrument"] for t in since] == ["AMD", "TSLA"]  # by opened_at
    table = ok(cli("roundtrips", traded, "--account", "ACC1")).stdout
    assert "MSFT" in table
    assert "short*" in table
    missing = cli("roundtrips", traded, "--account", "NOPE")
    assert missing.exit_code == ExitCode.NOT_FOUND


def test_rebuild_recomputes_everything(cli: Cli, traded: Path) -> None:
    with Journal.open(traded, PASSPHRASE) as opened, opened.engine.begin() as connection:
        connection.execute(text("DELETE FROM round_trips WHERE instrument = 'MSFT'"))
    assert stored_trip_count(traded) == 4
    result = ok(cli("roundtrips", "rebuild", traded))
    assert "5 round trips from 4 account/instrument pairs (4 replaced)" in result.stdout
    assert stored_trip_count(traded) == 5


def test_report_json_has_exactly_the_public_keys(cli: Cli, traded: Path) -> None:
    report = json.loads(ok(cli("report", traded, "--json")).stdout)
    # closed: +157, +98.666667, +97.333333 (closed next day), -98.50 -> net 254.5
    assert report == {
        "net_pnl": "254.5",
        "gross_pnl": "262.5",  # + 3 + 1.333333 + 2.666667 + 1.00 commission
        "commission": "8",
        "round_trips": 4,
        "wins": 3,
        "losses": 1,
        "win_rate": "0.75",
        "average_win": "117.666667",  # 353 / 3
        "average_loss": "-98.5",
        "profit_factor": "3.583756",  # 353 / 98.5 = 3.5837563...
        "expectancy": "63.625",  # 254.5 / 4
        "max_drawdown": "98.5",  # cumulative 157, 255.67, 353, 254.5
        "largest_win": "157",
        "largest_loss": "-98.5",
        # 180 + 300 + 89,100 (14:45 to 15:30 the next day) + 7,200 = 96,780; / 4
        "average_holding_seconds": 24195,
    }
    assert list(report) == list(REPORT_KEYS)


def test_report_by_day_csv_and_chart(cli: Cli, traded: Path, tmp_path: Path) -> None:
    by_day = json.loads(ok(cli("report", traded, "--by", "day", "--json")).stdout)
    assert [(row["day"], row["net_pnl"]) for row in by_day] == [
        ("2024-03-08", "255.666667"),
        ("2024-03-09", "97.333333"),
        ("2024-03-11", "-98.5"),
    ]
    assert all(set(row) == {"day", *REPORT_KEYS} for row in by_day)
    rows = list(
        csv.reader(io.StringIO(ok(cli("report", traded, "--by", "instrument", "--csv")).stdout))
    )
    assert rows[0] == ["instrument", *REPORT_KEYS]
    assert [(row[0], row[1]) for row in rows[1:]] == [
        ("AMD", "-98.5"),
        ("MSFT", "157"),
        ("NVDA", "196"),
    ]
    chart = tmp_path / "pnl.png"
    ok(cli("report", traded, "--chart", chart))
    with Image.open(chart) as image:
        assert image.format == "PNG"
        assert image.size == (1200, 600)
        # Not blank: the bars and the line use several colours.
        assert len(image.convert("RGB").getcolors(maxcolors=100_000) or []) > 10
    again = cli("report", traded, "--chart", chart)
    assert again.exit_code == ExitCode.ALREADY_EXISTS
    ok(cli("report", traded, "--chart", chart, "--force"))
    assert cli("report", traded, "--json", "--csv").exit_code == ExitCode.USAGE


def test_report_refuses_to_add_currencies(cli: Cli, traded: Path, tmp_path: Path) -> None:
    ok(cli("account", "add", traded, "EU1", "--name", "Euro", "--currency", "EUR"))
    ok(
        cli(
            "import",
            traded,
            write_csv(
                tmp_path / "eu.csv",
                [
                    "EU-1,2024-03-08T09:00:00Z,SAP,BOT,10,100,EU1,1",
                    "EU-2,2024-03-08T10:00:00Z,SAP,SLD,10,101,EU1,1",
                ],
                HEADER,
            ),
        )
    )
    refused = cli("report", traded, "--json")
    assert refused.exit_code == ExitCode.USAGE
    assert "USD" in refused.stderr
    assert "EUR" in refused.stderr
    euro = json.loads(ok(cli("report", traded, "--currency", "EUR", "--json")).stdout)
    assert euro["net_pnl"] == "8"  # (101 - 100) * 10 - 2
    usd = json.loads(ok(cli("report", traded, "--account", "ACC1", "--json")).stdout)
    assert usd["net_pnl"] == "254.5"
    # A currency without round trips: an empty report that says which currency it means.
    assert (
        "No closed round trips in JPY in" in ok(cli("report", traded, "--currency", "jpy")).stdout
    )


def test_roundtrips_list_as_csv_ndjson_and_a_table_that_fits_80_columns(
    cli: Cli, traded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = list(
        csv.DictReader(io.StringIO(ok(cli("roundtrips", traded, "--format", "csv")).stdout))
    )
    # MSFT, NVDA long, NVDA short (after the flip), AMD, TSLA open: oldest opened first.
    assert [row["instrument"] for row in rows] == ["MSFT", "NVDA", "NVDA", "AMD", "TSLA"]
    assert rows[0]["realized_pnl"] == "157"
    assert json.loads(rows[1]["exit_exec_ids"]) == ["FLIP"]  # lists as JSON, never a repr
    assert rows[4]["status"] == "open"
    lines = ok(cli("roundtrips", traded, "--format", "ndjson")).stdout.splitlines()
    assert [json.loads(line)["direction"] for line in lines] == ["BOT", "BOT", "SLD", "BOT", "SLD"]

    monkeypatch.setenv("COLUMNS", "80")  # a piped table fits COLUMNS when it is set
    table = ok(cli("roundtrips", traded)).stdout.splitlines()
    assert all(len(line) <= 80 for line in table), table
    assert any("98.666667" in line for line in table)  # every digit, nothing rounded
    assert table[-1].startswith("5 round trips; * open")


def test_round_trips_follow_trade_edits_and_deletes(cli: Cli, traded: Path) -> None:
    # MSFT's last exit D (30 @ 9) corrected to 30 @ 10: the 30 shares bought at 11 now lose
    # 30 instead of 60, so the round trip's net P&L goes from 157 to 187.
    ok(cli("trade", "edit", traded, "D", "--price", "10"))
    trips = json.loads(ok(cli("roundtrips", traded, "--instrument", "MSFT", "--json")).stdout)
    assert [(trip["realized_pnl"], trip["exit_avg_price"]) for trip in trips] == [("187", "11.6")]

    # Deleting the only TSLA execution leaves no TSLA round trip; the others stay as they were.
    ok(cli("trade", "delete", traded, "E", "--yes"))
    listed = json.loads(ok(cli("roundtrips", traded, "--json")).stdout)
    assert [trip["instrument"] for trip in listed] == ["MSFT", "NVDA", "NVDA", "AMD"]
    assert stored_trip_count(traded) == 4
