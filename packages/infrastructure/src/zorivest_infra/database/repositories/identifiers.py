"""The identifier cache: CUSIP/ISIN/SEDOL/FIGI to ticker resolutions, with expiry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, or_, select

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import IdentifierMapping
from zorivest_core.domain.enums import IdentifierType
from zorivest_infra.database.models import IdentifierCacheModel
from zorivest_infra.database.repositories._base import (
    SqlAlchemyRepository,
    dialect_insert,
    table_of,
    utc_now,
)

_CACHE = table_of(IdentifierCacheModel)


def mapping_to_row(mapping: IdentifierMapping) -> dict[str, Any]:
    """Column values of a mapping (without its id)."""
    return {
        "id_type": mapping.id_type.value,
        "id_value": mapping.id_value,
        "ticker": mapping.ticker,
        "exchange": mapping.exchange,
        "security_type": mapping.security_type,
        "source": mapping.source,
        "confidence": mapping.confidence,
        "resolved_at": mapping.resolved_at,
        "expires_at": mapping.expires_at,
    }


def row_to_mapping(row: RowMapping) -> IdentifierMapping:
    """The mapping stored in an `identifier_cache` row (NULL confidence reads as 1)."""
    return IdentifierMapping(
        id=row["id"],
        id_type=row["id_type"],
        id_value=row["id_value"],
        ticker=row["ticker"],
        exchange=row["exchange"],
        security_type=row["security_type"],
        source=row["source"],
        confidence=Decimal(1) if row["confidence"] is None else row["confidence"],
        resolved_at=row["resolved_at"],
        expires_at=row["expires_at"],
    )


def _moment(at: dt.datetime | None) -> dt.datetime:
    return utc_now() if at is None else v.utc("at", at)


class SqlAlchemyIdentifierRepository(SqlAlchemyRepository):
    """Cached identifier resolutions, one per (id_type, id_value).

    A mapping is expired at time `t` when its `expires_at` is at or before `t`; `lookup`
    never returns an expired mapping. Times default to now.
    """

    __slots__ = ()

    def save(self, mapping: IdentifierMapping) -> int:
        """Store a new mapping and return its generated id.

        Raises:
            ValidationError: The mapping already carries an id.
            DuplicateError: The (id_type, id_value) pair is already cached (even expired:
                use `upsert` to refresh it).
        """
        if mapping.id is not None:
            raise v.fail("id", mapping.id, "a new identifier mapping is saved without an id")
        with self._atomic(f"caching {mapping.id_type.value} {mapping.id_value!r}") as conn:
            new_id = conn.execute(
                insert(_CACHE).values(mapping_to_row(mapping)).returning(_CACHE.c.id)
            ).scalar_one()
        return int(new_id)

    def upsert(self, mapping: IdentifierMapping) -> int:
        """Store a mapping, replacing any cached one for the same pair; return its id.

        The row keeps its id when it is replaced.
        """
        row = mapping_to_row(mapping)
        with self._atomic(f"caching {mapping.id_type.value} {mapping.id_value!r}") as conn:
            # One atomic upsert: a check-then-insert would let two callers caching the same
            # new pair race on PostgreSQL (READ COMMITTED), the loser getting DuplicateError.
            upsert = dialect_insert(conn, _CACHE).values(row)
            unchanged = ("id_type", "id_value")
            statement = upsert.on_conflict_do_update(
                index_elements=[_CACHE.c.id_type, _CACHE.c.id_value],
                set_={name: upsert.excluded[name] for name in row if name not in unchanged},
            ).returning(_CACHE.c.id)
            return int(conn.execute(statement).scalar_one())

    def get(self, mapping_id: int) -> IdentifierMapping | None:
        """A cached mapping by id, expired or not."""
        row = (
            self._connection()
            .execute(select(_CACHE).where(_CACHE.c.id == mapping_id))
            .mappings()
            .one_or_none()
        )
        return None if row is None else row_to_mapping(row)

    def lookup(
        self, id_type: IdentifierType, id_value: str, *, at: dt.datetime | None = None
    ) -> IdentifierMapping | None:
        """The mapping for an identifier, unless it is missing or expired at `at`.

        Raises:
            ValidationError: Unknown id_type, or a naive `at`.
        """
        kind = v.choice("id_type", id_type, IdentifierType)
        moment = _moment(at)
        query = select(_CACHE).where(
            _CACHE.c.id_type == kind.value,
            _CACHE.c.id_value == id_value,
            or_(_CACHE.c.expires_at.is_(None), _CACHE.c.expires_at > moment),
        )
        row = self._connection().execute(query).mappings().one_or_none()
        return None if row is None else row_to_mapping(row)

    def delete_expired(self, *, at: dt.datetime | None = None) -> int:
        """Delete every mapping expired at `at`; return how many were deleted."""
        moment = _moment(at)
        with self._atomic("deleting expired identifier mappings") as conn:
            result = conn.execute(delete(_CACHE).where(_CACHE.c.expires_at <= moment))
        return int(result.rowcount)

    def count(self) -> int:
        return int(
            self._connection().execute(select(func.count()).select_from(_CACHE)).scalar_one()
        )
