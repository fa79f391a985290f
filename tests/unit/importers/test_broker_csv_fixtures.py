"""Each broker CSV fixture parses exactly: every field checked against values written here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.importers.helpers import (
    FIXTURES,
    executions,
    parse_bytes,
    parse_fixture,
    rejections,
)
from zorivest_core.application.importing import Fee, Identifier, ParsedExecution
from zorivest_core.domain.enums import (
    AssetClass,
    FeeType,
    IdentifierType,
    OptionRight,
    TradeAction,
)
from zorivest_core.domain.zones import iana_zone
from zorivest_infra.importers.csv_brokers import CSV_IMPORTERS
from zorivest_infra.importers.degiro import DegiroImporter
from zorivest_infra.importers.fidelity import FidelityImporter
from zorivest_infra.importers.schwab import SchwabImporter
from zorivest_infra.importers.tradovate import TradovateImporter

UTC = dt.UTC
SPY_CALL = "SPY   240322C00510000"


def _at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, **rest: int
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC, **rest)


def _check(
    item: ParsedExecution,
    *,
    line: int,
    time: dt.datetime,
    instrument: str,
    action: TradeAction,
    quantity: str,
    price: str,
    account: str,
    commission: str,
    asset_class: AssetClass | None,
    multiplier: str | None = None,
    underlying: str | None = None,
    expiry: dt.date | None = None,
    strike: str | None = None,
    right: OptionRight | None = None,
    currency: str | None = "USD",
    fx_rate: str | None = None,
) -> None:
    trade = item.trade
    assert item.line == line
    assert trade.time == time
    assert trade.instrument == instrument
    assert trade.action is action
    assert trade.quantity == Decimal(quantity)
    assert trade.price == Decimal(price)
    assert trade.account_id == account
    assert trade.commission == Decimal(commission)
    assert trade.realized_pnl == 0
    assert trade.asset_class == asset_class
    assert trade.multiplier == (None if multiplier is None else Decimal(multiplier))
    assert trade.underlying == underlying
    assert trade.expiry == expiry
    assert trade.strike == (None if strike is None else Decimal(strike))
    assert trade.option_right == right
    assert trade.currency == currency
    assert trade.fx_rate == (None if fx_rate is None else Decimal(fx_rate))


def test_registry_tuple_names_each_format_once() -> None:
    assert [importer.name for importer in CSV_IMPORTERS] == [
        "schwab",
        "fidelity",
        "tradovate",
        "degiro",
    ]


class TestSchwab:
    def test_fixture_field_by_field(self) -> None:
        items = parse_fixture(SchwabImporter(), "schwab/transactions.csv", account_id="SCH1")
        parsed = executions(items)
        assert len(parsed) == 5
        option: dict[str, Any] = {
            "instrument": SPY_CALL,
            "account": "SCH1",
            "asset_class": AssetClass.OPTION,
            "multiplier": "100",
            "underlying": "SPY",
            "expiry": dt.date(2024, 3, 22),
            "strike": "510",
            "right": OptionRight.CALL,
        }
        # Dates only: 00:00 New York, daylight time from March 10th 2024 (UTC-4).
        _check(
            parsed[0],
            line=4,
            time=_at(2024, 3, 19, 4),
            action=TradeAction.SLD,
            quantity="2",
            price="4.35",
            commission="1.32",
            **option,
        )
        _check(
            parsed[1],
            line=5,
            time=_at(2024, 3, 18, 4),
            action=TradeAction.BOT,
            quantity="2",
            price="3.10",
            commission="1.32",
            **option,
        )
        stock: dict[str, Any] = {
            "instrument": "AAPL",
            "account": "SCH1",
            "asset_class": AssetClass.STOCK,
        }
        # "03/15/2024 as of 03/14/2024": the trade date is the as-of date.
        _check(
            parsed[2],
            line=6,
            time=_at(2024, 3, 14, 4),
            action=TradeAction.SLD,
            quantity="1000",
            price="173.25",
            commission="0.12",
            **stock,
        )
        _check(
            parsed[3],
            line=7,
            time=_at(2024, 3, 11, 4),
            action=TradeAction.BOT,
            quantity="1000",
            price="170.50",
            commission="0",
            **stock,
        )
        _check(
            parsed[4],
            line=8,
            time=_at(2024, 3, 11, 4),
            action=TradeAction.BOT,
            quantity="1000",
            price="170.50",
            commission="0",
            **stock,
        )
        # Two identical fills stay two executions: same content, occurrence 0 and 1.
        first, second = parsed[3].trade.exec_id, parsed[4].trade.exec_id
        assert first.startswith("schwab-")
        assert first.endswith("-0")
        assert second == first[:-1] + "1"
        assert rejections(items) == [
            (9, "not an execution (Action 'Qualified Dividend'); only buys and sells are imported")
        ]

    def test_winter_date_and_tz_override(self) -> None:
        data = (
            b'"Date","Action","Symbol","Description","Quantity","Price","Fees & Comm","Amount"\n'
            b'"01/05/2024","Buy","MSFT","MICROSOFT","3","$370.00","","-$1,110.00"\n'
        )
        (item,) = parse_bytes(SchwabImporter(), data, account_id="A")
        assert isinstance(item, ParsedExecution)
        assert item.trade.time == _at(2024, 1, 5, 5)  # EST, UTC-5
        (item,) = parse_bytes(
            SchwabImporter(), data, account_id="A", zone=iana_zone("America/Chicago")
        )
        assert isinstance(item, ParsedExecution)
        assert item.trade.time == _at(2024, 1, 5, 6)

    def test_ids_are_stable_and_differ_between_accounts(self) -> None:
        first = executions(
            parse_fixture(SchwabImporter(), "schwab/transactions.csv", account_id="A")
        )
        again = executions(
            parse_fixture(SchwabImporter(), "schwab/transactions.csv", account_id="A")
        )
        other = executions(
            parse_fixture(SchwabImporter(), "schwab/transactions.csv", account_id="B")
        )
        ids = [item.trade.exec_id for item in first]
        assert ids == [item.trade.exec_id for item in again]
        assert len(set(ids)) == 5
        assert not set(ids) & {item.trade.exec_id for item in other}


class TestFidelity:
    def test_fixture_field_by_field(self) -> None:
        items = parse_fixture(FidelityImporter(), "fidelity/Accounts_History.csv")
        parsed = executions(items)
        assert len(parsed) == 4
        option: dict[str, Any] = {
            "instrument": SPY_CALL,
            "account": "X00000001",
            "asset_class": AssetClass.OPTION,
            "multiplier": "100",
            "underlying": "SPY",
            "expiry": dt.date(2024, 3, 22),
            "strike": "510",
            "right": OptionRight.CALL,
        }
        _check(
            parsed[0],
            line=5,
            time=_at(2024, 3, 19, 4),
            action=TradeAction.SLD,
            quantity="2",
            price="4.35",
            commission="1.30",
            **option,
        )
        assert parsed[0].fees == (Fee(FeeType.REGULATORY, Decimal("0.04"), "USD"),)
        assert parsed[0].broker_account == "X00000001"
        _check(
            parsed[1],
            line=6,
            time=_at(2024, 3, 18, 4),
            action=TradeAction.BOT,
            quantity="2",
            price="3.1",
            commission="1.30",
            **option,
        )
        assert parsed[1].fees == (Fee(FeeType.REGULATORY, Decimal("0.02"), "USD"),)
        stock: dict[str, Any] = {
            "instrument": "AAPL",
            "account": "X00000001",
            "asset_class": AssetClass.STOCK,
        }
        _check(
            parsed[2],
            line=7,
            time=_at(2024, 3, 15, 4),
            action=TradeAction.SLD,
            quantity="25.5",
            price="173.2512",
            commission="0",
            **stock,
        )
        assert parsed[2].fees == (Fee(FeeType.REGULATORY, Decimal("0.01"), "USD"),)
        _check(
            parsed[3],
            line=9,
            time=_at(2024, 3, 11, 4),
            action=TradeAction.BOT,
            quantity="25.5",
            price="170.5",
            commission="0",
            **stock,
        )
        assert parsed[3].fees == ()
        # The dividend is listed, the footer (disclaimers, "Date downloaded") is not a row.
        assert rejections(items) == [
            (
                8,
                "not an execution (Action 'DIVIDEND RECEIVED MICROSOFT CORP (MSFT) (Cash)'); "
                "only buys and sells are imported",
            )
        ]

    def test_ids_follow_the_file_account_whatever_account_option_is_given(self) -> None:
        # The use case, not the importer, maps the file's account to a journal account
        # (--account only when the journal lacks it), so ids must not depend on --account.
        plain = executions(parse_fixture(FidelityImporter(), "fidelity/Accounts_History.csv"))
        given = executions(
            parse_fixture(FidelityImporter(), "fidelity/Accounts_History.csv", account_id="J1")
        )
        assert [item.trade.exec_id for item in plain] == [item.trade.exec_id for item in given]
        assert {item.trade.account_id for item in given} == {"X00000001"}
        assert {item.broker_account for item in given} == {"X00000001"}


class TestTradovate:
    def test_fixture_field_by_field(self) -> None:
        items = parse_fixture(TradovateImporter(), "tradovate/fills.csv")
        parsed = executions(items)
        assert len(parsed) == 5
        es: dict[str, Any] = {
            "instrument": "ESZ4",
            "account": "DEMO0001",
            "asset_class": AssetClass.FUTURE,
            "multiplier": "50",
            "underlying": "ES",
            "expiry": dt.date(2024, 12, 20),  # third Friday of December 2024
        }
        _check(
            parsed[0],
            line=3,
            time=_at(2024, 12, 5, 14, 31, second=2, microsecond=125000),
            action=TradeAction.BOT,
            quantity="2",
            price="6091.25",
            commission="2.50",
            **es,
        )
        assert parsed[0].trade.exec_id == "tradovate-9100001"
        assert parsed[0].fees == (Fee(FeeType.EXCHANGE, Decimal("2.78"), "USD"),)
        assert parsed[0].repeats_line is None
        _check(
            parsed[1],
            line=4,
            time=_at(2024, 12, 5, 15, 2, second=45, microsecond=500000),
            action=TradeAction.SLD,
            quantity="2",
            price="6098.50",
            commission="2.50",
            **es,
        )
        mes: dict[str, Any] = {
            "instrument": "MESH5",
            "account": "DEMO0001",
            "asset_class": AssetClass.FUTURE,
            "multiplier": "5",
            "underlying": "MES",
            "expiry": dt.date(2025, 3, 21),  # third Friday of March 2025
        }
        _check(
            parsed[2],
            line=5,
            time=_at(2024, 12, 6, 14, 45),
            action=TradeAction.SLD,
            quantity="1",
            price="6120.75",
            commission="0.50",
            **mes,
        )
        _check(
            parsed[3],
            line=6,
            time=_at(2025, 7, 1, 13, 30),
            action=TradeAction.BOT,
            quantity="1",
            price="65.42",
            commission="2.50",
            instrument="CLQ5",
            account="DEMO0001",
            asset_class=AssetClass.FUTURE,
            multiplier="1000",
            underlying="CL",
            expiry=dt.date(2025, 7, 22),
        )  # 3 business days before July 25
        # The corrected fill: same id later in the file, reported with the line it repeats.
        _check(
            parsed[4],
            line=7,
            time=_at(2024, 12, 6, 14, 45),
            action=TradeAction.SLD,
            quantity="1",
            price="6120.50",
            commission="0.50",
            **mes,
        )
        assert parsed[4].trade.exec_id == "tradovate-9100003"
        assert parsed[4].repeats_line == 5
        assert len(rejections(items)) == 1
        line, reason = rejections(items)[0]
        assert line == 8
        assert reason.startswith("Contract: no point value known for 'XYZ' (in 'XYZZ4')")

    def test_time_without_offset_needs_a_zone(self) -> None:
        data = (
            b"Fill ID,Timestamp,B/S,Contract,Quantity,Price\n"
            b"1,12/05/2024 09:31:02,Buy,NQZ24,1,21400.25\n"
        )
        ((line, reason),) = rejections(parse_bytes(TradovateImporter(), data, account_id="A"))
        assert line == 2
        assert "has no UTC offset" in reason
        assert "--tz" in reason
        (item,) = parse_bytes(
            TradovateImporter(), data, account_id="A", zone=iana_zone("America/Chicago")
        )
        assert isinstance(item, ParsedExecution)
        assert item.trade.time == _at(2024, 12, 5, 15, 31, second=2)  # CST, UTC-6
        assert item.trade.instrument == "NQZ4"
        assert item.trade.multiplier == 20


class TestDegiro:
    def test_dutch_semicolons_and_decimal_commas(self) -> None:
        items = parse_fixture(DegiroImporter(), "degiro/Transactions-nl.csv", account_id="DG1")
        parsed = executions(items)
        assert len(parsed) == 3
        apple: dict[str, Any] = {
            "instrument": "US0378331005",
            "account": "DG1",
            "asset_class": AssetClass.STOCK,
        }
        # 15:31 on the Nasdaq (NDQ) in New York daylight time (UTC-4).
        _check(
            parsed[0],
            line=3,
            time=_at(2024, 3, 15, 19, 31),
            action=TradeAction.BOT,
            quantity="10",
            price="173.25",
            commission="1.00",
            fx_rate="0.9194516595",
            **apple,
        )
        assert parsed[0].identifiers == (
            Identifier(IdentifierType.ISIN, "US0378331005", "APPLE INC. - COMMON ST"),
        )
        _check(
            parsed[1],
            line=4,
            time=_at(2024, 3, 15, 19, 31),
            action=TradeAction.BOT,
            quantity="5",
            price="173.26",
            commission="0",
            fx_rate="0.9194389934",
            **apple,
        )
        assert parsed[0].trade.exec_id != parsed[1].trade.exec_id
        # 09:05 in Amsterdam (EAM), winter time (UTC+1); euro trade: no FX rate.
        _check(
            parsed[2],
            line=5,
            time=_at(2024, 3, 10, 8, 5),
            action=TradeAction.SLD,
            quantity="3",
            price="880.10",
            commission="4.90",
            instrument="NL0010273215",
            account="DG1",
            asset_class=AssetClass.STOCK,
            currency="EUR",
        )
        # 02:30 on March 31st 2024 never happened in Amsterdam (clocks went forward).
        assert rejections(items) == [
            (
                6,
                "Date/Time: 2024-03-31T02:30:00 does not exist in Europe/Amsterdam (the clocks "
                "went forward); give the time with its UTC offset",
            )
        ]

    def test_english_commas_with_quoted_decimal_commas(self) -> None:
        (item,) = parse_fixture(DegiroImporter(), "degiro/Transactions-en.csv", account_id="DG1")
        assert isinstance(item, ParsedExecution)
        _check(
            item,
            line=3,
            time=_at(2024, 11, 8, 13, 45),
            action=TradeAction.BOT,
            quantity="12",
            price="120.46",
            commission="1",
            instrument="IE00BK5BQT80",
            account="DG1",
            asset_class=AssetClass.STOCK,
            currency="EUR",
        )

    def test_unknown_exchange_asks_for_a_zone(self) -> None:
        data = (
            b"Date,Time,Product,ISIN,Reference exchange,Venue,Quantity,Price,,Local value,,"
            b"Value,,Exchange rate,Transaction and/or third,,Total,,Order ID\n"
            b"08-11-2024,14:45,X,IE00BK5BQT80,QQQ,Q,1,1.5,EUR,-1.5,EUR,-1.5,EUR,,,,-1.5,EUR,o\n"
        )
        ((line, reason),) = rejections(parse_bytes(DegiroImporter(), data, account_id="A"))
        assert line == 2
        assert reason == (
            "Reference exchange: no time zone known for 'QQQ' (venue 'Q'); give the zone of "
            "this file's times with --tz"
        )

    def test_an_unknown_exchange_code_falls_back_to_the_venue_mic(self) -> None:
        data = (
            b"Date,Time,Product,ISIN,Reference exchange,Venue,Quantity,Price,,Local value,,"
            b"Value,,Exchange rate,Transaction and/or third,,Total,,Order ID\n"
            b"08-07-2024,10:00,X,IE00BK5BQT80,QQQ,XLON,1,1.5,GBP,-1.5,GBP,-1.77,EUR,,,,"
            b"-1.77,EUR,o\n"
        )
        (item,) = parse_bytes(DegiroImporter(), data, account_id="A")
        assert isinstance(item, ParsedExecution)
        assert item.trade.time == _at(2024, 7, 8, 9)  # London summer time, UTC+1
        assert item.trade.currency == "GBP"
        assert item.trade.fx_rate == Decimal("1.18")


def test_fidelity_older_layout_without_account_columns() -> None:
    data = (
        b"\n\n"
        b"Run Date,Action,Symbol,Security Description,Security Type,Quantity,Price ($),"
        b"Commission ($),Fees ($),Accrued Interest ($),Amount ($),Settlement Date\n"
        b"01/08/2024,YOU BOUGHT VANGUARD TOTAL STOCK MARKET ETF (VTI) (Cash),VTI,"
        b"VANGUARD TOTAL STOCK MARKET ETF,Cash,3.25,235.12,,,,-764.14,01/10/2024\n"
    )
    (item,) = parse_bytes(FidelityImporter(), data, account_id="IRA")
    assert isinstance(item, ParsedExecution)
    _check(
        item,
        line=4,
        time=_at(2024, 1, 8, 5),  # EST, UTC-5
        instrument="VTI",
        action=TradeAction.BOT,
        quantity="3.25",
        price="235.12",
        account="IRA",
        commission="0",
        asset_class=AssetClass.STOCK,
    )
    assert item.broker_account is None


def test_fidelity_without_any_account_rejects_rows_asking_for_one() -> None:
    data = (
        b"Run Date,Action,Symbol,Quantity,Price ($),Commission ($),Fees ($),Amount ($)\n"
        b"01/08/2024,YOU SOLD X (X) (Cash),X,-1,2,,,2\n"
    )
    assert rejections(parse_bytes(FidelityImporter(), data)) == [
        (2, "the file names no account for this row; give --account ID")
    ]


def test_detection_reasons_a_user_can_act_on() -> None:
    semicolons = b"Date;Action;Symbol;Description;Quantity;Price;Fees & Comm;Amount\n"
    forced = parse_bytes(
        SchwabImporter(),
        semicolons + b"01/05/2024;Buy;MSFT;MICROSOFT;3;$370.00;;-$1,110.00\n",
        account_id="A",
        delimiter=";",
    )
    assert [item.trade.instrument for item in executions(forced)] == ["MSFT"]
    detection = SchwabImporter().detect(semicolons)
    assert detection.score == 0
    assert detection.reason == (
        "the Schwab columns are there but semicolon-separated; Schwab files are "
        "comma-separated (for a re-saved file use --delimiter ';' --format schwab)"
    )
    assert (
        DegiroImporter()
        .detect(semicolons)
        .reason.startswith(
            "not a DEGIRO file: the header lacks Time, Product, ISIN, Reference exchange, Local"
        )
    )
    tradovate = TradovateImporter().detect(b"id,timestamp,action,contract,qty,price\n")
    assert tradovate.score == 100


def test_degiro_costs_column_under_its_longer_name() -> None:
    data = (
        b"Date,Time,Product,ISIN,Reference exchange,Venue,Quantity,Price,,Local value,,"
        b"Value,,Exchange rate,Transaction and/or third party fees,,Total,,Order ID\n"
        b"08-11-2024,14:45,X,IE00BK5BQT80,EAM,XAMS,2,10.5,EUR,-21,EUR,-21,EUR,,-2.00,EUR,"
        b"-23,EUR,o\n"
    )
    (item,) = parse_bytes(DegiroImporter(), data, account_id="A")
    assert isinstance(item, ParsedExecution)
    assert item.trade.commission == Decimal(2)


def test_the_registry_names_the_closest_csv_format() -> None:
    from zorivest_infra import importers

    sample = b'"Date","Action","Symbol","Description","Quantity","Price"\n"01/02/2024","Buy"\n'
    with pytest.raises(importers.UnrecognisedFormatError) as caught:
        importers.detect_format(sample, source="x.csv")
    assert str(caught.value) == (
        "x.csv: no format recognised; closest is schwab: not a Schwab file: the header lacks "
        "Fees & Comm, Amount (see zorivest import --formats, or force one with --format NAME)"
    )
    for name, fixture in (
        ("schwab", "schwab/transactions.csv"),
        ("fidelity", "fidelity/Accounts_History.csv"),
        ("tradovate", "tradovate/fills.csv"),
        ("degiro", "degiro/Transactions-nl.csv"),
        ("degiro", "degiro/Transactions-en.csv"),
        ("generic", "generic/executions.csv"),
    ):
        head = (FIXTURES / fixture).read_bytes()[: importers.SAMPLE_SIZE]
        assert importers.detect_format(head)[0].name == name, fixture
