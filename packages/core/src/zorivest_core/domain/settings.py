"""Typed setting values: how a Python value becomes stored text and back.

Settings and application defaults are stored as text with a `SettingValueType`
(bool, int, float, str, json). Encoding picks the type from the value (or checks the value
against a required type); decoding is strict: stored text that is not a valid value of its
type raises `ValidationError` naming the key and the text, instead of guessing.

Some keys are patterns rather than seeded rows (`ui.panel.<name>.collapsed`, a bool that
defaults to false); `pattern_default` resolves them. `check_setting` applies the allowed
values and ranges listed in docs (shared/design/APP-DEFAULTS.md) for the seeded keys.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, TypeAlias

from zorivest_core.domain import validation as v
from zorivest_core.domain.enums import SettingValueType
from zorivest_core.domain.errors import ValidationError

_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TRUE: Final = "true"
_FALSE: Final = "false"

SettingValue: TypeAlias = bool | int | float | str | dict[str, Any] | list[Any]
"""The Python values a setting can hold."""


def _where(key: str | None) -> str:
    return f"setting {key!r}" if key is not None else "setting"


def _bad_value(key: str | None, value: object, reason: str) -> ValidationError:
    return ValidationError(
        f"{_where(key)}: {reason} (got {v.show(value)})", field=key or "value", value=value
    )


def _value_type(value_type: object, key: str | None) -> SettingValueType:
    try:
        return v.choice("value_type", value_type, SettingValueType)
    except ValidationError:
        allowed = ", ".join(member.value for member in SettingValueType)
        raise ValidationError(
            f"{_where(key)}: unknown value_type {v.show(value_type)} (expected one of {allowed})",
            field="value_type",
            value=value_type,
        ) from None


def _refuse_depth(key: str | None) -> ValidationError:
    # The value itself is not shown: printing it is what would recurse too deeply.
    return ValidationError(
        f"{_where(key)}: must not nest lists and objects deeper than {v.MAX_JSON_DEPTH} levels",
        field=key or "value",
        value=f"<nested more than {v.MAX_JSON_DEPTH} levels>",
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_text(value: object, key: str | None) -> str:
    if v.json_too_deep(value):
        raise _refuse_depth(key)
    if v.has_non_str_keys(value):
        raise _bad_value(key, value, "JSON object keys must be strings")
    try:
        return json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        raise _bad_value(
            key, value, "must be JSON-serialisable (str keys, no NaN, no custom objects)"
        ) from None


def _infer_type(value: object, key: str | None) -> SettingValueType:
    if isinstance(value, bool):
        return SettingValueType.BOOL
    if isinstance(value, int):
        return SettingValueType.INT
    if isinstance(value, float):
        return SettingValueType.FLOAT
    if isinstance(value, str):
        return SettingValueType.STR
    if isinstance(value, Mapping | list | tuple):
        return SettingValueType.JSON
    raise _bad_value(key, value, "must be a bool, int, float, str, dict or list")


def encode_setting(
    value: object, value_type: SettingValueType | str | None = None, *, key: str | None = None
) -> tuple[str, SettingValueType]:
    """The stored text and type for a Python value.

    Args:
        value: A bool, int, float, str, dict or list (JSON-serialisable).
        value_type: The type the value must have (e.g. the app default's); None infers it
            from the value. An int is accepted for a float setting; anything
            JSON-serialisable for a json setting.
        key: The setting's key, only for error messages.

    Returns:
        `(text, value_type)`: "true"/"false" for bools, decimal text for numbers (a float
        keeps its shortest repr), the string itself, or compact JSON.

    Raises:
        ValidationError: The value has the wrong type, is NaN/infinite, or is not
            JSON-serialisable; the message names the key and the value.
    """
    target = _infer_type(value, key) if value_type is None else _value_type(value_type, key)
    if target is SettingValueType.BOOL:
        if not isinstance(value, bool):
            raise _bad_value(key, value, "must be True or False")
        return (_TRUE if value else _FALSE), target
    if target is SettingValueType.INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad_value(key, value, "must be an integer")
        return str(value), target
    if target is SettingValueType.FLOAT:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad_value(key, value, "must be a number")
        number = float(value)
        if not math.isfinite(number):
            raise _bad_value(key, value, "must be finite")
        return repr(number), target
    if target is SettingValueType.STR:
        if not isinstance(value, str):
            raise _bad_value(key, value, "must be a string")
        if "\x00" in value:
            raise _bad_value(key, value, "must not contain NUL characters")
        return value, target
    if isinstance(value, tuple):
        value = list(value)
    return _json_text(value, key), target


def decode_setting(
    text: str | None, value_type: SettingValueType | str, *, key: str | None = None
) -> Any:
    """The Python value of stored setting text.

    Args:
        text: The stored text.
        value_type: How to read it (bool, int, float, str, json).
        key: The setting's key, only for error messages.

    Returns:
        A bool, int, float, str, or the parsed JSON value (a `SettingValue`, or None for
        JSON `null`).

    Raises:
        ValidationError: The text is missing or not a valid value of its type (e.g. "yes"
            for a bool, "1.5" for an int, "nan" for a float); the message names the key
            and the text.
    """
    kind = _value_type(value_type, key)
    if text is None:
        raise ValidationError(
            f"{_where(key)}: no value is stored (expected {kind.value})", field=key or "value"
        )
    if not isinstance(text, str):
        raise _bad_value(key, text, "stored value must be text")
    if kind is SettingValueType.STR:
        return text
    if kind is SettingValueType.BOOL:
        if text == _TRUE:
            return True
        if text == _FALSE:
            return False
        raise _bad_value(key, text, "stored value is not a bool ('true' or 'false')")
    if kind is SettingValueType.INT:
        if not _INT.fullmatch(text):
            raise _bad_value(key, text, "stored value is not an integer")
        return int(text)
    if kind is SettingValueType.FLOAT:
        if not _FLOAT.fullmatch(text):
            raise _bad_value(key, text, "stored value is not a finite number")
        number = float(text)
        if not math.isfinite(number):
            raise _bad_value(key, text, "stored value is not a finite number")
        return number
    return _decode_json(text, key)


def _decode_json(text: str, key: str | None) -> Any:
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _refuse_depth(key) from None
    except ValueError:
        raise _bad_value(key, text, "stored value is not valid JSON") from None
    if v.json_too_deep(document):
        raise _refuse_depth(key)
    return document


# ---------------------------------------------------------------------------------------
# Pattern keys and value rules (APP-DEFAULTS.md)


class PatternDefault(NamedTuple):
    """A default shared by every key matching `pattern` (no seeded row per key)."""

    pattern: re.Pattern[str]
    value: str
    value_type: SettingValueType


PATTERN_DEFAULTS: Final[tuple[PatternDefault, ...]] = (
    PatternDefault(
        re.compile(r"ui\.panel\.[A-Za-z0-9_-]+\.collapsed"), _FALSE, SettingValueType.BOOL
    ),
)


def pattern_default(key: str) -> PatternDefault | None:
    """The pattern default a key falls under, or None."""
    for default in PATTERN_DEFAULTS:
        if default.pattern.fullmatch(key):
            return default
    return None


@dataclass(frozen=True, slots=True)
class SettingRule:
    """Allowed values or range of one setting key, beyond its type."""

    choices: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None

    def check(self, key: str, value: object) -> None:
        if self.choices is not None and value not in self.choices:
            raise _bad_value(key, value, f"must be one of {', '.join(self.choices)}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if self.minimum is not None and value < self.minimum:
                raise _bad_value(key, value, f"must be at least {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise _bad_value(key, value, f"must be at most {self.maximum}")
        if self.max_length is not None and isinstance(value, str) and len(value) > self.max_length:
            raise _bad_value(key, value, f"must be at most {self.max_length} characters")


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

SETTING_RULES: Final[Mapping[str, SettingRule]] = {
    "logging.trades.level": SettingRule(choices=_LOG_LEVELS),
    "logging.api.level": SettingRule(choices=_LOG_LEVELS),
    "logging.rotation_mb": SettingRule(minimum=1, maximum=500),
    "logging.backup_count": SettingRule(minimum=1, maximum=50),
    "display.percent_mode": SettingRule(choices=("daily", "total")),
    "backup.auto_interval_seconds": SettingRule(minimum=60, maximum=86400),
    "backup.auto_change_threshold": SettingRule(minimum=1, maximum=10000),
    "backup.max_age_days": SettingRule(minimum=1, maximum=3650),
    "ui.theme": SettingRule(choices=("light", "dark")),
    "ui.activePage": SettingRule(max_length=256),
    "ui.sidebar.width": SettingRule(minimum=150, maximum=600),
}


def check_setting(key: str, value: object) -> None:
    """Apply the key's allowed values or range, if it has any.

    Raises:
        ValidationError: The value is outside what the key allows.
    """
    rule = SETTING_RULES.get(key)
    if rule is not None:
        rule.check(key, value)
