"""The identifier cache: CUSIP/ISIN/SEDOL/FIGI to ticker resolutions, with expiry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import IdentifierMapping
from zorivest_core.domain.enums import IdentifierType
from zorivest_infra.database.models import IdentifierCacheModel
from zorivest_infra.database.repositories._base import table_of, utc_now
from zorivest_infra.database.repositories._core import CoreRepository

_CACHE = table_of(IdentifierCacheModel)
_C = _CACHE.c


def _moment(at: dt.datetime | None) -> dt.datetime:
    return utc_now() if at is None else v.utc("at", at)


class SqlAlchemyIdentifierRepository(CoreRepository[IdentifierMapping, int]):
    """Cached identifier resolutions, one per (id_type, id_value).

    A mapping is expired at time `t` when its `expires_at` is at or before `t`; `lookup`
    never returns an expired mapping. Times default to now. A NULL confidence reads as 1.
    `save` returns the generated id, and raises DuplicateError for a pair already cached
    (even expired: use `upsert` to refresh it).
    """

    __slots__ = ()
    table = _CACHE
    entity = IdentifierMapping
    key = "id"
    noun = "identifier mapping"
    generated_key = True
    null_reads_default = ("confidence",)

    def save(self, mapping: IdentifierMapping) -> int:
        return self._save_new(mapping)

    def upsert(self, mapping: IdentifierMapping) -> int:
        """Store a mapping, replacing any cached one for the same pair; return its id.

        The row keeps its id when it is replaced.
        """
        return int(self._upsert(mapping, on=("id_type", "id_value")))

    def get(self, mapping_id: int) -> IdentifierMapping | None:
        """A cached mapping by id, expired or not."""
        return self._get(mapping_id)

    def lookup(
        self, id_type: IdentifierType, id_value: str, *, at: dt.datetime | None = None
    ) -> IdentifierMapping | None:
        """The mapping for an identifier, unless it is missing or expired at `at`.

        Raises:
            ValidationError: Unknown id_type, or a naive `at`.
        """
        kind = v.choice("id_type", id_type, IdentifierType)
        moment = _moment(at)
        return self._find(
            _C.id_type == kind.value,
            _C.id_value == id_value,
            or_(_C.expires_at.is_(None), _C.expires_at > moment),
        )

    def delete_expired(self, *, at: dt.datetime | None = None) -> int:
        """Delete every mapping expired at `at`; return how many were deleted."""
        moment = _moment(at)
        with self._atomic("deleting expired identifier mappings") as conn:
            result = conn.execute(delete(_CACHE).where(_C.expires_at <= moment))
        return int(result.rowcount)

    def count(self) -> int:
        return self._count()
