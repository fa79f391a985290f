"""The MCP guard: the circuit breaker's single row (id 1)."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Connection, RowMapping, select, update

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import McpGuardState
from zorivest_infra.database.models import McpGuardModel
from zorivest_infra.database.repositories._base import (
    SqlAlchemyRepository,
    dialect_insert,
    table_of,
    utc_now,
)

_GUARD = table_of(McpGuardModel)
GUARD_ID: Final = 1
_DEFAULTS: Final = McpGuardState()


def state_to_row(state: McpGuardState) -> dict[str, Any]:
    """Column values of the guard's state (without the id)."""
    return {
        "is_enabled": state.is_enabled,
        "is_locked": state.is_locked,
        "locked_at": state.locked_at,
        "lock_reason": state.lock_reason,
        "calls_per_minute_limit": state.calls_per_minute_limit,
        "calls_per_hour_limit": state.calls_per_hour_limit,
        "updated_at": state.updated_at,
    }


def row_to_state(row: RowMapping) -> McpGuardState:
    """The state in the `mcp_guard` row (NULLs read as the seed's defaults)."""

    def _or_default(name: str) -> Any:
        value = row[name]
        return getattr(_DEFAULTS, name) if value is None else value

    return McpGuardState(
        is_enabled=bool(row["is_enabled"]),
        is_locked=bool(row["is_locked"]),
        locked_at=row["locked_at"],
        lock_reason=row["lock_reason"],
        calls_per_minute_limit=_or_default("calls_per_minute_limit"),
        calls_per_hour_limit=_or_default("calls_per_hour_limit"),
        updated_at=row["updated_at"],
    )


class SqlAlchemyMcpGuardRepository(SqlAlchemyRepository):
    """Reads and changes the guard's single row.

    The baseline migration seeds the row; if it is missing anyway (a database made with
    `create_all`), the first call creates it with the defaults (disabled, unlocked,
    60 calls/minute, 500 calls/hour). Every change stamps `updated_at`.
    """

    __slots__ = ()

    def get(self) -> McpGuardState:
        """The guard's current state (creating the row with defaults if it is missing)."""
        row = (
            self._connection()
            .execute(select(_GUARD).where(_GUARD.c.id == GUARD_ID))
            .mappings()
            .one_or_none()
        )
        if row is not None:
            return row_to_state(row)
        with self._atomic("creating the MCP guard row") as conn:
            return self._ensure(conn)

    def update(self, state: McpGuardState) -> None:
        """Replace the guard's state; `updated_at` becomes the current time."""
        values = state_to_row(state)
        values["updated_at"] = utc_now()
        with self._atomic("updating the MCP guard") as conn:
            self._ensure(conn)
            conn.execute(update(_GUARD).where(_GUARD.c.id == GUARD_ID).values(values))

    def lock(self, reason: str) -> McpGuardState:
        """Lock the guard, recording why and when; return the new state.

        Locking a guard that is already locked changes nothing: the first lock's reason
        and time are what an operator needs to see.

        Raises:
            ValidationError: The reason is empty or longer than 100 characters.
        """
        reason = v.text("reason", reason, max_length=100)
        with self._atomic("locking the MCP guard") as conn:
            self._ensure(conn)
            now = utc_now()
            # The condition is part of the UPDATE, so it is atomic: on PostgreSQL a
            # concurrent lock that commits first makes this UPDATE match no row (READ
            # COMMITTED re-checks the WHERE on the newest row version), keeping its reason.
            conn.execute(
                update(_GUARD)
                .where(_GUARD.c.id == GUARD_ID, _GUARD.c.is_locked.is_not(True))
                .values(is_locked=True, locked_at=now, lock_reason=reason, updated_at=now)
            )
            return self._read(conn)

    def unlock(self) -> McpGuardState:
        """Unlock the guard and clear the lock's reason and time; return the new state."""
        with self._atomic("unlocking the MCP guard") as conn:
            current = self._ensure(conn)
            if not current.is_locked and current.locked_at is None and current.lock_reason is None:
                return current
            conn.execute(
                update(_GUARD)
                .where(_GUARD.c.id == GUARD_ID)
                .values(is_locked=False, locked_at=None, lock_reason=None, updated_at=utc_now())
            )
            return self._read(conn)

    @staticmethod
    def _read(conn: Connection) -> McpGuardState:
        row = conn.execute(select(_GUARD).where(_GUARD.c.id == GUARD_ID)).mappings().one()
        return row_to_state(row)

    @classmethod
    def _ensure(cls, conn: Connection) -> McpGuardState:
        row = conn.execute(select(_GUARD).where(_GUARD.c.id == GUARD_ID)).mappings().one_or_none()
        if row is not None:
            return row_to_state(row)
        created = McpGuardState(updated_at=utc_now())
        # Another session may create the row concurrently: keep whichever came first.
        values = {"id": GUARD_ID, **state_to_row(created)}
        conn.execute(dialect_insert(conn, _GUARD).values(values).on_conflict_do_nothing())
        return cls._read(conn)
