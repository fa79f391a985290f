"""Round trips: entry and exit executions grouped into one position's life."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, select, update

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import RoundTrip
from zorivest_core.domain.enums import RoundTripStatus
from zorivest_infra.database.models import RoundTripModel
from zorivest_infra.database.repositories._base import SqlAlchemyRepository, not_found, table_of

_TRIPS = table_of(RoundTripModel)


def round_trip_to_row(trip: RoundTrip) -> dict[str, Any]:
    """Column values of a round trip (without its id); exec-id lists are JSON arrays."""
    return {
        "account_id": trip.account_id,
        "instrument": trip.instrument,
        "direction": trip.direction.value,
        "entry_exec_ids": list(trip.entry_exec_ids),
        "exit_exec_ids": None if trip.exit_exec_ids is None else list(trip.exit_exec_ids),
        "entry_avg_price": trip.entry_avg_price,
        "exit_avg_price": trip.exit_avg_price,
        "total_quantity": trip.total_quantity,
        "realized_pnl": trip.realized_pnl,
        "total_commission": trip.total_commission,
        "opened_at": trip.opened_at,
        "closed_at": trip.closed_at,
        "status": trip.status.value,
        "holding_period_seconds": trip.holding_period_seconds,
    }


def row_to_round_trip(row: RowMapping) -> RoundTrip:
    """The round trip stored in a `round_trips` row (NULLs read as the defaults)."""
    return RoundTrip(
        id=row["id"],
        account_id=row["account_id"],
        instrument=row["instrument"],
        direction=row["direction"],
        entry_exec_ids=row["entry_exec_ids"],
        exit_exec_ids=row["exit_exec_ids"],
        entry_avg_price=row["entry_avg_price"],
        exit_avg_price=row["exit_avg_price"],
        total_quantity=row["total_quantity"],
        realized_pnl=row["realized_pnl"],
        total_commission=(
            Decimal(0) if row["total_commission"] is None else row["total_commission"]
        ),
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        status=row["status"] or RoundTripStatus.OPEN,
        holding_period_seconds=row["holding_period_seconds"],
    )


class SqlAlchemyRoundTripRepository(SqlAlchemyRepository):
    """Round trips per account. Listings are served by the (account_id, instrument) index."""

    __slots__ = ()

    def save(self, round_trip: RoundTrip) -> int:
        """Store a new round trip and return its generated id.

        Raises:
            ValidationError: The round trip already carries an id (use `update`).
            ConflictError: The account does not exist.
        """
        if round_trip.id is not None:
            raise v.fail("id", round_trip.id, "a new round trip is saved without an id")
        with self._atomic(f"saving a round trip of {round_trip.instrument!r}") as conn:
            new_id = conn.execute(
                insert(_TRIPS).values(round_trip_to_row(round_trip)).returning(_TRIPS.c.id)
            ).scalar_one()
        return int(new_id)

    def get(self, round_trip_id: int) -> RoundTrip | None:
        row = (
            self._connection()
            .execute(select(_TRIPS).where(_TRIPS.c.id == round_trip_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else row_to_round_trip(row)

    def update(self, round_trip: RoundTrip) -> None:
        """Replace a stored round trip's values (found by its id).

        Raises:
            ValidationError: The round trip has no id.
            NotFoundError: No round trip has that id.
            ConflictError: The account does not exist.
        """
        if round_trip.id is None:
            raise v.fail("id", None, "updating a round trip needs its id")
        with self._atomic(f"updating round trip {round_trip.id}") as conn:
            result = conn.execute(
                update(_TRIPS)
                .where(_TRIPS.c.id == round_trip.id)
                .values(round_trip_to_row(round_trip))
            )
        if result.rowcount == 0:
            raise not_found("round trip", round_trip.id)

    def delete(self, round_trip_id: int) -> None:
        """Delete one round trip.

        Raises:
            NotFoundError: No round trip has that id.
        """
        with self._atomic(f"deleting round trip {round_trip_id}") as conn:
            result = conn.execute(delete(_TRIPS).where(_TRIPS.c.id == round_trip_id))
        if result.rowcount == 0:
            raise not_found("round trip", round_trip_id)

    def list_for_account(
        self,
        account_id: str,
        *,
        instrument: str | None = None,
        status: RoundTripStatus | None = None,
    ) -> list[RoundTrip]:
        """An account's round trips, oldest opened first (ties by id).

        Args:
            account_id: The account.
            instrument: Only this instrument (exact match).
            status: Only round trips with this status.
        """
        query = select(_TRIPS).where(_TRIPS.c.account_id == account_id)
        if instrument is not None:
            query = query.where(_TRIPS.c.instrument == instrument)
        if status is not None:
            query = query.where(_TRIPS.c.status == v.choice("status", status, RoundTripStatus))
        rows = self._connection().execute(query.order_by(_TRIPS.c.opened_at, _TRIPS.c.id))
        return [row_to_round_trip(row) for row in rows.mappings()]

    def count(self) -> int:
        return int(
            self._connection().execute(select(func.count()).select_from(_TRIPS)).scalar_one()
        )
