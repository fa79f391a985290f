"""The `zorivest` command, through Typer's runner and as a real subprocess.

In-process tests use cheap Argon2id parameters (`fast_kdf`); the few subprocess tests run
the real KDF (about 0.2 s per open). Every in-process invocation goes through `Cli`, which
asserts that no passphrase used by the tests ever appears in stdout or stderr.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import fields
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from tests.factories import png_bytes
from zorivest_core.domain.entities import Trade
from zorivest_core.domain.enums import TradeAction
from zorivest_infra.cli import app
from zorivest_infra.cli.demo import DEMO_PASSPHRASE, JOURNAL_NAME, MARKER_NAME
from zorivest_infra.cli.demo_data import generate
from zorivest_infra.cli.errors import ExitCode
from zorivest_infra.cli.invocation import command_prefix
from zorivest_infra.database.repositories.trades import SqlAlchemyTradeRepository
from zorivest_infra.journal import Journal

PASSPHRASE = 'Zq7 "quoted" it\'s ß-passphrase 41f3'
NEW_PASSPHRASE = "N3w pässphrase 'x' 9c2d"
SECRETS = (PASSPHRASE, NEW_PASSPHRASE)
HEADER = "exec_id,time,instrument,action,quantity,price,account_id,commission,realized_pnl"


class Cli:
    """Invokes the app in-process with a clean environment and checks for leaked secrets."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(
        self,
        *args: object,
        passphrase: str | None = PASSPHRASE,
        env: dict[str, str | None] | None = None,
        input: str | None = None,
    ) -> Result:
        environment: dict[str, str | None] = {
            "ZORIVEST_PASSPHRASE": passphrase,
            "ZORIVEST_NEW_PASSPHRASE": None,
            "ZORIVEST_DEBUG": None,
        }
        environment.update(env or {})
        result = self.runner.invoke(app, [str(arg) for arg in args], env=environment, input=input)
        for secret in SECRETS:
            assert secret not in result.output, f"a passphrase was printed by {args}"
        return result


@pytest.fixture
def cli(fast_kdf: None) -> Cli:
    return Cli()


@pytest.fixture
def journal(cli: Cli, tmp_path: Path) -> Path:
    """A journal with account ACC1 (broker) and ACC2 (ira)."""
    path = tmp_path / "journal.zorivest"
    ok(cli("init", path))
    ok(cli("account", "add", path, "ACC1", "--name", "Main broker", "--type", "broker"))
    ok(cli("account", "add", path, "ACC2", "--name", "Roth IRA", "--type", "ira"))
    return path


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def write_csv(path: Path, rows: Sequence[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def stored_trades(path: Path, passphrase: str = PASSPHRASE) -> dict[str, Trade]:
    with Journal.open(path, passphrase) as opened, opened.unit_of_work() as uow:
        found: dict[str, Trade] = {}
        for account in uow.accounts.list_all():
            found.update(
                (trade.exec_id, trade) for trade in uow.trades.iter_for_account(account.account_id)
            )
        return found


def summary_counts(output: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for label in ("rows read", "inserted", "duplicates", "conflicts", "rejected"):
        match = re.search(rf"^\s+{label}\s+([\d,]+)", output, re.MULTILINE)
        assert match is not None, (label, output)
        counts[label] = int(match.group(1).replace(",", ""))
    return counts


def one_error_line(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("zorivest: error: ")
    assert "Traceback" not in result.output
    return lines[0]


GOOD_ROWS = (
    "E1,2024-03-08T09:30:00-05:00,AAPL,BOT,100,189.25,ACC1,1.00,0",
    "E2,2024-03-08T15:45:10Z,AAPL,SLD,100,190.5,ACC1,1,125",
    "E3,2024-03-09T12:00:00+00:00,BTC-USD,BUY,0.5,61234.56,ACC1,0.3,0",
    "E4,2024-03-10T12:00:00+00:00,MSFT,SLD,3.25,401.125,ACC2,0,-12.345678",
)


# ------------------------------------------------------------------------------------------
# The round trip
# ------------------------------------------------------------------------------------------


def test_round_trip_init_import_trades_attach_thumbnail_verify_backup_passwd(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    csv_file = write_csv(tmp_path / "trades.csv", GOOD_ROWS)
    imported = ok(cli("import", journal, csv_file))
    assert summary_counts(imported.stdout) == {
        "rows read": 4,
        "inserted": 4,
        "duplicates": 0,
        "conflicts": 0,
        "rejected": 0,
    }

    listed = json.loads(ok(cli("trades", journal, "--json")).stdout)
    assert [item["exec_id"] for item in listed] == ["E4", "E3", "E2", "E1"]  # newest first
    assert set(listed[0]) == {item.name for item in fields(Trade)}
    by_id = {item["exec_id"]: item for item in listed}
    written = {
        "exec_id": "E1",
        "time": "2024-03-08T14:30:00+00:00",
        "instrument": "AAPL",
        "action": "BOT",
        "quantity": "100",
        "price": "189.25",
        "account_id": "ACC1",
        "commission": "1",
        "realized_pnl": "0",
        "asset_class": None,
        "multiplier": None,
        "underlying": None,
        "expiry": None,
        "strike": None,
        "option_right": None,
        "currency": None,
        "fx_rate": None,
    }
    # The CSV gave no instrument details: those fields are null.
    assert by_id["E1"] == {**dict.fromkeys(listed[0], None), **written}
    assert by_id["E3"]["quantity"] == "0.5"
    assert by_id["E3"]["action"] == "BOT"  # BUY is accepted as BOT
    assert by_id["E4"]["realized_pnl"] == "-12.345678"

    screenshot = tmp_path / "entry.png"
    screenshot.write_bytes(png_bytes(1280, 720, seed=3))
    attached = ok(cli("attach", journal, "E1", screenshot, "--caption", "entry [breakout]"))
    image_id = int(re.search(r"Attached image (\d+)", attached.stdout).group(1))  # type: ignore[union-attr]
    images = json.loads(ok(cli("images", journal, "E1", "--json")).stdout)
    assert len(images) == 1
    assert images[0]["id"] == image_id
    assert images[0]["caption"] == "entry [breakout]"
    assert (images[0]["width"], images[0]["height"], images[0]["mime_type"]) == (
        1280,
        720,
        "image/png",
    )
    assert "entry [breakout]" in ok(cli("images", journal, "E1")).stdout  # not eaten as markup

    thumb = tmp_path / "thumb.webp"
    ok(cli("thumbnail", journal, image_id, thumb, "--size", "120"))
    with Image.open(io.BytesIO(thumb.read_bytes())) as picture:
        assert picture.format == "WEBP"
        assert max(picture.size) <= 120

    assert "OK" in ok(cli("verify", journal)).stdout
    backup = tmp_path / "backup.zorivest"
    ok(cli("backup", journal, backup))
    assert backup.exists()

    ok(cli("passwd", journal, env={"ZORIVEST_NEW_PASSPHRASE": NEW_PASSPHRASE}))
    refused = cli("trades", journal)
    assert refused.exit_code == ExitCode.WRONG_PASSPHRASE
    assert (
        len(json.loads(ok(cli("trades", journal, "--json", passphrase=NEW_PASSPHRASE)).stdout)) == 4
    )
    # The backup was taken before: it keeps the old passphrase and all the data.
    assert set(stored_trades(backup)) == {"E1", "E2", "E3", "E4"}


def test_reimport_is_idempotent(cli: Cli, journal: Path, tmp_path: Path) -> None:
    csv_file = write_csv(tmp_path / "trades.csv", GOOD_ROWS)
    ok(cli("import", journal, csv_file))
    again = summary_counts(ok(cli("import", journal, csv_file)).stdout)
    assert again["inserted"] == 0
    assert again["duplicates"] == len(GOOD_ROWS)
    assert len(stored_trades(journal)) == len(GOOD_ROWS)


def test_changed_row_is_a_conflict_and_left_untouched(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    ok(cli("import", journal, write_csv(tmp_path / "a.csv", GOOD_ROWS)))
    changed = GOOD_ROWS[0].replace("189.25", "189.26")
    result = ok(cli("import", journal, write_csv(tmp_path / "b.csv", [changed])))
    assert summary_counts(result.stdout)["conflicts"] == 1
    assert "E1" in result.stdout.split("Conflicting exec_ids")[1]
    assert stored_trades(journal)["E1"].price == Decimal("189.25")


def test_import_in_many_chunks_counts_every_row(cli: Cli, journal: Path, tmp_path: Path) -> None:
    rows = [
        f"C{n:04d},2024-05-01T10:{n // 60:02d}:{n % 60:02d}Z,SPY,BOT,1,500,ACC1,0,0"
        for n in range(23)
    ]
    rows.append(rows[3])  # the same execution twice in one file: a repeat, not a duplicate
    result = ok(cli("import", journal, write_csv(tmp_path / "c.csv", rows), "--chunk-size", "5"))
    assert summary_counts(result.stdout) == {
        "rows read": 24,
        "inserted": 23,
        "duplicates": 0,
        "conflicts": 0,
        "rejected": 0,
    }
    assert re.search(r"^\s+repeated\s+1\b", result.stdout, re.MULTILINE), result.stdout
    assert "line 25 repeats line 5: C0003" in result.stdout


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------


def test_bad_rows_are_reported_with_line_numbers_and_good_rows_imported(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    rows = [
        GOOD_ROWS[0],  # line 2
        "B1,2024-03-08T10:00:00Z,AAPL,BOT,ten,189.25,ACC1,0,0",  # line 3: bad number
        "B2,2024-03-08 10:00:00,AAPL,BOT,1,189.25,ACC1,0,0",  # line 4: naive, no --tz
        "B3,2024-03-08T10:00:00Z,AAPL,SHORT,1,189.25,ACC1,0,0",  # line 5: unknown action
        "B4,2024-03-08T10:00:00Z,AAPL,BOT,1,189.25",  # line 6: missing columns
        "",  # line 7: blank, skipped
        "B5,2024-03-08T10:00:00Z,AAPL,BOT,1,189.25,NOPE,0,0",  # line 8: unknown account
        "B6,2024-03-08T10:00:00Z,AAPL,BOT,-5,189.25,ACC1,0,0",  # line 9: negative quantity
        GOOD_ROWS[1],  # line 10
    ]
    result = ok(cli("import", journal, write_csv(tmp_path / "bad.csv", rows)))
    assert summary_counts(result.stdout) == {
        "rows read": 8,
        "inserted": 2,
        "duplicates": 0,
        "conflicts": 0,
        "rejected": 6,
    }
    rejected = dict(re.findall(r"^\s+line (\d+): (.*)$", result.stdout, re.MULTILINE))
    assert set(rejected) == {"3", "4", "5", "6", "8", "9"}
    assert "quantity" in rejected["3"]
    assert "not a number" in rejected["3"]
    assert "no UTC offset" in rejected["4"]
    assert "--tz" in rejected["4"]
    assert "action" in rejected["5"]
    assert "SHORT" in rejected["5"]
    assert "expected 9 fields" in rejected["6"]
    assert "unknown account 'NOPE'" in rejected["8"]
    assert "quantity" in rejected["9"]
    assert set(stored_trades(journal)) == {"E1", "E2"}


def test_a_file_without_a_required_column_imports_nothing(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    header = "exec_id,time,instrument,action,quantity,account_id"
    csv_file = write_csv(
        tmp_path / "noprice.csv", ["X1,2024-03-08T10:00:00Z,AAPL,BOT,1,ACC1"], header
    )
    result = cli("import", journal, csv_file)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "closest is generic: not a generic CSV file: the header lacks price" in one_error_line(
        result
    )
    assert stored_trades(journal) == {}


def test_a_file_that_is_not_utf8_imports_nothing(cli: Cli, journal: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "latin1.csv"
    csv_file.write_bytes((HEADER + "\n" + GOOD_ROWS[0] + "\nX,\xe9\n").encode("latin-1"))
    result = cli("import", journal, csv_file)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "UTF-8" in one_error_line(result)
    assert stored_trades(journal) == {}


def test_strict_import_keeps_nothing_when_a_row_is_rejected(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    rows = [GOOD_ROWS[0], "B1,2024-03-08T10:00:00Z,AAPL,BOT,ten,189.25,ACC1,0,0"]
    result = cli("import", journal, write_csv(tmp_path / "s.csv", rows), "--strict")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "nothing was imported" in one_error_line(result)
    assert stored_trades(journal) == {}


def test_header_order_is_free_and_account_option_fills_blanks(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    header = "Price,Quantity,Action,Instrument,Time,Exec_ID"
    rows = ["189.25,10,SELL,AAPL,2024-03-08T10:00:00Z,K1"]
    result = ok(
        cli("import", journal, write_csv(tmp_path / "k.csv", rows, header), "--account", "ACC2")
    )
    assert summary_counts(result.stdout)["inserted"] == 1
    trade = stored_trades(journal)["K1"]
    assert (trade.account_id, trade.action, trade.commission) == (
        "ACC2",
        TradeAction.SLD,
        Decimal(0),
    )


def test_naive_times_are_converted_from_the_given_zone(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    rows = [
        "S1,2024-07-01 10:00:00,AAPL,BOT,1,100,ACC1,0,0",  # BST: UTC+1
        "W1,2024-01-15T10:00:00,AAPL,BOT,1,100,ACC1,0,0",  # GMT: UTC+0
        "O1,2024-07-01T10:00:00-04:00,AAPL,BOT,1,100,ACC1,0,0",  # an offset wins over --tz
        "G1,2024-03-31 01:30:00,AAPL,BOT,1,100,ACC1,0,0",  # skipped by the clocks
        "A1,2024-10-27 01:30:00,AAPL,BOT,1,100,ACC1,0,0",  # happened twice
    ]
    result = ok(
        cli("import", journal, write_csv(tmp_path / "tz.csv", rows), "--tz", "Europe/London")
    )
    stored = stored_trades(journal)
    assert stored["S1"].time == dt.datetime(2024, 7, 1, 9, 0, tzinfo=dt.UTC)
    assert stored["W1"].time == dt.datetime(2024, 1, 15, 10, 0, tzinfo=dt.UTC)
    assert stored["O1"].time == dt.datetime(2024, 7, 1, 14, 0, tzinfo=dt.UTC)
    assert "G1" not in stored
    assert "A1" not in stored
    assert "does not exist in Europe/London" in result.stdout
    assert "happened twice in Europe/London" in result.stdout


def test_unknown_time_zone_is_a_usage_error(cli: Cli, journal: Path, tmp_path: Path) -> None:
    result = cli(
        "import", journal, write_csv(tmp_path / "z.csv", GOOD_ROWS), "--tz", "Mars/Olympus"
    )
    assert result.exit_code == ExitCode.USAGE
    assert "unknown time zone" in one_error_line(result)


def test_an_interrupted_import_leaves_nothing(
    cli: Cli, journal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [f"I{n},2024-05-01T10:00:{n:02d}Z,SPY,BOT,1,500,ACC1,0,0" for n in range(12)]
    calls: list[int] = []
    original = SqlAlchemyTradeRepository.save_many

    def interrupted(self: SqlAlchemyTradeRepository, trades: list[Trade]) -> object:
        calls.append(len(trades))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, trades)

    monkeypatch.setattr(SqlAlchemyTradeRepository, "save_many", interrupted)
    result = cli("import", journal, write_csv(tmp_path / "i.csv", rows), "--chunk-size", "5")
    assert result.exit_code == ExitCode.INTERRUPTED
    assert "nothing was imported" in one_error_line(result)
    assert calls == [5, 5]
    assert stored_trades(journal) == {}


# ------------------------------------------------------------------------------------------
# Errors and passphrases
# ------------------------------------------------------------------------------------------


def test_wrong_passphrase_exit_code_and_message(cli: Cli, journal: Path) -> None:
    result = cli("trades", journal, passphrase=PASSPHRASE[:-1])
    assert result.exit_code == 3
    assert ExitCode.WRONG_PASSPHRASE.value == 3
    assert "wrong passphrase" in one_error_line(result)
    assert result.stdout == ""


def test_errors_are_one_line_with_distinct_codes(cli: Cli, journal: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.db"
    import sqlite3

    with sqlite3.connect(plain) as connection:
        connection.execute("CREATE TABLE t (x)")
    garbage = tmp_path / "garbage.zorivest"
    garbage.write_bytes(b"not a journal" * 700)
    cases = [
        (("trades", tmp_path / "missing.zorivest"), ExitCode.NOT_FOUND, "no journal at"),
        (("trades", plain), ExitCode.NOT_ENCRYPTED, "zorivest encrypt"),
        (("trades", garbage), ExitCode.CORRUPT, "garbage.zorivest"),
        (("init", journal), ExitCode.ALREADY_EXISTS, "already exists"),
        (("account", "add", journal, "ACC1", "--name", "x"), ExitCode.ALREADY_EXISTS, "ACC1"),
        (("images", journal, "NOPE"), ExitCode.NOT_FOUND, "NOPE"),
        (("thumbnail", journal, "999", tmp_path / "t.webp"), ExitCode.NOT_FOUND, "999"),
        (("trades", journal, "--account", "NOPE"), ExitCode.NOT_FOUND, "NOPE"),
        (("trades", journal, "--since", "2024-01-01"), ExitCode.USAGE, "--tz"),
        (("info",), ExitCode.USAGE, "JOURNAL"),
        (("info", journal, "--url", "sqlite://"), ExitCode.USAGE, "not both"),
    ]
    for args, code, fragment in cases:
        result = cli(*args)
        assert result.exit_code == code, (args, result.stderr)
        assert fragment in one_error_line(result), (args, result.stderr)


def test_debug_shows_a_traceback(cli: Cli, journal: Path) -> None:
    result = cli("--debug", "trades", journal, passphrase="wrong passphrase")
    assert result.exit_code == ExitCode.WRONG_PASSPHRASE
    assert "Traceback" in result.stderr
    assert "InvalidPassphraseError" in result.stderr


def test_no_passphrase_source_is_a_usage_error(cli: Cli, journal: Path) -> None:
    result = cli("trades", journal, passphrase=None)  # no variable, empty stdin
    assert result.exit_code == ExitCode.USAGE
    assert "ZORIVEST_PASSPHRASE" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("account", "add", "{journal}", "ACC9", "--name", "Nine", "--currency", "euro"),
        ("report", "{journal}", "--currency", "euro"),
    ],
    ids=["account add", "report"],
)
def test_a_bad_currency_is_refused_before_the_passphrase_is_needed(
    cli: Cli, journal: Path, args: tuple[str, ...]
) -> None:
    result = cli(*(str(journal) if arg == "{journal}" else arg for arg in args), passphrase=None)
    # INVALID_INPUT naming the value, not USAGE for the missing passphrase
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "currency" in result.stderr
    assert "EURO" in result.stderr or "euro" in result.stderr


def test_init_asks_twice_and_repeats_on_mismatch(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "prompted.zorivest"
    typed = f"{PASSPHRASE}\nsomething else\n{PASSPHRASE}\n{PASSPHRASE}\n"
    result = ok(cli("init", path, passphrase=None, input=typed))
    assert "do not match" in result.output
    assert stored_trades(path) == {}


def test_passphrase_file_uses_the_first_line_only(cli: Cli, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(f"{PASSPHRASE}\r\nsecond line is ignored\n".encode())
    path = tmp_path / "from-file.zorivest"
    ok(cli("init", path, "--passphrase-file", secret, passphrase="not this one"))
    assert stored_trades(path, PASSPHRASE) == {}
    ok(cli("account", "list", path, "--passphrase-file", secret, passphrase=None))
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    result = cli("account", "list", path, "--passphrase-file", empty, passphrase=None)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "empty first line" in one_error_line(result)


def test_the_passphrase_never_appears_in_any_output(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    # Cli checks every invocation; these add the paths where a secret would most likely leak.
    ok(cli("import", journal, write_csv(tmp_path / "p.csv", GOOD_ROWS)))
    for args in (
        ("info", journal),
        ("info", journal, "--json"),
        ("account", "list", journal, "--json"),
        ("trades", journal),
        ("verify", journal),
        ("upgrade", journal),
    ):
        ok(cli(*args))
    for passphrase in (PASSPHRASE + "x", NEW_PASSPHRASE):
        result = cli("--debug", "trades", journal, passphrase=passphrase)
        assert result.exit_code == ExitCode.WRONG_PASSPHRASE
    same = cli("passwd", journal, env={"ZORIVEST_NEW_PASSPHRASE": PASSPHRASE})
    assert same.exit_code == ExitCode.USAGE


# ------------------------------------------------------------------------------------------
# Listing, info, verify, upgrade, --url
# ------------------------------------------------------------------------------------------


def test_trades_merge_accounts_newest_first_with_filters(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    rows = [
        f"T{n:02d},2024-06-{n + 1:02d}T12:00:00Z,SPY,BOT,1,500,{'ACC1' if n % 2 else 'ACC2'},0,0"
        for n in range(10)
    ]
    ok(cli("import", journal, write_csv(tmp_path / "m.csv", rows)))

    def ids(*args: object) -> list[str]:
        return [
            item["exec_id"]
            for item in json.loads(ok(cli("trades", journal, "--json", *args)).stdout)
        ]

    assert ids() == [f"T{n:02d}" for n in range(9, -1, -1)]
    assert ids("--limit", "3") == ["T09", "T08", "T07"]
    assert ids("--account", "ACC2") == ["T08", "T06", "T04", "T02", "T00"]
    # Dates are whole days in the given zone; --until is inclusive for a date.
    assert ids("--since", "2024-06-03", "--until", "2024-06-05", "--tz", "UTC") == [
        "T04",
        "T03",
        "T02",
    ]
    assert ids("--since", "2024-06-09T00:00:00+00:00") == ["T09", "T08"]
    table = ok(cli("trades", journal, "--limit", "2")).stdout
    assert "T09" in table
    assert "T07" not in table
    assert "10 in all" in table


def test_info_and_json_info(cli: Cli, journal: Path) -> None:
    text = ok(cli("info", journal)).stdout
    assert "sqlcipher" in text
    assert "Argon2id" in text
    assert "accounts" in text
    details = json.loads(ok(cli("info", journal, "--json")).stdout)
    assert details["encrypted"] is True
    assert details["row_counts"]["accounts"] == 2
    assert details["revision"] == details["head_revision"]
    assert details["kdf"]["hash_len"] == 32


def test_verify_finds_a_damaged_page(cli: Cli, journal: Path, tmp_path: Path) -> None:
    ok(cli("import", journal, write_csv(tmp_path / "v.csv", GOOD_ROWS)))
    data = bytearray(journal.read_bytes())
    offset = len(data) - 4096 + 200  # inside the last page, away from page 1
    data[offset] ^= 0xFF
    journal.write_bytes(bytes(data))
    result = cli("verify", journal)
    assert result.exit_code in (ExitCode.ERROR, ExitCode.CORRUPT)
    one_error_line(result)


def test_upgrade_says_the_journal_is_current(cli: Cli, journal: Path) -> None:
    assert "newest schema revision" in ok(cli("upgrade", journal)).stdout


def test_url_replaces_the_journal_argument(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    ok(cli("init", "--url", url, passphrase=None))
    ok(cli("account", "add", "--url", url, "SRV", "--name", "Server account", passphrase=None))
    rows = [row.replace("ACC1", "SRV").replace("ACC2", "SRV") for row in GOOD_ROWS]
    ok(cli("import", "--url", url, write_csv(tmp_path / "u.csv", rows), passphrase=None))
    listed = json.loads(ok(cli("trades", "--url", url, "--json", passphrase=None)).stdout)
    assert len(listed) == 4
    screenshot = tmp_path / "s.png"
    screenshot.write_bytes(png_bytes())
    ok(cli("attach", "--url", url, "E1", screenshot, passphrase=None))
    assert (
        len(json.loads(ok(cli("images", "--url", url, "E1", "--json", passphrase=None)).stdout))
        == 1
    )
    missing = cli("attach", "--url", url, "E1", passphrase=None)
    assert missing.exit_code == ExitCode.USAGE
    assert "IMAGE" in one_error_line(missing)


def test_encrypt_a_plaintext_journal(cli: Cli, tmp_path: Path) -> None:
    plain = tmp_path / "old.db"
    ok(cli("init", "--url", f"sqlite:///{plain}", passphrase=None))
    target = tmp_path / "new.zorivest"
    ok(cli("encrypt", plain, target))
    assert not target.read_bytes().startswith(b"SQLite format 3")
    assert "sqlcipher" in ok(cli("info", target)).stdout


@pytest.mark.parametrize("tables", [["CREATE TABLE notes (x)"], [], ["CREATE TABLE trades (x)"]])
def test_encrypt_refuses_an_sqlite_file_that_is_not_a_journal(
    cli: Cli, tmp_path: Path, tables: list[str]
) -> None:
    import sqlite3

    plain = tmp_path / "other.db"
    with sqlite3.connect(plain) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS keep (x)")
        for statement in tables:
            connection.execute(statement)
    before = plain.read_bytes()
    target = tmp_path / "new.zorivest"
    result = cli("encrypt", plain, target)
    assert result.exit_code == ExitCode.NOT_A_JOURNAL_DATABASE
    assert int(ExitCode.NOT_A_JOURNAL_DATABASE) == 16
    assert "is not a plaintext Zorivest journal" in one_error_line(result)
    assert not target.exists()
    assert plain.read_bytes() == before


def test_passwd_on_a_plaintext_database_gives_the_cli_hint(cli: Cli, tmp_path: Path) -> None:
    import sqlite3

    plain = tmp_path / "plain.db"
    with sqlite3.connect(plain) as connection:
        connection.execute("CREATE TABLE t (x)")
    result = cli("passwd", plain, env={"ZORIVEST_NEW_PASSPHRASE": NEW_PASSPHRASE})
    assert result.exit_code == ExitCode.NOT_ENCRYPTED
    line = one_error_line(result)
    assert f"zorivest encrypt {plain}" in line
    assert "encrypt_plaintext" not in line


def test_passwd_says_the_new_passphrase_is_in_effect_when_the_last_checkpoint_fails(
    cli: Cli, journal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zorivest_infra.journal import rekey

    original = rekey._checkpoint

    class Busy:
        """A connection whose checkpoint reports that a reader held the log back."""

        def __init__(self, conn: object) -> None:
            self.conn = conn

        def execute(self, statement: str) -> object:
            class Row:
                @staticmethod
                def fetchone() -> tuple[int, int, int]:
                    return (1, -1, -1)

            return Row()

    calls: list[Path] = []

    def checkpoint(conn: object, path: Path) -> None:
        calls.append(path)
        # The second checkpoint runs after the re-key has committed.
        original(Busy(conn) if len(calls) == 2 else conn, path)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(rekey, "_checkpoint", checkpoint)
        result = cli("passwd", journal, env={"ZORIVEST_NEW_PASSPHRASE": NEW_PASSPHRASE})
    assert result.exit_code == ExitCode.CONFLICT
    assert "NEW passphrase opens it now" in one_error_line(result)
    # What the message says is true: the new passphrase opens the journal, the old does not.
    assert cli("trades", journal).exit_code == ExitCode.WRONG_PASSPHRASE
    ok(cli("trades", journal, passphrase=NEW_PASSPHRASE))


def test_times_out_of_range_in_utc_reject_only_their_rows(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    rows = [
        GOOD_ROWS[0],  # line 2
        "E11,0001-01-01T00:30:00+01:00,AAPL,BOT,1,1,ACC1,0,0",  # line 3: before year 1 in UTC
        "E12,0001-01-01 00:30:00,AAPL,BOT,1,1,ACC1,0,0",  # line 4: naive, Tokyo is UTC+9
        "E13,9999-12-31T23:30:00-01:00,AAPL,BOT,1,1,ACC1,0,0",  # line 5: after year 9999
        GOOD_ROWS[1],  # line 6
    ]
    result = ok(cli("import", journal, write_csv(tmp_path / "r.csv", rows), "--tz", "Asia/Tokyo"))
    assert summary_counts(result.stdout)["inserted"] == 2
    assert summary_counts(result.stdout)["rejected"] == 3
    rejected = dict(re.findall(r"^\s+line (\d+): (.*)$", result.stdout, re.MULTILINE))
    assert set(rejected) == {"3", "4", "5"}
    assert "'0001-01-01T00:30:00+01:00' is out of range once converted to UTC" in rejected["3"]
    assert "'0001-01-01T00:30:00' is out of range once converted to UTC" in rejected["4"]
    assert "out of range once converted to UTC" in rejected["5"]
    assert set(stored_trades(journal)) == {"E1", "E2"}


def test_since_and_until_out_of_range_are_usage_errors(cli: Cli, journal: Path) -> None:
    cases = [
        ("--until", "9999-12-31", "--tz", "Asia/Tokyo"),
        ("--until", "9999-12-31", "--tz", "UTC"),
        ("--since", "0001-01-01", "--tz", "Asia/Tokyo"),
        ("--until", "9999-12-31T23:00", "--tz", "America/New_York"),
        ("--since", "0001-01-01T00:30:00+01:00"),
    ]
    for args in cases:
        result = cli("trades", journal, *args)
        assert result.exit_code == ExitCode.USAGE, (args, result.stderr)
        line = one_error_line(result)
        assert args[0] in line, (args, line)
        assert "out of range" in line, (args, line)


def test_thumbnail_never_overwrites_and_writes_a_private_file(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    ok(cli("import", journal, write_csv(tmp_path / "t.csv", GOOD_ROWS)))
    screenshot = tmp_path / "s.png"
    screenshot.write_bytes(png_bytes(640, 480, seed=5))
    attached = ok(cli("attach", journal, "E1", screenshot))
    image_id = re.search(r"Attached image (\d+)", attached.stdout).group(1)  # type: ignore[union-attr]

    existing = tmp_path / "existing.webp"
    existing.write_bytes(b"keep me")
    journal_bytes = journal.read_bytes()
    for out, extra in ((existing, ()), (journal, ()), (journal, ("--force",))):
        result = cli("thumbnail", journal, image_id, out, *extra)
        assert result.exit_code == ExitCode.ALREADY_EXISTS, (out, extra, result.stderr)
        assert str(out) in one_error_line(result)
    assert existing.read_bytes() == b"keep me"
    assert journal.read_bytes() == journal_bytes
    assert "--force" in one_error_line(cli("thumbnail", journal, image_id, existing))

    fresh = tmp_path / "fresh.webp"
    ok(cli("thumbnail", journal, image_id, fresh, "--size", "64"))
    if os.name == "posix":
        assert fresh.stat().st_mode & 0o777 == 0o600
    with Image.open(io.BytesIO(fresh.read_bytes())) as picture:
        assert picture.format == "WEBP"
        assert max(picture.size) <= 64

    ok(cli("thumbnail", journal, image_id, existing, "--force"))
    with Image.open(io.BytesIO(existing.read_bytes())) as picture:
        assert picture.format == "WEBP"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


# ------------------------------------------------------------------------------------------
# The demo
# ------------------------------------------------------------------------------------------


def test_demo_data_is_realistic_and_deterministic() -> None:
    end = dt.date(2025, 6, 30)
    first = generate(11, 2_000, end)
    again = generate(11, 2_000, end)
    assert first.trades == again.trades
    assert generate(12, 2_000, end).trades != first.trades
    assert len(first.trades) == 2_000
    assert len({trade.exec_id for trade in first.trades}) == 2_000
    assert first.shorts > 0
    assert any(
        trip.short and trip.entries[0].action is TradeAction.SLD for trip in first.round_trips
    )
    assert first.partial_fills > 0
    assert first.fractional > 0
    assert all(first.start <= trade.time < first.end for trade in first.trades)
    assert {trade.account_id for trade in first.trades} == {
        "IBKR-MARGIN",
        "FIDELITY-IRA",
        "COINBASE",
    }
    closing = [fill for trip in first.round_trips for fill in trip.exits]
    assert any(fill.realized_pnl != 0 for fill in closing)
    assert all(fill.realized_pnl == 0 for trip in first.round_trips for fill in trip.entries)


def test_demo_summary_matches_the_journal(cli: Cli, tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    result = ok(cli("demo", directory, "--executions", "400", passphrase=None))
    journal = directory / JOURNAL_NAME
    secret = DEMO_PASSPHRASE  # public and documented: the demo journal is not private
    assert f"Passphrase  {DEMO_PASSPHRASE}" in result.stdout
    assert "NOT private" in result.stdout
    assert "zorivest init" in result.stdout
    hints = result.stdout.split("Try next", 1)[1].strip().splitlines()
    assert hints
    prefix = f"ZORIVEST_PASSPHRASE={DEMO_PASSPHRASE} {command_prefix()} "
    assert all(line.strip().startswith(prefix) for line in hints), hints
    assert (directory / "sample-import.csv").exists()
    screenshots = sorted((directory / "screenshots").glob("*.png"))
    assert screenshots

    with Journal.open(journal, secret) as opened:
        images = opened.info().row_counts["images"]
        with opened.unit_of_work() as uow:
            counts = {
                account.account_id: uow.trades.count(account.account_id)
                for account in uow.accounts.list_all()
            }
    assert sum(counts.values()) == 400
    assert len(counts) == 4
    for account_id, count in counts.items():
        assert re.search(rf"{re.escape(account_id)}\s.*\s{count:,}\s", result.stdout), account_id
    assert f"Images: {images}" in result.stdout
    assert images == len(screenshots)

    # The sample CSV imports into the demo journal.
    imported = ok(cli("import", journal, directory / "sample-import.csv", passphrase=secret))
    assert summary_counts(imported.stdout)["inserted"] == 5

    # Running it again replaces only the demo's own files; a foreign directory is refused.
    (directory / "mine.txt").write_text("keep me", encoding="utf-8")
    ok(cli("demo", directory, "--executions", "50", passphrase=None))
    assert (directory / "mine.txt").read_text(encoding="utf-8") == "keep me"
    assert (
        json.loads((directory / MARKER_NAME).read_text(encoding="utf-8"))["files"][0]["name"]
        == JOURNAL_NAME
    )
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("x", encoding="utf-8")
    refused = cli("demo", foreign, "--executions", "50", passphrase=None)
    assert refused.exit_code == ExitCode.ALREADY_EXISTS
    assert "not created by `zorivest demo`" in one_error_line(refused)


def files_holding(directory: Path, secret: str) -> list[Path]:
    """Every file under ``directory``, the journal itself aside, that holds ``secret``."""
    needle = secret.encode("utf-8")
    return [
        path
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != JOURNAL_NAME and needle in path.read_bytes()
    ]


def test_demo_uses_a_given_passphrase_and_never_prints_it(cli: Cli, tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    result = ok(cli("demo", directory, "--executions", "60"))
    assert len(stored_trades(directory / JOURNAL_NAME)) == 60
    assert PASSPHRASE not in result.output
    assert DEMO_PASSPHRASE not in result.output
    assert "the one you gave (not shown)" in result.stdout
    assert "ZORIVEST_PASSPHRASE=" not in result.stdout
    assert not (directory / "demo-passphrase.txt").exists()
    assert files_holding(directory, PASSPHRASE) == []
    given = tmp_path / "given-passphrase.txt"
    given.write_text(NEW_PASSPHRASE + "\n", encoding="utf-8")
    result = ok(cli("demo", directory, "--executions", "60", "--passphrase-file", given))
    assert NEW_PASSPHRASE not in result.output
    assert files_holding(directory, NEW_PASSPHRASE) == []
    assert len(stored_trades(directory / JOURNAL_NAME, NEW_PASSPHRASE)) == 60


def test_demo_writes_no_passphrase_to_any_file(cli: Cli, tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    ok(cli("demo", directory, "--executions", "60", passphrase=None))
    assert (directory / JOURNAL_NAME).is_file()
    assert files_holding(directory, DEMO_PASSPHRASE) == []
    assert (
        "demo-passphrase.txt"
        not in json.loads((directory / MARKER_NAME).read_text(encoding="utf-8"))["files"]
    )
    assert len(stored_trades(directory / JOURNAL_NAME, DEMO_PASSPHRASE)) == 60


def test_demo_rerun_removes_the_passphrase_file_of_an_older_demo(cli: Cli, tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    ok(cli("demo", directory, "--executions", "50", passphrase=None))
    # What an older version left behind: the passphrase in a file, listed in the marker.
    old_secret = "demo-0123456789abcdef"
    (directory / "demo-passphrase.txt").write_text(old_secret + "\n", encoding="utf-8")
    marker = directory / MARKER_NAME
    content = json.loads(marker.read_text(encoding="utf-8"))
    content["files"].insert(1, "demo-passphrase.txt")
    marker.write_text(json.dumps(content), encoding="utf-8")

    ok(cli("demo", directory, "--executions", "50", passphrase=None))
    assert not (directory / "demo-passphrase.txt").exists()
    assert files_holding(directory, old_secret) == []
    assert "demo-passphrase.txt" not in json.loads(marker.read_text(encoding="utf-8"))["files"]


# ------------------------------------------------------------------------------------------
# As a real subprocess (real KDF: kept few)
# ------------------------------------------------------------------------------------------


def run_zorivest(
    *args: object, cwd: Path, passphrase: str | None = PASSPHRASE
) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ZORIVEST_")}
    if passphrase is not None:
        env["ZORIVEST_PASSPHRASE"] = passphrase
    completed = subprocess.run(
        [sys.executable, "-m", "zorivest_infra.cli", *(str(arg) for arg in args)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    for secret in SECRETS:
        assert secret not in completed.stdout + completed.stderr
    return completed


def test_subprocess_help_lists_every_command(tmp_path: Path) -> None:
    completed = run_zorivest("--help", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    for command in (
        "init",
        "account",
        "import",
        "trades",
        "attach",
        "images",
        "thumbnail",
        "info",
        "verify",
        "backup",
        "passwd",
        "upgrade",
        "demo",
    ):
        assert command in completed.stdout
    assert "Exit codes" in completed.stdout


def test_subprocess_round_trip_with_the_real_kdf(tmp_path: Path) -> None:
    journal = tmp_path / "real.zorivest"
    assert run_zorivest("init", journal, cwd=tmp_path).returncode == 0
    added = run_zorivest("account", "add", journal, "ACC1", "--name", "Broker", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    csv_file = write_csv(tmp_path / "t.csv", GOOD_ROWS[:3])
    imported = run_zorivest("import", journal, csv_file, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert summary_counts(imported.stdout)["inserted"] == 3
    listed = run_zorivest("trades", journal, "--json", cwd=tmp_path)
    assert [item["exec_id"] for item in json.loads(listed.stdout)] == ["E3", "E2", "E1"]

    wrong = run_zorivest("trades", journal, cwd=tmp_path, passphrase="wrong")
    assert wrong.returncode == 3
    assert wrong.stdout == ""
    lines = wrong.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("zorivest: error: wrong passphrase")


def test_subprocess_demo_hints_run_as_printed(tmp_path: Path) -> None:
    """The demo's "Try next" lines are shell lines that run as printed (real KDF)."""
    directory = tmp_path / "demo dir"  # a space: the hints must be quoted
    environment = {key: value for key, value in os.environ.items() if key != "ZORIVEST_PASSPHRASE"}
    demo = subprocess.run(
        [sys.executable, "-m", "zorivest_infra.cli", "demo", str(directory), "--executions", "50"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    hints = demo.stdout.split("Try next", 1)[1].strip().splitlines()
    (info_hint,) = [line.strip() for line in hints if " info " in line]
    shell = subprocess.run(
        ["/bin/sh", "-c", info_hint],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
    )
    assert shell.returncode == 0, (info_hint, shell.stderr)
    assert "Schema revision" in shell.stdout
