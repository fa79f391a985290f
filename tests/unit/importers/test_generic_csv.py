"""The generic CSV importer: the journal's own format, and saved mapping profiles."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.unit.importers.helpers import executions, parse_bytes, parse_fixture, rejections
from zorivest_core.application.mapping_profile import MappingProfile
from zorivest_core.domain.enums import AssetClass, OptionRight, TradeAction
from zorivest_core.domain.errors import ValidationError
from zorivest_core.domain.zones import iana_zone
from zorivest_infra.importers.generic import GenericCsvImporter

NEW_YORK = iana_zone("America/New_York")

BROKER_X = MappingProfile(
    name="broker-x",
    columns={
        "time": "Datum",
        "instrument": "Wertpapier",
        "action": "Richtung",
        "quantity": "Stück",
        "price": "Kurs",
        "commission": "Provision",
    },
    date_format="%d.%m.%Y %H:%M",
    delimiter=";",
    decimal=",",
    buy_words=("Kauf",),
    sell_words=("Verkauf",),
    zone="Europe/Berlin",
    id_strategy="derived",
    account_id="EU1",
)


def test_journal_format_fixture_field_by_field() -> None:
    items = parse_fixture(GenericCsvImporter(), "generic/executions.csv", zone=NEW_YORK)
    assert rejections(items) == []
    first, option, sale = (item.trade for item in executions(items))
    assert (first.exec_id, first.time, first.instrument, first.action) == (
        "G-1",
        dt.datetime(2024, 7, 1, 13, 30, tzinfo=dt.UTC),
        "AAPL",
        TradeAction.BOT,
    )
    assert (first.quantity, first.price, first.account_id) == (
        Decimal(100),
        Decimal("214.1"),
        "MAIN",
    )
    assert (first.commission, first.realized_pnl, first.asset_class, first.currency) == (
        Decimal(1),
        Decimal(0),
        AssetClass.STOCK,
        "USD",
    )
    assert (first.multiplier, first.underlying, first.expiry, first.strike) == (
        None,
        None,
        None,
        None,
    )
    assert (first.option_right, first.fx_rate) == (None, None)
    assert option.exec_id == "G-2"
    assert option.time == dt.datetime(2024, 7, 1, 10, 15, 30, tzinfo=dt.UTC)
    assert option.instrument == "AAPL  240719C00220000"
    assert (option.action, option.quantity, option.price) == (
        TradeAction.BOT,
        Decimal(2),
        Decimal("3.45"),
    )
    assert (option.commission, option.asset_class, option.multiplier) == (
        Decimal("1.3"),
        AssetClass.OPTION,
        Decimal(100),
    )
    assert (option.underlying, option.expiry, option.strike, option.option_right) == (
        "AAPL",
        dt.date(2024, 7, 19),
        Decimal(220),
        OptionRight.CALL,
    )
    # No offset: placed in --tz (New York daylight time, UTC-4).
    assert sale.time == dt.datetime(2024, 7, 2, 19, 59, 59, tzinfo=dt.UTC)
    assert (sale.action, sale.commission, sale.realized_pnl) == (
        TradeAction.SLD,
        Decimal("-0.25"),
        Decimal(225),
    )
    assert (sale.currency, sale.fx_rate, sale.asset_class) == ("EUR", Decimal("0.9312"), None)


def test_time_without_offset_and_without_zone_is_rejected_never_utc() -> None:
    items = parse_fixture(GenericCsvImporter(), "generic/executions.csv")
    ((line, reason),) = rejections(items)
    assert line == 5
    assert reason.startswith("time: '2024-07-02 15:59:59' has no UTC offset")


def test_account_option_fills_missing_account_and_refuses_another() -> None:
    data = (
        b"exec_id,time,instrument,action,quantity,price,account_id\n"
        b"E1,2024-03-08T14:30:00Z,AAPL,BOT,1,10,\n"
        b"E2,2024-03-08T14:30:00Z,AAPL,SLD,1,10,OTHER\n"
    )
    items = parse_bytes(GenericCsvImporter(), data, account_id="MAIN")
    assert [item.trade.account_id for item in executions(items)] == ["MAIN"]
    assert rejections(items) == [(3, "account_id: 'OTHER' differs from --account 'MAIN'")]


def test_missing_account_column_without_account_option_is_refused() -> None:
    data = b"exec_id,time,instrument,action,quantity,price\nE1,2024-03-08T14:30:00Z,A,B,1,1\n"
    with pytest.raises(ValidationError, match=r"missing column account_id \(or give --account\)"):
        parse_bytes(GenericCsvImporter(), data)


def test_semicolon_file_is_read_by_its_header() -> None:
    data = (
        b"exec_id;time;instrument;action;quantity;price;account_id\n"
        b"E1;2024-03-08T14:30:00Z;AAPL;SELL;3;10.5;A\n"
    )
    (item,) = executions(parse_bytes(GenericCsvImporter(), data))
    assert (item.trade.action, item.trade.quantity, item.trade.price) == (
        TradeAction.SLD,
        Decimal(3),
        Decimal("10.5"),
    )


def test_repeated_exec_id_names_the_line_it_repeats() -> None:
    data = (
        b"exec_id,time,instrument,action,quantity,price,account_id\n"
        b"E1,2024-03-08T14:30:00Z,AAPL,BOT,1,10,A\n"
        b"E2,2024-03-08T14:31:00Z,AAPL,BOT,1,10,A\n"
        b"E1,2024-03-08T14:30:00Z,AAPL,BOT,1,10.01,A\n"
    )
    items = executions(parse_bytes(GenericCsvImporter(), data))
    assert [(item.line, item.repeats_line) for item in items] == [(2, None), (3, None), (4, 2)]


def test_bad_values_are_rejected_with_the_value_as_written() -> None:
    data = (
        b"exec_id,time,instrument,action,quantity,price,account_id,right,asset_class\n"
        b"E1,2024-03-08T14:30:00Z,AAPL,HOLD,1,10,A,,\n"
        b"E2,2024-03-08T14:30:00Z,AAPL,BOT,0,10,A,,\n"
        b"E3,2024-03-08T14:30:00Z,AAPL,BOT,1,10,A,X,\n"
        b"E4,2024-03-08T14:30:00Z,AAPL,BOT,1,10,A,,warrant\n"
    )
    assert rejections(parse_bytes(GenericCsvImporter(), data)) == [
        (2, "action: 'HOLD' is not one of BOT, BUY, B, SLD, SELL, S"),
        (3, "quantity: must be greater than 0 (got 0)"),
        (4, "right: 'X' is not C, P, CALL or PUT"),
        (
            5,
            "asset_class: 'warrant' is not one of stock, option, future, forex, crypto, "
            "bond, fund, other",
        ),
    ]


def test_profile_maps_a_european_export() -> None:
    items = parse_fixture(GenericCsvImporter(BROKER_X), "generic/broker-x.csv")
    first, second, last = executions(items)
    # 09:05 in Berlin, summer time (UTC+2).
    assert first.trade.time == dt.datetime(2024, 7, 2, 7, 5, tzinfo=dt.UTC)
    assert (first.trade.instrument, first.trade.action, first.trade.account_id) == (
        "SAP SE",
        TradeAction.BOT,
        "EU1",
    )
    assert (first.trade.quantity, first.trade.price, first.trade.commission) == (
        Decimal(10),
        Decimal("181.52"),
        Decimal("4.9"),
    )
    assert first.trade.exec_id.startswith("generic-")
    assert first.trade.exec_id.endswith("-0")
    assert second.trade.exec_id == first.trade.exec_id[:-1] + "1"
    assert (last.line, last.trade.action, last.trade.price) == (6, TradeAction.SLD, Decimal(1190))
    assert rejections(items) == [
        (
            5,
            "time: 2024-10-27T02:30:00 happened twice in Europe/Berlin (the clocks went "
            "back); give the time with its UTC offset",
        )
    ]


def test_profile_without_action_column_takes_the_side_from_the_sign() -> None:
    profile = MappingProfile(name="signed", columns={"action": ""}, id_strategy="derived")
    data = b"time,instrument,quantity,price,account_id\n2024-03-08T14:30:00Z,AAPL,-5,10,A\n"
    (item,) = executions(parse_bytes(GenericCsvImporter(profile), data))
    assert (item.trade.action, item.trade.quantity) == (TradeAction.SLD, Decimal(5))


def test_profile_round_trips_through_its_stored_document() -> None:
    assert MappingProfile.from_config("broker-x", BROKER_X.to_config()) == BROKER_X


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"columns": {"ticker": "X"}}, "unknown field(s) ticker"),
        ({"decimal": ";"}, "decimal must be '.' or ','"),
        ({"delimiter": ",", "decimal": ","}, "the delimiter and the decimal separator are both"),
        ({"id_strategy": "random"}, "id strategy must be one of column, derived"),
        ({"buy_words": ("X",), "sell_words": ("x",)}, "X is both a buy and a sell word"),
        ({"zone": "CET"}, "it may mean Europe/Paris"),
        ({"encoding": "klingon"}, "unknown encoding 'klingon'"),
    ],
)
def test_invalid_profiles_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        MappingProfile(name="p", **changes)  # type: ignore[arg-type]


def test_a_field_column_twice_in_the_header_is_refused() -> None:
    data = b"exec_id,time,instrument,action,quantity,price,price,account_id\n"
    with pytest.raises(ValidationError) as caught:
        parse_bytes(GenericCsvImporter(), data)
    assert str(caught.value) == "test.csv: line 1: column 'price' appears twice in the header"


def test_other_columns_are_ignored_even_when_repeated() -> None:
    data = (
        b"exec_id,time,instrument,action,quantity,price,account_id,note,note\n"
        b"E1,2024-03-08T14:30:00Z,AAPL,BOT,1,10,A,x,y\n"
    )
    (item,) = executions(parse_bytes(GenericCsvImporter(), data))
    assert item.trade.exec_id == "E1"
