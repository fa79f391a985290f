"""Every domain entity validates on construction.

Each entity field is described once in `SPECS` (its kind, whether it is required, its
length or range); the bad values for each kind are generated from that description, so
every entity/field/bad-value triple is its own test id, e.g.
``test_rejects_bad_value[Trade.price-too_many_places]``. A rejection must be a
`ValidationError` whose `.field` names the field and whose message contains both the field
name and the offending value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo

import pytest

from zorivest_core.domain import entities
from zorivest_core.domain.entities import (
    Account,
    AppDefault,
    BalanceSnapshot,
    BankImportConfig,
    BankTransaction,
    BrokerConfig,
    ExcursionMetrics,
    IdentifierMapping,
    ImageAttachment,
    LedgerEntry,
    MarketProviderSetting,
    McpGuardState,
    MistakeEntry,
    OptionsStrategy,
    RoundTrip,
    Setting,
    Trade,
    TradePlan,
    TradeReport,
    Watchlist,
    WatchlistItem,
)
from zorivest_core.domain.enums import (
    AccountType,
    AssetClass,
    BalanceSource,
    ConvictionLevel,
    FeeType,
    IdentifierType,
    ImageOwnerType,
    MistakeCategory,
    OptionRight,
    PlanStatus,
    RoundTripStatus,
    RoutingType,
    SettingValueType,
    StrategyType,
    TradeAction,
    TransactionCategory,
)
from zorivest_core.domain.errors import ValidationError, ZorivestError

T0: Final = dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.UTC)
NEW_YORK: Final = ZoneInfo("America/New_York")
LONDON: Final = ZoneInfo("Europe/London")
KOLKATA: Final = ZoneInfo("Asia/Kolkata")
PLUS_5: Final = dt.timezone(dt.timedelta(hours=5))
MINUS_5: Final = dt.timezone(dt.timedelta(hours=-5))


# --------------------------------------------------------------------------------------
# Valid construction arguments for all 21 entities
# --------------------------------------------------------------------------------------


def _item(ticker: str) -> WatchlistItem:
    return WatchlistItem(ticker=ticker, added_at=T0)


TEMPLATES: Final[dict[type[Any], Callable[[], dict[str, Any]]]] = {
    Trade: lambda: {
        "exec_id": "E1",
        "time": T0,
        "instrument": "AAPL",
        "action": TradeAction.BOT,
        "quantity": Decimal(100),
        "price": Decimal("189.25"),
        "account_id": "ACC1",
        "commission": Decimal("1.5"),
        "realized_pnl": Decimal("-12.34"),
        "asset_class": AssetClass.OPTION,
        "multiplier": Decimal(100),
        "underlying": "AAPL",
        "expiry": dt.date(2024, 3, 15),
        "strike": Decimal("190"),
        "option_right": OptionRight.CALL,
        "currency": "USD",
        "fx_rate": Decimal("0.92"),
    },
    Account: lambda: {
        "account_id": "ACC1",
        "name": "Main",
        "account_type": AccountType.BROKER,
        "institution": "IBKR",
        "currency": "USD",
        "is_tax_advantaged": False,
        "notes": "n",
        "created_at": T0,
    },
    ImageAttachment: lambda: {
        "data": b"\x89PNG\r\n\x1a\n",
        "caption": "entry",
        "id": 1,
        "owner_type": ImageOwnerType.TRADE,
        "owner_id": "E1",
        "mime_type": "image/png",
        "thumbnail": b"RIFF",
        "width": 10,
        "height": 10,
        "file_size": 8,
        "created_at": T0,
    },
    TradeReport: lambda: {
        "trade_id": "E1",
        "setup_quality": 3,
        "execution_quality": 4,
        "followed_plan": True,
        "emotional_state": "calm",
        "lessons_learned": "wait",
        "tags": ["breakout"],
        "created_at": T0,
        "id": 1,
    },
    TradePlan: lambda: {
        "ticker": "AAPL",
        "direction": TradeAction.BOT,
        "conviction": ConvictionLevel.HIGH,
        "strategy_name": "breakout",
        "strategy_description": "d",
        "entry_price": Decimal(190),
        "stop_loss": Decimal(185),
        "target_price": Decimal(200),
        "entry_conditions": "e",
        "exit_conditions": "x",
        "timeframe": "1d",
        "status": PlanStatus.DRAFT,
        "linked_trade_id": "E1",
        "account_id": "ACC1",
        "created_at": T0,
        "updated_at": T0,
        "id": 1,
    },
    WatchlistItem: lambda: {
        "ticker": "AAPL",
        "added_at": T0,
        "notes": "n",
        "id": 1,
        "watchlist_id": 1,
    },
    Watchlist: lambda: {
        "name": "Tech",
        "description": "d",
        "items": [_item("AAPL"), _item("MSFT")],
        "created_at": T0,
        "updated_at": T0,
        "id": 1,
    },
    BalanceSnapshot: lambda: {
        "account_id": "ACC1",
        "datetime": T0,
        "balance": Decimal("1000.5"),
        "id": 1,
    },
    Setting: lambda: {
        "key": "ui.theme",
        "value": "dark",
        "value_type": SettingValueType.STR,
        "updated_at": T0,
    },
    AppDefault: lambda: {
        "key": "ui.theme",
        "value": "dark",
        "value_type": SettingValueType.STR,
        "category": "display",
        "description": "d",
        "updated_at": T0,
    },
    MarketProviderSetting: lambda: {
        "provider_name": "Alpha Vantage",
        "rate_limit": 5,
        "timeout": 30,
        "is_enabled": True,
        "last_tested_at": T0,
        "last_test_status": "success",
        "created_at": T0,
        "updated_at": T0,
        "has_api_key": False,
    },
    McpGuardState: lambda: {
        "is_enabled": False,
        "is_locked": False,
        "locked_at": T0,
        "lock_reason": "manual",
        "calls_per_minute_limit": 60,
        "calls_per_hour_limit": 500,
        "updated_at": T0,
    },
    RoundTrip: lambda: {
        "account_id": "ACC1",
        "instrument": "AAPL",
        "direction": TradeAction.BOT,
        "entry_exec_ids": ["E1"],
        "entry_avg_price": Decimal("189.25"),
        "total_quantity": Decimal(100),
        "opened_at": T0,
        "exit_exec_ids": ["E2"],
        "exit_avg_price": Decimal(190),
        "realized_pnl": Decimal(75),
        "total_commission": Decimal(2),
        "closed_at": T0 + dt.timedelta(hours=1),
        "status": RoundTripStatus.CLOSED,
        "holding_period_seconds": 3600,
        "id": 1,
    },
    ExcursionMetrics: lambda: {
        "trade_exec_id": "E1",
        "mfe_dollars": Decimal(10),
        "mfe_pct": Decimal("1.5"),
        "mae_dollars": Decimal(-5),
        "mae_pct": Decimal("-0.5"),
        "bso_pct": Decimal(80),
        "data_source": "polygon",
        "computed_at": T0,
    },
    IdentifierMapping: lambda: {
        "id_type": IdentifierType.CUSIP,
        "id_value": "037833100",
        "ticker": "AAPL",
        "source": "openfigi",
        "exchange": "NASDAQ",
        "security_type": "Common Stock",
        "confidence": Decimal("0.95"),
        "resolved_at": T0,
        "expires_at": T0 + dt.timedelta(days=30),
        "id": 1,
    },
    LedgerEntry: lambda: {
        "trade_exec_id": "E1",
        "fee_type": FeeType.COMMISSION,
        "amount": Decimal("1.25"),
        "currency": "USD",
        "description": "d",
        "id": 1,
    },
    OptionsStrategy: lambda: {
        "strategy_type": StrategyType.VERTICAL,
        "underlying": "SPY",
        "leg_exec_ids": ["L1", "L2"],
        "name": "bull call",
        "net_debit_credit": Decimal("-1.25"),
        "max_profit": Decimal("3.75"),
        "max_loss": Decimal("1.25"),
        "breakeven_prices": [Decimal("501.25")],
        "created_at": T0,
        "id": 1,
    },
    MistakeEntry: lambda: {
        "trade_id": "E1",
        "category": MistakeCategory.FOMO_ENTRY,
        "estimated_cost": Decimal(50),
        "notes": "n",
        "auto_detected": False,
        "created_at": T0,
        "id": 1,
    },
    BrokerConfig: lambda: {
        "broker_id": "ibkr",
        "name": "Interactive Brokers",
        "pdt_rule": True,
        "pdt_threshold": Decimal(25000),
        "settlement_days": 1,
        "max_leverage": {"margin": 4},
        "routing_type": RoutingType.DMA,
        "commission_schedule": {"per_share": "0.005"},
        "supported_order_types": ["LMT", "MKT"],
        "supported_asset_classes": ["STK"],
        "trading_hours": {"open": "09:30"},
        "created_at": T0,
        "updated_at": T0,
    },
    BankTransaction: lambda: {
        "account_id": "CHK1",
        "date": T0,
        "description": "Coffee",
        "amount": Decimal("-4.5"),
        "dedup_hash": "0123456789abcdef0123456789abcdef",
        "source": BalanceSource.CSV_IMPORT,
        "post_date": T0,
        "category": TransactionCategory.CARD_PURCHASE,
        "reference_id": "R1",
        "import_batch_id": "B1",
        "created_at": T0,
        "id": 1,
    },
    BankImportConfig: lambda: {
        "bank_id": "chase",
        "name": "Chase",
        "config": {"columns": {"date": 0}},
        "country": "US",
        "created_at": T0,
        "updated_at": T0,
    },
}


def _class_id(value: object) -> str:
    return value.__name__ if isinstance(value, type) else repr(value)


def valid_kwargs(cls: type[Any]) -> dict[str, Any]:
    """Fresh (unshared) valid keyword arguments for `cls`."""
    return TEMPLATES[cls]()


def build(cls: type[Any], **overrides: Any) -> Any:
    kwargs = valid_kwargs(cls)
    kwargs.update(overrides)
    return cls(**kwargs)


# --------------------------------------------------------------------------------------
# What each field is, and which values of each kind are bad
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    kind: str
    required: bool = True
    max_length: int | None = None
    enum: type[StrEnum] | None = None
    scale: int = 10
    lower: str | None = None  # numbers: "positive", "non_negative" or "unit" (0..1)
    int_min: int | None = None
    int_max: int | None = None
    non_empty: bool = False


def text(max_length: int | None = None) -> Spec:
    return Spec("text", max_length=max_length)


def opt_text(max_length: int | None = None) -> Spec:
    return Spec("text", required=False, max_length=max_length)


def choice(enum: type[StrEnum], *, required: bool = True) -> Spec:
    return Spec("enum", required=required, enum=enum)


def price(lower: str | None = "non_negative", *, required: bool = True) -> Spec:
    return Spec("number", required=required, scale=10, lower=lower)


def money(lower: str | None = None, *, required: bool = True) -> Spec:
    return Spec("number", required=required, scale=6, lower=lower)


def when(*, required: bool = True) -> Spec:
    return Spec("datetime", required=required)


def flag(*, required: bool = True) -> Spec:
    return Spec("bool", required=required)


def integer(
    minimum: int | None = None, maximum: int | None = None, *, required: bool = True
) -> Spec:
    return Spec("int", required=required, int_min=minimum, int_max=maximum)


def row_id() -> Spec:
    return integer(1, required=False)


def id_list(*, required: bool = True, non_empty: bool = False) -> Spec:
    return Spec("text_list", required=required, non_empty=non_empty)


def json_object(*, required: bool = True) -> Spec:
    return Spec("json", required=required)


TRADE_ID = 128
ACCOUNT_ID = 64
SYMBOL = 64
NAME = 200

SPECS: Final[dict[type[Any], dict[str, Spec]]] = {
    Trade: {
        "exec_id": text(TRADE_ID),
        "time": when(),
        "instrument": text(SYMBOL),
        "action": choice(TradeAction),
        "quantity": price("positive"),
        "price": price(),
        "account_id": text(ACCOUNT_ID),
        "commission": money(),
        "realized_pnl": money(),
        "asset_class": choice(AssetClass, required=False),
        "multiplier": price("positive", required=False),
        "underlying": opt_text(SYMBOL),
        "expiry": Spec("date", required=False),
        "strike": price(required=False),
        "option_right": choice(OptionRight, required=False),
        "currency": Spec("currency", required=False),
        "fx_rate": price("positive", required=False),
    },
    Account: {
        "account_id": text(ACCOUNT_ID),
        "name": text(NAME),
        "account_type": choice(AccountType),
        "institution": opt_text(NAME),
        "currency": Spec("currency"),
        "is_tax_advantaged": flag(),
        "notes": opt_text(),
        "created_at": when(),
    },
    ImageAttachment: {
        "data": Spec("bytes", required=False),
        "caption": opt_text(),
        "id": row_id(),
        "owner_type": choice(ImageOwnerType, required=False),
        "owner_id": opt_text(TRADE_ID),
        "mime_type": opt_text(50),
        "thumbnail": Spec("bytes", required=False),
        "width": integer(1, required=False),
        "height": integer(1, required=False),
        "file_size": integer(0, required=False),
        "created_at": when(required=False),
    },
    TradeReport: {
        "trade_id": text(TRADE_ID),
        "setup_quality": integer(1, 5, required=False),
        "execution_quality": integer(1, 5, required=False),
        "followed_plan": flag(required=False),
        "emotional_state": opt_text(100),
        "lessons_learned": opt_text(),
        "tags": id_list(),
        "created_at": when(),
        "id": row_id(),
    },
    TradePlan: {
        "ticker": text(SYMBOL),
        "direction": choice(TradeAction),
        "conviction": choice(ConvictionLevel),
        "strategy_name": opt_text(NAME),
        "strategy_description": opt_text(),
        "entry_price": price(required=False),
        "stop_loss": price(required=False),
        "target_price": price(required=False),
        "entry_conditions": opt_text(),
        "exit_conditions": opt_text(),
        "timeframe": opt_text(50),
        "status": choice(PlanStatus),
        "linked_trade_id": opt_text(TRADE_ID),
        "account_id": opt_text(ACCOUNT_ID),
        "created_at": when(),
        "updated_at": when(required=False),
        "id": row_id(),
    },
    WatchlistItem: {
        "ticker": text(SYMBOL),
        "added_at": when(),
        "notes": opt_text(),
        "id": row_id(),
        "watchlist_id": row_id(),
    },
    Watchlist: {
        "name": text(NAME),
        "description": opt_text(),
        "items": Spec("items"),
        "created_at": when(),
        "updated_at": when(required=False),
        "id": row_id(),
    },
    BalanceSnapshot: {
        "account_id": text(ACCOUNT_ID),
        "datetime": when(),
        "balance": money(),
        "id": row_id(),
    },
    Setting: {
        "key": text(NAME),
        "value": opt_text(),
        "value_type": choice(SettingValueType, required=False),
        "updated_at": when(required=False),
    },
    AppDefault: {
        "key": text(NAME),
        "value": Spec("raw_text"),
        "value_type": choice(SettingValueType),
        "category": text(50),
        "description": opt_text(),
        "updated_at": when(),
    },
    MarketProviderSetting: {
        "provider_name": text(100),
        "rate_limit": integer(1),
        "timeout": integer(1, 3600),
        "is_enabled": flag(),
        "last_tested_at": when(required=False),
        "last_test_status": opt_text(50),
        "created_at": when(),
        "updated_at": when(required=False),
        "has_api_key": flag(),
    },
    McpGuardState: {
        "is_enabled": flag(),
        "is_locked": flag(),
        "locked_at": when(required=False),
        "lock_reason": opt_text(100),
        "calls_per_minute_limit": integer(1),
        "calls_per_hour_limit": integer(1),
        "updated_at": when(required=False),
    },
    RoundTrip: {
        "account_id": text(ACCOUNT_ID),
        "instrument": text(SYMBOL),
        "direction": choice(TradeAction),
        "entry_exec_ids": id_list(non_empty=True),
        "entry_avg_price": price(),
        "total_quantity": price("positive"),
        "opened_at": when(),
        "exit_exec_ids": id_list(required=False),
        "exit_avg_price": price(required=False),
        "realized_pnl": money(required=False),
        "total_commission": money(),
        "closed_at": when(required=False),
        "status": choice(RoundTripStatus),
        "holding_period_seconds": integer(0, required=False),
        "id": row_id(),
        "currency": Spec("currency", required=False),
    },
    ExcursionMetrics: {
        "trade_exec_id": text(TRADE_ID),
        "mfe_dollars": money(required=False),
        "mfe_pct": money(required=False),
        "mae_dollars": money(required=False),
        "mae_pct": money(required=False),
        "bso_pct": money(required=False),
        "data_source": opt_text(100),
        "computed_at": when(required=False),
    },
    IdentifierMapping: {
        "id_type": choice(IdentifierType),
        "id_value": text(20),
        "ticker": text(SYMBOL),
        "source": text(50),
        "exchange": opt_text(50),
        "security_type": opt_text(50),
        "confidence": money("unit"),
        "resolved_at": when(),
        "expires_at": when(required=False),
        "id": row_id(),
    },
    LedgerEntry: {
        "trade_exec_id": text(TRADE_ID),
        "fee_type": choice(FeeType),
        "amount": money(),
        "currency": Spec("currency"),
        "description": opt_text(),
        "id": row_id(),
    },
    OptionsStrategy: {
        "strategy_type": choice(StrategyType),
        "underlying": text(SYMBOL),
        "leg_exec_ids": id_list(non_empty=True),
        "name": opt_text(NAME),
        "net_debit_credit": money(required=False),
        "max_profit": money(required=False),
        "max_loss": money(required=False),
        "breakeven_prices": Spec("price_list", required=False),
        "created_at": when(),
        "id": row_id(),
    },
    MistakeEntry: {
        "trade_id": text(TRADE_ID),
        "category": choice(MistakeCategory),
        "estimated_cost": money(required=False),
        "notes": opt_text(),
        "auto_detected": flag(),
        "created_at": when(),
        "id": row_id(),
    },
    BrokerConfig: {
        "broker_id": text(64),
        "name": text(NAME),
        "pdt_rule": flag(),
        "pdt_threshold": money("non_negative"),
        "settlement_days": integer(0, 30),
        "max_leverage": json_object(required=False),
        "routing_type": choice(RoutingType, required=False),
        "commission_schedule": json_object(required=False),
        "supported_order_types": id_list(required=False),
        "supported_asset_classes": id_list(required=False),
        "trading_hours": json_object(required=False),
        "created_at": when(),
        "updated_at": when(required=False),
    },
    BankTransaction: {
        "account_id": text(ACCOUNT_ID),
        "date": when(),
        "description": text(),
        "amount": money(),
        "dedup_hash": text(32),
        "source": choice(BalanceSource),
        "post_date": when(required=False),
        "category": choice(TransactionCategory, required=False),
        "reference_id": opt_text(100),
        "import_batch_id": opt_text(64),
        "created_at": when(),
        "id": row_id(),
    },
    BankImportConfig: {
        "bank_id": text(64),
        "name": text(NAME),
        "config": json_object(),
        "country": Spec("country"),
        "created_at": when(),
        "updated_at": when(required=False),
    },
}

ENTITY_CLASSES: Final[list[type[Any]]] = sorted(SPECS, key=_class_id)

_SAME: Final = object()


@dataclass(frozen=True)
class Bad:
    """One bad value; `suffix` and `shown` describe where the error points when that is
    inside the value (an element of a list, a key of a mapping)."""

    label: str
    value: object
    suffix: str = ""
    shown: object = _SAME


@dataclass(frozen=True)
class Printed:
    """A value whose repr is exactly `text` (what the message shows instead of a value)."""

    text: str

    def __repr__(self) -> str:
        return self.text


TOO_LARGE_TO_PRINT: Final = Printed("<int too large to print>")


class _Opaque:
    """An object no validator knows."""

    def __repr__(self) -> str:
        return "<opaque>"


def _bad_text(spec: Spec) -> Iterator[Bad]:
    yield Bad("int", 5)
    yield Bad("bool", True)
    yield Bad("bytes", b"abc")
    yield Bad("list", ["a"])
    yield Bad("nul", "a\x00b")
    yield Bad("lone_surrogate", "a\ud800b")
    if spec.required:
        yield Bad("none", None)
        yield Bad("empty", "")
        yield Bad("blank", "   ")
        yield Bad("whitespace", "\t\n")
    if spec.max_length is not None:
        yield Bad(f"len_{spec.max_length + 1}", "x" * (spec.max_length + 1))
        yield Bad("len_huge", "y" * 100_000)


def _bad_enum(spec: Spec) -> Iterator[Bad]:
    assert spec.enum is not None
    first = next(iter(spec.enum)).value
    yield Bad("unknown", "bogus")
    yield Bad("empty", "")
    wrong_case = first.lower() if first != first.lower() else first.upper()
    if wrong_case != first:
        yield Bad("wrong_case", wrong_case)
    yield Bad("padded", f" {first} ")
    yield Bad("int", 1)
    yield Bad("bool", True)
    foreign = ConvictionLevel.LOW if spec.enum is TradeAction else TradeAction.BOT
    yield Bad("foreign_member", foreign)
    if spec.required:
        yield Bad("none", None)


def _bad_number(spec: Spec) -> Iterator[Bad]:
    yield Bad("nan_float", float("nan"))
    yield Bad("inf_float", float("inf"))
    yield Bad("neg_inf_float", float("-inf"))
    yield Bad("nan_decimal", Decimal("NaN"))
    yield Bad("snan_decimal", Decimal("sNaN"))
    yield Bad("inf_decimal", Decimal("Infinity"))
    yield Bad("neg_inf_decimal", Decimal("-Infinity"))
    yield Bad("nan_str", "NaN")
    yield Bad("inf_str", "inf")
    yield Bad("garbage_str", "12abc")
    yield Bad("empty_str", "")
    yield Bad("bool", True)
    yield Bad("bool_false", False)
    yield Bad("list", [1])
    yield Bad("bytes", b"1")
    yield Bad("datetime", T0)
    yield Bad("object", _Opaque())
    if spec.scale == 10:
        yield Bad("too_many_places", Decimal("1.00000000001"))  # 11 places
        yield Bad("too_many_places_str", "0.00000000001")
        yield Bad("float_drift", 0.1 + 0.2)  # 0.30000000000000004: refused, never rounded
        yield Bad("too_large", Decimal("100000000"))  # 1e8
        yield Bad("too_large_float", 1e8)
    else:
        yield Bad("too_many_places", Decimal("1.0000001"))  # 7 places
        yield Bad("too_many_places_str", "0.0000001")
        yield Bad("too_many_places_float", 1e-7)
        yield Bad("too_large", Decimal("1000000000000"))  # 1e12
        yield Bad("too_large_float", 1e12)
    if spec.lower is None:
        yield Bad("too_large_negative", -(Decimal(10) ** (18 - spec.scale)))
    yield Bad("huge_exponent", Decimal("1E+999999999"))
    yield Bad("many_digits", "1" * 30 + "." + "1" * 11)
    yield Bad("huge_int", 10**5000, shown=TOO_LARGE_TO_PRINT)
    if spec.lower == "positive":
        yield Bad("zero", 0)
        yield Bad("negative", Decimal("-1"))
    elif spec.lower == "non_negative":
        yield Bad("negative", Decimal("-0.000001"))
        yield Bad("negative_int", -1)
    elif spec.lower == "unit":
        yield Bad("below_0", Decimal("-0.1"))
        yield Bad("above_1", Decimal("1.000001"))
        yield Bad("two", 2)
    if spec.required:
        yield Bad("none", None)


def _bad_datetime(spec: Spec) -> Iterator[Bad]:
    yield Bad("naive", dt.datetime(2024, 3, 8, 14, 30))  # noqa: DTZ001 - the point
    yield Bad("naive_now", dt.datetime.now().replace(microsecond=0))  # noqa: DTZ005
    yield Bad("iso_str", "2024-03-08T14:30:00+00:00")
    yield Bad("date", dt.date(2024, 3, 8))
    yield Bad("epoch_int", 1_700_000_000)
    yield Bad("epoch_float", 1.7e9)
    yield Bad("year_1_ahead_of_utc", dt.datetime(1, 1, 1, tzinfo=PLUS_5))
    yield Bad("year_9999_behind_utc", dt.datetime(9999, 12, 31, 23, tzinfo=MINUS_5))
    if spec.required:
        yield Bad("none", None)


def _bad_bool(spec: Spec) -> Iterator[Bad]:
    yield Bad("int_1", 1)
    yield Bad("int_0", 0)
    yield Bad("str_true", "true")
    yield Bad("str_false", "False")
    yield Bad("decimal", Decimal(1))
    if spec.required:
        yield Bad("none", None)


def _bad_int(spec: Spec) -> Iterator[Bad]:
    yield Bad("bool", True)
    yield Bad("float", 1.0)
    yield Bad("str", "1")
    yield Bad("decimal", Decimal(1))
    yield Bad("nan_float", float("nan"))
    # Every integer column is `Integer`: int4 on PostgreSQL, so 32 bits on every backend.
    yield Bad("over_32_bit", 2**31)
    yield Bad("below_32_bit", -(2**31) - 1)
    yield Bad("over_64_bit", 2**63)
    yield Bad("huge_int", 10**5000, shown=TOO_LARGE_TO_PRINT)
    if spec.int_min is not None:
        yield Bad(f"below_{spec.int_min}", spec.int_min - 1)
        yield Bad("very_negative", -(2**70))
    if spec.int_max is not None:
        yield Bad(f"above_{spec.int_max}", spec.int_max + 1)
    if spec.required:
        yield Bad("none", None)


def _bad_text_list(spec: Spec) -> Iterator[Bad]:
    yield Bad("bare_string", "AAPL")
    yield Bad("bare_bytes", b"AAPL")
    yield Bad("int", 5)
    yield Bad("empty_item", [""], "[0]", "")
    yield Bad("blank_item", ["ok", "  "], "[1]", "  ")
    yield Bad("int_item", [5], "[0]", 5)
    yield Bad("none_item", [None], "[0]", None)
    yield Bad("nul_item", ["a\x00"], "[0]", "a\x00")
    if spec.non_empty:
        yield Bad("empty_list", [])
    if spec.required:
        yield Bad("none", None)


def _bad_json(spec: Spec) -> Iterator[Bad]:
    yield Bad("list", [1, 2])
    yield Bad("json_string", '{"a": 1}')
    yield Bad("int", 5)
    yield Bad("int_key", {1: "a"}, "", 1)
    # Nested keys too: json.dumps would write 0 as "0", which reads back as a string.
    yield Bad("nested_int_key", {"tiers": {0: "0.005", 500: "0.0035"}}, "", 0)
    yield Bad("int_key_in_list", {"a": [{"ok": 1}, {"b": {2: "x"}}]}, "", 2)
    yield Bad("none_key", {"a": {None: 1}}, "", None)
    yield Bad("bool_key", {"a": {True: 1}}, "", True)
    yield Bad("tuple_key", {"a": {(1, 2): 1}}, "", (1, 2))
    yield Bad("nan", {"x": float("nan")})
    yield Bad("inf", {"x": float("inf")})
    yield Bad("nested_nan", {"x": [{"y": float("-inf")}]})
    yield Bad("object", {"x": _Opaque()})
    # Decimals would be stored as strings and read back as str: refused, not converted.
    yield Bad("decimal", {"x": Decimal("0.005")}, "", Decimal("0.005"))
    yield Bad("nested_decimal", {"x": {"y": [1, Decimal(2)]}}, "", Decimal(2))
    nan = Decimal("NaN")
    yield Bad("decimal_nan", {"x": [nan]}, "", nan)
    yield Bad("lone_surrogate", {"a": "\ud800"})
    yield Bad("nested_lone_surrogate", {"a": {"b": ["ok", "x\udfff"]}})
    yield Bad("lone_surrogate_key", {"a": {"\udc80": 1}})
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    yield Bad("cyclic", cyclic)
    if spec.required:
        yield Bad("none", None)


def _bad_bytes(_spec: Spec) -> Iterator[Bad]:
    # The message names the type, never dumps the (possibly large) value.
    yield Bad("str", "\x89PNG", shown="str")
    yield Bad("int", 5, shown="int")
    yield Bad("list", [137, 80], shown="list")


def _bad_raw_text(_spec: Spec) -> Iterator[Bad]:
    yield Bad("none", None)
    yield Bad("int", 5)
    yield Bad("bytes", b"dark")
    yield Bad("nul", "da\x00rk")
    yield Bad("lone_surrogate", "da\ud800rk")
    yield Bad("lone_surrogate_only", "\udfff")


def _bad_date(spec: Spec) -> Iterator[Bad]:
    yield Bad("datetime", T0)
    yield Bad("iso_str", "2024-03-15")
    yield Bad("int", 20240315)
    if spec.required:
        yield Bad("none", None)


def _bad_currency(spec: Spec) -> Iterator[Bad]:
    for label, value in [
        ("lower", "usd"),
        ("two_letters", "US"),
        ("four_letters", "USDT"),
        ("mixed_case", "Usd"),
        ("padded", " USD"),
        ("digits", "840"),
        ("symbol", "US$"),
        ("empty", ""),
        ("int", 840),
    ]:
        yield Bad(label, value)
    if spec.required:
        yield Bad("none", None)


def _bad_country(_spec: Spec) -> Iterator[Bad]:
    for label, value in [
        ("lower", "us"),
        ("one_letter", "U"),
        ("three_letters", "USA"),
        ("digit", "U1"),
        ("empty", ""),
        ("int", 1),
        ("none", None),
    ]:
        yield Bad(label, value)


def _bad_price_list(_spec: Spec) -> Iterator[Bad]:
    yield Bad("bare_string", "501.25")
    yield Bad("int", 5)
    yield Bad("bytes", b"1")
    yield Bad("dict", {"a": 1})
    nan = Decimal("NaN")
    yield Bad("nan_item", [nan], "[0]", nan)
    yield Bad("negative_item", [Decimal(1), "-1"], "[1]", "-1")
    yield Bad("too_many_places_item", ["1.00000000001"], "[0]", "1.00000000001")
    yield Bad("bool_item", [True], "[0]", True)


def _bad_items(_spec: Spec) -> Iterator[Bad]:
    yield Bad("int", 5)
    yield Bad("none", None)
    yield Bad("bare_string", "AAPL")
    yield Bad("str_item", ["AAPL"], "[0]", "AAPL")
    yield Bad("dict_item", [{"ticker": "AAPL"}], "[0]", {"ticker": "AAPL"})
    yield Bad("duplicate_ticker", [_item("AAPL"), _item("AAPL")], "[1].ticker", "AAPL")
    yield Bad(
        "duplicate_after_others",
        [_item("AAPL"), _item("MSFT"), _item("AAPL")],
        "[2].ticker",
        "AAPL",
    )


BAD_VALUES: Final[dict[str, Callable[[Spec], Iterator[Bad]]]] = {
    "text": _bad_text,
    "enum": _bad_enum,
    "number": _bad_number,
    "datetime": _bad_datetime,
    "bool": _bad_bool,
    "int": _bad_int,
    "text_list": _bad_text_list,
    "json": _bad_json,
    "bytes": _bad_bytes,
    "raw_text": _bad_raw_text,
    "currency": _bad_currency,
    "date": _bad_date,
    "country": _bad_country,
    "price_list": _bad_price_list,
    "items": _bad_items,
}


def _rejection_cases() -> list[Any]:
    cases = []
    for cls, fields in SPECS.items():
        for name, spec in fields.items():
            labels: set[str] = set()
            for bad in BAD_VALUES[spec.kind](spec):
                assert bad.label not in labels, (cls, name, bad.label)
                labels.add(bad.label)
                cases.append(pytest.param(cls, name, bad, id=f"{cls.__name__}.{name}-{bad.label}"))
    return cases


REJECTION_CASES: Final = _rejection_cases()


def _short_repr(value: object) -> str:
    """The start of the value as an error message shows it (long reprs are cut); a finite
    Decimal as a user writes it (`-100`), never `Decimal('-100')`."""
    if isinstance(value, Decimal) and value.is_finite():
        return str(value)[:50]
    return repr(value)[:50]


def assert_validation_error(error: ValidationError, field: str, shown: object) -> None:
    """`.field` is `field`; the message names the field and shows `shown` (its repr);
    `.value` is `shown` itself unless that is only a printed placeholder."""
    message = str(error)
    assert error.field == field, message
    assert field in message
    assert _short_repr(shown) in message, (_short_repr(shown), message)
    if not isinstance(shown, Printed):
        assert error.value is shown or error.value == shown


# --------------------------------------------------------------------------------------
# Coverage of the tables themselves
# --------------------------------------------------------------------------------------


def _entity_classes() -> set[type[Any]]:
    return {
        obj
        for _, obj in inspect.getmembers(entities, inspect.isclass)
        if dataclasses.is_dataclass(obj) and obj.__module__ == entities.__name__
    }


def test_all_21_entities_are_covered() -> None:
    classes = _entity_classes()
    assert len(classes) == 21
    assert set(TEMPLATES) == classes
    assert set(SPECS) == classes


@pytest.mark.parametrize("cls", ENTITY_CLASSES, ids=_class_id)
def test_spec_lists_every_field(cls: type[Any]) -> None:
    assert set(SPECS[cls]) == {f.name for f in dataclasses.fields(cls)}


@pytest.mark.parametrize("cls", ENTITY_CLASSES, ids=_class_id)
def test_valid_template_constructs_and_replace_is_identity(cls: type[Any]) -> None:
    entity = cls(**valid_kwargs(cls))
    assert replace(entity) == entity
    assert cls(**{f.name: getattr(entity, f.name) for f in dataclasses.fields(cls)}) == entity


def test_every_bad_value_kind_is_exercised() -> None:
    kinds = {spec.kind for fields in SPECS.values() for spec in fields.values()}
    assert kinds == set(BAD_VALUES)
    assert len(REJECTION_CASES) > 1000


# --------------------------------------------------------------------------------------
# Rejections
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "field", "bad"), REJECTION_CASES)
def test_rejects_bad_value(cls: type[Any], field: str, bad: Bad) -> None:
    kwargs = valid_kwargs(cls)
    kwargs[field] = bad.value
    with pytest.raises(ValidationError) as info:
        cls(**kwargs)
    shown = bad.value if bad.shown is _SAME else bad.shown
    assert_validation_error(info.value, field + bad.suffix, shown)


@pytest.mark.parametrize(("cls", "field", "bad"), REJECTION_CASES[::7])
def test_replace_revalidates(cls: type[Any], field: str, bad: Bad) -> None:
    entity = build(cls)
    changes: dict[str, Any] = {field: bad.value}
    with pytest.raises(ValidationError) as info:
        replace(entity, **changes)
    assert info.value.field == field + bad.suffix


def test_validation_error_is_a_zorivest_error() -> None:
    with pytest.raises(ZorivestError):
        build(Trade, quantity=0)


@pytest.mark.parametrize(
    ("opened", "closed"),
    [
        pytest.param(T0, T0 - dt.timedelta(microseconds=1), id="one_microsecond_before"),
        pytest.param(T0, T0 - dt.timedelta(days=1), id="one_day_before"),
        # Later on the wall clock, earlier as an instant (17:00 IST = 11:30 UTC).
        pytest.param(
            dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.UTC),
            dt.datetime(2024, 3, 10, 17, 0, tzinfo=KOLKATA),
            id="later_wall_clock_other_zone",
        ),
        # Across the New York fall-back: 01:30 EDT (fold=0) is an hour before 01:10 EST.
        pytest.param(
            dt.datetime(2024, 11, 3, 1, 10, fold=1, tzinfo=NEW_YORK),
            dt.datetime(2024, 11, 3, 1, 30, fold=0, tzinfo=NEW_YORK),
            id="dst_fold",
        ),
    ],
)
def test_round_trip_closed_before_opened_is_rejected(
    opened: dt.datetime, closed: dt.datetime
) -> None:
    with pytest.raises(ValidationError) as info:
        build(RoundTrip, opened_at=opened, closed_at=closed)
    assert_validation_error(info.value, "closed_at", closed)
    assert "opened_at" in str(info.value)


@pytest.mark.parametrize(
    "closed",
    [
        pytest.param(T0, id="same_instant"),
        pytest.param(T0.astimezone(KOLKATA), id="same_instant_other_zone"),
        pytest.param(T0 + dt.timedelta(microseconds=1), id="one_microsecond_after"),
        pytest.param(None, id="still_open"),
    ],
)
def test_round_trip_closed_at_or_after_opened_is_accepted(closed: dt.datetime | None) -> None:
    trip = build(RoundTrip, opened_at=T0, closed_at=closed)
    assert trip.closed_at == closed


def test_watchlist_accepts_distinct_tickers_and_a_tuple() -> None:
    items = (_item("AAPL"), _item("MSFT"), _item("aapl"))
    watchlist = build(Watchlist, items=items)
    assert isinstance(watchlist.items, list)
    assert [item.ticker for item in watchlist.items] == ["AAPL", "MSFT", "aapl"]


def test_watchlist_duplicate_added_by_replace_is_rejected() -> None:
    watchlist = build(Watchlist)
    with pytest.raises(ValidationError) as info:
        replace(watchlist, items=[*watchlist.items, _item("MSFT")])
    assert_validation_error(info.value, "items[2].ticker", "MSFT")


def test_identifier_is_expired_refuses_naive_time() -> None:
    mapping = build(IdentifierMapping)
    naive = dt.datetime(2024, 3, 8)  # noqa: DTZ001 - the point
    with pytest.raises(ValidationError) as info:
        mapping.is_expired(naive)
    assert_validation_error(info.value, "at", naive)
    assert not mapping.is_expired(T0)
    assert mapping.is_expired(T0 + dt.timedelta(days=30))


def test_entities_are_frozen() -> None:
    trade = build(Trade)
    with pytest.raises(dataclasses.FrozenInstanceError):
        trade.price = Decimal(1)


# --------------------------------------------------------------------------------------
# Normalisation of good values
# --------------------------------------------------------------------------------------


def _fields_of_kind(*kinds: str) -> list[Any]:
    return [
        pytest.param(cls, name, spec, id=f"{cls.__name__}.{name}")
        for cls, fields in SPECS.items()
        for name, spec in fields.items()
        if spec.kind in kinds
    ]


NUMBER_FIELDS: Final = _fields_of_kind("number")
ENUM_FIELDS: Final = _fields_of_kind("enum")
DATETIME_FIELDS: Final = _fields_of_kind("datetime")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(Decimal("0.5"), Decimal("0.5"), id="decimal"),
        pytest.param("0.5", Decimal("0.5"), id="str"),
        pytest.param(0.5, Decimal("0.5"), id="float"),
        pytest.param(1, Decimal(1), id="int"),
        pytest.param(Decimal("0.500000"), Decimal("0.5"), id="trailing_zeros"),
    ],
)
@pytest.mark.parametrize(("cls", "field", "spec"), NUMBER_FIELDS)
def test_numbers_accepted_as_decimal_int_str_float(
    cls: type[Any], field: str, spec: Spec, given: object, expected: Decimal
) -> None:
    value = getattr(build(cls, **{field: given}), field)
    assert type(value) is Decimal
    assert value == expected
    assert value.as_tuple() == expected.normalize().as_tuple()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(0.1, "0.1", id="float_0.1"),
        pytest.param(1e-10, "1E-10", id="float_1e-10"),
        pytest.param(189.25, "189.25", id="float_189.25"),
        pytest.param(0.3, "0.3", id="float_0.3"),
        pytest.param("99999999.9999999999", "99999999.9999999999", id="price_max"),
        pytest.param(Decimal("0.0000000001"), "1E-10", id="smallest_step"),
        pytest.param(Decimal("1E+2"), "100", id="exponent_form"),
        pytest.param(Decimal("1.0000000000000"), "1", id="zero_places_beyond_scale"),
        pytest.param("1e-10", "1E-10", id="str_exponent"),
    ],
)
def test_price_values_are_exact(given: object, expected: str) -> None:
    trade = build(Trade, price=given, quantity=given)
    for value in (trade.price, trade.quantity):
        assert value == Decimal(expected)
        assert value.as_tuple() == Decimal(expected).as_tuple()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(0.1, "0.1", id="float_0.1"),
        pytest.param(1e-6, "0.000001", id="float_1e-6"),
        pytest.param("999999999999.999999", "999999999999.999999", id="money_max"),
        pytest.param("-999999999999.999999", "-999999999999.999999", id="money_min"),
        pytest.param("99999999.999999", "99999999.999999", id="money_8_6"),
        pytest.param(-1234.56, "-1234.56", id="negative_pnl"),
        pytest.param(Decimal("-0"), "0", id="negative_zero"),
        pytest.param(Decimal("-0.000001"), "-0.000001", id="smallest_negative"),
    ],
)
def test_money_values_are_exact(given: object, expected: str) -> None:
    trade = build(Trade, commission=given, realized_pnl=given)
    for value in (trade.commission, trade.realized_pnl):
        assert value == Decimal(expected)
        assert not value.is_signed() or value < 0


def test_negative_zero_is_canonical() -> None:
    trade = build(Trade, realized_pnl=Decimal("-0.000"))
    assert str(trade.realized_pnl) == "0"


def test_confidence_bounds_are_inclusive() -> None:
    assert build(IdentifierMapping, confidence=0).confidence == 0
    assert build(IdentifierMapping, confidence="1.000000").confidence == 1


def test_breakeven_prices_are_normalised() -> None:
    strategy = build(OptionsStrategy, breakeven_prices=("0.1", 0.2, 3, Decimal("4.50")))
    assert strategy.breakeven_prices == [
        Decimal("0.1"),
        Decimal("0.2"),
        Decimal(3),
        Decimal("4.5"),
    ]
    assert all(type(price) is Decimal for price in strategy.breakeven_prices)


@pytest.mark.parametrize(("cls", "field", "spec"), ENUM_FIELDS)
def test_enum_strings_are_normalised_to_members(cls: type[Any], field: str, spec: Spec) -> None:
    assert spec.enum is not None
    for member in spec.enum:
        from_string = getattr(build(cls, **{field: str(member.value)}), field)
        assert type(from_string) is spec.enum
        assert from_string is member
        assert getattr(build(cls, **{field: member}), field) is member


@pytest.mark.parametrize(
    "aware",
    [
        pytest.param(dt.datetime(2024, 3, 10, 1, 59, 59, tzinfo=NEW_YORK), id="ny_before_spring"),
        pytest.param(dt.datetime(2024, 3, 10, 3, 0, tzinfo=NEW_YORK), id="ny_after_spring"),
        pytest.param(dt.datetime(2024, 11, 3, 1, 30, fold=0, tzinfo=NEW_YORK), id="ny_fold0"),
        pytest.param(dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=NEW_YORK), id="ny_fold1"),
        pytest.param(dt.datetime(2024, 10, 27, 1, 30, fold=1, tzinfo=LONDON), id="london_fold1"),
        pytest.param(dt.datetime(2024, 3, 8, 20, 0, 0, 123456, tzinfo=KOLKATA), id="kolkata"),
        pytest.param(dt.datetime(1, 1, 1, tzinfo=dt.UTC), id="year_1_utc"),
        pytest.param(dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC), id="year_9999"),
        pytest.param(dt.datetime(1, 1, 1, 5, tzinfo=PLUS_5), id="year_1_plus_5_at_utc_min"),
    ],
)
@pytest.mark.parametrize(("cls", "field", "spec"), DATETIME_FIELDS)
def test_aware_datetimes_become_utc_same_instant(
    cls: type[Any], field: str, spec: Spec, aware: dt.datetime
) -> None:
    overrides: dict[str, Any] = {field: aware}
    if cls is RoundTrip:
        # Keep closed_at >= opened_at whichever of the two is under test.
        overrides.setdefault("opened_at", dt.datetime(1, 1, 1, tzinfo=dt.UTC))
        overrides.setdefault("closed_at", None)
    value = getattr(build(cls, **overrides), field)
    assert value.tzinfo is dt.UTC
    assert value == aware.astimezone(dt.UTC)
    assert value.timestamp() == aware.timestamp()


def test_dst_fold_gives_two_different_instants() -> None:
    first = build(Trade, time=dt.datetime(2024, 11, 3, 1, 30, fold=0, tzinfo=NEW_YORK)).time
    second = build(Trade, time=dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=NEW_YORK)).time
    assert first == dt.datetime(2024, 11, 3, 5, 30, tzinfo=dt.UTC)
    assert second == dt.datetime(2024, 11, 3, 6, 30, tzinfo=dt.UTC)


def test_replace_normalises_again() -> None:
    trade = build(Trade)
    changed = replace(trade, price="2.50", time=dt.datetime(2024, 3, 8, 9, 30, tzinfo=NEW_YORK))
    assert changed.price == Decimal("2.5")
    assert changed.time == dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.UTC)
    assert changed.time.tzinfo is dt.UTC
    assert replace(changed, action="SLD").action is TradeAction.SLD


def test_defaults() -> None:
    before = dt.datetime.now(dt.UTC)
    minimal: dict[str, Any] = {"account_id": "A", "name": "N", "account_type": "bank"}
    account = Account(**minimal)
    after = dt.datetime.now(dt.UTC)
    assert account.currency == "USD"
    assert account.is_tax_advantaged is False
    assert account.account_type is AccountType.BANK
    assert account.created_at.tzinfo is dt.UTC
    assert before <= account.created_at <= after
    first, second = TradeReport(trade_id="a"), TradeReport(trade_id="b")
    assert first.tags == []
    assert second.tags == []
    assert first.tags is not second.tags
    trade = build(Trade, commission=Decimal(0))
    assert Trade(**{k: v for k, v in valid_kwargs(Trade).items() if k != "commission"}) == trade
    guard = McpGuardState()
    assert (guard.calls_per_minute_limit, guard.calls_per_hour_limit) == (60, 500)


def test_optional_text_may_be_empty_but_not_nul() -> None:
    assert build(Account, notes="").notes == ""
    assert build(Account, notes="quotes ' \" and emoji 📈 and RTL שלום").notes is not None


def test_text_with_sql_and_unicode_is_kept_verbatim() -> None:
    for value in ["Robert'); DROP TABLE trades;--", "\u202eevil", "📈📉", "a" * 128]:
        assert build(Trade, exec_id=value).exec_id == value


# --------------------------------------------------------------------------------------
# ImageAttachment never dumps bytes
# --------------------------------------------------------------------------------------


def test_image_repr_never_dumps_bytes() -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"SECRET-PIXELS" * 10_000
    thumbnail = b"RIFF\x00\x00\x00\x00WEBP" + b"THUMB-PIXELS" * 1000
    image = build(ImageAttachment, data=data, thumbnail=thumbnail, caption="chart")
    for text_form in (repr(image), str(image)):
        assert "SECRET" not in text_form
        assert "THUMB" not in text_form
        assert "\\x89" not in text_form
        assert "b'" not in text_form
        assert len(text_form) < 300
        assert f"{len(data)} bytes" in text_form
    assert "not loaded" in repr(build(ImageAttachment, data=None))


def test_image_accepts_bytearray_and_memoryview_as_bytes() -> None:
    assert build(ImageAttachment, data=bytearray(b"abc")).data == b"abc"
    image = build(ImageAttachment, data=memoryview(b"abc"))
    assert type(image.data) is bytes


# --------------------------------------------------------------------------------------
# The domain's lengths agree with the model's columns
# --------------------------------------------------------------------------------------


def _model_tables() -> dict[type[Any], Any]:
    from zorivest_infra.database import models

    return {
        Trade: models.TradeModel.__table__,
        Account: models.AccountModel.__table__,
        ImageAttachment: models.ImageModel.__table__,
        TradeReport: models.TradeReportModel.__table__,
        TradePlan: models.TradePlanModel.__table__,
        WatchlistItem: models.WatchlistItemModel.__table__,
        Watchlist: models.WatchlistModel.__table__,
        BalanceSnapshot: models.BalanceSnapshotModel.__table__,
        Setting: models.SettingModel.__table__,
        AppDefault: models.AppDefaultModel.__table__,
        MarketProviderSetting: models.MarketProviderSettingModel.__table__,
        McpGuardState: models.McpGuardModel.__table__,
        RoundTrip: models.RoundTripModel.__table__,
        ExcursionMetrics: models.ExcursionMetricsModel.__table__,
        IdentifierMapping: models.IdentifierCacheModel.__table__,
        LedgerEntry: models.TransactionLedgerModel.__table__,
        OptionsStrategy: models.OptionsStrategyModel.__table__,
        MistakeEntry: models.MistakeEntryModel.__table__,
        BrokerConfig: models.BrokerConfigModel.__table__,
        BankTransaction: models.BankTransactionModel.__table__,
        BankImportConfig: models.BankImportConfigModel.__table__,
    }


@pytest.mark.parametrize("cls", ENTITY_CLASSES, ids=_class_id)
def test_text_limits_match_the_model_columns(cls: type[Any]) -> None:
    """A string the entity accepts fits its column, and the entity refuses what would not."""
    table = _model_tables()[cls]
    checked = 0
    for name, spec in SPECS[cls].items():
        if name not in table.c:
            continue
        length = getattr(table.c[name].type, "length", None)
        if spec.kind == "text":
            assert spec.max_length == length, (name, spec.max_length, length)
            checked += 1
        elif spec.kind == "enum":
            assert spec.enum is not None
            assert length is not None
            assert max(len(member.value) for member in spec.enum) <= length, name
            checked += 1
        elif spec.kind == "currency":
            assert length == 3
        elif spec.kind == "country":
            assert length == 2
    assert checked > 0


@pytest.mark.parametrize(
    "tags",
    [{"breakout", "gap"}, {"breakout": 1}, iter(["breakout"])],
    ids=["set", "dict", "iterator"],
)
def test_list_fields_refuse_unordered_or_mapping_iterables(tags: object) -> None:
    # A set has no stable order to store; a mapping would silently become its keys.
    values: dict[str, Any] = {"trade_id": "T1", "tags": tags}
    with pytest.raises(ValidationError) as caught:
        TradeReport(**values)
    assert caught.value.field == "tags"


def test_list_fields_accept_tuples_as_lists() -> None:
    assert TradeReport(trade_id="T1", tags=("a", "b")).tags == ["a", "b"]  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# Integer and JSON fields hold only what reads back equal on every backend
# --------------------------------------------------------------------------------------


INT_FIELDS: Final = [
    pytest.param(cls, name, spec, id=f"{cls.__name__}.{name}")
    for cls, fields in SPECS.items()
    for name, spec in fields.items()
    if spec.kind == "int"
]


@pytest.mark.parametrize(("cls", "field", "spec"), INT_FIELDS)
def test_int_fields_fit_their_32_bit_columns(cls: type[Any], field: str, spec: Spec) -> None:
    table = _model_tables()[cls]
    assert field in table.c, field
    assert type(table.c[field].type).__name__ == "Integer", (field, table.c[field].type)
    low = spec.int_min if spec.int_min is not None else -(2**31)
    high = spec.int_max if spec.int_max is not None else 2**31 - 1
    assert -(2**31) <= low <= high <= 2**31 - 1
    for edge in (low, high):
        assert getattr(build(cls, **{field: edge}), field) == edge


@pytest.mark.parametrize(
    ("cls", "field", "value"),
    [
        pytest.param(MarketProviderSetting, "rate_limit", 2**31, id="rate_limit_2**31"),
        pytest.param(MarketProviderSetting, "rate_limit", 2**40, id="rate_limit_2**40"),
        pytest.param(McpGuardState, "calls_per_minute_limit", 2**31, id="per_minute_2**31"),
        pytest.param(McpGuardState, "calls_per_hour_limit", 2**32, id="per_hour_2**32"),
        pytest.param(ImageAttachment, "width", 2**31, id="width_2**31"),
        pytest.param(ImageAttachment, "file_size", 2**31, id="file_size_2**31"),
        pytest.param(RoundTrip, "holding_period_seconds", 2**31, id="holding_2**31"),
        pytest.param(Watchlist, "id", 2**31, id="row_id_2**31"),
    ],
)
def test_integers_beyond_32_bits_are_refused(cls: type[Any], field: str, value: int) -> None:
    with pytest.raises(ValidationError) as caught:
        build(cls, **{field: value})
    assert caught.value.field == field
    assert "does not fit a 32-bit integer column" in str(caught.value)
    assert build(cls, **{field: 2**31 - 1}) is not None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param({"tiers": {0: "0.005"}}, "keys must be strings (at ['tiers'])", id="int_key"),
        pytest.param({"a": [{}, {1: 2}]}, "keys must be strings (at ['a', 1])", id="in_list"),
        pytest.param({"x": Decimal("0.005")}, "not Decimal", id="decimal"),
        pytest.param({"a": {"b": [Decimal(1)]}}, "(at ['a', 'b', 0])", id="decimal_path"),
        pytest.param({"a": "\ud800"}, "no lone surrogates", id="lone_surrogate"),
        pytest.param({"\ud800": "a"}, "no lone surrogates", id="lone_surrogate_key"),
    ],
)
@pytest.mark.parametrize("cls", [BrokerConfig, BankImportConfig], ids=_class_id)
def test_json_fields_explain_what_would_not_read_back(
    cls: type[Any], document: dict[Any, Any], message: str
) -> None:
    field = "commission_schedule" if cls is BrokerConfig else "config"
    with pytest.raises(ValidationError) as caught:
        build(cls, **{field: document})
    assert caught.value.field == field
    assert message in str(caught.value), str(caught.value)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({"tiers": [{"up_to": 500, "rate": "0.005"}, {"rate": 0.0035}]}, id="tiers"),
        pytest.param({"name": "Zürich 📈", "rtl": "שלום", "nul": "a\x00b"}, id="unicode"),
        pytest.param({"big": 2**70, "neg": -1.5e-300, "none": None, "t": True}, id="numbers"),
        pytest.param({"a": {"b": {"c": {"d": []}}}}, id="nested"),
    ],
)
def test_accepted_json_reads_back_equal(document: dict[str, Any]) -> None:
    config = build(BankImportConfig, config=document).config
    text = json.dumps(config, ensure_ascii=False, allow_nan=False)
    assert json.loads(text.encode("utf-8").decode("utf-8")) == config == document


def test_shared_json_fragment_is_checked_once_and_accepted() -> None:
    shared = {"rate": "0.005"}
    config = build(BankImportConfig, config={"a": shared, "b": [shared, shared]}).config
    assert config == {"a": shared, "b": [shared, shared]}


def test_deeply_nested_json_is_refused_not_crashing() -> None:
    document: dict[str, Any] = {}
    inner = document
    for _ in range(100_000):
        inner["a"] = {}
        inner = inner["a"]
    with pytest.raises(ValidationError) as caught:
        build(BankImportConfig, config=document)
    assert caught.value.field == "config"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param("\ud800", "lone surrogates", id="lone_surrogate"),
        pytest.param('{"a": "\udfff"}', "lone surrogates", id="surrogate_in_json_text"),
        pytest.param("a\x00", "NUL", id="nul"),
    ],
)
def test_app_default_value_must_be_storable_text(value: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build(AppDefault, value=value)
    assert caught.value.field == "value"
    assert reason in str(caught.value)


@pytest.mark.parametrize("value", ["", "   ", "dark", "Zürich 📈", '{"a": 1}'])
def test_app_default_value_may_be_any_storable_text(value: str) -> None:
    assert build(AppDefault, value=value).value == value
