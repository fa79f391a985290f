"""Round trips kept current: a currency per round trip, and the indexes matching needs.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-07

* ``round_trips.currency``: one nullable column, no data written; stored round trips read
  their currency as "the account's" (NULL). `zorivest roundtrips rebuild` fills it from the
  trades' own currency (revision 0002). The report never adds amounts of different
  currencies; with this column it can tell a round trip in EUR in an account kept in USD.
* ``ix_trades_account_id_instrument_time`` (account_id, instrument, time, exec_id): one
  pair's executions in matching order without a sort (a rebuild, the refresh after an
  import).
* ``ix_round_trips_account_id_instrument`` gains ``opened_at``: the round trip in progress
  at a time, and the tail after it, are found by index range (listings already order by
  opened_at).

Frozen history: plain SQLAlchemy types, as in 0001. Indexes hold no data of their own, so
rows are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from zorivest_core.domain.errors import ConflictError

revision: str = "0004"
# 0003 (helper i13) and this revision both follow 0002; whichever lands second re-points
# its down_revision to the other.
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ADD COLUMN of a nullable column without a default: existing rows are not rewritten.
    with op.batch_alter_table("round_trips") as batch:
        batch.add_column(sa.Column("currency", sa.String(3), nullable=True))
    op.create_index(
        "ix_trades_account_id_instrument_time",
        "trades",
        ["account_id", "instrument", "time", "exec_id"],
    )
    op.drop_index("ix_round_trips_account_id_instrument", table_name="round_trips")
    op.create_index(
        "ix_round_trips_account_id_instrument",
        "round_trips",
        ["account_id", "instrument", "opened_at"],
    )


def downgrade() -> None:
    # Refused when a round trip carries a currency, so a downgrade is lossless or does not
    # happen (after a downgrade the report could no longer keep currencies apart).
    used = op.get_bind().execute(
        sa.text("SELECT COUNT(*) FROM round_trips WHERE currency IS NOT NULL")
    )
    count = int(used.scalar() or 0)
    if count:
        raise ConflictError(
            f"cannot downgrade below 0004: {count} round trip(s) carry a currency that the "
            "older schema cannot hold"
        )
    op.drop_index("ix_round_trips_account_id_instrument", table_name="round_trips")
    op.create_index(
        "ix_round_trips_account_id_instrument", "round_trips", ["account_id", "instrument"]
    )
    op.drop_index("ix_trades_account_id_instrument_time", table_name="trades")
    with op.batch_alter_table("round_trips") as batch:
        batch.drop_column("currency")
