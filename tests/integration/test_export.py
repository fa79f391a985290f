"""`zorivest export` and `zorivest import-export`: every table out as open files, and a
journal rebuilt from them that exports to the very same bytes."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import stat
from decimal import Decimal
from pathlib import Path

import pytest

from tests.factories import make_trade, png_bytes
from tests.integration.test_cli import PASSPHRASE, Cli, ok, one_error_line
from tests.pg import private_schema, url_in_schema
from zorivest_core.domain.entities import Account, BrokerConfig, ImageAttachment, TradeReport
from zorivest_core.domain.enums import AccountType, AssetClass, OptionRight
from zorivest_infra.cli.errors import ExitCode
from zorivest_infra.journal import Journal

PICTURE = png_bytes(320, 200, seed=5)


@pytest.fixture
def cli(fast_kdf: None) -> Cli:
    return Cli()


@pytest.fixture
def journal(cli: Cli, tmp_path: Path) -> Path:
    """A journal with an account, trades, an image, a report and awkward texts."""
    path = tmp_path / "journal.zorivest"
    ok(cli("init", path))
    with Journal.open(path, PASSPHRASE) as opened, opened.unit_of_work() as uow:
        # An empty note and a NULL institution must stay apart; so must the text "\N".
        uow.accounts.save(Account("ACC1", 'Main, "quoted"', AccountType.BROKER, notes=""))
        uow.accounts.save(Account("ACC2", "\\N", AccountType.IRA, institution="line\nbreak"))
        uow.trades.save(make_trade("E1", price=Decimal("189.2500000001"), commission="-0.35"))
        uow.trades.save(make_trade("E/2", account_id="ACC2", quantity="0.0000000001"))
        uow.trades.save(
            make_trade(
                "O1",
                instrument="AAPL  240419C00190000",
                asset_class=AssetClass.OPTION,
                underlying="AAPL",
                expiry=dt.date(2024, 4, 19),
                strike=Decimal(190),
                option_right=OptionRight.CALL,
                multiplier=Decimal(100),
                currency="USD",
            )
        )
        uow.trade_reports.save(TradeReport("E1", setup_quality=4, tags=["a", "ü"]))
        uow.images.save("E1", ImageAttachment(data=PICTURE, caption="entry"))
        uow.broker_configs.save(
            BrokerConfig("B1", "Broker", max_leverage={"stock": 4, "x": None}, settlement_days=2)
        )
        uow.commit()
    return path


def all_files(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("data_format", ["csv", "json"])
def test_export_rebuild_export_is_byte_identical(
    cli: Cli, journal: Path, tmp_path: Path, data_format: str
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    ok(cli("export", journal, first, "--format", data_format))
    rebuilt = tmp_path / "rebuilt.zorivest"
    ok(cli("import-export", first, rebuilt))
    ok(cli("export", rebuilt, second, "--format", data_format))
    assert all_files(first) == all_files(second)
    # The rebuilt journal has the same trades, exactly.
    with (
        Journal.open(journal, PASSPHRASE) as old,
        Journal.open(rebuilt, PASSPHRASE) as new,
        old.unit_of_work() as a,
        new.unit_of_work() as b,
    ):
        assert a.trades.get("E1") == b.trades.get("E1")
        assert a.accounts.list_all() == b.accounts.list_all()
        assert b.accounts.get("ACC1").notes == ""  # type: ignore[union-attr]
        assert b.accounts.get("ACC2").institution == "line\nbreak"  # type: ignore[union-attr]
        assert b.accounts.get("ACC2").name == "\\N"  # type: ignore[union-attr]


def test_export_writes_open_files_with_a_manifest(cli: Cli, journal: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = ok(cli("export", journal, out))
    assert "NOT encrypted" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {table["name"] for table in manifest["tables"]} >= {"trades", "accounts", "images"}
    (image,) = [item for item in manifest["files"] if item["path"].startswith("images/1.")]
    assert image["path"] == "images/1.png"
    assert (out / "images/1.png").read_bytes() == PICTURE
    assert image["sha256"] == hashlib.sha256(PICTURE).hexdigest()
    with (out / "tables/trades.csv").open(encoding="utf-8", newline="") as stream:
        rows = {row["exec_id"]: row for row in csv.DictReader(stream)}
    assert rows["E1"]["price"] == "189.2500000001"
    assert rows["E1"]["commission"] == "-0.35"
    assert rows["E/2"]["quantity"] == "0.0000000001"
    assert rows["E1"]["time"] == "2024-03-08T14:30:00+00:00"
    assert (rows["O1"]["expiry"], rows["O1"]["strike"], rows["O1"]["option_right"]) == (
        "2024-04-19",
        "190",
        "C",
    )
    assert rows["E1"]["expiry"] == "\\N"
    accounts = (out / "tables/accounts.csv").read_text(encoding="utf-8")
    assert "\\N0" in accounts  # the marker moved aside for the text "\N"
    for path in out.rglob("*"):
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, path


def test_export_refuses_a_non_empty_directory(cli: Cli, journal: Path, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine", encoding="utf-8")
    result = cli("export", journal, tmp_path / "busy")
    assert result.exit_code == ExitCode.ALREADY_EXISTS
    assert (tmp_path / "busy" / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_a_changed_export_file_is_refused_before_any_journal_exists(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    ok(cli("export", journal, out))
    trades = out / "tables/trades.csv"
    trades.write_text(trades.read_text(encoding="utf-8").replace("189.25", "189.35"), "utf-8")
    target = tmp_path / "new.zorivest"
    result = cli("import-export", out, target)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "tables/trades.csv" in one_error_line(result)
    assert not target.exists()
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".new")] == []


@pytest.mark.postgres
def test_a_postgresql_journal_exports_and_rebuilds_into_a_file_byte_identically(
    cli: Cli, tmp_path: Path
) -> None:
    with private_schema("zx") as (url, schema):
        server = url_in_schema(url, schema)
        with Journal.connect(server, create_schema=True) as opened, opened.unit_of_work() as uow:
            uow.accounts.save(Account("ACC1", "Main", AccountType.BROKER, notes=""))
            uow.trades.save(make_trade("E1", price=Decimal("0.0000000001"), commission="-0.35"))
            uow.trades.save(
                make_trade("O1", asset_class=AssetClass.OPTION, expiry=dt.date(2025, 1, 17))
            )
            uow.trade_reports.save(TradeReport("E1", tags=["ü", "\\N"]))
            uow.images.save("E1", ImageAttachment(data=PICTURE, caption=None))
            uow.commit()
        first = tmp_path / "from-server"
        ok(cli("export", "--url", server, first))
    rebuilt = tmp_path / "rebuilt.zorivest"
    ok(cli("import-export", first, rebuilt))
    second = tmp_path / "from-file"
    ok(cli("export", rebuilt, second))
    assert all_files(first) == all_files(second)


def test_export_warns_of_partial_exports_a_crash_left_behind(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    crashed = tmp_path / ".out.partial-k3x9q2"
    (crashed / "tables").mkdir(parents=True)
    (crashed / "tables" / "trades.csv").write_text("exec_id\nE1\n")
    (tmp_path / ".other.partial-aaaa").mkdir()  # another DIR's: not this export's business

    result = ok(cli("export", journal, tmp_path / "out"))

    assert "1 partial export beside" in result.stderr
    assert str(crashed) in result.stderr
    assert ".other.partial-" not in result.stderr
    assert (tmp_path / "out" / "manifest.json").is_file()
    assert crashed.is_dir()  # never deleted behind the trader's back


def test_export_leaves_no_partial_export_of_its_own(
    cli: Cli, journal: Path, tmp_path: Path
) -> None:
    result = ok(cli("export", journal, tmp_path / "out"))

    assert "warning" not in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".out")) == []
