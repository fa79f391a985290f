"""The MCP guard: the circuit breaker's single row (id 1)."""

from __future__ import annotations

from typing import Final

from sqlalchemy import update

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import McpGuardState
from zorivest_infra.database.models import McpGuardModel
from zorivest_infra.database.repositories._base import dialect_insert, table_of, utc_now
from zorivest_infra.database.repositories._core import CoreRepository

_GUARD = table_of(McpGuardModel)
GUARD_ID: Final = 1
_THE_ROW: Final = _GUARD.c.id == GUARD_ID


class SqlAlchemyMcpGuardRepository(CoreRepository[McpGuardState, int]):
    """Reads and changes the guard's single row.

    The baseline migration seeds the row; if it is missing anyway (a database made with
    `create_all`), the first call creates it with the defaults (disabled, unlocked,
    60 calls/minute, 500 calls/hour). Every change stamps `updated_at`; NULLs read as the
    seed's defaults.
    """

    __slots__ = ()
    table = _GUARD
    entity = McpGuardState
    key = "id"
    noun = "MCP guard"
    null_reads_default = (
        "is_enabled",
        "is_locked",
        "calls_per_minute_limit",
        "calls_per_hour_limit",
    )

    def get(self) -> McpGuardState:
        """The guard's current state (creating the row with defaults if it is missing)."""
        found = self._get(GUARD_ID)
        if found is not None:
            return found
        with self._atomic("creating the MCP guard row"):
            return self._ensure()

    def update(self, state: McpGuardState) -> None:
        """Replace the guard's state; `updated_at` becomes the current time."""
        values = self._to_row(state)
        values["updated_at"] = utc_now()
        with self._atomic("updating the MCP guard") as conn:
            self._ensure()
            conn.execute(update(_GUARD).where(_THE_ROW).values(values))

    def lock(self, reason: str) -> McpGuardState:
        """Lock the guard, recording why and when; return the new state.

        Locking a guard that is already locked changes nothing: the first lock's reason
        and time are what an operator needs to see.

        Raises:
            ValidationError: The reason is empty or longer than 100 characters.
        """
        reason = v.text("reason", reason, max_length=100)
        with self._atomic("locking the MCP guard") as conn:
            self._ensure()
            now = utc_now()
            # The condition is part of the UPDATE, so it is atomic: on PostgreSQL a
            # concurrent lock that commits first makes this UPDATE match no row (READ
            # COMMITTED re-checks the WHERE on the newest row version), keeping its reason.
            conn.execute(
                update(_GUARD)
                .where(_THE_ROW, _GUARD.c.is_locked.is_not(True))
                .values(is_locked=True, locked_at=now, lock_reason=reason, updated_at=now)
            )
            return self._stored()

    def unlock(self) -> McpGuardState:
        """Unlock the guard and clear the lock's reason and time; return the new state."""
        with self._atomic("unlocking the MCP guard") as conn:
            current = self._ensure()
            if not current.is_locked and current.locked_at is None and current.lock_reason is None:
                return current
            conn.execute(
                update(_GUARD)
                .where(_THE_ROW)
                .values(is_locked=False, locked_at=None, lock_reason=None, updated_at=utc_now())
            )
            return self._stored()

    def _stored(self) -> McpGuardState:
        found = self._get(GUARD_ID)
        if found is None:  # pragma: no cover - only ever read after `_ensure`
            raise RuntimeError("the MCP guard row is missing")
        return found

    def _ensure(self) -> McpGuardState:
        """The stored state, creating the row with the defaults first if it is missing.

        Call it inside `_atomic` (the insert is a write).
        """
        found = self._get(GUARD_ID)
        if found is not None:
            return found
        created = McpGuardState(updated_at=utc_now())
        # Another session may create the row concurrently: keep whichever came first.
        conn = self._connection()
        values = {"id": GUARD_ID, **self._to_row(created)}
        conn.execute(dialect_insert(conn, _GUARD).values(values).on_conflict_do_nothing())
        return self._stored()
