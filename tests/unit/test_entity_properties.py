"""Property tests for the domain entities.

1. Random *valid* values (in-range Decimals with at most the column's decimal places, aware
   datetimes in every zone incl. DST transitions and years 1..9999, strings with quotes,
   emoji, right-to-left text and SQL fragments) always construct, normalise as promised
   (Decimals unchanged in value, datetimes the same instant in UTC) and are idempotent:
   `replace(e) == e`.
2. Random *arbitrary* values in any field either construct or raise `ValidationError`,
   never any other exception.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.unit.test_entities import SPECS, TEMPLATES, Spec, valid_kwargs
from zorivest_core.domain.entities import RoundTrip, Watchlist, WatchlistItem
from zorivest_core.domain.errors import ValidationError

PROPERTY_SETTINGS: Final = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
ENTITY_CLASSES: Final = sorted(TEMPLATES, key=lambda cls: cls.__name__)

# ---------------------------------------------------------------------------------------
# Valid values
# ---------------------------------------------------------------------------------------

NASTY_STRINGS: Final = [
    "Robert'); DROP TABLE trades;--",
    "' OR '1'='1",
    "\"double\" and 'single' quotes",
    "\\ backslash \\' escaped",
    "emoji 📈📉💰 and ZWJ 👩‍💻",
    "שלום עולם",  # right-to-left
    "\u202eright-to-left override",
    "مرحبا 123",
    "tab\there\nnewline\r\n",
    "%s %(name)s {0} ${x}",
    "Ω≈ç√∫ 漢字 ｱｲｳ",
    "x",
]

_CHARACTERS: Final = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
# Required text is an id or a name: one line, no control characters at all. Optional text
# (notes, captions) keeps tab and line breaks but no other control character.
_LINE_CHARACTERS: Final = st.characters(exclude_categories=["Cs", "Cc"])
_FREE_CHARACTERS: Final = st.one_of(_LINE_CHARACTERS, st.sampled_from("\t\n\r"))


def _single_line(text: str) -> bool:
    return not any(character in text for character in "\t\n\r")


def texts(*, max_length: int | None, required: bool) -> st.SearchStrategy[str]:
    size = 300 if max_length is None else max_length
    alphabet = _LINE_CHARACTERS if required else _FREE_CHARACTERS
    generated = st.text(alphabet, min_size=1 if required else 0, max_size=size)
    nasty = st.sampled_from(
        [s for s in NASTY_STRINGS if len(s) <= size and (_single_line(s) or not required)]
    )
    strategy = st.one_of(nasty, generated)
    if max_length is not None:
        strategy = st.one_of(strategy, st.just("é" * max_length))
    if required:
        strategy = strategy.filter(lambda s: bool(s.strip()))
    return strategy


def decimals_for(spec: Spec) -> st.SearchStrategy[Decimal]:
    """Decimals with at most `scale` places and fewer than 18 significant digits in all."""
    digits = 18 - spec.scale
    largest = Decimal(10) ** digits - Decimal(1).scaleb(-spec.scale)
    low = -largest
    high = largest
    if spec.lower in ("positive", "non_negative"):
        low = Decimal(0)
    elif spec.lower == "unit":
        low, high = Decimal(0), Decimal(1)
    places = st.integers(min_value=0, max_value=spec.scale)
    values = places.flatmap(
        lambda p: st.decimals(
            min_value=low, max_value=high, places=p, allow_nan=False, allow_infinity=False
        )
    )
    edges = st.sampled_from([low, high, Decimal(0), Decimal(1).scaleb(-spec.scale)]).filter(
        lambda d: low <= d <= high
    )
    strategy = st.one_of(values, edges)
    if spec.lower == "positive":
        strategy = strategy.filter(lambda d: d > 0)
    return strategy


def numbers_for(spec: Spec) -> st.SearchStrategy[object]:
    """The same values given as Decimal, str, int (when whole) or float (short repr)."""
    decimals = decimals_for(spec)

    def forms(value: Decimal) -> st.SearchStrategy[object]:
        options: list[object] = [value, str(value), format(value, "f")]
        if value == value.to_integral_value():
            options.append(int(value))
        as_float = float(value)
        if Decimal(repr(as_float)) == value:
            options.append(as_float)
        return st.sampled_from(options)

    return decimals.flatmap(forms)


DST_TRANSITIONS: Final = [
    ("America/New_York", dt.datetime(2024, 3, 10, 2, 0)),  # noqa: DTZ001 - wall times
    ("America/New_York", dt.datetime(2024, 11, 3, 1, 0)),  # noqa: DTZ001
    ("Europe/London", dt.datetime(2024, 3, 31, 1, 0)),  # noqa: DTZ001
    ("Europe/London", dt.datetime(2024, 10, 27, 1, 0)),  # noqa: DTZ001
    ("Australia/Lord_Howe", dt.datetime(2024, 4, 7, 1, 30)),  # noqa: DTZ001 - 30-minute DST
    ("Pacific/Chatham", dt.datetime(2024, 9, 29, 2, 45)),  # noqa: DTZ001 - +12:45/+13:45
]


@st.composite
def near_dst(draw: st.DrawFn) -> dt.datetime:
    zone, wall = draw(st.sampled_from(DST_TRANSITIONS))
    offset = draw(st.integers(min_value=-7200, max_value=7200))
    fold = draw(st.integers(min_value=0, max_value=1))
    local = wall + dt.timedelta(seconds=offset)
    return local.replace(tzinfo=ZoneInfo(zone), fold=fold)


def _utc_convertible(value: dt.datetime) -> bool:
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        return False
    return True


def _aware_datetimes() -> st.SearchStrategy[dt.datetime]:
    any_zone = st.datetimes(
        min_value=dt.datetime(1, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=dt.datetime(9999, 12, 31, 23, 59, 59, 999999),  # noqa: DTZ001
        timezones=st.one_of(st.timezones(), st.just(dt.UTC)),
    ).filter(_utc_convertible)
    extremes = st.sampled_from(
        [
            dt.datetime(1, 1, 1, tzinfo=dt.UTC),
            dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
            # Kolkata's year-1 offset is local mean time, +05:53:28.
            dt.datetime(1, 1, 1, 6, 0, tzinfo=ZoneInfo("Asia/Kolkata")),
            dt.datetime(9999, 12, 31, 18, 0, tzinfo=ZoneInfo("America/New_York")),
        ]
    ).filter(_utc_convertible)
    return st.one_of(any_zone, near_dst(), extremes)


AWARE_DATETIMES: Final = _aware_datetimes()


def aware_datetimes() -> st.SearchStrategy[dt.datetime]:
    return AWARE_DATETIMES


def string_lists(*, non_empty: bool) -> st.SearchStrategy[list[str]]:
    return st.lists(
        texts(max_length=128, required=True), min_size=1 if non_empty else 0, max_size=5
    )


JSON_LEAVES: Final = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    texts(max_length=40, required=False),
)
JSON_VALUES: Final = st.recursive(
    JSON_LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(texts(max_length=20, required=False), children, max_size=4),
    ),
    max_leaves=12,
)


def valid_values(spec: Spec) -> st.SearchStrategy[Any]:
    strategy: st.SearchStrategy[Any]
    match spec.kind:
        case "text":
            strategy = texts(max_length=spec.max_length, required=spec.required)
        case "raw_text":
            strategy = texts(max_length=None, required=False)
        case "enum":
            assert spec.enum is not None
            members = list(spec.enum)
            strategy = st.sampled_from(members + [m.value for m in members])
        case "number":
            strategy = numbers_for(spec)
        case "datetime":
            strategy = aware_datetimes()
        case "bool":
            strategy = st.booleans()
        case "int":
            # Every integer column is `Integer` (int4 on PostgreSQL).
            low = spec.int_min if spec.int_min is not None else -(2**31)
            high = spec.int_max if spec.int_max is not None else 2**31 - 1
            strategy = st.integers(min_value=low, max_value=high)
        case "text_list":
            strategy = string_lists(non_empty=spec.non_empty)
        case "json":
            strategy = st.dictionaries(texts(max_length=20, required=False), JSON_VALUES)
        case "bytes":
            strategy = st.binary(max_size=64)
        case "currency":
            strategy = st.from_regex(r"[A-Z]{3}", fullmatch=True)
        case "date":
            strategy = st.dates()
        case "country":
            strategy = st.from_regex(r"[A-Z]{2}", fullmatch=True)
        case "price_list":
            strategy = st.lists(numbers_for(Spec("number", lower="non_negative")), max_size=4)
        case "items":
            strategy = st.lists(
                st.builds(
                    WatchlistItem,
                    ticker=texts(max_length=64, required=True),
                    added_at=aware_datetimes(),
                ),
                max_size=5,
                unique_by=lambda item: item.ticker,
            )
        case other:
            raise AssertionError(f"no strategy for {other}")
    if not spec.required:
        strategy = st.one_of(st.none(), strategy)
    return strategy


FIELD_STRATEGIES: Final = {
    cls: {name: valid_values(spec) for name, spec in fields.items()}
    for cls, fields in SPECS.items()
}


@st.composite
def valid_kwargs_for(draw: st.DrawFn, cls: type[Any]) -> dict[str, Any]:
    kwargs = {name: draw(strategy) for name, strategy in FIELD_STRATEGIES[cls].items()}
    if cls is RoundTrip and kwargs["closed_at"] is not None:
        opened, closed = kwargs["opened_at"], kwargs["closed_at"]
        if closed.astimezone(dt.UTC) < opened.astimezone(dt.UTC):
            kwargs["opened_at"], kwargs["closed_at"] = closed, opened
    return kwargs


def _expected_number(value: object) -> Decimal:
    if isinstance(value, float):
        return Decimal(repr(value))
    assert isinstance(value, Decimal | int | str)
    return Decimal(value)


def _check_normalised(cls: type[Any], kwargs: dict[str, Any], entity: Any) -> None:
    for name, spec in SPECS[cls].items():
        given_value = kwargs[name]
        stored = getattr(entity, name)
        if given_value is None:
            assert stored is None, name
            continue
        match spec.kind:
            case "number":
                assert type(stored) is Decimal, name
                assert stored == _expected_number(given_value), name
                assert not stored.is_signed() or stored < 0, name
            case "price_list":
                assert stored == [_expected_number(v) for v in given_value], name
            case "datetime":
                assert stored.tzinfo is dt.UTC, name
                assert stored == given_value.astimezone(dt.UTC), name
                assert stored.timestamp() == given_value.timestamp(), name
            case "enum":
                assert spec.enum is not None
                assert type(stored) is spec.enum, name
                assert stored == spec.enum(given_value), name
            case "text" | "raw_text":
                assert stored == given_value, name
            case _:
                assert stored == given_value, name


@pytest.mark.parametrize("cls", ENTITY_CLASSES, ids=lambda cls: cls.__name__)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_valid_values_construct_and_are_idempotent(cls: type[Any], data: st.DataObject) -> None:
    kwargs = data.draw(valid_kwargs_for(cls), label="kwargs")
    entity = cls(**kwargs)
    _check_normalised(cls, kwargs, entity)
    assert replace(entity) == entity
    again = cls(**{f.name: getattr(entity, f.name) for f in dataclasses.fields(cls)})
    assert again == entity
    assert replace(again) == again


@PROPERTY_SETTINGS
@given(
    opened=aware_datetimes(),
    delta=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3650)),
)
def test_round_trip_accepts_any_close_at_or_after_open(
    opened: dt.datetime, delta: dt.timedelta
) -> None:
    opened_utc = opened.astimezone(dt.UTC)
    assume(opened_utc <= dt.datetime.max.replace(tzinfo=dt.UTC) - delta)
    closed = opened_utc + delta
    kwargs = valid_kwargs(RoundTrip) | {"opened_at": opened, "closed_at": closed}
    trip = RoundTrip(**kwargs)
    assert trip.closed_at is not None
    assert trip.closed_at >= trip.opened_at
    if delta:
        with pytest.raises(ValidationError):
            RoundTrip(**(kwargs | {"opened_at": closed, "closed_at": opened}))


# ---------------------------------------------------------------------------------------
# Arbitrary values: ValidationError or success, nothing else
# ---------------------------------------------------------------------------------------

WILD: Final = st.one_of(
    st.none(),
    st.integers(),
    st.integers(min_value=2**62, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.text(_CHARACTERS, max_size=3),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(places=12, allow_nan=False, allow_infinity=False),
    st.binary(),
    st.booleans(),
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
    st.dates(),
    st.lists(st.one_of(st.text(), st.integers(), st.none()), max_size=3),
    st.dictionaries(st.one_of(st.text(), st.integers()), st.one_of(st.floats(), st.text())),
    st.sampled_from(
        [
            "NaN",
            "sNaN",
            "-Infinity",
            "1e999999999",
            Decimal("1E+999999999"),
            Decimal("-0E-999999999"),
            Decimal("1E-999999999"),
            "1" * 40 + "." + "1" * 20,
            10**5000,
            -(10**5000),
            "\x00",
            " ",
            "",
            "BOT",
            "usd",
            "USD",
            "US",
            [],
            (),
            {},
            set(),
            object(),
            Decimal,
            dt.datetime.min.replace(tzinfo=dt.UTC),
            dt.datetime.max.replace(tzinfo=dt.UTC),
            dt.datetime.min.replace(tzinfo=ZoneInfo("Asia/Tokyo")),
            dt.datetime.max.replace(tzinfo=ZoneInfo("America/Los_Angeles")),
            [WatchlistItem(ticker="A"), WatchlistItem(ticker="A")],
            [float("nan")],
            {"k": float("nan")},
        ]
    ),
)


def construct(cls: type[Any], kwargs: dict[str, Any]) -> tuple[Any, ValidationError | None]:
    """(entity, None) on success, (None, error) on a ValidationError; anything else raises."""
    try:
        return cls(**kwargs), None
    except ValidationError as error:
        return None, error


@pytest.mark.parametrize("cls", ENTITY_CLASSES, ids=lambda cls: cls.__name__)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_arbitrary_values_raise_only_validation_error(cls: type[Any], data: st.DataObject) -> None:
    names = sorted(SPECS[cls])
    chosen = data.draw(
        st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True), label="fields"
    )
    kwargs = valid_kwargs(cls)
    for name in chosen:
        kwargs[name] = data.draw(WILD, label=name)
    entity, error = construct(cls, kwargs)
    if error is not None:
        assert error.field is not None
        assert error.field.split("[")[0].split(".")[0] in SPECS[cls]
        assert error.field in str(error)
    else:
        # Accepted: then it is a fixed point of its own validation.
        assert replace(entity) == entity


@pytest.mark.parametrize("cls", ENTITY_CLASSES, ids=lambda cls: cls.__name__)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_every_field_fuzzed_alone(cls: type[Any], data: st.DataObject) -> None:
    """Each field in turn gets a wild value (the test above mixes several at once)."""
    for name in sorted(SPECS[cls]):
        kwargs = valid_kwargs(cls)
        kwargs[name] = data.draw(WILD, label=name)
        _, error = construct(cls, kwargs)
        if error is None:
            continue
        assert error.field is not None
        # The one cross-field rule: a later opened_at makes closed_at the culprit.
        cross_field = cls is RoundTrip and (name, error.field) == ("opened_at", "closed_at")
        assert error.field.startswith(name) or cross_field, (name, error.field)


@PROPERTY_SETTINGS
@given(items=st.lists(st.sampled_from(["AAPL", "MSFT", "aapl", "TSLA"]), max_size=6))
def test_watchlist_accepts_exactly_the_lists_without_duplicate_tickers(items: list[str]) -> None:
    kwargs = valid_kwargs(Watchlist) | {"items": [WatchlistItem(ticker=t) for t in items]}
    if len(set(items)) == len(items):
        assert [item.ticker for item in Watchlist(**kwargs).items] == items
    else:
        with pytest.raises(ValidationError) as info:
            Watchlist(**kwargs)
        assert info.value.field is not None
        assert info.value.field.endswith(".ticker")
