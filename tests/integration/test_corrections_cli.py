"""Corrections through the `zorivest` command: edit, delete, notes, tags, mistakes, images,
accounts. What is stored is checked with raw SQL on the journal's own engine."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.factories import make_trade, png_bytes
from tests.integration.test_cli import PASSPHRASE, Cli, ok, one_error_line, write_csv
from zorivest_infra.cli.errors import ExitCode
from zorivest_infra.journal import Journal

ROWS = (
    "E1,2024-03-08T09:30:00-05:00,AAPL,BOT,100,189.25,ACC1,1.00,0",
    "E2,2024-03-08T15:45:10Z,AAPL,SLD,100,190.5,ACC1,1,125",
)


def raw(path: Path, sql: str, **params: object) -> list[tuple[object, ...]]:
    with Journal.open(path, PASSPHRASE) as opened, opened.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql), params)]


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


@pytest.fixture
def filled(cli: Cli, journal: Path, tmp_path: Path) -> Path:
    ok(cli("import", journal, write_csv(tmp_path / "e.csv", ROWS)))
    return journal


def test_trade_edit_changes_the_given_fields_and_prints_old_and_new(cli: Cli, filled: Path) -> None:
    result = ok(cli("trade", "edit", filled, "E1", "--price", "189.30", "--commission", "1.05"))
    assert "price: 189.25 -> 189.3" in result.stdout
    assert "commission: 1 -> 1.05" in result.stdout
    # Scaled integers on SQLite: 10 decimal places for prices, 6 for money.
    assert raw(filled, "SELECT price, commission, quantity FROM trades WHERE exec_id='E1'") == [
        (1_893_000_000_000, 1_050_000, 1_000_000_000_000)
    ]


def test_trade_edit_refuses_a_bad_value_and_changes_nothing(cli: Cli, filled: Path) -> None:
    result = cli("trade", "edit", filled, "E1", "--price", "1.5", "--quantity", "-3")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "quantity" in one_error_line(result)
    assert raw(filled, "SELECT price FROM trades WHERE exec_id='E1'") == [(1_892_500_000_000,)]


def test_trade_edit_to_an_unknown_account_or_trade_is_not_found(cli: Cli, filled: Path) -> None:
    assert cli("trade", "edit", filled, "E1", "--account", "NOPE").exit_code == ExitCode.NOT_FOUND
    assert cli("trade", "edit", filled, "E9", "--price", "1").exit_code == ExitCode.NOT_FOUND
    moved = ok(cli("trade", "edit", filled, "E1", "--account", "ACC2"))
    assert "account_id: ACC1 -> ACC2" in moved.stdout


def test_trade_delete_needs_yes_without_a_terminal_and_takes_images_and_report(
    cli: Cli, filled: Path, tmp_path: Path
) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes(png_bytes(seed=3))
    ok(cli("attach", filled, "E1", chart))
    ok(cli("trade", "note", filled, "E1", "Exited late", "--setup", "4"))
    ok(cli("trade", "mistake", filled, "E1", "late_exit", "--cost", "12.50"))

    refused = cli("trade", "delete", filled, "E1")
    assert refused.exit_code == ExitCode.USAGE
    assert "--yes" in one_error_line(refused)
    assert raw(filled, "SELECT count(*) FROM trades WHERE exec_id='E1'") == [(1,)]

    done = ok(cli("trade", "delete", filled, "E1", "--yes"))
    assert "with 1 image, its report, 1 mistake" in done.stdout
    for table, column in (
        ("trades", "exec_id"),
        ("trade_reports", "trade_id"),
        ("mistake_entries", "trade_id"),
        ("images", "owner_id"),
    ):
        assert raw(filled, f"SELECT count(*) FROM {table} WHERE {column}='E1'") == [(0,)]
    assert raw(filled, "SELECT count(*) FROM trades") == [(1,)]


def test_note_and_tags_are_stored_in_the_trade_report(cli: Cli, filled: Path) -> None:
    ok(cli("trade", "note", filled, "E2", "Good exit", "--execution", "5", "--followed-plan"))
    ok(cli("trade", "tag", filled, "E2", "breakout", "gap-up", "breakout"))
    tagged = ok(cli("trade", "tag", filled, "E2", "momentum", "--remove", "gap-up"))
    assert "Tags of trade E2: breakout, momentum" in tagged.stdout
    rows = raw(
        filled,
        "SELECT lessons_learned, execution_quality, followed_plan, tags FROM trade_reports "
        "WHERE trade_id='E2'",
    )
    assert rows == [("Good exit", 5, 1, '["breakout", "momentum"]')]
    shown = ok(cli("trade", "show", filled, "E2")).stdout
    assert "note:          Good exit" in shown
    assert "followed plan: yes" in shown
    assert "tags:          breakout, momentum" in shown
    document = json.loads(ok(cli("trade", "show", filled, "E2", "--json")).stdout)
    assert document["report"]["tags"] == ["breakout", "momentum"]
    assert document["trade"]["price"] == "190.5"
    bad = cli("trade", "note", filled, "E2", "--setup", "6")
    assert bad.exit_code == ExitCode.USAGE
    missing = cli("trade", "tag", filled, "E2", "--remove", "nope")
    assert missing.exit_code == ExitCode.NOT_FOUND


def test_image_export_writes_the_original_bytes_privately_and_delete_removes_it(
    cli: Cli, filled: Path, tmp_path: Path
) -> None:
    original = png_bytes(800, 450, seed=9)
    chart = tmp_path / "chart.png"
    chart.write_bytes(original)
    ok(cli("attach", filled, "E2", chart))
    (image_id,) = raw(filled, "SELECT id FROM images WHERE owner_id='E2'")[0]
    out = tmp_path / "back.png"
    ok(cli("image", "export", filled, image_id, out))
    assert out.read_bytes() == original
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    again = cli("image", "export", filled, image_id, out)
    assert again.exit_code == ExitCode.ALREADY_EXISTS
    ok(cli("image", "export", filled, image_id, out, "--force"))
    assert cli("image", "delete", filled, image_id).exit_code == ExitCode.USAGE
    ok(cli("image", "delete", filled, image_id, "--yes"))
    assert raw(filled, "SELECT count(*) FROM images") == [(0,)]
    assert cli("image", "export", filled, image_id, tmp_path / "x.png").exit_code == (
        ExitCode.NOT_FOUND
    )


def test_account_edit_and_delete_refused_while_trades_belong_to_it(cli: Cli, filled: Path) -> None:
    edited = ok(cli("account", "edit", filled, "ACC1", "--name", "IBKR", "--currency", "eur"))
    assert "name: Main broker -> IBKR" in edited.stdout
    assert raw(filled, "SELECT name, currency FROM accounts WHERE account_id='ACC1'") == [
        ("IBKR", "EUR")
    ]
    refused = cli("account", "delete", filled, "ACC1", "--yes")
    assert refused.exit_code == ExitCode.CONFLICT
    assert "still has 2 trades" in one_error_line(refused)
    ok(cli("account", "delete", filled, "ACC2", "--yes"))
    assert raw(filled, "SELECT account_id FROM accounts") == [("ACC1",)]


def test_stored_control_characters_are_escaped_in_tables_and_messages(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    # Imports now refuse such ids; a journal written before may still hold one (raw SQL).
    hostile = "E\x1b]52;c;cHduZWQ=\x07X"
    with Journal.open(journal, PASSPHRASE) as opened, opened.unit_of_work() as uow:
        uow.trades.save(make_trade(exec_id="PLAIN", account_id="ACC1"))
        uow.commit()
    with Journal.open(journal, PASSPHRASE) as opened, opened.engine.begin() as connection:
        connection.execute(
            text("UPDATE trades SET exec_id = :hostile WHERE exec_id = 'PLAIN'"),
            {"hostile": hostile},
        )
    for args in (("trades", journal, "--wide"), ("trades", journal, "--format", "ndjson")):
        output = ok(cli(*args)).stdout
        assert "\x1b" not in output
        assert "\x07" not in output
    assert "E\\x1b]52;c;cHduZWQ=\\x07X" in ok(cli("trades", journal, "--wide")).stdout
    missing = cli("trade", "edit", journal, "nope\x1b[31m", "--price", "1")
    assert "\x1b" not in missing.stderr


def test_trade_edit_sets_instrument_details_and_listings_carry_them(cli: Cli, filled: Path) -> None:
    edited = ok(
        cli(
            "trade", "edit", filled, "E1", "--asset-class", "option", "--underlying", "AAPL",
            "--expiry", "2024-04-19", "--strike", "190", "--right", "C", "--multiplier", "100",
        )
    )  # fmt: skip
    assert "expiry: (none) -> 2024-04-19" in edited.stdout
    listed = ok(cli("trades", filled, "--format", "ndjson")).stdout.splitlines()
    first = json.loads(next(line for line in listed if '"E1"' in line))
    assert (first["expiry"], first["strike"], first["option_right"]) == ("2024-04-19", "190", "C")
    assert raw(filled, "SELECT expiry, multiplier FROM trades WHERE exec_id='E1'")[0][0] is not None
