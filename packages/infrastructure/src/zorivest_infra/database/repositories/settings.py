"""User settings and application defaults, typed through `zorivest_core.domain.settings`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import RowMapping, delete, insert, select, update

from zorivest_core.domain import validation as v
from zorivest_core.domain.entities import AppDefault, Setting
from zorivest_core.domain.enums import SettingValueType
from zorivest_core.domain.errors import NotFoundError
from zorivest_core.domain.settings import (
    check_setting,
    decode_setting,
    encode_setting,
    pattern_default,
)
from zorivest_infra.database.models import AppDefaultModel, SettingModel
from zorivest_infra.database.repositories._base import (
    SqlAlchemyRepository,
    chunked,
    dialect_insert,
    not_found,
    table_of,
    utc_now,
)

_SETTINGS = table_of(SettingModel)
_DEFAULTS = table_of(AppDefaultModel)
_IN_CHUNK = 500


def setting_to_row(setting: Setting) -> dict[str, Any]:
    """Column values of a user setting."""
    return {
        "key": setting.key,
        "value": setting.value,
        "value_type": None if setting.value_type is None else setting.value_type.value,
        "updated_at": setting.updated_at,
    }


def row_to_setting(row: RowMapping) -> Setting:
    """The user setting stored in a `settings` row."""
    return Setting(
        key=row["key"],
        value=row["value"],
        value_type=row["value_type"],
        updated_at=row["updated_at"],
    )


def default_to_row(default: AppDefault) -> dict[str, Any]:
    """Column values of an application default."""
    return {
        "key": default.key,
        "value": default.value,
        "value_type": default.value_type.value,
        "category": default.category,
        "description": default.description,
        "updated_at": default.updated_at,
    }


def row_to_default(row: RowMapping) -> AppDefault:
    """The application default stored in an `app_defaults` row."""
    return AppDefault(
        key=row["key"],
        value=row["value"],
        value_type=row["value_type"],
        category=row["category"],
        description=row["description"],
        updated_at=row["updated_at"],
    )


def _checked_default(default: AppDefault) -> AppDefault:
    # A default whose text does not read as its own type would break every resolve().
    decode_setting(default.value, default.value_type, key=default.key)
    return default


class SqlAlchemySettingsRepository(SqlAlchemyRepository):
    """The user's setting overrides, resolved against the application defaults.

    Resolution order for a key: the user's `settings` row, else the `app_defaults` row,
    else a pattern default (`ui.panel.<name>.collapsed` is false), else `NotFoundError`.
    Values come back typed by their `value_type`.
    """

    __slots__ = ()

    def get(self, key: str) -> Setting | None:
        """The user's own row for a key (no defaults applied), or None."""
        row = (
            self._connection()
            .execute(select(_SETTINGS).where(_SETTINGS.c.key == key))
            .mappings()
            .one_or_none()
        )
        return None if row is None else row_to_setting(row)

    def _default_type(self, key: str) -> SettingValueType | None:
        stored = (
            self._connection()
            .execute(select(_DEFAULTS.c.value_type).where(_DEFAULTS.c.key == key))
            .scalar_one_or_none()
        )
        if stored is not None:
            return v.choice("value_type", stored, SettingValueType)
        pattern = pattern_default(key)
        return None if pattern is None else pattern.value_type

    def set(self, key: str, value: object) -> Setting:
        """Store the user's value for a key (insert or replace); return the stored row.

        The value is encoded as text typed by the key's default (an app default row or a
        pattern default); a key with no default takes the type of the value. Allowed
        values and ranges of the seeded keys are enforced.

        Args:
            key: The setting key (dot notation, at most 200 characters).
            value: A bool, int, float, str, dict or list.

        Raises:
            ValidationError: The value does not fit the key's type or allowed values (e.g.
                "ui.theme" set to 5 or to "blue").
        """
        key = v.text("key", key, max_length=200)
        text_value, value_type = encode_setting(value, self._default_type(key), key=key)
        check_setting(key, decode_setting(text_value, value_type, key=key))
        setting = Setting(key=key, value=text_value, value_type=value_type, updated_at=utc_now())
        row = setting_to_row(setting)
        with self._atomic(f"setting {key!r}") as conn:
            # One atomic upsert: a check-then-insert would let two callers setting the same
            # new key race on PostgreSQL (READ COMMITTED), the loser getting DuplicateError.
            upsert = dialect_insert(conn, _SETTINGS).values(row)
            conn.execute(
                upsert.on_conflict_do_update(
                    index_elements=[_SETTINGS.c.key],
                    set_={name: upsert.excluded[name] for name in row if name != "key"},
                )
            )
        return setting

    def delete(self, key: str) -> None:
        """Remove the user's value, so the key resolves to its default again.

        Raises:
            NotFoundError: The user has no value for the key.
        """
        with self._atomic(f"deleting setting {key!r}") as conn:
            result = conn.execute(delete(_SETTINGS).where(_SETTINGS.c.key == key))
        if result.rowcount == 0:
            raise not_found("setting", key)

    def resolve(self, key: str) -> Any:
        """The effective, typed value of a key.

        Raises:
            NotFoundError: Neither the user nor the defaults have the key.
            ValidationError: The stored text is not a valid value of its type.
        """
        conn = self._connection()
        user = conn.execute(
            select(_SETTINGS.c.value, _SETTINGS.c.value_type).where(_SETTINGS.c.key == key)
        ).one_or_none()
        if user is not None and user.value_type is not None:
            return decode_setting(user.value, user.value_type, key=key)
        default = conn.execute(
            select(_DEFAULTS.c.value, _DEFAULTS.c.value_type).where(_DEFAULTS.c.key == key)
        ).one_or_none()
        pattern = pattern_default(key)
        if user is not None:
            # A row written without a type reads as its default's type, else as text.
            if default is not None:
                return decode_setting(user.value, default.value_type, key=key)
            fallback = pattern.value_type if pattern is not None else SettingValueType.STR
            return decode_setting(user.value, fallback, key=key)
        if default is not None:
            return decode_setting(default.value, default.value_type, key=key)
        if pattern is not None:
            return decode_setting(pattern.value, pattern.value_type, key=key)
        raise NotFoundError(f"setting {v.show(key)} has no value and no default")

    def resolve_all(self) -> dict[str, Any]:
        """Every key with a default or a user value, resolved and typed (two queries).

        Pattern keys appear only when the user has set them.
        """
        conn = self._connection()
        resolved: dict[str, Any] = {}
        types: dict[str, str] = {}
        for key, value, value_type in conn.execute(
            select(_DEFAULTS.c.key, _DEFAULTS.c.value, _DEFAULTS.c.value_type)
        ):
            resolved[key] = decode_setting(value, value_type, key=key)
            types[key] = value_type
        for key, value, stored_type in conn.execute(
            select(_SETTINGS.c.key, _SETTINGS.c.value, _SETTINGS.c.value_type)
        ):
            pattern = pattern_default(key)
            fallback = pattern.value_type if pattern is not None else SettingValueType.STR
            resolved[key] = decode_setting(value, stored_type or types.get(key, fallback), key=key)
        return resolved

    def list_all(self) -> list[Setting]:
        """The user's own rows, by key."""
        rows = self._connection().execute(select(_SETTINGS).order_by(_SETTINGS.c.key))
        return [row_to_setting(row) for row in rows.mappings()]


class SqlAlchemyAppDefaultRepository(SqlAlchemyRepository):
    """The application's defaults (seeded by the baseline migration)."""

    __slots__ = ()

    def get(self, key: str) -> AppDefault | None:
        row = (
            self._connection()
            .execute(select(_DEFAULTS).where(_DEFAULTS.c.key == key))
            .mappings()
            .one_or_none()
        )
        return None if row is None else row_to_default(row)

    def save(self, default: AppDefault) -> None:
        """Store a new default.

        Raises:
            ValidationError: Its value does not read as its own `value_type`.
            DuplicateError: The key already has a default.
        """
        row = default_to_row(_checked_default(default))
        with self._atomic(f"saving app default {default.key!r}") as conn:
            conn.execute(insert(_DEFAULTS).values(row))

    def update(self, default: AppDefault) -> None:
        """Replace a stored default.

        Raises:
            ValidationError: Its value does not read as its own `value_type`.
            NotFoundError: The key has no default.
        """
        row = default_to_row(_checked_default(default))
        with self._atomic(f"updating app default {default.key!r}") as conn:
            result = conn.execute(
                update(_DEFAULTS).where(_DEFAULTS.c.key == default.key).values(row)
            )
        if result.rowcount == 0:
            raise not_found("app default", default.key)

    def upsert_missing(self, defaults: Iterable[AppDefault]) -> int:
        """Insert the defaults whose keys are missing; never overwrite. Return how many.

        Raises:
            ValidationError: A default's value does not read as its own `value_type`.
        """
        wanted: dict[str, AppDefault] = {}
        for default in defaults:
            wanted.setdefault(default.key, _checked_default(default))
        if not wanted:
            return 0
        with self._atomic(f"adding missing app defaults ({len(wanted)} given)") as conn:
            existing: set[str] = set()
            for keys in chunked(wanted, _IN_CHUNK):
                existing.update(
                    conn.execute(select(_DEFAULTS.c.key).where(_DEFAULTS.c.key.in_(keys))).scalars()
                )
            rows = [default_to_row(d) for key, d in wanted.items() if key not in existing]
            if rows:
                conn.execute(insert(_DEFAULTS), rows)
        return len(rows)

    def list_by_category(self, category: str) -> list[AppDefault]:
        """The defaults of one category, by key."""
        rows = self._connection().execute(
            select(_DEFAULTS).where(_DEFAULTS.c.category == category).order_by(_DEFAULTS.c.key)
        )
        return [row_to_default(row) for row in rows.mappings()]

    def list_all(self) -> list[AppDefault]:
        """Every default, by key."""
        rows = self._connection().execute(select(_DEFAULTS).order_by(_DEFAULTS.c.key))
        return [row_to_default(row) for row in rows.mappings()]
