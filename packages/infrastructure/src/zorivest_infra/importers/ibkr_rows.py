"""One IBKR Flex Query trade row (XML attributes or CSV columns) as a parsed execution.

Follows the IBKR Reporting Guide, "Activity Flex Query Reference: Trades" (the field list
of the Trades section). Shared by `ibkr-flex` (XML) and `ibkr-csv`: both hand a mapping
of the XML attribute names to their text.

Normalisation (documented in docs/importing.md):
- quantity: IBKR signs it (negative = sold); stored positive, the side in the action.
  `buySell` must agree with the sign (BUY > 0, SELL < 0), else the row is rejected.
- cancellations (`BUY (Ca.)`, `SELL (Ca.)`): IBKR reverses the cancelled execution with
  this row, so it is stored as the reversing execution (side from the signed quantity:
  a cancelled BUY carries a negative quantity and is stored as SLD), commission refunded
  (negative = rebate). Position and P&L then net out exactly as at the broker.
- ibCommission: negative = paid; stored with the sign flipped (paid positive).
- taxes: transaction taxes, negative = paid; stored in the ledger as an `other` fee.
- fifoPnlRealized: IBKR's realized P&L of a closing execution, in the trade currency,
  net of this execution's commission and the closed lots' share of their opening
  commissions; stored as realized_pnl and carried as broker_realized_pnl.
- dateTime: `yyyyMMdd;HHmmss` (the default) or `yyyy-MM-dd;HH:mm:ss` (also `,`, space or
  `T` between), with no zone: local time in the zone the user names with --tz.
- levelOfDetail: only EXECUTION rows are executions; ORDER, CLOSED_LOT and summary rows
  would count fills twice and are rejected with that reason.
- exec_id: `ibExecID` (globally unique at IBKR), else `IBKR-T<tradeID>`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Final
from zoneinfo import ZoneInfo

from zorivest_core.application.importing import (
    Fee,
    Identifier,
    ImportContext,
    ParsedExecution,
    ParsedItem,
    RowRejection,
    provisional_account,
)
from zorivest_core.domain.entities import Trade
from zorivest_core.domain.enums import (
    AssetClass,
    FeeType,
    IdentifierType,
    OptionRight,
    TradeAction,
)
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers.times import localize_cached

ASSET_CLASSES: Final = {
    "STK": AssetClass.STOCK,
    "OPT": AssetClass.OPTION,
    "FOP": AssetClass.OPTION,
    "FSFOP": AssetClass.OPTION,
    "FUT": AssetClass.FUTURE,
    "FSFUT": AssetClass.FUTURE,
    "CASH": AssetClass.FOREX,
    "CRYPTO": AssetClass.CRYPTO,
    "BOND": AssetClass.BOND,
    "BILL": AssetClass.BOND,
    "FUND": AssetClass.FUND,
}
"""IBKR assetCategory -> asset class; any other category (WAR, CFD, IOPT, ...) is `other`."""

_SIDES: Final = {"BUY": TradeAction.BOT, "SELL": TradeAction.SLD}
_CANCELLED: Final = re.compile(r"(BUY|SELL)\s*\(Ca\.?\)", re.IGNORECASE)
_DATE_TIME: Final = re.compile(
    r"(?P<date>\d{8}|\d{4}-\d{2}-\d{2})[;, T](?P<time>\d{6}|\d{2}:\d{2}:\d{2})"
)
_EXECUTION: Final = "EXECUTION"
_ZERO: Final = Decimal(0)


class RowError(ValueError):
    """A row cannot be imported; the message names the field and value."""


def missing_zone_error(source: str) -> ValidationError:
    return ValidationError(
        f"{source}: IBKR Flex times carry no time zone: give the zone your Flex query "
        "reports in with --tz (for example --tz America/New_York)"
    )


def execution_from_row(
    attributes: Mapping[str, str], line: int, context: ImportContext, zone: ZoneInfo
) -> ParsedItem:
    """The execution of one Trades row, or a RowRejection saying why it is not one."""
    try:
        return _execution(attributes, line, context, zone)
    except (RowError, ValidationError) as error:
        return RowRejection(line, str(error))


def _execution(
    row: Mapping[str, str], line: int, context: ImportContext, zone: ZoneInfo
) -> ParsedItem:
    level = row.get("levelOfDetail", _EXECUTION).strip().upper() or _EXECUTION
    if level != _EXECUTION:
        return RowRejection(
            line,
            f"levelOfDetail {level}: only EXECUTION rows are executions (set the Flex "
            "query's Trades level of detail to Execution)",
        )
    side_text = _text(row, "buySell")
    quantity = _decimal(row, "quantity")
    if quantity.is_zero():
        raise RowError(f"quantity: must not be zero (got {row.get('quantity', '')!r})")
    cancelled = _CANCELLED.fullmatch(side_text)
    if cancelled is not None:
        action = TradeAction.BOT if quantity > 0 else TradeAction.SLD
        if _SIDES[cancelled.group(1).upper()] == action:
            raise RowError(
                f"buySell {side_text!r}: a cancellation must reverse its execution, but "
                f"quantity is {row['quantity']}"
            )
    else:
        try:
            action = _SIDES[side_text.upper()]
        except KeyError:
            raise RowError(f"buySell: expected BUY or SELL (got {side_text!r})") from None
        if (action is TradeAction.BOT) != (quantity > 0):
            raise RowError(
                f"buySell {side_text} disagrees with the sign of quantity {row['quantity']}"
            )
    exec_id = row.get("ibExecID", "").strip()
    if not exec_id:
        trade_id = row.get("tradeID", "").strip()
        if not trade_id:
            raise RowError("ibExecID and tradeID are both empty: the row has no id")
        exec_id = f"IBKR-T{trade_id}"
    broker_account = row.get("accountId", "").strip() or None
    category = row.get("assetCategory", "").strip().upper()
    asset_class = ASSET_CLASSES.get(category, AssetClass.OTHER) if category else None
    currency = row.get("currency", "").strip() or None
    commission_currency = row.get("ibCommissionCurrency", "").strip()
    if commission_currency and currency and commission_currency != currency:
        raise RowError(
            f"ibCommissionCurrency {commission_currency} differs from currency {currency}: "
            "the commission cannot be stored in the trade's currency"
        )
    symbol = _text(row, "symbol")
    realized = _optional_decimal(row, "fifoPnlRealized")
    trade = Trade(
        exec_id=exec_id,
        time=_time(_text(row, "dateTime"), zone),
        instrument=symbol,
        action=action,
        quantity=abs(quantity),
        price=_decimal(row, "tradePrice"),
        account_id=provisional_account(broker_account, context),
        commission=-(_optional_decimal(row, "ibCommission") or _ZERO),
        realized_pnl=realized or _ZERO,
        asset_class=asset_class,
        multiplier=_optional_decimal(row, "multiplier"),
        underlying=row.get("underlyingSymbol", "").strip() or None,
        expiry=_optional_date(row, "expiry"),
        strike=_optional_decimal(row, "strike"),
        option_right=_right(row.get("putCall", "")),
        currency=currency,
        fx_rate=_optional_decimal(row, "fxRateToBase"),
    )
    fees: tuple[Fee, ...] = ()
    taxes = _optional_decimal(row, "taxes")
    if taxes:
        fees = (Fee(FeeType.OTHER, -taxes, currency or "USD"),)
    return ParsedExecution(
        line=line,
        trade=trade,
        fees=fees,
        identifiers=_identifiers(row, symbol),
        broker_account=broker_account,
        broker_realized_pnl=realized,
    )


def _identifiers(row: Mapping[str, str], symbol: str) -> tuple[Identifier, ...]:
    found = []
    for name, kind in (
        ("cusip", IdentifierType.CUSIP),
        ("isin", IdentifierType.ISIN),
        ("conid", IdentifierType.CONID),
    ):
        value = row.get(name, "").strip()
        if value:
            found.append(Identifier(kind, value, symbol))
    return tuple(found)


def _text(row: Mapping[str, str], name: str) -> str:
    value = row.get(name, "").strip()
    if not value:
        raise RowError(f"{name}: missing or empty")
    return value


def _decimal(row: Mapping[str, str], name: str) -> Decimal:
    value = _optional_decimal(row, name)
    if value is None:
        raise RowError(f"{name}: missing or empty")
    return value


def _optional_decimal(row: Mapping[str, str], name: str) -> Decimal | None:
    text = row.get(name, "").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RowError(f"{name}: not a number (got {text[:40]!r})") from None
    if not number.is_finite():
        raise RowError(f"{name}: must be finite (got {text[:40]!r})")
    return number


def _optional_date(row: Mapping[str, str], name: str) -> dt.date | None:
    text = row.get(name, "").strip()
    if not text:
        return None
    try:
        if len(text) == 8 and text.isdigit():
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RowError(f"{name}: expected yyyyMMdd or yyyy-MM-dd (got {text[:40]!r})") from None


def _right(text: str) -> OptionRight | None:
    value = text.strip().upper()
    if not value:
        return None
    if value in {"C", "CALL"}:
        return OptionRight.CALL
    if value in {"P", "PUT"}:
        return OptionRight.PUT
    raise RowError(f"putCall: expected C or P (got {text[:40]!r})")


def _time(text: str, zone: ZoneInfo) -> dt.datetime:
    """A Flex dateTime (local time in `zone`, by the zone's rules for that date) in UTC."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise RowError(
            f"dateTime: expected yyyyMMdd;HHmmss or yyyy-MM-dd;HH:mm:ss (got {text[:40]!r})"
        )
    day, clock = match.group("date").replace("-", ""), match.group("time").replace(":", "")
    try:
        naive = dt.datetime(  # noqa: DTZ001 - a wall-clock time, placed in its zone below
            int(day[:4]),
            int(day[4:6]),
            int(day[6:]),
            int(clock[:2]),
            int(clock[2:4]),
            int(clock[4:]),
        )
    except ValueError:
        raise RowError(f"dateTime: not a valid date and time (got {text!r})") from None
    return localize_cached(naive, zone, field_name="dateTime")
