"""Domain invariants as CHECK constraints, trades.commission NOT NULL, redundant indexes gone.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

- CHECK constraints for what the entities already refuse (known enum values, signs,
  integer ranges), named ck_<table>_<name> by the naming convention. Rows that break one
  (possible only if written around Zorivest) make the upgrade fail before anything is
  changed, with the table, constraint and number of rows in the message.
- trades.commission NOT NULL: the domain has no "unknown commission"; stored NULLs (which
  read as 0 already) become 0.
- Dropped, because another index starts with the same column(s): ix_images_owner_type
  (ix_images_owner_type_owner_id), ix_identifier_cache_id_type (the unique id_type +
  id_value index) and ix_bank_transactions_account_id (the unique account_id + dedup_hash
  index).

Frozen history: the conditions are spelled out here, not taken from the models (whose
DOMAIN_CHECKS a test compares with a database migrated to this revision). On SQLite each
changed table is rebuilt once (batch mode), keeping every row as stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from zorivest_core.domain.errors import ConflictError

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS: dict[str, tuple[tuple[str, str], ...]] = {
    "trades": (
        ("action_known", "action IN ('BOT', 'SLD')"),
        ("quantity_positive", "quantity > 0"),
        ("price_not_negative", "price >= 0"),
        ("asset_class_known", "asset_class IN ('stock', 'option', 'future', 'forex', 'crypto', 'bond', 'fund', 'other')"),
        ("multiplier_positive", "multiplier > 0"),
        ("strike_not_negative", "strike >= 0"),
        ("option_right_known", "option_right IN ('C', 'P')"),
        ("fx_rate_positive", "fx_rate > 0"),
    ),
    "images": (
        ("owner_type_known", "owner_type IN ('trade', 'report', 'plan')"),
        ("width_positive", "width >= 1"),
        ("height_positive", "height >= 1"),
        ("file_size_not_negative", "file_size >= 0"),
    ),
    "accounts": (
        ("account_type_known", "account_type IN ('broker', 'bank', 'revolving', 'installment', 'ira', '401k')"),
    ),
    "trade_reports": (
        ("setup_quality_range", "setup_quality BETWEEN 1 AND 5"),
        ("execution_quality_range", "execution_quality BETWEEN 1 AND 5"),
    ),
    "trade_plans": (
        ("direction_known", "direction IN ('BOT', 'SLD')"),
        ("conviction_known", "conviction IN ('low', 'medium', 'high', 'max')"),
        ("status_known", "status IN ('draft', 'active', 'executed', 'expired', 'cancelled')"),
        ("entry_price_not_negative", "entry_price >= 0"),
        ("stop_loss_not_negative", "stop_loss >= 0"),
        ("target_price_not_negative", "target_price >= 0"),
    ),
    "settings": (
        ("value_type_known", "value_type IN ('str', 'int', 'float', 'bool', 'json')"),
    ),
    "app_defaults": (
        ("value_type_known", "value_type IN ('str', 'int', 'float', 'bool', 'json')"),
    ),
    "market_provider_settings": (
        ("rate_limit_positive", "rate_limit >= 1"),
        ("timeout_range", "timeout BETWEEN 1 AND 3600"),
    ),
    "mcp_guard": (
        ("calls_per_minute_limit_positive", "calls_per_minute_limit >= 1"),
        ("calls_per_hour_limit_positive", "calls_per_hour_limit >= 1"),
    ),
    "round_trips": (
        ("direction_known", "direction IN ('BOT', 'SLD')"),
        ("status_known", "status IN ('open', 'closed', 'partial')"),
        ("total_quantity_positive", "total_quantity > 0"),
        ("entry_avg_price_not_negative", "entry_avg_price >= 0"),
        ("exit_avg_price_not_negative", "exit_avg_price >= 0"),
        ("holding_period_seconds_not_negative", "holding_period_seconds >= 0"),
    ),
    "identifier_cache": (
        ("id_type_known", "id_type IN ('cusip', 'isin', 'sedol', 'figi', 'conid')"),
        ("confidence_not_negative", "confidence >= 0"),
    ),
    "transaction_ledger": (
        ("fee_type_known", "fee_type IN ('commission', 'exchange', 'regulatory', 'ecn', 'clearing', 'platform', 'other')"),
    ),
    "options_strategies": (
        ("strategy_type_known", "strategy_type IN ('vertical', 'iron_condor', 'butterfly', 'calendar', 'straddle', 'strangle', 'custom')"),
    ),
    "mistake_entries": (
        ("category_known", "category IN ('early_exit', 'late_exit', 'oversized', 'no_stop', 'revenge_trade', 'fomo_entry', 'ignored_plan', 'overtrading', 'chasing', 'other')"),
    ),
    "broker_configs": (
        ("routing_type_known", "routing_type IN ('pfof', 'dma', 'hybrid')"),
        ("settlement_days_range", "settlement_days BETWEEN 0 AND 30"),
        ("pdt_threshold_not_negative", "pdt_threshold >= 0"),
    ),
    "bank_transactions": (
        ("source_known", "source IN ('manual', 'csv_import', 'ofx_import', 'qif_import', 'pdf_import', 'agent_submit')"),
        ("category_known", "category IN ('deposit', 'withdrawal', 'transfer_in', 'transfer_out', 'fee', 'interest', 'dividend', 'ach_debit', 'ach_credit', 'wire_in', 'wire_out', 'check', 'card_purchase', 'refund', 'atm', 'other')"),
    ),
}

REDUNDANT_INDEXES: tuple[tuple[str, str, str], ...] = (
    ("ix_images_owner_type", "images", "owner_type"),
    ("ix_identifier_cache_id_type", "identifier_cache", "id_type"),
    ("ix_bank_transactions_account_id", "bank_transactions", "account_id"),
)


def _money() -> sa.types.TypeEngine[Any]:
    return sa.Numeric(18, 6).with_variant(sa.BigInteger(), "sqlite")


def _refuse_breaking_rows() -> None:
    """Count the rows each constraint would refuse; refuse the upgrade if there are any."""
    connection = op.get_bind()
    broken: list[str] = []
    for table, checks in CHECKS.items():
        for name, condition in checks:
            # NOT (condition) is NULL, not true, for NULLs: as for the CHECK itself.
            query = sa.text(f"SELECT COUNT(*) FROM {table} WHERE NOT ({condition})")
            count = int(connection.execute(query).scalar() or 0)
            if count:
                broken.append(f"{table}: {count} row(s) break ck_{table}_{name} ({condition})")
    if broken:
        raise ConflictError(
            "cannot upgrade to 0003: rows written outside Zorivest break domain rules; "
            "nothing was changed: " + "; ".join(broken)
        )


def upgrade() -> None:
    _refuse_breaking_rows()
    op.execute("UPDATE trades SET commission = 0 WHERE commission IS NULL")
    for index, table, _column in REDUNDANT_INDEXES:
        op.drop_index(index, table_name=table)
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            if table == "trades":
                batch.alter_column("commission", existing_type=_money(), nullable=False)
            for name, condition in checks:
                batch.create_check_constraint(op.f(f"ck_{table}_{name}"), condition)


def downgrade() -> None:
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for name, _condition in reversed(checks):
                batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
            if table == "trades":
                batch.alter_column("commission", existing_type=_money(), nullable=True)
    for index, table, column in REDUNDANT_INDEXES:
        op.create_index(index, table, [column], unique=False)
