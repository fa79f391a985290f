"""Baseline: the journal's 21 tables, the application defaults and the MCP guard row.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Frozen history: this file does not import the models (they will change; this revision must
not), and the seeded rows are written out here rather than taken from a module. The column
types are the storage types of zorivest_infra.database.types, spelled in plain SQLAlchemy:

- exact decimals: NUMERIC(18, scale) on PostgreSQL, scaled 64-bit integers on SQLite;
- UTC datetimes: TIMESTAMP WITH TIME ZONE on PostgreSQL, DATETIME (UTC text) on SQLite;
- JSON documents: TEXT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _price() -> sa.types.TypeEngine[Any]:
    """Prices and quantities: 10 decimal places."""
    return sa.Numeric(18, 10).with_variant(sa.BigInteger(), "sqlite")


def _money() -> sa.types.TypeEngine[Any]:
    """Money and percentages: 6 decimal places."""
    return sa.Numeric(18, 6).with_variant(sa.BigInteger(), "sqlite")


def _utc() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.Text()


# key, value, value_type, category, description (APP-DEFAULTS.md as of this revision).
APP_DEFAULTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("dialog.confirm_delete", "true", "bool", "dialog", "Confirm before deleting"),
    ("dialog.confirm_restore", "true", "bool", "dialog", "Confirm before restoring"),
    ("dialog.confirm_clear_data", "true", "bool", "dialog", "Confirm clearing data"),
    ("dialog.confirm_export", "true", "bool", "dialog", "Confirm before exporting"),
    ("dialog.confirm_import", "true", "bool", "dialog", "Confirm before importing"),
    (
        "logging.trades.level",
        "INFO",
        "str",
        "logging",
        "Trade log level: DEBUG, INFO, WARNING, ERROR, CRITICAL",
    ),
    (
        "logging.api.level",
        "INFO",
        "str",
        "logging",
        "API log level: DEBUG, INFO, WARNING, ERROR, CRITICAL",
    ),
    ("logging.rotation_mb", "10", "int", "logging", "Log file size before rotation (1-500 MB)"),
    ("logging.backup_count", "5", "int", "logging", "Rotated log files kept (1-50)"),
    ("display.hide_dollars", "false", "bool", "display", "Hide dollar amounts"),
    ("display.hide_percentages", "false", "bool", "display", "Hide percentages"),
    ("display.percent_mode", "daily", "str", "display", "Percent mode: daily or total"),
    (
        "backup.auto_interval_seconds",
        "300",
        "int",
        "backup",
        "Seconds between automatic backups (60-86400)",
    ),
    (
        "backup.auto_change_threshold",
        "100",
        "int",
        "backup",
        "Changes that trigger an automatic backup (1-10000)",
    ),
    ("backup.compression_enabled", "true", "bool", "backup", "Compress backups"),
    ("backup.max_age_days", "90", "int", "backup", "Days backups are kept (1-3650)"),
    ("ui.theme", "dark", "str", "ui", "Theme: light or dark"),
    ("ui.activePage", "/", "str", "ui", "Last active page (at most 256 characters)"),
    ("ui.sidebar.width", "280", "int", "ui", "Sidebar width in pixels (150-600)"),
    (
        "notification.success.enabled",
        "true",
        "bool",
        "notification",
        "Show success notifications",
    ),
    ("notification.info.enabled", "true", "bool", "notification", "Show info notifications"),
    ("notification.warning.enabled", "true", "bool", "notification", "Show warnings"),
    (
        "notification.confirmation.enabled",
        "true",
        "bool",
        "notification",
        "Show confirmation notifications",
    ),
)


def _create_tables() -> None:
    # Tables without foreign keys first, then their dependants.
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("account_type", sa.String(20), nullable=False),
        sa.Column("institution", sa.String(200), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("is_tax_advantaged", sa.Boolean(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "app_defaults",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_type", sa.String(20), nullable=False),
        sa.Column("category", sa.String(50), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_defaults")),
    )
    op.create_table(
        "bank_import_configs",
        sa.Column("bank_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("config", _json(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("bank_id", name=op.f("pk_bank_import_configs")),
    )
    op.create_table(
        "broker_configs",
        sa.Column("broker_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("pdt_rule", sa.Boolean(), nullable=True),
        sa.Column("pdt_threshold", _money(), nullable=True),
        sa.Column("settlement_days", sa.Integer(), nullable=True),
        sa.Column("max_leverage", _json(), nullable=True),
        sa.Column("routing_type", sa.String(10), nullable=True),
        sa.Column("commission_schedule", _json(), nullable=True),
        sa.Column("supported_order_types", _json(), nullable=True),
        sa.Column("supported_asset_classes", _json(), nullable=True),
        sa.Column("trading_hours", _json(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("broker_id", name=op.f("pk_broker_configs")),
    )
    op.create_table(
        "identifier_cache",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id_type", sa.String(10), nullable=False),
        sa.Column("id_value", sa.String(20), nullable=False),
        sa.Column("ticker", sa.String(64), nullable=False),
        sa.Column("exchange", sa.String(50), nullable=True),
        sa.Column("security_type", sa.String(50), nullable=True),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("confidence", _money(), nullable=True),
        sa.Column("resolved_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identifier_cache")),
        sa.UniqueConstraint(
            "id_type", "id_value", name=op.f("uq_identifier_cache_id_type_id_value")
        ),
    )
    op.create_index(op.f("ix_identifier_cache_id_type"), "identifier_cache", ["id_type"])
    op.create_index(op.f("ix_identifier_cache_id_value"), "identifier_cache", ["id_value"])
    op.create_table(
        "images",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_type", sa.String(20), nullable=False),
        sa.Column("owner_id", sa.String(128), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=True),
        sa.Column("mime_type", sa.String(50), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_images_owner_id"), "images", ["owner_id"])
    op.create_index(op.f("ix_images_owner_type"), "images", ["owner_type"])
    op.create_index(op.f("ix_images_owner_type_owner_id"), "images", ["owner_type", "owner_id"])
    op.create_table(
        "market_provider_settings",
        sa.Column("provider_name", sa.String(100), nullable=False),
        sa.Column("encrypted_api_key", sa.Text(), nullable=True),
        sa.Column("rate_limit", sa.Integer(), nullable=True),
        sa.Column("timeout", sa.Integer(), nullable=True),
        sa.Column("is_enabled", sa.Boolean(), nullable=True),
        sa.Column("last_tested_at", _utc(), nullable=True),
        sa.Column("last_test_status", sa.String(50), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("provider_name", name=op.f("pk_market_provider_settings")),
    )
    op.create_table(
        "mcp_guard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=True),
        sa.Column("is_locked", sa.Boolean(), nullable=True),
        sa.Column("locked_at", _utc(), nullable=True),
        sa.Column("lock_reason", sa.String(100), nullable=True),
        sa.Column("calls_per_minute_limit", sa.Integer(), nullable=True),
        sa.Column("calls_per_hour_limit", sa.Integer(), nullable=True),
        sa.Column("updated_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mcp_guard")),
    )
    op.create_table(
        "options_strategies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("strategy_type", sa.String(20), nullable=False),
        sa.Column("underlying", sa.String(64), nullable=False),
        sa.Column("leg_exec_ids", _json(), nullable=False),
        sa.Column("net_debit_credit", _money(), nullable=True),
        sa.Column("max_profit", _money(), nullable=True),
        sa.Column("max_loss", _money(), nullable=True),
        sa.Column("breakeven_prices", _json(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_options_strategies")),
    )
    op.create_index(op.f("ix_options_strategies_underlying"), "options_strategies", ["underlying"])
    op.create_table(
        "settings",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("value_type", sa.String(20), nullable=True),
        sa.Column("updated_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "watchlists",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlists")),
        sqlite_autoincrement=True,
    )

    # Referencing accounts.
    op.create_table(
        "balance_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("datetime", _utc(), nullable=False),
        sa.Column("balance", _money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_balance_snapshots_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_snapshots")),
    )
    op.create_index(
        op.f("ix_balance_snapshots_account_id_datetime"),
        "balance_snapshots",
        ["account_id", "datetime"],
    )
    op.create_table(
        "bank_transactions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("date", _utc(), nullable=False),
        sa.Column("post_date", _utc(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.Column("category", sa.String(30), nullable=True),
        sa.Column("reference_id", sa.String(100), nullable=True),
        sa.Column("dedup_hash", sa.String(32), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("import_batch_id", sa.String(64), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_bank_transactions_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_transactions")),
        sa.UniqueConstraint(
            "account_id", "dedup_hash", name=op.f("uq_bank_transactions_account_id_dedup_hash")
        ),
    )
    op.create_index(op.f("ix_bank_transactions_account_id"), "bank_transactions", ["account_id"])
    op.create_index(op.f("ix_bank_transactions_dedup_hash"), "bank_transactions", ["dedup_hash"])
    op.create_index(
        op.f("ix_bank_transactions_import_batch_id"), "bank_transactions", ["import_batch_id"]
    )
    op.create_table(
        "round_trips",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("instrument", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("entry_exec_ids", _json(), nullable=False),
        sa.Column("exit_exec_ids", _json(), nullable=True),
        sa.Column("entry_avg_price", _price(), nullable=False),
        sa.Column("exit_avg_price", _price(), nullable=True),
        sa.Column("total_quantity", _price(), nullable=False),
        sa.Column("realized_pnl", _money(), nullable=True),
        sa.Column("total_commission", _money(), nullable=True),
        sa.Column("opened_at", _utc(), nullable=False),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.Column("status", sa.String(10), nullable=True),
        sa.Column("holding_period_seconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_round_trips_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_trips")),
    )
    op.create_index(
        op.f("ix_round_trips_account_id_instrument"),
        "round_trips",
        ["account_id", "instrument"],
    )
    op.create_index(op.f("ix_round_trips_instrument"), "round_trips", ["instrument"])
    op.create_table(
        "trades",
        sa.Column("exec_id", sa.String(128), nullable=False),
        sa.Column("time", _utc(), nullable=False),
        sa.Column("instrument", sa.String(64), nullable=False),
        sa.Column("action", sa.String(3), nullable=False),
        sa.Column("quantity", _price(), nullable=False),
        sa.Column("price", _price(), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("commission", _money(), nullable=True),
        sa.Column("realized_pnl", _money(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_trades_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("exec_id", name=op.f("pk_trades")),
    )
    op.create_index(op.f("ix_trades_account_id_time"), "trades", ["account_id", "time", "exec_id"])
    op.create_index(op.f("ix_trades_instrument_time"), "trades", ["instrument", "time"])

    # Referencing watchlists.
    op.create_table(
        "watchlist_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("watchlist_id", sa.Integer(), nullable=False),
        sa.Column("ticker", sa.String(64), nullable=False),
        sa.Column("added_at", _utc(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["watchlist_id"],
            ["watchlists.id"],
            name=op.f("fk_watchlist_items_watchlist_id_watchlists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist_items")),
        sa.UniqueConstraint(
            "watchlist_id", "ticker", name=op.f("uq_watchlist_items_watchlist_id_ticker")
        ),
    )

    # Referencing trades.
    op.create_table(
        "excursion_metrics",
        sa.Column("trade_exec_id", sa.String(128), nullable=False),
        sa.Column("mfe_dollars", _money(), nullable=True),
        sa.Column("mfe_pct", _money(), nullable=True),
        sa.Column("mae_dollars", _money(), nullable=True),
        sa.Column("mae_pct", _money(), nullable=True),
        sa.Column("bso_pct", _money(), nullable=True),
        sa.Column("data_source", sa.String(100), nullable=True),
        sa.Column("computed_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trade_exec_id"],
            ["trades.exec_id"],
            name=op.f("fk_excursion_metrics_trade_exec_id_trades"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trade_exec_id", name=op.f("pk_excursion_metrics")),
    )
    op.create_table(
        "mistake_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trade_id", sa.String(128), nullable=False),
        sa.Column("category", sa.String(30), nullable=False),
        sa.Column("estimated_cost", _money(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("auto_detected", sa.Boolean(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trade_id"],
            ["trades.exec_id"],
            name=op.f("fk_mistake_entries_trade_id_trades"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mistake_entries")),
    )
    op.create_index(op.f("ix_mistake_entries_trade_id"), "mistake_entries", ["trade_id"])
    op.create_table(
        "trade_plans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticker", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("conviction", sa.String(10), nullable=False),
        sa.Column("strategy_name", sa.String(200), nullable=True),
        sa.Column("strategy_description", sa.Text(), nullable=True),
        sa.Column("entry_price", _price(), nullable=True),
        sa.Column("stop_loss", _price(), nullable=True),
        sa.Column("target_price", _price(), nullable=True),
        sa.Column("entry_conditions", sa.Text(), nullable=True),
        sa.Column("exit_conditions", sa.Text(), nullable=True),
        sa.Column("timeframe", sa.String(50), nullable=True),
        sa.Column("status", sa.String(15), nullable=True),
        sa.Column("linked_trade_id", sa.String(128), nullable=True),
        sa.Column("account_id", sa.String(64), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_trade_plans_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["linked_trade_id"],
            ["trades.exec_id"],
            name=op.f("fk_trade_plans_linked_trade_id_trades"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_plans")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_trade_plans_account_id"), "trade_plans", ["account_id"])
    op.create_index(op.f("ix_trade_plans_linked_trade_id"), "trade_plans", ["linked_trade_id"])
    op.create_index(op.f("ix_trade_plans_ticker"), "trade_plans", ["ticker"])
    op.create_table(
        "trade_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trade_id", sa.String(128), nullable=False),
        sa.Column("setup_quality", sa.Integer(), nullable=True),
        sa.Column("execution_quality", sa.Integer(), nullable=True),
        sa.Column("followed_plan", sa.Boolean(), nullable=True),
        sa.Column("emotional_state", sa.String(100), nullable=True),
        sa.Column("lessons_learned", sa.Text(), nullable=True),
        sa.Column("tags", _json(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trade_id"],
            ["trades.exec_id"],
            name=op.f("fk_trade_reports_trade_id_trades"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_reports")),
        sa.UniqueConstraint("trade_id", name=op.f("uq_trade_reports_trade_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "transaction_ledger",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trade_exec_id", sa.String(128), nullable=False),
        sa.Column("fee_type", sa.String(20), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trade_exec_id"],
            ["trades.exec_id"],
            name=op.f("fk_transaction_ledger_trade_exec_id_trades"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_ledger")),
    )
    op.create_index(
        op.f("ix_transaction_ledger_trade_exec_id"), "transaction_ledger", ["trade_exec_id"]
    )


def _seed() -> None:
    now = dt.datetime.now(dt.UTC)
    app_defaults = sa.table(
        "app_defaults",
        sa.column("key", sa.String()),
        sa.column("value", sa.Text()),
        sa.column("value_type", sa.String()),
        sa.column("category", sa.String()),
        sa.column("description", sa.Text()),
        sa.column("updated_at", _utc()),
    )
    op.bulk_insert(
        app_defaults,
        [
            {
                "key": key,
                "value": value,
                "value_type": value_type,
                "category": category,
                "description": description,
                "updated_at": now,
            }
            for key, value, value_type, category, description in APP_DEFAULTS
        ],
    )
    mcp_guard = sa.table(
        "mcp_guard",
        sa.column("id", sa.Integer()),
        sa.column("is_enabled", sa.Boolean()),
        sa.column("is_locked", sa.Boolean()),
        sa.column("calls_per_minute_limit", sa.Integer()),
        sa.column("calls_per_hour_limit", sa.Integer()),
        sa.column("updated_at", _utc()),
    )
    op.bulk_insert(
        mcp_guard,
        [
            {
                "id": 1,
                "is_enabled": False,
                "is_locked": False,
                "calls_per_minute_limit": 60,
                "calls_per_hour_limit": 500,
                "updated_at": now,
            }
        ],
    )


def upgrade() -> None:
    _create_tables()
    _seed()


def downgrade() -> None:
    # Dependants first; indexes and seeded rows go with their tables.
    for table in (
        "transaction_ledger",
        "trade_reports",
        "trade_plans",
        "mistake_entries",
        "excursion_metrics",
        "watchlist_items",
        "trades",
        "round_trips",
        "bank_transactions",
        "balance_snapshots",
        "watchlists",
        "settings",
        "options_strategies",
        "mcp_guard",
        "market_provider_settings",
        "images",
        "identifier_cache",
        "broker_configs",
        "bank_import_configs",
        "app_defaults",
        "accounts",
    ):
        op.drop_table(table)
