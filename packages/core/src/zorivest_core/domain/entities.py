"""Domain entities: one frozen dataclass per stored aggregate, validated on construction.

Construction normalises values (numbers to exact Decimals, enum strings to members, aware
datetimes to UTC) and raises `ValidationError` naming the field and the bad value.
`dataclasses.replace` re-runs the same validation.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from itertools import repeat
from typing import Any, Final, Self

from zorivest_core.domain import validation as v
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

PRICE = v.PRICE_SCALE
MONEY = v.MONEY_SCALE
ZERO = Decimal(0)
ONE = Decimal(1)
THUMBNAIL_SIZE: Final = 200
"""The longest side, in pixels, of the thumbnail stored with each image."""


class _Entity:
    """Shared helper: frozen dataclasses set normalised values during validation."""

    __slots__ = ()

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    @classmethod
    def restore(cls, **values: Any) -> Self:
        """Rebuild an entity from values that were validated when they were stored.

        For repositories' hot read paths only: the values must come from the column types
        (already normalised Decimals, aware UTC datetimes, enum members). No validation runs,
        and every field must be given.
        """
        entity = object.__new__(cls)
        setters = _slot_setters(cls)
        for name, value in values.items():
            setters[name](entity, value)
        return entity

    @classmethod
    def restore_fields(cls, values: Sequence[Any]) -> Self:
        """`restore` from every field's value in declaration order (the fastest form)."""
        entity = object.__new__(cls)
        for setter, value in zip(_slot_setters(cls).values(), values, strict=True):
            setter(entity, value)
        return entity

    @classmethod
    def restore_columns(cls, count: int, columns: Sequence[Iterable[Any]]) -> list[Self]:
        """`restore` of `count` entities from their values column by column.

        `columns` holds one iterable per field, in declaration order, each with `count`
        values. Setting a whole column with `map` runs the loop in C: a listing restores
        an entity for half of what `restore_fields` costs.
        """
        if not count:
            return []
        entities = list(map(object.__new__, repeat(cls, count)))
        setters = _slot_setters(cls).values()
        for setter, column in zip(setters, columns, strict=True):
            deque(map(setter, entities, column), maxlen=0)
        return entities


_Setter = Callable[[object, Any], None]
_SLOT_SETTERS: dict[type, dict[str, _Setter]] = {}


def _slot_setters(cls: type) -> dict[str, _Setter]:
    """Each field's slot setter, in declaration order (built once per class).

    A slot's own setter stores a value without going through the frozen dataclass's
    `__setattr__`; calling it directly is three times faster than `object.__setattr__` by
    name, which matters when a listing restores a million entities.
    """
    setters = _SLOT_SETTERS.get(cls)
    if setters is None:
        setters = {item.name: getattr(cls, item.name).__set__ for item in fields(cls)}
        _SLOT_SETTERS[cls] = setters
    return setters


def _id(field_name: str, value: object) -> int | None:
    return v.optional_integer(field_name, value, minimum=1)


@dataclass(frozen=True, slots=True)
class Trade(_Entity):
    """One broker execution, identified by the broker's execution id.

    The instrument details are optional (None: not known). `multiplier` None means 1 (a
    share); an option's is usually 100, a future's its point value. `currency` is the
    trade's own currency and `fx_rate` converts it to the account's currency
    (amount_in_account_currency = amount * fx_rate).
    """

    exec_id: str
    time: dt.datetime
    instrument: str
    action: TradeAction
    quantity: Decimal
    price: Decimal
    account_id: str
    commission: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    asset_class: AssetClass | None = None
    multiplier: Decimal | None = None
    underlying: str | None = None
    expiry: dt.date | None = None
    strike: Decimal | None = None
    option_right: OptionRight | None = None
    currency: str | None = None
    fx_rate: Decimal | None = None

    def __post_init__(self) -> None:
        self._set("exec_id", v.text("exec_id", self.exec_id, max_length=128))
        self._set("time", v.utc("time", self.time))
        self._set("instrument", v.text("instrument", self.instrument, max_length=64))
        self._set("action", v.choice("action", self.action, TradeAction))
        self._set(
            "quantity",
            v.exact("quantity", self.quantity, scale=PRICE, minimum=ZERO, exclusive_minimum=True),
        )
        self._set("price", v.exact("price", self.price, scale=PRICE, minimum=ZERO))
        self._set("account_id", v.text("account_id", self.account_id, max_length=64))
        # Commissions may be negative: some venues pay liquidity rebates.
        self._set("commission", v.exact("commission", self.commission, scale=MONEY))
        self._set("realized_pnl", v.exact("realized_pnl", self.realized_pnl, scale=MONEY))
        self._set("asset_class", v.optional_choice("asset_class", self.asset_class, AssetClass))
        self._set(
            "multiplier",
            v.optional_exact(
                "multiplier", self.multiplier, scale=PRICE, minimum=ZERO, exclusive_minimum=True
            ),
        )
        self._set("underlying", v.optional_text("underlying", self.underlying, max_length=64))
        self._set("expiry", v.optional_date("expiry", self.expiry))
        self._set("strike", v.optional_exact("strike", self.strike, scale=PRICE, minimum=ZERO))
        self._set("option_right", v.optional_choice("option_right", self.option_right, OptionRight))
        self._set("currency", v.optional_currency("currency", self.currency))
        self._set(
            "fx_rate",
            v.optional_exact(
                "fx_rate", self.fx_rate, scale=PRICE, minimum=ZERO, exclusive_minimum=True
            ),
        )


@dataclass(frozen=True, slots=True)
class Account(_Entity):
    """A broker, bank or credit account that trades and balances belong to."""

    account_id: str
    name: str
    account_type: AccountType
    institution: str | None = None
    currency: str = "USD"
    is_tax_advantaged: bool = False
    notes: str | None = None
    created_at: dt.datetime = field(default_factory=v.now_utc)

    def __post_init__(self) -> None:
        self._set("account_id", v.text("account_id", self.account_id, max_length=64))
        self._set("name", v.text("name", self.name, max_length=200))
        self._set("account_type", v.choice("account_type", self.account_type, AccountType))
        self._set("institution", v.optional_text("institution", self.institution, max_length=200))
        self._set("currency", v.currency("currency", self.currency))
        self._set("is_tax_advantaged", v.boolean("is_tax_advantaged", self.is_tax_advantaged))
        self._set("notes", v.optional_text("notes", self.notes))
        self._set("created_at", v.utc("created_at", self.created_at))


@dataclass(frozen=True, slots=True)
class ImageAttachment(_Entity):
    """A screenshot attached to a trade, report or plan.

    Callers give `data` (and optionally a caption); the image repository measures and fills
    the rest from the real image. Listings leave `data` as None (not loaded).
    """

    data: bytes | None
    caption: str | None = None
    id: int | None = None
    owner_type: ImageOwnerType | None = None
    owner_id: str | None = None
    mime_type: str | None = None
    thumbnail: bytes | None = field(default=None, repr=False)
    width: int | None = None
    height: int | None = None
    file_size: int | None = None
    created_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        self._set("data", v.optional_bytes("data", self.data))
        self._set("caption", v.optional_text("caption", self.caption))
        self._set("id", _id("id", self.id))
        self._set("owner_type", v.optional_choice("owner_type", self.owner_type, ImageOwnerType))
        self._set("owner_id", v.optional_text("owner_id", self.owner_id, max_length=128))
        self._set("mime_type", v.optional_text("mime_type", self.mime_type, max_length=50))
        self._set("thumbnail", v.optional_bytes("thumbnail", self.thumbnail))
        self._set("width", v.optional_integer("width", self.width, minimum=1))
        self._set("height", v.optional_integer("height", self.height, minimum=1))
        self._set("file_size", v.optional_integer("file_size", self.file_size, minimum=0))
        self._set("created_at", v.optional_utc("created_at", self.created_at))

    def __repr__(self) -> str:
        size = "not loaded" if self.data is None else f"{len(self.data)} bytes"
        return (
            f"ImageAttachment(id={self.id!r}, owner={self.owner_type}:{self.owner_id}, "
            f"mime_type={self.mime_type!r}, {self.width}x{self.height}, data={size})"
        )


@dataclass(frozen=True, slots=True)
class TradeReport(_Entity):
    """The post-trade review of one trade (one-to-one)."""

    trade_id: str
    setup_quality: int | None = None
    execution_quality: int | None = None
    followed_plan: bool | None = None
    emotional_state: str | None = None
    lessons_learned: str | None = None
    tags: list[str] = field(default_factory=list)
    created_at: dt.datetime = field(default_factory=v.now_utc)
    id: int | None = None

    def __post_init__(self) -> None:
        self._set("trade_id", v.text("trade_id", self.trade_id, max_length=128))
        for name in ("setup_quality", "execution_quality"):
            self._set(name, v.optional_integer(name, getattr(self, name), minimum=1, maximum=5))
        self._set("followed_plan", v.optional_boolean("followed_plan", self.followed_plan))
        self._set(
            "emotional_state",
            v.optional_text("emotional_state", self.emotional_state, max_length=100),
        )
        self._set("lessons_learned", v.optional_text("lessons_learned", self.lessons_learned))
        self._set("tags", v.text_list("tags", self.tags))
        self._set("created_at", v.utc("created_at", self.created_at))
        self._set("id", _id("id", self.id))


@dataclass(frozen=True, slots=True)
class TradePlan(_Entity):
    """A forward-looking trade thesis, optionally linked to the trade that executed it."""

    ticker: str
    direction: TradeAction
    conviction: ConvictionLevel
    strategy_name: str | None = None
    strategy_description: str | None = None
    entry_price: Decimal | None = None
    stop_loss: Decimal | None = None
    target_price: Decimal | None = None
    entry_conditions: str | None = None
    exit_conditions: str | None = None
    timeframe: str | None = None
    status: PlanStatus = PlanStatus.DRAFT
    linked_trade_id: str | None = None
    account_id: str | None = None
    created_at: dt.datetime = field(default_factory=v.now_utc)
    updated_at: dt.datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        self._set("ticker", v.text("ticker", self.ticker, max_length=64))
        self._set("direction", v.choice("direction", self.direction, TradeAction))
        self._set("conviction", v.choice("conviction", self.conviction, ConvictionLevel))
        self._set(
            "strategy_name", v.optional_text("strategy_name", self.strategy_name, max_length=200)
        )
        self._set(
            "strategy_description",
            v.optional_text("strategy_description", self.strategy_description),
        )
        for name in ("entry_price", "stop_loss", "target_price"):
            self._set(name, v.optional_exact(name, getattr(self, name), scale=PRICE, minimum=ZERO))
        self._set("entry_conditions", v.optional_text("entry_conditions", self.entry_conditions))
        self._set("exit_conditions", v.optional_text("exit_conditions", self.exit_conditions))
        self._set("timeframe", v.optional_text("timeframe", self.timeframe, max_length=50))
        self._set("status", v.choice("status", self.status, PlanStatus))
        self._set(
            "linked_trade_id",
            v.optional_text("linked_trade_id", self.linked_trade_id, max_length=128),
        )
        self._set("account_id", v.optional_text("account_id", self.account_id, max_length=64))
        self._set("created_at", v.utc("created_at", self.created_at))
        self._set("updated_at", v.optional_utc("updated_at", self.updated_at))
        self._set("id", _id("id", self.id))


@dataclass(frozen=True, slots=True)
class WatchlistItem(_Entity):
    """One ticker on a watchlist."""

    ticker: str
    added_at: dt.datetime = field(default_factory=v.now_utc)
    notes: str | None = None
    id: int | None = None
    watchlist_id: int | None = None

    def __post_init__(self) -> None:
        self._set("ticker", v.text("ticker", self.ticker, max_length=64))
        self._set("added_at", v.utc("added_at", self.added_at))
        self._set("notes", v.optional_text("notes", self.notes))
        self._set("id", _id("id", self.id))
        self._set("watchlist_id", _id("watchlist_id", self.watchlist_id))


@dataclass(frozen=True, slots=True)
class Watchlist(_Entity):
    """A named collection of tickers; its items are part of the aggregate."""

    name: str
    description: str | None = None
    items: list[WatchlistItem] = field(default_factory=list)
    created_at: dt.datetime = field(default_factory=v.now_utc)
    updated_at: dt.datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        self._set("name", v.text("name", self.name, max_length=200))
        self._set("description", v.optional_text("description", self.description))
        raw_items: object = self.items
        if not isinstance(raw_items, list | tuple):
            raise v.fail("items", raw_items, "must be a list of WatchlistItem")
        items = list(raw_items)
        seen: set[str] = set()
        for index, item in enumerate(items):
            if not isinstance(item, WatchlistItem):
                raise v.fail(f"items[{index}]", item, "must be a WatchlistItem")
            if item.ticker in seen:
                raise v.fail(f"items[{index}].ticker", item.ticker, "is already on the watchlist")
            seen.add(item.ticker)
        self._set("items", items)
        self._set("created_at", v.utc("created_at", self.created_at))
        self._set("updated_at", v.optional_utc("updated_at", self.updated_at))
        self._set("id", _id("id", self.id))


@dataclass(frozen=True, slots=True)
class BalanceSnapshot(_Entity):
    """An account's balance at one moment."""

    account_id: str
    datetime: dt.datetime
    balance: Decimal
    id: int | None = None

    def __post_init__(self) -> None:
        self._set("account_id", v.text("account_id", self.account_id, max_length=64))
        self._set("datetime", v.utc("datetime", self.datetime))
        self._set("balance", v.exact("balance", self.balance, scale=MONEY))
        self._set("id", _id("id", self.id))


@dataclass(frozen=True, slots=True)
class Setting(_Entity):
    """A user's override of one setting, stored as text typed by `value_type`."""

    key: str
    value: str | None
    value_type: SettingValueType | None = None
    updated_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        self._set("key", v.text("key", self.key, max_length=200))
        self._set("value", v.optional_text("value", self.value))
        self._set("value_type", v.optional_choice("value_type", self.value_type, SettingValueType))
        self._set("updated_at", v.optional_utc("updated_at", self.updated_at))


@dataclass(frozen=True, slots=True)
class AppDefault(_Entity):
    """The application's default for one setting key."""

    key: str
    value: str
    value_type: SettingValueType
    category: str
    description: str | None = None
    updated_at: dt.datetime = field(default_factory=v.now_utc)

    def __post_init__(self) -> None:
        self._set("key", v.text("key", self.key, max_length=200))
        self._set("value", v.raw_text("value", self.value))
        self._set("value_type", v.choice("value_type", self.value_type, SettingValueType))
        self._set("category", v.text("category", self.category, max_length=50))
        self._set("description", v.optional_text("description", self.description))
        self._set("updated_at", v.utc("updated_at", self.updated_at))


@dataclass(frozen=True, slots=True)
class MarketProviderSetting(_Entity):
    """A market-data provider's configuration.

    The API key is never part of the entity: the repository stores it encrypted and hands
    it out only through its explicit `get_api_key` method. `has_api_key` says whether one
    is stored.
    """

    provider_name: str
    rate_limit: int = 5
    timeout: int = 30
    is_enabled: bool = False
    last_tested_at: dt.datetime | None = None
    last_test_status: str | None = None
    created_at: dt.datetime = field(default_factory=v.now_utc)
    updated_at: dt.datetime | None = None
    has_api_key: bool = False

    def __post_init__(self) -> None:
        self._set("provider_name", v.text("provider_name", self.provider_name, max_length=100))
        self._set("rate_limit", v.integer("rate_limit", self.rate_limit, minimum=1))
        self._set("timeout", v.integer("timeout", self.timeout, minimum=1, maximum=3600))
        self._set("is_enabled", v.boolean("is_enabled", self.is_enabled))
        self._set("last_tested_at", v.optional_utc("last_tested_at", self.last_tested_at))
        self._set(
            "last_test_status",
            v.optional_text("last_test_status", self.last_test_status, max_length=50),
        )
        self._set("created_at", v.utc("created_at", self.created_at))
        self._set("updated_at", v.optional_utc("updated_at", self.updated_at))
        self._set("has_api_key", v.boolean("has_api_key", self.has_api_key))


@dataclass(frozen=True, slots=True)
class McpGuardState(_Entity):
    """The MCP circuit breaker's single row."""

    is_enabled: bool = False
    is_locked: bool = False
    locked_at: dt.datetime | None = None
    lock_reason: str | None = None
    calls_per_minute_limit: int = 60
    calls_per_hour_limit: int = 500
    updated_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        self._set("is_enabled", v.boolean("is_enabled", self.is_enabled))
        self._set("is_locked", v.boolean("is_locked", self.is_locked))
        self._set("locked_at", v.optional_utc("locked_at", self.locked_at))
        self._set("lock_reason", v.optional_text("lock_reason", self.lock_reason, max_length=100))
        self._set(
            "calls_per_minute_limit",
            v.integer("calls_per_minute_limit", self.calls_per_minute_limit, minimum=1),
        )
        self._set(
            "calls_per_hour_limit",
            v.integer("calls_per_hour_limit", self.calls_per_hour_limit, minimum=1),
        )
        self._set("updated_at", v.optional_utc("updated_at", self.updated_at))


@dataclass(frozen=True, slots=True)
class RoundTrip(_Entity):
    """Entry and exit executions grouped into one position's life."""

    account_id: str
    instrument: str
    direction: TradeAction
    entry_exec_ids: list[str]
    entry_avg_price: Decimal
    total_quantity: Decimal
    opened_at: dt.datetime
    exit_exec_ids: list[str] | None = None
    exit_avg_price: Decimal | None = None
    realized_pnl: Decimal | None = None
    total_commission: Decimal = ZERO
    closed_at: dt.datetime | None = None
    status: RoundTripStatus = RoundTripStatus.OPEN
    holding_period_seconds: int | None = None
    id: int | None = None
    currency: str | None = None
    """The executions' currency (None: the account's)."""

    def __post_init__(self) -> None:
        self._set("account_id", v.text("account_id", self.account_id, max_length=64))
        self._set("instrument", v.text("instrument", self.instrument, max_length=64))
        self._set("direction", v.choice("direction", self.direction, TradeAction))
        if self.currency is not None:
            self._set("currency", v.currency("currency", self.currency))
        self._set(
            "entry_exec_ids", v.text_list("entry_exec_ids", self.entry_exec_ids, non_empty=True)
        )
        self._set(
            "entry_avg_price",
            v.exact("entry_avg_price", self.entry_avg_price, scale=PRICE, minimum=ZERO),
        )
        self._set(
            "total_quantity",
            v.exact(
                "total_quantity",
                self.total_quantity,
                scale=PRICE,
                minimum=ZERO,
                exclusive_minimum=True,
            ),
        )
        self._set("opened_at", v.utc("opened_at", self.opened_at))
        self._set("exit_exec_ids", v.optional_text_list("exit_exec_ids", self.exit_exec_ids))
        self._set(
            "exit_avg_price",
            v.optional_exact("exit_avg_price", self.exit_avg_price, scale=PRICE, minimum=ZERO),
        )
        self._set("realized_pnl", v.optional_exact("realized_pnl", self.realized_pnl, scale=MONEY))
        self._set(
            "total_commission", v.exact("total_commission", self.total_commission, scale=MONEY)
        )
        closed_at = v.optional_utc("closed_at", self.closed_at)
        if closed_at is not None and closed_at < self.opened_at:
            raise v.fail("closed_at", self.closed_at, "must not be before opened_at")
        self._set("closed_at", closed_at)
        self._set("status", v.choice("status", self.status, RoundTripStatus))
        self._set(
            "holding_period_seconds",
            v.optional_integer("holding_period_seconds", self.holding_period_seconds, minimum=0),
        )
        self._set("id", _id("id", self.id))


@dataclass(frozen=True, slots=True)
class ExcursionMetrics(_Entity):
    """Maximum favourable/adverse excursion of one trade (one-to-one with the trade)."""

    trade_exec_id: str
    mfe_dollars: Decimal | None = None
    mfe_pct: Decimal | None = None
    mae_dollars: Decimal | None = None
    mae_pct: Decimal | None = None
    bso_pct: Decimal | None = None
    data_source: str | None = None
    computed_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        self._set("trade_exec_id", v.text("trade_exec_id", self.trade_exec_id, max_length=128))
        for name in ("mfe_dollars", "mfe_pct", "mae_dollars", "mae_pct", "bso_pct"):
            self._set(name, v.optional_exact(name, getattr(self, name), scale=MONEY))
        self._set("data_source", v.optional_text("data_source", self.data_source, max_length=100))
        self._set("computed_at", v.optional_utc("computed_at", self.computed_at))


@dataclass(frozen=True, slots=True)
class IdentifierMapping(_Entity):
    """A cached CUSIP/ISIN/SEDOL/FIGI to ticker resolution."""

    id_type: IdentifierType
    id_value: str
    ticker: str
    source: str
    exchange: str | None = None
    security_type: str | None = None
    confidence: Decimal = ONE
    resolved_at: dt.datetime = field(default_factory=v.now_utc)
    expires_at: dt.datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        self._set("id_type", v.choice("id_type", self.id_type, IdentifierType))
        self._set("id_value", v.text("id_value", self.id_value, max_length=20))
        self._set("ticker", v.text("ticker", self.ticker, max_length=64))
        self._set("source", v.text("source", self.source, max_length=50))
        self._set("exchange", v.optional_text("exchange", self.exchange, max_length=50))
        self._set(
            "security_type", v.optional_text("security_type", self.security_type, max_length=50)
        )
        self._set(
            "confidence",
            v.exact("confidence", self.confidence, scale=MONEY, minimum=ZERO, maximum=ONE),
        )
        self._set("resolved_at", v.utc("resolved_at", self.resolved_at))
        self._set("expires_at", v.optional_utc("expires_at", self.expires_at))
        self._set("id", _id("id", self.id))

    def is_expired(self, at: dt.datetime) -> bool:
        """Whether the mapping is stale at the aware time `at`."""
        return self.expires_at is not None and self.expires_at <= v.utc("at", at)


@dataclass(frozen=True, slots=True)
class LedgerEntry(_Entity):
    """One fee component of a trade."""

    trade_exec_id: str
    fee_type: FeeType
    amount: Decimal
    currency: str = "USD"
    description: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        self._set("trade_exec_id", v.text("trade_exec_id", self.trade_exec_id, max_length=128))
        self._set("fee_type", v.choice("fee_type", self.fee_type, FeeType))
        self._set("amount", v.exact("amount", self.amount, scale=MONEY))
        self._set("currency", v.currency("currency", self.currency))
        self._set("description", v.optional_text("description", self.description))
        self._set("id", _id("id", self.id))


@dataclass(frozen=True, slots=True)
class OptionsStrategy(_Entity):
    """Several option legs (executions) grouped as one strategy."""

    strategy_type: StrategyType
    underlying: str
    leg_exec_ids: list[str]
    name: str | None = None
    net_debit_credit: Decimal | None = None
    max_profit: Decimal | None = None
    max_loss: Decimal | None = None
    breakeven_prices: list[Decimal] | None = None
    created_at: dt.datetime = field(default_factory=v.now_utc)
    id: int | None = None

    def __post_init__(self) -> None:
        self._set("strategy_type", v.choice("strategy_type", self.strategy_type, StrategyType))
        self._set("underlying", v.text("underlying", self.underlying, max_length=64))
        self._set("leg_exec_ids", v.text_list("leg_exec_ids", self.leg_exec_ids, non_empty=True))
        self._set("name", v.optional_text("name", self.name, max_length=200))
        for name in ("net_debit_credit", "max_profit", "max_loss"):
            self._set(name, v.optional_exact(name, getattr(self, name), scale=MONEY))
        if self.breakeven_prices is not None:
            raw: object = self.breakeven_prices
            if isinstance(raw, str | bytes) or not isinstance(raw, list | tuple):
                raise v.fail("breakeven_prices", raw, "must be a list")
            prices = [
                v.exact(f"breakeven_prices[{index}]", price, scale=PRICE, minimum=ZERO)
                for index, price in enumerate(raw)
            ]
            self._set("breakeven_prices", prices)
        self._set("created_at", v.utc("created_at", self.created_at))
        self._set("id", _id("id", self.id))


@dataclass(frozen=True, slots=True)
class MistakeEntry(_Entity):
    """A categorised mistake on a trade, with its estimated cost."""

    trade_id: str
    category: MistakeCategory
    estimated_cost: Decimal | None = None
    notes: str | None = None
    auto_detected: bool = False
    created_at: dt.datetime = field(default_factory=v.now_utc)
    id: int | None = None

    def __post_init__(self) -> None:
        self._set("trade_id", v.text("trade_id", self.trade_id, max_length=128))
        self._set("category", v.choice("category", self.category, MistakeCategory))
        self._set(
            "estimated_cost", v.optional_exact("estimated_cost", self.estimated_cost, scale=MONEY)
        )
        self._set("notes", v.optional_text("notes", self.notes))
        self._set("auto_detected", v.boolean("auto_detected", self.auto_detected))
        self._set("created_at", v.utc("created_at", self.created_at))
        self._set("id", _id("id", self.id))


@dataclass(frozen=True, slots=True)
class BrokerConfig(_Entity):
    """A broker's constraints: pattern-day-trader rule, settlement, leverage, routing."""

    broker_id: str
    name: str
    pdt_rule: bool = True
    pdt_threshold: Decimal = Decimal(25000)
    settlement_days: int = 1
    max_leverage: dict[str, Any] | None = None
    routing_type: RoutingType | None = None
    commission_schedule: dict[str, Any] | None = None
    supported_order_types: list[str] | None = None
    supported_asset_classes: list[str] | None = None
    trading_hours: dict[str, Any] | None = None
    created_at: dt.datetime = field(default_factory=v.now_utc)
    updated_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        self._set("broker_id", v.text("broker_id", self.broker_id, max_length=64))
        self._set("name", v.text("name", self.name, max_length=200))
        self._set("pdt_rule", v.boolean("pdt_rule", self.pdt_rule))
        self._set(
            "pdt_threshold",
            v.exact("pdt_threshold", self.pdt_threshold, scale=MONEY, minimum=ZERO),
        )
        self._set(
            "settlement_days",
            v.integer("settlement_days", self.settlement_days, minimum=0, maximum=30),
        )
        for name in ("max_leverage", "commission_schedule", "trading_hours"):
            self._set(name, v.optional_json_object(name, getattr(self, name)))
        self._set("routing_type", v.optional_choice("routing_type", self.routing_type, RoutingType))
        for name in ("supported_order_types", "supported_asset_classes"):
            self._set(name, v.optional_text_list(name, getattr(self, name)))
        self._set("created_at", v.utc("created_at", self.created_at))
        self._set("updated_at", v.optional_utc("updated_at", self.updated_at))


@dataclass(frozen=True, slots=True)
class BankTransaction(_Entity):
    """One imported bank statement line; `dedup_hash` makes re-imports idempotent."""

    account_id: str
    date: dt.datetime
    description: str
    amount: Decimal
    dedup_hash: str
    source: BalanceSource
    post_date: dt.datetime | None = None
    category: TransactionCategory | None = None
    reference_id: str | None = None
    import_batch_id: str | None = None
    created_at: dt.datetime = field(default_factory=v.now_utc)
    id: int | None = None

    def __post_init__(self) -> None:
        self._set("account_id", v.text("account_id", self.account_id, max_length=64))
        self._set("date", v.utc("date", self.date))
        self._set("description", v.text("description", self.description))
        self._set("amount", v.exact("amount", self.amount, scale=MONEY))
        self._set("dedup_hash", v.text("dedup_hash", self.dedup_hash, max_length=32))
        self._set("source", v.choice("source", self.source, BalanceSource))
        self._set("post_date", v.optional_utc("post_date", self.post_date))
        self._set("category", v.optional_choice("category", self.category, TransactionCategory))
        self._set(
            "reference_id", v.optional_text("reference_id", self.reference_id, max_length=100)
        )
        self._set(
            "import_batch_id",
            v.optional_text("import_batch_id", self.import_batch_id, max_length=64),
        )
        self._set("created_at", v.utc("created_at", self.created_at))
        self._set("id", _id("id", self.id))


@dataclass(frozen=True, slots=True)
class BankImportConfig(_Entity):
    """How one bank's CSV/OFX export maps onto bank transactions."""

    bank_id: str
    name: str
    config: dict[str, Any]
    country: str = "US"
    created_at: dt.datetime = field(default_factory=v.now_utc)
    updated_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        self._set("bank_id", v.text("bank_id", self.bank_id, max_length=64))
        self._set("name", v.text("name", self.name, max_length=200))
        self._set("config", v.json_object("config", self.config))
        self._set("country", v.country("country", self.country))
        self._set("created_at", v.utc("created_at", self.created_at))
        self._set("updated_at", v.optional_utc("updated_at", self.updated_at))
