"""Amounts as brokers write them, IANA zones only, futures symbols, deterministic ids."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from zorivest_core.domain import validation as v
from zorivest_core.domain.errors import ValidationError
from zorivest_core.domain.zones import iana_zone
from zorivest_infra.importers import values
from zorivest_infra.importers.degiro import degiro_number
from zorivest_infra.importers.futures import parse_contract
from zorivest_infra.importers.ids import DerivedIds


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("1234.5", ".", "1234.5"),
        ("$1,234.50", ".", "1234.50"),
        ("-$1,234.50", ".", "-1234.50"),
        ("$-12.00", ".", "-12.00"),
        ("($12.00)", ".", "-12.00"),
        ("12.00-", ".", "-12.00"),
        ("+0.1", ".", "0.1"),
        ("1.234,5", ",", "1234.5"),
        ("-1 234,50 €", ",", "-1234.50"),
        ("0,000001", ",", "0.000001"),
    ],
)
def test_amounts_are_exact(text: str, decimal: str, expected: str) -> None:
    result = values.number(text, "amount", decimal=decimal)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("text", "decimal", "message"),
    [
        ("1,5", ".", "amount: '1,5' is not a number with '.' as decimal separator (written"),
        ("12,34,5", ".", "amount: '12,34,5' is not a number"),
        ("abc", ".", "amount: 'abc' is not a number"),
        ("1.5", ",", "amount: '1.5' is not a number with ',' as decimal separator (written"),
        ("", ".", "amount: must not be empty"),
        ("NaN", ".", "amount: 'NaN' is not a number"),
    ],
)
def test_ambiguous_or_bad_amounts_are_refused(text: str, decimal: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        values.number(text, "amount", decimal=decimal)
    assert str(caught.value).startswith(message)


def test_degiro_numbers_take_their_one_separator_as_decimal() -> None:
    assert degiro_number("173,2500", "Price") == Decimal("173.25")
    assert degiro_number("-1732.50", "Value") == Decimal("-1732.5")
    with pytest.raises(ValidationError, match=r"has both '\.' and ','"):
        degiro_number("1.732,50", "Value")


def test_decimals_in_validation_messages_are_shown_as_written() -> None:
    with pytest.raises(ValidationError) as caught:
        v.exact("quantity", Decimal("-100"), scale=10, minimum=Decimal(0), exclusive_minimum=True)
    assert str(caught.value) == "quantity: must be greater than 0 (got -100)"


@pytest.mark.parametrize(
    ("name", "meanings"),
    [
        ("EST", "America/New_York, America/Toronto, America/Panama"),
        ("est", "America/New_York, America/Toronto, America/Panama"),
        ("CET", "Europe/Paris, Europe/Berlin, Europe/Amsterdam, Europe/Zurich"),
        ("EST5EDT", "America/New_York"),
        ("GMT", "Europe/London, UTC"),
    ],
)
def test_abbreviations_are_refused_naming_iana_zones(name: str, meanings: str) -> None:
    with pytest.raises(ValidationError) as caught:
        iana_zone(name)
    assert str(caught.value) == (
        f"time zone {name!r} is an abbreviation or fixed offset, not an IANA zone name (it "
        f"would ignore daylight saving time); it may mean {meanings}"
    )


def test_other_names_without_region_are_refused_too() -> None:
    with pytest.raises(ValidationError, match="use a region name such as America/New_York"):
        iana_zone("Zulu")


def test_iana_names_and_utc_are_accepted() -> None:
    assert iana_zone("America/New_York").key == "America/New_York"
    assert iana_zone("UTC").key == "UTC"
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        iana_zone("Mars/Olympus")


def test_summer_and_winter_use_the_dates_own_offset() -> None:
    zone = iana_zone("America/New_York")
    wall_summer = dt.datetime(2024, 7, 1, 9, 30)  # noqa: DTZ001 - a wall-clock time
    wall_winter = dt.datetime(2024, 1, 2, 9, 30)  # noqa: DTZ001 - a wall-clock time
    assert values.in_zone(wall_summer, zone, "t") == dt.datetime(2024, 7, 1, 13, 30, tzinfo=dt.UTC)
    assert values.in_zone(wall_winter, zone, "t") == dt.datetime(2024, 1, 2, 14, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("symbol", "traded", "instrument", "expiry", "point_value"),
    [
        ("ESZ4", dt.date(2024, 12, 5), "ESZ4", dt.date(2024, 12, 20), "50"),
        ("MESH25", dt.date(2024, 12, 5), "MESH5", dt.date(2025, 3, 21), "5"),
        ("esh5", dt.date(2024, 12, 5), "ESH5", dt.date(2025, 3, 21), "50"),
        ("MNQM5", dt.date(2025, 4, 1), "MNQM5", dt.date(2025, 6, 20), "2"),
        ("NQZ24", dt.date(2024, 9, 1), "NQZ4", dt.date(2024, 12, 20), "20"),
        # CL: 3 business days before the 25th of the prior month (Feb 25th 2025 a
        # Tuesday: Thursday the 20th); Jan 25th 2025 a Saturday: 4 business days before.
        ("CLH5", dt.date(2025, 1, 2), "CLH5", dt.date(2025, 2, 20), "1000"),
        ("CLG5", dt.date(2025, 1, 2), "CLG5", dt.date(2025, 1, 21), "1000"),
        # GC: third-last business day of the month (April 2025 ends on a Wednesday).
        ("GCJ5", dt.date(2025, 1, 2), "GCJ5", dt.date(2025, 4, 28), "100"),
        ("M2KU5", dt.date(2025, 7, 1), "M2KU5", dt.date(2025, 9, 19), "5"),
        ("6EM5", dt.date(2025, 5, 1), "6EM5", dt.date(2025, 6, 16), "125000"),
        # A one-digit year is the nearest such year not before the trade's.
        ("ESH0", dt.date(2029, 12, 1), "ESH0", dt.date(2030, 3, 15), "50"),
    ],
)
def test_contract_months(
    symbol: str, traded: dt.date, instrument: str, expiry: dt.date, point_value: str
) -> None:
    contract = parse_contract(symbol, traded_on=traded)
    assert contract.symbol == instrument
    assert contract.expiry == expiry
    assert contract.product.point_value == Decimal(point_value)


def test_not_a_contract_month_is_refused() -> None:
    with pytest.raises(ValidationError, match="'AAPL' is not a futures contract month symbol"):
        parse_contract("AAPL", traded_on=dt.date(2024, 1, 1))


def test_derived_ids_count_occurrences_per_content_and_separate_accounts() -> None:
    ids = DerivedIds("schwab")
    first = ids.next_id("A", ["01/02/2024", "Buy", "X"])
    second = ids.next_id("A", ["01/02/2024", "Buy", "X"])
    other_account = ids.next_id("B", ["01/02/2024", "Buy", "X"])
    assert first.endswith("-0")
    assert second == first[:-1] + "1"
    assert other_account.endswith("-0")
    assert other_account != first
    assert DerivedIds("schwab").next_id("A", ["01/02/2024", "Buy", "X"]) == first
    assert DerivedIds("fidelity").next_id("A", ["01/02/2024", "Buy", "X"]) != first
