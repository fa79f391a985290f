"""The `ibkr-csv` importer: the Flex query as CSV maps exactly as the XML does."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import pytest

from zorivest_core.application.importing import ImportContext, ParsedExecution, RowRejection
from zorivest_core.domain.enums import AssetClass, OptionRight, TradeAction
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers import detect_format
from zorivest_infra.importers.ibkr_csv import IbkrCsvImporter

FIXTURE: Final = Path(__file__).parents[2] / "fixtures" / "imports" / "ibkr-csv" / "trades.csv"
CONTEXT: Final = ImportContext(zone=ZoneInfo("America/New_York"), source_name="trades.csv")


def parse(data: bytes) -> list[Any]:
    return list(IbkrCsvImporter().parse(io.BytesIO(data), CONTEXT))


def test_rows_map_field_by_field() -> None:
    items = parse(FIXTURE.read_bytes())
    assert [type(item) for item in items] == [ParsedExecution] * 4 + [RowRejection]
    buy, sell, option, future, order = items
    assert (buy.line, buy.trade.exec_id, buy.trade.time, buy.trade.action) == (
        3,
        "0000a001.65e5c301.01.01",
        dt.datetime(2024, 3, 4, 14, 31, 15, tzinfo=dt.UTC),
        TradeAction.BOT,
    )
    assert (buy.trade.quantity, buy.trade.price, buy.trade.commission) == (
        Decimal(100),
        Decimal(170),
        Decimal(1),
    )
    assert buy.broker_account == "U1234567"
    assert (sell.trade.action, sell.trade.quantity, sell.broker_realized_pnl) == (
        TradeAction.SLD,
        Decimal(100),
        Decimal(523),
    )
    assert [(fee.amount, fee.currency) for fee in sell.fees] == [(Decimal("0.05"), "USD")]
    assert (
        option.trade.asset_class,
        option.trade.multiplier,
        option.trade.strike,
        option.trade.expiry,
        option.trade.option_right,
        option.trade.underlying,
    ) == (
        AssetClass.OPTION,
        Decimal(100),
        Decimal(175),
        dt.date(2024, 4, 19),
        OptionRight.CALL,
        "AAPL",
    )
    assert (future.trade.asset_class, future.trade.multiplier, future.trade.underlying) == (
        AssetClass.FUTURE,
        Decimal(50),
        "ES",
    )
    assert order.line == 7
    assert "levelOfDetail ORDER" in order.reason


def test_detected_and_header_trailer_records_understood() -> None:
    importer, _ = detect_format(FIXTURE.read_bytes())
    assert importer.name == "ibkr-csv"
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()[1:3]
    typed = "\n".join(
        ['"BOF","U1234567"', f'"HEADER",{lines[0]}', f'"DATA",{lines[1]}', '"EOF","1"']
    )
    items = parse(typed.encode())
    assert len(items) == 1
    assert isinstance(items[0], ParsedExecution)
    assert items[0].line == 3


def test_a_file_without_a_trades_header_is_refused() -> None:
    with pytest.raises(ValidationError, match="no Trades header line"):
        parse(b'"ClientAccountID","Symbol"\n"U1","AAPL"\n')


def test_a_one_gigabyte_line_is_refused_in_bounded_memory() -> None:
    class Endless(io.RawIOBase):
        def __init__(self) -> None:
            self.read_bytes = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            if self.read_bytes > 2**30:
                return 0
            size = len(buffer)
            buffer[:size] = b"x" * size
            self.read_bytes += size
            return size

    stream = Endless()
    with pytest.raises(ValidationError, match="line 1 is longer than 1024 KiB"):
        list(IbkrCsvImporter().parse(io.BufferedReader(stream), CONTEXT))
    assert stream.read_bytes < 4 * 2**20


def test_a_semicolon_file_is_sniffed_or_forced() -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()[1:3]
    semicolons = "\n".join(line.replace('","', '";"') for line in lines).encode()
    (sniffed,) = parse(semicolons)
    assert isinstance(sniffed, ParsedExecution)
    assert sniffed.trade.price == Decimal(170)
    forced = list(
        IbkrCsvImporter().parse(
            io.BytesIO(semicolons.replace(b'";"', b'"|"')),
            ImportContext(zone=CONTEXT.zone, delimiter="|", source_name="x.csv"),
        )
    )
    assert [(type(item), item.line) for item in forced] == [(ParsedExecution, 2)]
    importer, _ = detect_format(semicolons)
    assert importer.name == "ibkr-csv"
