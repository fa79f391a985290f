"""The journal's schema: the seed's 21 tables in SQLAlchemy 2 declarative form.

Table and column names, nullability and defaults follow the build plan's Phase 2 seed.
Differences on purpose: money and quantities use exact types, times are UTC-aware, strings
have the lengths the domain enforces, foreign keys say what happens on delete, and the
indexes real queries need exist. Decisions: docs/decisions/.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, foreign, mapped_column, relationship

from zorivest_infra.database.types import JSONText, Money, Price, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Lengths shared with the domain's validation (zorivest_core.domain.entities).
EXEC_ID = 128
ACCOUNT_ID = 64
SYMBOL = 64
NAME = 200

# `sqlite_autoincrement` (images, trade_reports, trade_plans, watchlists): SQLite then never
# hands out the id of a deleted row again. Images refer to reports and plans by `str(id)`,
# and callers keep report, plan, watchlist and image ids: a reused id would silently point
# at another row. PostgreSQL sequences never reuse ids anyway.


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TradeModel(Base):
    __tablename__ = "trades"
    __table_args__ = (
        # Newest-first listing and keyset paging of one account, with exec_id as tie-break.
        Index("ix_trades_account_id_time", "account_id", "time", "exec_id"),
        Index("ix_trades_instrument_time", "instrument", "time"),
        # One pair's executions in matching order (round trips); revision 0004.
        Index(
            "ix_trades_account_id_instrument_time", "account_id", "instrument", "time", "exec_id"
        ),
    )

    exec_id: Mapped[str] = mapped_column(String(EXEC_ID), primary_key=True)
    time: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    instrument: Mapped[str] = mapped_column(String(SYMBOL), nullable=False)
    action: Mapped[str] = mapped_column(String(3), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Price, nullable=False)
    price: Mapped[Decimal] = mapped_column(Price, nullable=False)
    account_id: Mapped[str] = mapped_column(
        String(ACCOUNT_ID), ForeignKey("accounts.account_id", ondelete="RESTRICT"), nullable=False
    )
    commission: Mapped[Decimal | None] = mapped_column(Money, default=Decimal(0))
    realized_pnl: Mapped[Decimal | None] = mapped_column(Money, default=Decimal(0))
    # Instrument details (revision 0002); NULL where a statement did not say.
    asset_class: Mapped[str | None] = mapped_column(String(10), nullable=True)
    multiplier: Mapped[Decimal | None] = mapped_column(Price, nullable=True)
    underlying: Mapped[str | None] = mapped_column(String(SYMBOL), nullable=True)
    expiry: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    strike: Mapped[Decimal | None] = mapped_column(Price, nullable=True)
    option_right: Mapped[str | None] = mapped_column(String(1), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    fx_rate: Mapped[Decimal | None] = mapped_column(Price, nullable=True)

    images: Mapped[list[ImageModel]] = relationship(
        primaryjoin=lambda: and_(
            ImageModel.owner_type == "trade", foreign(ImageModel.owner_id) == TradeModel.exec_id
        ),
        viewonly=True,
    )
    report: Mapped[TradeReportModel | None] = relationship(
        back_populates="trade", uselist=False, passive_deletes=True
    )
    account_rel: Mapped[AccountModel] = relationship(back_populates="trades")


class ImageModel(Base):
    __tablename__ = "images"
    __table_args__ = (
        Index("ix_images_owner_type_owner_id", "owner_type", "owner_id"),
        {"sqlite_autoincrement": True},  # ids are never reused
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_type: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    owner_id: Mapped[str] = mapped_column(String(EXEC_ID), nullable=False, index=True)
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    mime_type: Mapped[str | None] = mapped_column(String(50), default="image/webp")
    caption: Mapped[str | None] = mapped_column(Text, nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    file_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    # Last on purpose: SQLite stores a row's columns in order and must walk a BLOB's whole
    # overflow-page chain to reach any column after it. With the image bytes last, listings
    # (metadata + thumbnail) never load or decrypt the pages of the image itself.
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class AccountModel(Base):
    __tablename__ = "accounts"

    account_id: Mapped[str] = mapped_column(String(ACCOUNT_ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), nullable=False)
    account_type: Mapped[str] = mapped_column(String(20), nullable=False)
    institution: Mapped[str | None] = mapped_column(String(NAME), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), default="USD")
    is_tax_advantaged: Mapped[bool | None] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)

    trades: Mapped[list[TradeModel]] = relationship(back_populates="account_rel")
    balance_snapshots: Mapped[list[BalanceSnapshotModel]] = relationship(
        back_populates="account_rel"
    )


class TradeReportModel(Base):
    __tablename__ = "trade_reports"
    __table_args__ = ({"sqlite_autoincrement": True},)  # ids are never reused

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trade_id: Mapped[str] = mapped_column(
        String(EXEC_ID),
        ForeignKey("trades.exec_id", ondelete="CASCADE"),
        unique=True,
        nullable=False,
    )
    setup_quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    execution_quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    followed_plan: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    emotional_state: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lessons_learned: Mapped[str | None] = mapped_column(Text, nullable=True)
    tags: Mapped[list[str] | None] = mapped_column(JSONText, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)

    trade: Mapped[TradeModel] = relationship(back_populates="report")


class TradePlanModel(Base):
    __tablename__ = "trade_plans"
    __table_args__ = ({"sqlite_autoincrement": True},)  # ids are never reused

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticker: Mapped[str] = mapped_column(String(SYMBOL), nullable=False, index=True)
    direction: Mapped[str] = mapped_column(String(3), nullable=False)
    conviction: Mapped[str] = mapped_column(String(10), nullable=False)
    strategy_name: Mapped[str | None] = mapped_column(String(NAME), nullable=True)
    strategy_description: Mapped[str | None] = mapped_column(Text, nullable=True)
    entry_price: Mapped[Decimal | None] = mapped_column(Price, nullable=True)
    stop_loss: Mapped[Decimal | None] = mapped_column(Price, nullable=True)
    target_price: Mapped[Decimal | None] = mapped_column(Price, nullable=True)
    entry_conditions: Mapped[str | None] = mapped_column(Text, nullable=True)
    exit_conditions: Mapped[str | None] = mapped_column(Text, nullable=True)
    timeframe: Mapped[str | None] = mapped_column(String(50), nullable=True)
    status: Mapped[str | None] = mapped_column(String(15), default="draft")
    linked_trade_id: Mapped[str | None] = mapped_column(
        String(EXEC_ID),
        ForeignKey("trades.exec_id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    )
    account_id: Mapped[str | None] = mapped_column(
        String(ACCOUNT_ID),
        ForeignKey("accounts.account_id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WatchlistModel(Base):
    __tablename__ = "watchlists"
    __table_args__ = ({"sqlite_autoincrement": True},)  # ids are never reused

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    items: Mapped[list[WatchlistItemModel]] = relationship(
        back_populates="watchlist",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="WatchlistItemModel.id",
    )


class WatchlistItemModel(Base):
    __tablename__ = "watchlist_items"
    __table_args__ = (UniqueConstraint("watchlist_id", "ticker"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    watchlist_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("watchlists.id", ondelete="CASCADE"), nullable=False
    )
    ticker: Mapped[str] = mapped_column(String(SYMBOL), nullable=False)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)

    watchlist: Mapped[WatchlistModel] = relationship(back_populates="items")


class BalanceSnapshotModel(Base):
    __tablename__ = "balance_snapshots"
    __table_args__ = (Index("ix_balance_snapshots_account_id_datetime", "account_id", "datetime"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        String(ACCOUNT_ID), ForeignKey("accounts.account_id", ondelete="RESTRICT"), nullable=False
    )
    datetime: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    balance: Mapped[Decimal] = mapped_column(Money, nullable=False)

    account_rel: Mapped[AccountModel] = relationship(back_populates="balance_snapshots")


class SettingModel(Base):
    """User-level setting overrides; keys are namespaced dot notation (ui.theme, ...)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    value_type: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AppDefaultModel(Base):
    """Application defaults, seeded by the baseline migration."""

    __tablename__ = "app_defaults"

    key: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    value_type: Mapped[str] = mapped_column(String(20), nullable=False)
    category: Mapped[str] = mapped_column(String(50), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)


class MarketProviderSettingModel(Base):
    """Market data provider configuration; the API key is Fernet-encrypted ("ENC:" prefix)."""

    __tablename__ = "market_provider_settings"

    provider_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    encrypted_api_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    rate_limit: Mapped[int | None] = mapped_column(Integer, default=5)
    timeout: Mapped[int | None] = mapped_column(Integer, default=30)
    is_enabled: Mapped[bool | None] = mapped_column(Boolean, default=False)
    last_tested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_test_status: Mapped[str | None] = mapped_column(String(50), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class McpGuardModel(Base):
    """Singleton row (id 1): circuit-breaker state for MCP tool access."""

    __tablename__ = "mcp_guard"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    is_enabled: Mapped[bool | None] = mapped_column(Boolean, default=False)
    is_locked: Mapped[bool | None] = mapped_column(Boolean, default=False)
    locked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lock_reason: Mapped[str | None] = mapped_column(String(100), nullable=True)
    calls_per_minute_limit: Mapped[int | None] = mapped_column(Integer, default=60)
    calls_per_hour_limit: Mapped[int | None] = mapped_column(Integer, default=500)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RoundTripModel(Base):
    """Entry and exit executions grouped into complete round trips."""

    __tablename__ = "round_trips"
    __table_args__ = (
        Index("ix_round_trips_account_id_instrument", "account_id", "instrument", "opened_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        String(ACCOUNT_ID), ForeignKey("accounts.account_id", ondelete="RESTRICT"), nullable=False
    )
    instrument: Mapped[str] = mapped_column(String(SYMBOL), nullable=False, index=True)
    direction: Mapped[str] = mapped_column(String(3), nullable=False)
    entry_exec_ids: Mapped[list[str]] = mapped_column(JSONText, nullable=False)
    exit_exec_ids: Mapped[list[str] | None] = mapped_column(JSONText, nullable=True)
    entry_avg_price: Mapped[Decimal] = mapped_column(Price, nullable=False)
    exit_avg_price: Mapped[Decimal | None] = mapped_column(Price, nullable=True)
    total_quantity: Mapped[Decimal] = mapped_column(Price, nullable=False)
    realized_pnl: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    total_commission: Mapped[Decimal | None] = mapped_column(Money, default=Decimal(0))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str | None] = mapped_column(String(10), default="open")
    holding_period_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The executions' currency when they name one (NULL: the account's); revision 0004.
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)


class ExcursionMetricsModel(Base):
    """MFE/MAE/BSO enrichment, one row per trade."""

    __tablename__ = "excursion_metrics"

    trade_exec_id: Mapped[str] = mapped_column(
        String(EXEC_ID), ForeignKey("trades.exec_id", ondelete="CASCADE"), primary_key=True
    )
    mfe_dollars: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    mfe_pct: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    mae_dollars: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    mae_pct: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    bso_pct: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    data_source: Mapped[str | None] = mapped_column(String(100), nullable=True)
    computed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IdentifierCacheModel(Base):
    """CUSIP/ISIN/SEDOL/FIGI to ticker resolution cache."""

    __tablename__ = "identifier_cache"
    __table_args__ = (UniqueConstraint("id_type", "id_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id_type: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    id_value: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    ticker: Mapped[str] = mapped_column(String(SYMBOL), nullable=False)
    exchange: Mapped[str | None] = mapped_column(String(50), nullable=True)
    security_type: Mapped[str | None] = mapped_column(String(50), nullable=True)
    source: Mapped[str] = mapped_column(String(50), nullable=False)
    confidence: Mapped[Decimal | None] = mapped_column(Money, default=Decimal(1))
    resolved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TransactionLedgerModel(Base):
    """Per-trade fee decomposition."""

    __tablename__ = "transaction_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trade_exec_id: Mapped[str] = mapped_column(
        String(EXEC_ID),
        ForeignKey("trades.exec_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    fee_type: Mapped[str] = mapped_column(String(20), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    currency: Mapped[str | None] = mapped_column(String(3), default="USD")
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class OptionsStrategyModel(Base):
    """Multi-leg options grouping."""

    __tablename__ = "options_strategies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str | None] = mapped_column(String(NAME), nullable=True)
    strategy_type: Mapped[str] = mapped_column(String(20), nullable=False)
    underlying: Mapped[str] = mapped_column(String(SYMBOL), nullable=False, index=True)
    leg_exec_ids: Mapped[list[str]] = mapped_column(JSONText, nullable=False)
    net_debit_credit: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    max_profit: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    max_loss: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    breakeven_prices: Mapped[list[str] | None] = mapped_column(JSONText, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)


class MistakeEntryModel(Base):
    """Trade mistake categorisation with cost attribution."""

    __tablename__ = "mistake_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trade_id: Mapped[str] = mapped_column(
        String(EXEC_ID),
        ForeignKey("trades.exec_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    category: Mapped[str] = mapped_column(String(30), nullable=False)
    estimated_cost: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    auto_detected: Mapped[bool | None] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)


class BrokerConfigModel(Base):
    """Broker constraints and configuration."""

    __tablename__ = "broker_configs"

    broker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), nullable=False)
    pdt_rule: Mapped[bool | None] = mapped_column(Boolean, default=True)
    pdt_threshold: Mapped[Decimal | None] = mapped_column(Money, default=Decimal(25000))
    settlement_days: Mapped[int | None] = mapped_column(Integer, default=1)
    max_leverage: Mapped[dict[str, Any] | None] = mapped_column(JSONText, nullable=True)
    routing_type: Mapped[str | None] = mapped_column(String(10), nullable=True)
    commission_schedule: Mapped[dict[str, Any] | None] = mapped_column(JSONText, nullable=True)
    supported_order_types: Mapped[list[str] | None] = mapped_column(JSONText, nullable=True)
    supported_asset_classes: Mapped[list[str] | None] = mapped_column(JSONText, nullable=True)
    trading_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONText, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class BankTransactionModel(Base):
    """An imported bank statement transaction."""

    __tablename__ = "bank_transactions"
    __table_args__ = (UniqueConstraint("account_id", "dedup_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        String(ACCOUNT_ID),
        ForeignKey("accounts.account_id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    )
    date: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    post_date: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    category: Mapped[str | None] = mapped_column(String(30), nullable=True)
    reference_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    dedup_hash: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    import_batch_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)


class BankImportConfigModel(Base):
    """Bank-specific CSV/OFX column mapping."""

    __tablename__ = "bank_import_configs"

    bank_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), nullable=False)
    country: Mapped[str | None] = mapped_column(String(2), default="US")
    config: Mapped[dict[str, Any]] = mapped_column(JSONText, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


ALL_MODELS: tuple[type[Base], ...] = (
    TradeModel,
    ImageModel,
    AccountModel,
    TradeReportModel,
    TradePlanModel,
    WatchlistModel,
    WatchlistItemModel,
    BalanceSnapshotModel,
    SettingModel,
    AppDefaultModel,
    MarketProviderSettingModel,
    McpGuardModel,
    RoundTripModel,
    ExcursionMetricsModel,
    IdentifierCacheModel,
    TransactionLedgerModel,
    OptionsStrategyModel,
    MistakeEntryModel,
    BrokerConfigModel,
    BankTransactionModel,
    BankImportConfigModel,
)
