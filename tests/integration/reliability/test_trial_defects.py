"""Defects a hostile trial found (issue 12): sums, deep JSON, control characters.

Each test fails on the code before the fix: `totals` overflowed 64 bits on SQLite, deep
JSON in settings raised RecursionError, and terminal escape sequences were accepted in
imported ids and names.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.factories import make_account, make_trade
from tests.integration.contract._rows import add_account
from zorivest_core.domain.entities import BrokerConfig
from zorivest_core.domain.errors import ValidationError
from zorivest_core.domain.settings import decode_setting, encode_setting
from zorivest_infra.cli import app
from zorivest_infra.database.repositories import (
    SqlAlchemySettingsRepository,
    SqlAlchemyTradeRepository,
)

LARGEST_MONEY = Decimal("999999999999.999999")


# -- item 8: sums beyond 64 bits ---------------------------------------------------------


def test_totals_stay_exact_beyond_64_bits_on_every_backend(backend_session: Session) -> None:
    add_account(backend_session)
    repo = SqlAlchemyTradeRepository(backend_session)
    repo.save_many(
        [
            make_trade(f"BIG{index}", commission=LARGEST_MONEY, realized_pnl=-LARGEST_MONEY)
            for index in range(10)
        ]
        + [make_trade("SMALL", commission=Decimal("0.000001"), realized_pnl=Decimal("-0.5"))]
    )
    totals = repo.totals("ACC1")
    assert totals.count == 11
    # Written out by hand: ten times the largest amount, plus the small trade.
    assert totals.commission == Decimal("9999999999999.999991")
    assert totals.realized_pnl == Decimal("-9999999999999.999990") - Decimal("0.5")
    assert repo.totals("NOBODY").commission == 0


# -- item 9: JSON depth, one rule for settings and entities -----------------------------


def _nested(levels: int) -> Any:
    document: Any = "leaf"
    for _ in range(levels):
        document = {"next": document}
    return document


@pytest.mark.parametrize("levels", [65, 1_000, 100_000])
def test_deep_json_is_refused_alike_by_settings_and_entities(
    backend_session: Session, levels: int
) -> None:
    deep = _nested(levels)
    with pytest.raises(ValidationError, match="deeper than 64 levels"):
        SqlAlchemySettingsRepository(backend_session).set("ui.deep", deep)
    with pytest.raises(ValidationError, match="deeper than 64 levels"):
        encode_setting(deep, key="ui.deep")
    with pytest.raises(ValidationError, match="deeper than 64 levels"):
        BrokerConfig("B1", "Broker", trading_hours=deep)


def test_json_of_exactly_64_levels_is_accepted(backend_session: Session) -> None:
    document = _nested(64)
    text, value_type = encode_setting(document, key="ui.deep")
    assert decode_setting(text, value_type, key="ui.deep") == document
    assert BrokerConfig("B1", "Broker", trading_hours=document).trading_hours == document


def test_deep_json_already_stored_reads_as_a_validation_error() -> None:
    stored = '{"a":' * 5_000 + "1" + "}" * 5_000
    with pytest.raises(ValidationError, match="deeper than 64 levels"):
        decode_setting(stored, "json", key="ui.deep")


# -- item 5 (input side): control characters in ids and names ---------------------------

OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda bad: make_trade(f"E1{bad}"), "exec_id"),
        (lambda bad: make_trade("E1", instrument=f"AAPL{bad}"), "instrument"),
        (lambda bad: make_trade("E1", account_id=f"ACC{bad}"), "account_id"),
        (lambda bad: make_account(f"ACC{bad}"), "account_id"),
        (lambda bad: make_account("ACC", name=f"Main {bad}"), "name"),
        (lambda bad: make_account("ACC", institution=f"Bank{bad}"), "institution"),
    ],
)
@pytest.mark.parametrize("bad", [OSC52, "\x9b31m", "\x7f", "line\nbreak", "\ttab"])
def test_ids_and_names_refuse_control_characters(build: Any, field: str, bad: str) -> None:
    if field == "institution" and bad in {"line\nbreak", "\ttab"}:
        # free text (an institution's address) keeps its tab and line breaks as given
        assert build(bad).institution == f"Bank{bad}"
        return
    with pytest.raises(ValidationError, match="control characters") as caught:
        build(bad)
    assert caught.value.field == field


def test_notes_keep_tabs_and_line_breaks_but_refuse_escapes() -> None:
    assert make_account("ACC", notes="line one\n\tline two\r\n").notes == "line one\n\tline two\r\n"
    with pytest.raises(ValidationError, match="control characters"):
        make_account("ACC", notes=f"hidden {OSC52}")


def test_ordinary_text_with_quotes_and_unicode_is_still_accepted() -> None:
    assert make_account("IBKR-MARGIN", name="Main — Brokers ✓").name == "Main — Brokers ✓"
    assert make_trade("E-ß-1", instrument="ES 03-24 'Q'").instrument == "ES 03-24 'Q'"


def test_an_import_rejects_rows_with_control_characters_naming_line_and_field(
    tmp_path: Path, fast_kdf: None
) -> None:
    journal = tmp_path / "journal.zorivest"
    environment: dict[str, str | None] = {"ZORIVEST_PASSPHRASE": "import passphrase 1"}
    runner = CliRunner()
    for args in (["init", journal], ["account", "add", journal, "ACC1", "--name", "Main"]):
        assert runner.invoke(app, [str(a) for a in args], env=environment).exit_code == 0
    csv = tmp_path / "executions.csv"
    csv.write_text(
        "exec_id,time,instrument,action,quantity,price,account_id\n"
        "GOOD-1,2024-03-08T09:30:00-05:00,AAPL,BOT,10,189.25,ACC1\n"
        f"BAD{OSC52},2024-03-08T09:31:00-05:00,AAPL,BOT,10,189.25,ACC1\n"
        "BAD-2,2024-03-08T09:32:00-05:00,AA\x1b[2JPL,BOT,10,189.25,ACC1\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", str(journal), str(csv)], env=environment)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "\x07" not in result.output
    assert "line 3: exec_id: must not contain control characters" in result.output
    assert "line 4: instrument: must not contain control characters" in result.output
