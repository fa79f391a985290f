"""The `ofx` importer on OFX 1.x (SGML) and 2.x (XML) fixtures written from the spec."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import pytest

from zorivest_core.application.importing import (
    Fee,
    Identifier,
    ImportContext,
    ParsedBankTransaction,
    ParsedExecution,
)
from zorivest_core.domain.enums import (
    AssetClass,
    FeeType,
    IdentifierType,
    OptionRight,
    TradeAction,
    TransactionCategory,
)
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers import detect_format
from zorivest_infra.importers.ofx import OfxImporter

FIXTURES: Final = Path(__file__).parents[2] / "fixtures" / "imports" / "ofx"
CONTEXT: Final = ImportContext(source_name="statement.ofx")


def parse(name: str) -> list[Any]:
    return list(OfxImporter().parse(io.BytesIO((FIXTURES / name).read_bytes()), CONTEXT))


def test_bank_lines_v1_sgml() -> None:
    items = parse("checking-v1.ofx")
    assert all(isinstance(item, ParsedBankTransaction) for item in items)
    got = [
        (
            item.line,
            item.transaction.date,
            item.transaction.amount,
            item.transaction.description,
            item.transaction.category,
            item.transaction.reference_id,
            item.broker_account,
        )
        for item in items
    ]
    assert got == [
        (38, dt.datetime(2024, 3, 1, 17, 0, tzinfo=dt.UTC), Decimal(2500),
         "ACME PAYROLL / Salary March", TransactionCategory.ACH_CREDIT, "20240301-0001",
         "CHK-0042"),
        (46, dt.datetime(2024, 3, 5, tzinfo=dt.UTC), Decimal(-5), "CORNER COFFEE",
         TransactionCategory.CARD_PURCHASE, "20240305-0007", "CHK-0042"),
        (53, dt.datetime(2024, 3, 5, tzinfo=dt.UTC), Decimal(-5), "CORNER COFFEE",
         TransactionCategory.CARD_PURCHASE, "20240305-0008", "CHK-0042"),
        (60, dt.datetime(2024, 3, 15, 13, 30, tzinfo=dt.UTC), Decimal(-1000),
         "TRANSFER TO BROKER", TransactionCategory.TRANSFER_OUT, "20240315-0003", "CHK-0042"),
    ]  # fmt: skip
    # Two identical coffees are two lines: their FITIDs differ, so their keys do.
    assert len({item.transaction.dedup_hash for item in items}) == 4


def test_investment_trades_v2_xml() -> None:
    stock_buy, stock_sell, option_buy = parse("brokerage-v2.ofx")
    assert isinstance(stock_buy, ParsedExecution)
    assert (
        stock_buy.trade.exec_id,
        stock_buy.trade.time,
        stock_buy.trade.instrument,
        stock_buy.trade.action,
        stock_buy.trade.quantity,
        stock_buy.trade.price,
        stock_buy.trade.commission,
        stock_buy.trade.asset_class,
        stock_buy.trade.currency,
    ) == (
        "OFX-BRK-7781-T-1001",
        dt.datetime(2024, 3, 4, 14, 31, 15, tzinfo=dt.UTC),
        "AAPL",
        TradeAction.BOT,
        Decimal(100),
        Decimal(170),
        Decimal(1),
        AssetClass.STOCK,
        "USD",
    )
    assert stock_buy.fees == (Fee(FeeType.OTHER, Decimal("0.02"), "USD"),)
    assert stock_buy.identifiers == (Identifier(IdentifierType.CUSIP, "037833100", "AAPL"),)
    assert stock_buy.broker_account == "BRK-7781"
    assert (stock_sell.trade.action, stock_sell.trade.quantity, stock_sell.trade.time) == (
        TradeAction.SLD,
        Decimal(100),
        dt.datetime(2024, 3, 6, 19, 15, tzinfo=dt.UTC),
    )
    assert stock_sell.fees == (Fee(FeeType.REGULATORY, Decimal("0.05"), "USD"),)
    assert (
        option_buy.trade.instrument,
        option_buy.trade.asset_class,
        option_buy.trade.multiplier,
        option_buy.trade.strike,
        option_buy.trade.expiry,
        option_buy.trade.option_right,
        option_buy.trade.underlying,
    ) == (
        "AAPL  240419C00175000",
        AssetClass.OPTION,
        Decimal(100),
        Decimal(175),
        dt.date(2024, 4, 19),
        OptionRight.CALL,
        "AAPL",
    )


@pytest.mark.parametrize("name", ["checking-v1.ofx", "brokerage-v2.ofx"])
def test_detected_from_content(name: str) -> None:
    importer, detection = detect_format((FIXTURES / name).read_bytes())
    assert (importer.name, detection.score) == ("ofx", 100)


def test_a_truncated_statement_is_refused_whole() -> None:
    data = (FIXTURES / "checking-v1.ofx").read_bytes()
    with pytest.raises(ValidationError, match="not a valid OFX statement"):
        list(OfxImporter().parse(io.BytesIO(data[: len(data) // 2]), CONTEXT))
