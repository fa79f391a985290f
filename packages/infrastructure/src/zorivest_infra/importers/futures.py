"""Futures contract symbols (`ESZ4`, `MESH25`) and the point values the importers use.

A symbol is a root (`ES`), a month code (F G H J K M N Q U V X Z = Jan..Dec) and the year
(one digit: the nearest such year not before the trade's year; or two digits). The point
value (the trade's multiplier: dollars per point of price) comes from :data:`POINT_VALUES`,
the published contract size of each CME Group product; an unknown root is refused rather
than guessed. The expiry is the product's last trading day computed from its rule, on
weekdays only: exchange holidays are not applied, so a last trading day that falls on a
holiday is one business day later than the exchange's.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Final

from zorivest_core.domain.errors import ValidationError


class ExpiryRule(Enum):
    THIRD_FRIDAY = "third Friday of the contract month"
    CRUDE = "3 business days before the 25th of the month before the contract month"
    THIRD_LAST_BUSINESS_DAY = "third-last business day of the contract month"
    TWO_DAYS_BEFORE_THIRD_WEDNESDAY = "2 business days before the third Wednesday"
    SEVENTH_BUSINESS_DAY_BEFORE_LAST = "7th business day before the last business day"


@dataclass(frozen=True, slots=True)
class Product:
    point_value: Decimal
    expiry_rule: ExpiryRule
    currency: str = "USD"


_INDEX = ExpiryRule.THIRD_FRIDAY
POINT_VALUES: Final[dict[str, Product]] = {
    "ES": Product(Decimal(50), _INDEX),
    "MES": Product(Decimal(5), _INDEX),
    "NQ": Product(Decimal(20), _INDEX),
    "MNQ": Product(Decimal(2), _INDEX),
    "RTY": Product(Decimal(50), _INDEX),
    "M2K": Product(Decimal(5), _INDEX),
    "YM": Product(Decimal(5), _INDEX),
    "MYM": Product(Decimal("0.5"), _INDEX),
    "CL": Product(Decimal(1000), ExpiryRule.CRUDE),
    "MCL": Product(Decimal(100), ExpiryRule.CRUDE),
    "GC": Product(Decimal(100), ExpiryRule.THIRD_LAST_BUSINESS_DAY),
    "MGC": Product(Decimal(10), ExpiryRule.THIRD_LAST_BUSINESS_DAY),
    "SI": Product(Decimal(5000), ExpiryRule.THIRD_LAST_BUSINESS_DAY),
    "HG": Product(Decimal(25000), ExpiryRule.THIRD_LAST_BUSINESS_DAY),
    "6E": Product(Decimal(125000), ExpiryRule.TWO_DAYS_BEFORE_THIRD_WEDNESDAY),
    "6J": Product(Decimal(12500000), ExpiryRule.TWO_DAYS_BEFORE_THIRD_WEDNESDAY),
    "6B": Product(Decimal(62500), ExpiryRule.TWO_DAYS_BEFORE_THIRD_WEDNESDAY),
    "ZB": Product(Decimal(1000), ExpiryRule.SEVENTH_BUSINESS_DAY_BEFORE_LAST),
    "ZN": Product(Decimal(1000), ExpiryRule.SEVENTH_BUSINESS_DAY_BEFORE_LAST),
    "ZF": Product(Decimal(1000), ExpiryRule.SEVENTH_BUSINESS_DAY_BEFORE_LAST),
}
"""Dollars per point of price, by root (CME Group contract specifications)."""

MONTH_CODES: Final = "FGHJKMNQUVXZ"
_SYMBOL: Final = re.compile(r"(?P<root>[A-Z0-9]{1,4}?)(?P<month>[FGHJKMNQUVXZ])(?P<year>\d{1,2})")


@dataclass(frozen=True, slots=True)
class FuturesContract:
    root: str
    year: int
    month: int
    product: Product

    @property
    def symbol(self) -> str:
        """The contract as the journal names it: root, month code, last year digit (ESZ4)."""
        return f"{self.root}{MONTH_CODES[self.month - 1]}{self.year % 10}"

    @property
    def expiry(self) -> dt.date:
        return last_trading_day(self.product.expiry_rule, self.year, self.month)


def parse_contract(symbol: str, *, traded_on: dt.date) -> FuturesContract:
    """The contract named by `symbol`, traded on `traded_on` (which fixes a 1-digit year).

    Raises:
        ValidationError: Not a contract month symbol, or a root without a known point value.
    """
    text = symbol.strip().upper()
    match = _SYMBOL.fullmatch(text)
    if match is None:
        raise ValidationError(
            f"Contract: {symbol!r} is not a futures contract month symbol such as ESZ4 or MESH25"
        )
    root = match["root"]
    product = POINT_VALUES.get(root)
    if product is None:
        known = ", ".join(POINT_VALUES)
        raise ValidationError(
            f"Contract: no point value known for {root!r} (in {symbol!r}); the importer knows "
            f"{known}"
        )
    digits = match["year"]
    if len(digits) == 2:
        year = 2000 + int(digits)
    else:
        year = traded_on.year - traded_on.year % 10 + int(digits)
        if year < traded_on.year:
            year += 10
    return FuturesContract(root, year, MONTH_CODES.index(match["month"]) + 1, product)


def _weekday_back(day: dt.date, count: int) -> dt.date:
    """The business day `count` weekdays before `day`."""
    while count:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def _last_weekday(year: int, month: int) -> dt.date:
    day = dt.date(year, month, calendar.monthrange(year, month)[1])
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (nth - 1))


def last_trading_day(rule: ExpiryRule, year: int, month: int) -> dt.date:
    """The last trading day of a contract month under `rule` (weekdays; no holidays)."""
    if rule is ExpiryRule.THIRD_FRIDAY:
        return _nth_weekday(year, month, calendar.FRIDAY, 3)
    if rule is ExpiryRule.CRUDE:
        before_year, before_month = (year, month - 1) if month > 1 else (year - 1, 12)
        day = dt.date(before_year, before_month, 25)
        # 3 business days before the 25th; 4 when the 25th is not a business day itself.
        return _weekday_back(day, 4 if day.weekday() >= 5 else 3)
    if rule is ExpiryRule.THIRD_LAST_BUSINESS_DAY:
        return _weekday_back(_last_weekday(year, month), 2)
    if rule is ExpiryRule.TWO_DAYS_BEFORE_THIRD_WEDNESDAY:
        return _weekday_back(_nth_weekday(year, month, calendar.WEDNESDAY, 3), 2)
    return _weekday_back(_last_weekday(year, month), 7)
