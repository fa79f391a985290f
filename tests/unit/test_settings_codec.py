"""The setting value codec: typed text in, typed values out, strictly."""

from __future__ import annotations

import math
from typing import Any

import pytest

from zorivest_core.domain.enums import SettingValueType as T
from zorivest_core.domain.errors import ValidationError
from zorivest_core.domain.settings import (
    check_setting,
    decode_setting,
    encode_setting,
    pattern_default,
)


@pytest.mark.parametrize(
    ("value", "text", "value_type"),
    [
        (True, "true", T.BOOL),
        (False, "false", T.BOOL),
        (0, "0", T.INT),
        (-42, "-42", T.INT),
        (2**63 + 5, str(2**63 + 5), T.INT),
        (0.1, "0.1", T.FLOAT),
        (-1e-10, "-1e-10", T.FLOAT),
        (1.0, "1.0", T.FLOAT),
        ("dark", "dark", T.STR),
        ("", "", T.STR),
        ("  spaced ünïcode  ", "  spaced ünïcode  ", T.STR),
        ({"a": [1, 2.5, None, "x"]}, '{"a":[1,2.5,null,"x"]}', T.JSON),
        ([1, "two", {"three": True}], '[1,"two",{"three":true}]', T.JSON),
        ([], "[]", T.JSON),
    ],
)
def test_encode_infers_the_type_and_decode_returns_the_same_value(
    value: Any, text: str, value_type: T
) -> None:
    assert encode_setting(value) == (text, value_type)
    decoded = decode_setting(text, value_type)
    assert decoded == value
    assert type(decoded) is type(value)


def test_tuple_encodes_as_a_json_list() -> None:
    assert encode_setting((1, 2)) == ("[1,2]", T.JSON)


def test_bool_is_not_taken_for_an_int() -> None:
    assert encode_setting(True)[1] is T.BOOL
    with pytest.raises(ValidationError):
        encode_setting(True, T.INT)
    with pytest.raises(ValidationError):
        encode_setting(1, T.BOOL)


def test_an_int_is_accepted_for_a_float_setting() -> None:
    assert encode_setting(5, T.FLOAT) == ("5.0", T.FLOAT)
    assert decode_setting("5", T.FLOAT) == 5.0


def test_any_json_value_is_accepted_for_a_json_setting() -> None:
    assert encode_setting("text", T.JSON) == ('"text"', T.JSON)
    assert decode_setting('"text"', T.JSON) == "text"
    assert decode_setting("null", "json") is None


@pytest.mark.parametrize(
    ("value", "value_type"),
    [
        (5, T.STR),
        ("5", T.INT),
        (1.5, T.INT),
        ("true", T.BOOL),
        ("1.5", T.FLOAT),
        (math.nan, T.FLOAT),
        (math.inf, None),
        ({"a": math.nan}, None),
        ({1: "int key"}, None),
        ({"a": object()}, None),
        (None, None),
        (b"bytes", None),
        ("nul\x00char", T.STR),
    ],
)
def test_encode_refuses_values_of_the_wrong_type(value: Any, value_type: T | None) -> None:
    with pytest.raises(ValidationError):
        encode_setting(value, value_type, key="some.key")


def test_encode_error_names_key_and_value() -> None:
    with pytest.raises(ValidationError) as raised:
        encode_setting(5, T.STR, key="ui.theme")
    assert "ui.theme" in str(raised.value)
    assert "5" in str(raised.value)
    assert raised.value.field == "ui.theme"


@pytest.mark.parametrize(
    ("text", "value_type"),
    [
        ("yes", T.BOOL),
        ("True", T.BOOL),
        ("1", T.BOOL),
        (" true", T.BOOL),
        ("1.5", T.INT),
        ("1_000", T.INT),
        (" 10", T.INT),
        ("", T.INT),
        ("0x10", T.INT),
        ("nan", T.FLOAT),
        ("inf", T.FLOAT),
        ("-Infinity", T.FLOAT),
        ("1e999", T.FLOAT),
        ("1_0.5", T.FLOAT),
        ("abc", T.FLOAT),
        ("{not json", T.JSON),
        ("NaN", T.JSON),
        ('{"a": Infinity}', T.JSON),
        ("", T.JSON),
    ],
)
def test_decode_is_strict_and_names_the_key_and_text(text: str, value_type: T) -> None:
    with pytest.raises(ValidationError) as raised:
        decode_setting(text, value_type, key="logging.rotation_mb")
    message = str(raised.value)
    assert "logging.rotation_mb" in message
    assert repr(text)[:20] in message


def test_decode_of_a_missing_value_or_unknown_type_raises() -> None:
    with pytest.raises(ValidationError, match="no value"):
        decode_setting(None, T.INT, key="k")
    with pytest.raises(ValidationError, match="unknown value_type"):
        decode_setting("1", "decimal", key="k")
    with pytest.raises(ValidationError, match="unknown value_type"):
        encode_setting(1, "integer", key="k")


def test_decode_accepts_value_type_as_text() -> None:
    assert decode_setting("7", "int") == 7
    assert decode_setting("+7", T.INT) == 7
    assert decode_setting(".5", T.FLOAT) == 0.5
    assert decode_setting("-2.5E3", T.FLOAT) == -2500.0


def test_panel_collapsed_pattern_is_a_bool_defaulting_to_false() -> None:
    default = pattern_default("ui.panel.trades.collapsed")
    assert default is not None
    assert decode_setting(default.value, default.value_type) is False
    assert pattern_default("ui.panel..collapsed") is None
    assert pattern_default("ui.panel.a.b.collapsed") is None
    assert pattern_default("ui.panel.trades.collapsedx") is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ui.theme", "blue"),
        ("logging.trades.level", "info"),
        ("logging.rotation_mb", 0),
        ("logging.rotation_mb", 501),
        ("ui.sidebar.width", 149),
        ("ui.activePage", "/" * 257),
        ("display.percent_mode", "weekly"),
    ],
)
def test_rules_refuse_values_outside_the_allowed_set(key: str, value: object) -> None:
    with pytest.raises(ValidationError) as raised:
        check_setting(key, value)
    assert key in str(raised.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ui.theme", "light"),
        ("logging.rotation_mb", 500),
        ("ui.sidebar.width", 150),
        ("ui.activePage", "/" * 256),
        ("unknown.key", "anything"),
    ],
)
def test_rules_accept_values_in_range(key: str, value: object) -> None:
    check_setting(key, value)
