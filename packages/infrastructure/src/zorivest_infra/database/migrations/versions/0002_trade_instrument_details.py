"""Instrument details on trades: asset class, multiplier, option terms, currency, FX rate.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

Eight nullable columns, no data written: every stored trade keeps its row exactly and reads
its new details as "not known" (NULL). Frozen history: the column types are spelled in
plain SQLAlchemy, as in 0001 (prices: NUMERIC(18, 10) on PostgreSQL, integers scaled by
10**10 on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from zorivest_core.domain.errors import ConflictError

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_COLUMNS = (
    "asset_class",
    "multiplier",
    "underlying",
    "expiry",
    "strike",
    "option_right",
    "currency",
    "fx_rate",
)


def _price() -> sa.types.TypeEngine[Any]:
    return sa.Numeric(18, 10).with_variant(sa.BigInteger(), "sqlite")


def upgrade() -> None:
    # ADD COLUMN of a nullable column without a default is a plain ALTER on both
    # databases (no table rebuild on SQLite), so existing rows are not rewritten.
    with op.batch_alter_table("trades") as batch:
        batch.add_column(sa.Column("asset_class", sa.String(10), nullable=True))
        batch.add_column(sa.Column("multiplier", _price(), nullable=True))
        batch.add_column(sa.Column("underlying", sa.String(64), nullable=True))
        batch.add_column(sa.Column("expiry", sa.Date(), nullable=True))
        batch.add_column(sa.Column("strike", _price(), nullable=True))
        batch.add_column(sa.Column("option_right", sa.String(1), nullable=True))
        batch.add_column(sa.Column("currency", sa.String(3), nullable=True))
        batch.add_column(sa.Column("fx_rate", _price(), nullable=True))


def downgrade() -> None:
    # Dropping the columns would lose what imports stored in them: refuse when any trade
    # carries a detail, so a downgrade is lossless or does not happen.
    conditions = " OR ".join(f"{name} IS NOT NULL" for name in NEW_COLUMNS)
    used = op.get_bind().execute(sa.text(f"SELECT COUNT(*) FROM trades WHERE {conditions}"))
    count = int(used.scalar() or 0)
    if count:
        raise ConflictError(
            f"cannot downgrade below 0002: {count} trade(s) carry instrument details "
            "that the older schema cannot hold"
        )
    with op.batch_alter_table("trades") as batch:
        for name in reversed(NEW_COLUMNS):
            batch.drop_column(name)
