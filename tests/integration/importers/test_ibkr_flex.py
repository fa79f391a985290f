"""The `ibkr-flex` importer on fixtures written from IBKR's Flex Query reference.

Expected values are written here by hand (times converted from New York local time with
the zone's rules for each date: EST before 2024-03-10, EDT after).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal as D  # noqa: N817 - the expected table reads better
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import pytest

from zorivest_core.application.importing import (
    Fee,
    Identifier,
    ImportContext,
    ParsedExecution,
    RowRejection,
)
from zorivest_core.domain.enums import AssetClass, FeeType, IdentifierType, OptionRight
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers import detect_format
from zorivest_infra.importers.ibkr_flex import IbkrFlexImporter

FIXTURES: Final = Path(__file__).parents[2] / "fixtures" / "imports" / "ibkr-flex"
NEW_YORK: Final = ZoneInfo("America/New_York")
CONTEXT: Final = ImportContext(zone=NEW_YORK, source_name="trades.xml")
OPT: Final = "AAPL  240419C00175000"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


# exec_id, time (UTC), instrument, action, quantity, price, commission, broker P&L,
# asset class, multiplier, underlying, expiry, strike, right, currency, fx rate
EXPECTED: Final[list[tuple[Any, ...]]] = [
    ("0000a001.65e5c301.01.01", utc(2024, 3, 4, 14, 31, 15), "AAPL", "BOT", D(100), D(170),
     D(1), D(0), AssetClass.STOCK, D(1), None, None, None, None, "USD", D(1)),
    ("0000a001.65e6a1f0.01.01", utc(2024, 3, 5, 15, 2, 3), "AAPL", "BOT", D(50), D("172.5"),
     D("0.5"), D(0), AssetClass.STOCK, D(1), None, None, None, None, "USD", D(1)),
    ("0000a001.65e8b2c4.01.01", utc(2024, 3, 6, 19, 15), "AAPL", "SLD", D(120), D("175.25"),
     D("1.2"), D("577.6"), AssetClass.STOCK, D(1), None, None, None, None, "USD", D(1)),
    ("0000a001.65e9d0aa.01.01", utc(2024, 3, 7, 14, 45, 30), "AAPL", "SLD", D(30), D(171),
     D("0.3"), D("-45.6"), AssetClass.STOCK, D(1), None, None, None, None, "USD", D(1)),
    ("0000a001.65eb1e10.01.01", utc(2024, 3, 8, 16, 0), "TSLA", "SLD", D(40), D(180),
     D("0.4"), D(0), AssetClass.STOCK, D(1), None, None, None, None, "USD", D(1)),
    ("0000a001.65ef0b3c.01.01", utc(2024, 3, 11, 14, 30), "TSLA", "BOT", D(25), D("176.4"),
     D("0.25"), D("89.5"), AssetClass.STOCK, D(1), None, None, None, None, "USD", D(1)),
    ("0000a001.65f0ad9f.01.01", utc(2024, 3, 12, 19, 59, 59), "TSLA", "BOT", D(15), D("182.1"),
     D("0.15"), D("-31.8"), AssetClass.STOCK, D(1), None, None, None, None, "USD", D(1)),
    ("0000a001.65f1ab01.01.01", utc(2024, 3, 13, 13, 35), OPT, "BOT", D(2), D("3.45"),
     D("1.3"), D(0), AssetClass.OPTION, D(100), "AAPL", dt.date(2024, 4, 19), D(175),
     OptionRight.CALL, "USD", D(1)),
    ("0000a001.65f30c22.01.01", utc(2024, 3, 14, 17, 20), OPT, "SLD", D(1), D("4.1"),
     D("0.66"), D("63.69"), AssetClass.OPTION, D(100), "AAPL", dt.date(2024, 4, 19), D(175),
     OptionRight.CALL, "USD", D(1)),
    ("0000a001.65f44b5e.01.01", utc(2024, 3, 15, 13, 30, 5), "ESM4", "BOT", D(2), D("5150.25"),
     D("4.24"), D(0), AssetClass.FUTURE, D(50), "ES", dt.date(2024, 6, 21), None, None, "USD",
     D(1)),
    ("0000a001.65f46a7a.01.01", utc(2024, 3, 15, 15, 45, 30), "ESM4", "SLD", D(2), D("5163.5"),
     D("4.24"), D("1316.52"), AssetClass.FUTURE, D(50), "ES", dt.date(2024, 6, 21), None, None,
     "USD", D(1)),
    ("0000a001.65f83c10.01.01", utc(2024, 3, 18, 12, 0), "EUR.USD", "BOT", D(20000),
     D("1.0875"), D(2), D(0), AssetClass.FOREX, D(1), None, None, None, None, "USD", D(1)),
    ("0000a001.65f9a0b0.01.01", utc(2024, 3, 19, 14, 0), "MSFT", "BOT", D(10), D(420),
     D(1), D(0), AssetClass.STOCK, D(1), None, None, None, None, "USD", D(1)),
    # The cancellation reverses the MSFT buy: a sale of 10, commission refunded.
    ("0000a001.65f9a1dc.01.01", utc(2024, 3, 19, 14, 5), "MSFT", "SLD", D(10), D(420),
     D(-1), D(0), AssetClass.STOCK, D(1), None, None, None, None, "USD", D(1)),
    ("0000a001.65fab0c0.01.01", utc(2024, 3, 20, 8, 30), "SAP", "BOT", D(10), D("175.5"),
     D("1.25"), D(0), AssetClass.STOCK, D(1), None, None, None, None, "EUR", D("1.0868")),
    # Expiry: no ibExecID at IBKR, so the tradeID names it.
    ("IBKR-T501000016", utc(2024, 4, 19, 20, 20), OPT, "SLD", D(1), D(0), D(0), D("-345.65"),
     AssetClass.OPTION, D(100), "AAPL", dt.date(2024, 4, 19), D(175), OptionRight.CALL, "USD",
     D(1)),
]  # fmt: skip


def parse(data: bytes, context: ImportContext = CONTEXT) -> list[Any]:
    return list(IbkrFlexImporter().parse(io.BytesIO(data), context))


def fixture_items() -> list[Any]:
    return parse((FIXTURES / "trades.xml").read_bytes())


def test_every_execution_is_read_field_by_field() -> None:
    items = fixture_items()
    assert all(isinstance(item, ParsedExecution) for item in items)
    got = [
        (
            item.trade.exec_id,
            item.trade.time,
            item.trade.instrument,
            item.trade.action.value,
            item.trade.quantity,
            item.trade.price,
            item.trade.commission,
            item.broker_realized_pnl,
            item.trade.asset_class,
            item.trade.multiplier,
            item.trade.underlying,
            item.trade.expiry,
            item.trade.strike,
            item.trade.option_right,
            item.trade.currency,
            item.trade.fx_rate,
        )
        for item in items
    ]
    assert got == EXPECTED
    assert {item.broker_account for item in items} == {"U1234567"}
    assert {item.trade.account_id for item in items} == {"U1234567"}
    # The broker's realized P&L is also the stored realized_pnl.
    assert [item.trade.realized_pnl for item in items] == [row[7] for row in EXPECTED]


def test_lines_fees_and_identifiers() -> None:
    items = fixture_items()
    assert [item.line for item in items] == list(range(28, 44))
    assert items[2].fees == (Fee(FeeType.OTHER, D("0.05"), "USD"),)
    assert all(not item.fees for index, item in enumerate(items) if index != 2)
    assert items[0].identifiers == (
        Identifier(IdentifierType.CUSIP, "037833100", "AAPL"),
        Identifier(IdentifierType.ISIN, "US0378331005", "AAPL"),
        Identifier(IdentifierType.CONID, "265598", "AAPL"),
    )
    assert items[9].identifiers == (Identifier(IdentifierType.CONID, "551601561", "ESM4"),)


def test_detected_from_content() -> None:
    importer, detection = detect_format((FIXTURES / "trades.xml").read_bytes()[:65536])
    assert importer.name == "ibkr-flex"
    assert detection.score == 100


def test_times_need_the_query_zone() -> None:
    with pytest.raises(ValidationError, match="--tz"):
        parse((FIXTURES / "trades.xml").read_bytes(), ImportContext(source_name="t.xml"))


ROW: Final = (
    '<Trade accountId="U1" currency="USD" assetCategory="STK" symbol="X" ibExecID="{id}" '
    'dateTime="{time}" buySell="{side}" quantity="{quantity}" tradePrice="1" '
    'ibCommission="-1" levelOfDetail="{level}"/>'
)


def document(*rows: str) -> bytes:
    body = "\n".join(rows)
    return (
        '<?xml version="1.0"?>\n<FlexQueryResponse><FlexStatements><FlexStatement '
        f'accountId="U1"><Trades>\n{body}\n</Trades></FlexStatement></FlexStatements>'
        "</FlexQueryResponse>\n"
    ).encode()


def row(**values: str) -> str:
    fields = {"id": "E1", "time": "20240308;093000", "side": "BUY", "quantity": "1"}
    fields["level"] = "EXECUTION"
    fields.update(values)
    return ROW.format(**fields)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"level": "ORDER"}, "levelOfDetail ORDER: only EXECUTION rows"),
        ({"level": "CLOSED_LOT"}, "levelOfDetail CLOSED_LOT"),
        ({"side": "SELL"}, "buySell SELL disagrees with the sign of quantity 1"),
        ({"side": "BUY (Ca.)"}, "a cancellation must reverse its execution"),
        ({"side": "HOLD"}, "buySell: expected BUY or SELL (got 'HOLD')"),
        ({"quantity": "0"}, "quantity: must not be zero"),
        ({"quantity": "1e"}, "quantity: not a number (got '1e')"),
        ({"time": "2024-03-08 09:30"}, "dateTime: expected yyyyMMdd;HHmmss"),
        ({"time": "20240310;023000"}, "does not exist in America/New_York"),
        ({"time": "20241103;013000"}, "happened twice in America/New_York"),
        ({"time": "20240230;100000"}, "not a valid date and time"),
    ],
)
def test_bad_rows_are_rejected_with_line_and_reason(values: dict[str, str], reason: str) -> None:
    items = parse(document(row(id="GOOD"), row(**values)))
    assert isinstance(items[0], ParsedExecution)
    assert isinstance(items[1], RowRejection)
    assert items[1].line == 4
    assert reason in items[1].reason


def test_iso_date_time_format_is_read() -> None:
    (item,) = parse(document(row(time="2024-07-01;09:30:00")))
    assert item.trade.time == utc(2024, 7, 1, 13, 30)


def test_truncated_xml_is_refused_whole_with_its_position() -> None:
    data = document(row(id="A"), row(id="B"))
    with pytest.raises(ValidationError, match=r"line \d+, column \d+: not well-formed"):
        parse(data[: len(data) // 2 + 40])


def test_billion_laughs_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
        b"<FlexQueryResponse>&lol2;</FlexQueryResponse>"
    )
    with pytest.raises(ValidationError, match="DTD or entities"):
        parse(bomb)


def test_a_giant_token_is_refused_in_bounded_memory() -> None:
    class Endless(io.RawIOBase):
        """An attribute value that never ends (would be 1 GB); counts what was read."""

        def __init__(self) -> None:
            self.read_bytes = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            if self.read_bytes == 0:
                head = b'<FlexQueryResponse><Trade symbol="'
                buffer[: len(head)] = head
                self.read_bytes += len(head)
                return len(head)
            if self.read_bytes > 2**30:
                return 0
            size = len(buffer)
            buffer[:size] = b"A" * size
            self.read_bytes += size
            return size

    stream = Endless()
    with pytest.raises(ValidationError, match="longer than 4 MiB"):
        list(IbkrFlexImporter().parse(io.BufferedReader(stream), CONTEXT))
    assert stream.read_bytes < 8 * 2**20


def test_statement_account_fills_rows_without_one() -> None:
    data = document(row().replace('accountId="U1" ', ""))
    (item,) = parse(data)
    assert item.broker_account == "U1"
