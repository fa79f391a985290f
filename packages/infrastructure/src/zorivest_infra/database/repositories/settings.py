"""User settings and application defaults, typed through `zorivest_core.domain.settings`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select

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
from zorivest_infra.database.repositories._base import chunked, table_of, utc_now
from zorivest_infra.database.repositories._core import CoreRepository

_SETTINGS = table_of(SettingModel)
_DEFAULTS = table_of(AppDefaultModel)
_IN_CHUNK = 500


def _checked_default(default: AppDefault) -> AppDefault:
    # A default whose text does not read as its own type would break every resolve().
    decode_setting(default.value, default.value_type, key=default.key)
    return default


class SqlAlchemySettingsRepository(CoreRepository[Setting, str]):
    """The user's setting overrides, resolved against the application defaults.

    Resolution order for a key: the user's `settings` row, else the `app_defaults` row,
    else a pattern default (`ui.panel.<name>.collapsed` is false), else `NotFoundError`.
    Values come back typed by their `value_type`.
    """

    __slots__ = ()
    table = _SETTINGS
    entity = Setting
    key = "key"
    noun = "setting"

    def get(self, key: str) -> Setting | None:
        """The user's own row for a key (no defaults applied), or None."""
        return self._get(key)

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
        self._upsert(setting, on=("key",))
        return setting

    def delete(self, key: str) -> None:
        """Remove the user's value, so the key resolves to its default again.

        Raises:
            NotFoundError: The user has no value for the key.
        """
        self._delete(key)

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
        return self._list()


class SqlAlchemyAppDefaultRepository(CoreRepository[AppDefault, str]):
    """The application's defaults (seeded by the baseline migration).

    `save` and `update` refuse a default whose value does not read as its own
    `value_type` (ValidationError); `save` raises DuplicateError for an existing key,
    `update` NotFoundError for a missing one.
    """

    __slots__ = ()
    table = _DEFAULTS
    entity = AppDefault
    key = "key"
    noun = "app default"

    def get(self, key: str) -> AppDefault | None:
        return self._get(key)

    def save(self, default: AppDefault) -> None:
        self._save(_checked_default(default))

    def update(self, default: AppDefault) -> None:
        self._update(_checked_default(default))

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
            rows = [self._to_row(d) for key, d in wanted.items() if key not in existing]
            if rows:
                conn.execute(insert(_DEFAULTS), rows)
        return len(rows)

    def list_by_category(self, category: str) -> list[AppDefault]:
        """The defaults of one category, by key."""
        return self._list(_DEFAULTS.c.category == category)

    def list_all(self) -> list[AppDefault]:
        """Every default, by key."""
        return self._list()
