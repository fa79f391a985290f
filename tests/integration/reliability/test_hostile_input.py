"""Hostile input: random and adversarial field values, and damaged or malicious images.

Entities: Hypothesis builds entity fields from hostile strings (quotes, NUL, emoji, RTL
marks, SQL fragments, 1 MB texts), numbers at and just past the exact limits, and times at
DST changes and at the ends of the calendar. Each input is either refused with
`ValidationError` (and nothing is written) or stored and read back EXACTLY (same text,
same Decimal digits, the same UTC instant) on every backend. One engine per backend per
test; rows are cleaned between examples.

Images: mutated and truncated PNG/JPEG/GIF/WebP files and decompression bombs only ever
give `InvalidImageError` (or, for a mutation that is still a decodable image, a correct
analysis), through `analyse_image` and through the repository (nothing written). The bombs
run in a child process whose address space is capped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from io import BytesIO
from typing import Any, Final
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import Engine, delete, func, select

from tests.budget import examples as budget
from tests.factories import png_bytes
from tests.integration.reliability._child import (
    CHILD_PATH,
    UNDER_THE_CAP,
    bomb_cases,
    jpeg_with_size,
)
from zorivest_core.domain.entities import Account, ImageAttachment, Trade, TradeReport
from zorivest_core.domain.enums import AccountType, TradeAction
from zorivest_core.domain.errors import InvalidImageError, ValidationError
from zorivest_infra.database.models import (
    AccountModel,
    ImageModel,
    TradeModel,
    TradeReportModel,
)
from zorivest_infra.database.unit_of_work import SqlAlchemyUnitOfWork, make_session_factory
from zorivest_infra.images import THUMBNAIL_SIZE, analyse_image

RecordProperty = Callable[[str, object], None]

# -- value strategies -------------------------------------------------------------------------

PRICE_LIMIT: Final = Decimal("99999999.9999999999")
MONEY_LIMIT: Final = Decimal("999999999999.999999")
ONE_MB: Final = 1_000_000
ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)
MINUS_UNIT: Final = Decimal("-1E-10")  # prices may be zero: "more than" this

HOSTILE_STRINGS: Final[list[str]] = [
    "'",
    '"',
    "''",
    "\\",
    "%_",
    "'; DROP TABLE trades; --",
    "Robert'); DELETE FROM accounts WHERE ('1'='1",
    '" OR 1=1 --',
    "1; ATTACH DATABASE '/tmp/x.db' AS x KEY ''; --",
    "x'00ff'",
    "PRAGMA key = 'x'",
    "NULL",
    "null",
    "None",
    "\x00",
    "a\x00b",
    "\x00' OR '1'='1",
    "\U0001f4c8\U0001f680\U0001f44d\U0001f3fd",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\u202eevil\u202c",
    "\u05e2\u05d1\u05e8\u05d9\u05ea \u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "\u200f\u200e\u2066\u2069",
    "e\u0301",
    "\u00e9",
    "\ufeffBOM",
    "\u2028\u2029",
    "\t\r\n",
    " ",
    "",
    "\U0010ffff",
    "\uffff",
    "\u0000\u0001\u001f\u007f",
    "\u00a0",
    "\uff07\uff02",  # full-width quote and double quote
    "x" * 64,
    "x" * 65,
    "\U0001f600" * 64,
    "\U0001f600" * 65,
]

_BIG_PATTERN = "'\"; DROP TABLE trades; -- \U0001f4c8 \u202e\u05e2\u05d1 \u00e9 "
BIG_STRINGS: Final[list[str]] = [
    "x" * ONE_MB,
    (_BIG_PATTERN * (ONE_MB // len(_BIG_PATTERN) + 1))[:ONE_MB],
    ("\U0001f600" * ONE_MB)[:ONE_MB],
    "a" * (ONE_MB - 1) + "\x00",
]

texts = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
)
long_texts = st.one_of(texts, st.sampled_from(BIG_STRINGS))


def numbers(scale: int, limit: Decimal) -> st.SearchStrategy[object]:
    unit = Decimal(1).scaleb(-scale)
    edges: list[object] = [
        limit,
        -limit,
        limit + unit,
        -limit - unit,
        unit,
        -unit,
        unit / 10,
        Decimal(0),
        Decimal("-0"),
        Decimal("0E-30"),
        Decimal("1E+2"),
        Decimal("1.50"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        float("nan"),
        float("inf"),
        0.1,
        1e-7,
        1e300,
        2**63,
        -(2**63),
        True,
        None,
        "",
        " 12.5 ",
        "1e3",
        "0x10",
        "1_000",
        "\u0661\u0662\u0663",  # Arabic-Indic digits: Decimal() accepts them
        "12.5'; --",
        str(limit),
    ]
    return st.one_of(
        st.sampled_from(edges),
        st.decimals(min_value=-limit, max_value=limit, places=scale),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(),
        st.text(alphabet="0123456789.-+eE", max_size=25),
    )


PRICES = numbers(10, PRICE_LIMIT)
MONEYS = numbers(6, MONEY_LIMIT)

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # a 30-minute DST shift
VALID_EDGE_TIMES: Final[list[dt.datetime]] = [
    dt.datetime(2024, 3, 10, 2, 30, tzinfo=NEW_YORK),  # does not exist (spring forward)
    dt.datetime(2024, 11, 3, 1, 30, tzinfo=NEW_YORK),  # exists twice: first
    dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=NEW_YORK),  # exists twice: second
    dt.datetime(2024, 3, 31, 1, 30, tzinfo=LONDON),
    dt.datetime(2024, 10, 27, 1, 59, 59, 999999, fold=1, tzinfo=LONDON),
    dt.datetime(2024, 4, 7, 1, 45, tzinfo=LORD_HOWE),
    dt.datetime(1, 1, 1, tzinfo=UTC),
    dt.datetime(1, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    dt.datetime(1, 1, 1, tzinfo=NEW_YORK),  # local mean time, -4:56:02
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    dt.datetime(9999, 12, 31, 12, tzinfo=dt.timezone(dt.timedelta(hours=11, minutes=59))),
]
INVALID_EDGE_TIMES: Final[list[object]] = [
    dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),  # before year 1 in UTC
    dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-1))),  # after 9999
    dt.datetime(2024, 1, 1),  # naive  # noqa: DTZ001
    dt.date(2024, 1, 1),
    "2024-01-01T00:00:00Z",
    1_700_000_000,
    None,
]
EDGE_TIMES: Final[list[object]] = [*VALID_EDGE_TIMES, *INVALID_EDGE_TIMES]
times = st.one_of(
    st.sampled_from(EDGE_TIMES),
    st.datetimes(
        min_value=dt.datetime(1, 1, 2),  # noqa: DTZ001
        max_value=dt.datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.timezones(),
    ),
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(),  # naive: always refused
)
actions = st.sampled_from(["BOT", "SLD", "bot", "BUY", "", "BOT'; --", None, 1])
account_types = st.sampled_from(["broker", "bank", "ira", "401k", "BROKER", "", None, "x'"])
currencies = st.one_of(st.sampled_from(["USD", "EUR", "usd", "US", "USDX", "", "\u00c9UR"]), texts)
booleans = st.sampled_from([True, False, None, 0, 1, "true"])
scores = st.sampled_from([None, 1, 3, 5, 0, 6, -1, True, "3", 2.0])
tag_lists = st.one_of(
    st.lists(texts, max_size=6),
    st.sampled_from(["tag", None, [None], [1], ["a", ""], ["\x00"]]),
)

# Valid counterparts: hostile content that the rules allow, so that most examples get as
# far as the database. Each example makes at most two fields wild (anything goes).


def _storable(value: str) -> bool:
    return bool(value.strip()) and "\x00" not in value


def valid_texts(max_length: int | None) -> st.SearchStrategy[str]:
    pool = [s for s in HOSTILE_STRINGS if _storable(s)]
    strategy = st.one_of(
        st.sampled_from(pool),
        st.text(min_size=1, max_size=80),
        st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    )
    if max_length is None:
        strategy = st.one_of(strategy, st.sampled_from([s for s in BIG_STRINGS if _storable(s)]))
    else:
        strategy = strategy.map(lambda value: value[:max_length])
    return strategy.filter(_storable)


def valid_numbers(
    scale: int, limit: Decimal, *, minimum: Decimal | None = None
) -> st.SearchStrategy[object]:
    unit = Decimal(1).scaleb(-scale)
    edges: list[object] = [limit, unit, Decimal("1E+2"), Decimal("1.50"), 0.1, 7, "42.5"]
    if minimum is None:
        edges += [-limit, -unit, Decimal(0), Decimal("-0"), Decimal("0E-30")]
        decimals = st.decimals(min_value=-limit, max_value=limit, places=scale)
    else:
        decimals = st.decimals(min_value=minimum, max_value=limit, places=scale)
    return st.one_of(st.sampled_from(edges), decimals).filter(
        lambda value: minimum is None or Decimal(str(value)) > minimum
    )


valid_times = st.one_of(
    st.sampled_from(VALID_EDGE_TIMES),
    st.datetimes(
        min_value=dt.datetime(1, 1, 2),  # noqa: DTZ001
        max_value=dt.datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.timezones(),
    ),
)
valid_optional_texts = st.one_of(st.none(), st.just(""), valid_texts(None))


def hostile_fields(
    spec: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]],
) -> st.SearchStrategy[dict[str, Any]]:
    """Field values: valid ones, except for up to two fields drawn from anything."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        wild = draw(st.sets(st.sampled_from(sorted(spec)), max_size=2))
        return {
            name: draw(anything if name in wild else valid)
            for name, (valid, anything) in spec.items()
        }

    return build()


# -- per-example database helpers -------------------------------------------------------------

BASE_ACCOUNT: Final = "ACC'1; --\U0001f600"
BASE_TRADE: Final = "BASE-\u202e'\"-1"
HOSTILE: Final = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    database=None,
)
EXAMPLES_TRADES: Final = budget(120)
EXAMPLES_ACCOUNTS: Final = budget(60)
EXAMPLES_CAPTIONS: Final = budget(40)
EXAMPLES_REPORTS: Final = budget(60)
EXAMPLES_IMAGES: Final = budget(400)
EXAMPLES_IMAGES_REPOSITORY: Final = budget(30)

_CLEANED = (ImageModel, TradeReportModel, TradeModel, AccountModel)


def _uow(engine: Engine) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(make_session_factory(engine))


def _reset(engine: Engine, *, with_trade: bool = True) -> None:
    """Remove every row an example may have written; keep one account (and trade)."""
    with engine.begin() as conn:
        for model in _CLEANED:
            conn.execute(delete(model))
    with _uow(engine) as uow:
        uow.accounts.save(Account(BASE_ACCOUNT, "Base", AccountType.BROKER, created_at=_T0))
        if with_trade:
            uow.trades.save(_trade(BASE_TRADE, "AAPL"))
        uow.commit()


def _trade(exec_id: str, instrument: str) -> Trade:
    return Trade(exec_id, _T0, instrument, TradeAction.BOT, ONE, ONE, BASE_ACCOUNT)


def _rows(engine: Engine, model: type[Any]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


_T0: Final = dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def _assert_exact(stored: object, expected: object) -> None:
    """Equal, and equal in representation: Decimal digits, UTC instants, exact text."""
    assert stored == expected
    assert dataclasses.is_dataclass(expected)
    for field in dataclasses.fields(expected):
        got, want = getattr(stored, field.name), getattr(expected, field.name)
        if isinstance(want, Decimal):
            assert isinstance(got, Decimal)
            assert str(got) == str(want), field.name
        elif isinstance(want, dt.datetime):
            assert isinstance(got, dt.datetime)
            assert got.utcoffset() == dt.timedelta(0), field.name
            assert got.replace(tzinfo=None) == want.astimezone(UTC).replace(tzinfo=None)
        elif isinstance(want, StrEnum):
            assert got is want, field.name
        elif isinstance(want, str):
            assert type(got) is str
            assert got == want, field.name


def _run(
    engine: Engine,
    counts: Counter[str],
    build: Callable[[], Any],
    store: Callable[[SqlAlchemyUnitOfWork, Any], Any],
    load: Callable[[SqlAlchemyUnitOfWork, Any, Any], Any],
    model: type[Any],
) -> None:
    """One example: refused (nothing written) or stored and read back exactly."""
    before = _rows(engine, model)
    counts["inputs"] += 1
    try:
        entity = build()
    except ValidationError:
        counts["refused on construction"] += 1
        assert _rows(engine, model) == before
        return
    try:
        with _uow(engine) as uow:
            key = store(uow, entity)
            uow.commit()
    except ValidationError:
        counts["refused by the database"] += 1
        assert _rows(engine, model) == before
        return
    assert _rows(engine, model) == before + 1
    with _uow(engine) as uow:
        stored = load(uow, entity, key)
    _assert_exact(stored, entity)
    counts["stored and read back exactly"] += 1


def _backend(request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params.get("backend_engine", "?"))


def _summary(what: str, request: pytest.FixtureRequest, counts: Counter[str]) -> str:
    details = ", ".join(f"{count} {name}" for name, count in sorted(counts.items()))
    return f"hostile input ({what}, {_backend(request)}): {details}"


def _report(record_property: RecordProperty, line: str, counts: Counter[str]) -> None:
    print(line)
    record_property("inputs_fuzzed", counts["inputs"])


# -- entity round trips -----------------------------------------------------------------------


@pytest.mark.parametrize("examples", [EXAMPLES_TRADES], ids=lambda n: f"inputs={n}")
def test_trades_round_trip_exactly_or_are_refused(
    backend_engine: Engine,
    examples: int,
    request: pytest.FixtureRequest,
    record_property: RecordProperty,
) -> None:
    engine = backend_engine
    counts: Counter[str] = Counter()

    def store(uow: SqlAlchemyUnitOfWork, trade: Trade) -> str:
        uow.trades.save(trade)
        # Saving the identical trade again in bulk is a duplicate, never a conflict:
        # the stored values compare equal to the entity's, whatever they are.
        result = uow.trades.save_many([trade])
        assert result.duplicates == [trade.exec_id], result
        return trade.exec_id

    @settings(HOSTILE, max_examples=examples)
    @given(
        fields=hostile_fields(
            {
                "exec_id": (valid_texts(128), texts),
                "time": (valid_times, times),
                "instrument": (valid_texts(64), long_texts),
                "action": (st.sampled_from(["BOT", "SLD", TradeAction.SLD]), actions),
                "quantity": (valid_numbers(10, PRICE_LIMIT, minimum=ZERO), PRICES),
                "price": (valid_numbers(10, PRICE_LIMIT, minimum=MINUS_UNIT), PRICES),
                "commission": (valid_numbers(6, MONEY_LIMIT), MONEYS),
                "realized_pnl": (valid_numbers(6, MONEY_LIMIT), MONEYS),
            }
        )
    )
    def example(fields: dict[str, Any]) -> None:
        _reset(engine, with_trade=False)
        _run(
            engine,
            counts,
            lambda: Trade(account_id=BASE_ACCOUNT, **fields),
            store,
            lambda uow, trade, key: uow.trades.get(key),
            TradeModel,
        )

    example()
    _report(record_property, _summary("trades", request, counts), counts)
    assert counts["stored and read back exactly"] > 0
    assert counts["refused on construction"] > 0


@pytest.mark.parametrize("examples", [EXAMPLES_ACCOUNTS], ids=lambda n: f"inputs={n}")
def test_accounts_round_trip_exactly_or_are_refused(
    backend_engine: Engine,
    examples: int,
    request: pytest.FixtureRequest,
    record_property: RecordProperty,
) -> None:
    engine = backend_engine
    counts: Counter[str] = Counter()

    def store(uow: SqlAlchemyUnitOfWork, account: Account) -> str:
        uow.accounts.save(account)
        return account.account_id

    @settings(HOSTILE, max_examples=examples)
    @given(
        fields=hostile_fields(
            {
                "account_id": (valid_texts(64), texts),
                "name": (valid_texts(200), long_texts),
                "account_type": (st.sampled_from(list(AccountType)), account_types),
                "institution": (st.one_of(st.none(), valid_texts(200)), long_texts),
                "currency": (st.sampled_from(["USD", "EUR", "JPY"]), currencies),
                "is_tax_advantaged": (st.booleans(), booleans),
                "notes": (valid_optional_texts, long_texts),
                "created_at": (valid_times, times),
            }
        )
    )
    def example(fields: dict[str, Any]) -> None:
        _reset(engine, with_trade=False)
        if fields["account_id"] == BASE_ACCOUNT:
            fields["account_id"] += "-2"
        _run(
            engine,
            counts,
            lambda: Account(**fields),
            store,
            lambda uow, account, key: uow.accounts.get(key),
            AccountModel,
        )

    example()
    _report(record_property, _summary("accounts", request, counts), counts)
    assert counts["stored and read back exactly"] > 0


@pytest.mark.parametrize("examples", [EXAMPLES_REPORTS], ids=lambda n: f"inputs={n}")
def test_trade_reports_round_trip_exactly_or_are_refused(
    backend_engine: Engine,
    examples: int,
    request: pytest.FixtureRequest,
    record_property: RecordProperty,
) -> None:
    engine = backend_engine
    counts: Counter[str] = Counter()

    def store(uow: SqlAlchemyUnitOfWork, report: TradeReport) -> int:
        report_id: int = uow.trade_reports.save(report)
        return report_id

    def load(uow: SqlAlchemyUnitOfWork, report: TradeReport, key: int) -> TradeReport | None:
        stored = uow.trade_reports.get(key)
        return None if stored is None else dataclasses.replace(stored, id=None)

    @settings(HOSTILE, max_examples=examples)
    @given(
        fields=hostile_fields(
            {
                "setup_quality": (st.sampled_from([None, 1, 2, 3, 4, 5]), scores),
                "execution_quality": (st.sampled_from([None, 1, 5]), scores),
                "followed_plan": (st.sampled_from([None, True, False]), booleans),
                "emotional_state": (st.one_of(st.none(), valid_texts(100)), texts),
                "lessons_learned": (valid_optional_texts, long_texts),
                "tags": (st.lists(valid_texts(40), max_size=5), tag_lists),
                "created_at": (valid_times, times),
            }
        )
    )
    def example(fields: dict[str, Any]) -> None:
        _reset(engine)
        _run(
            engine,
            counts,
            lambda: TradeReport(trade_id=BASE_TRADE, **fields),
            store,
            load,
            TradeReportModel,
        )

    example()
    _report(record_property, _summary("trade reports", request, counts), counts)
    assert counts["stored and read back exactly"] > 0


@pytest.mark.parametrize("examples", [EXAMPLES_CAPTIONS], ids=lambda n: f"inputs={n}")
def test_image_captions_round_trip_exactly_or_are_refused(
    backend_engine: Engine,
    examples: int,
    request: pytest.FixtureRequest,
    record_property: RecordProperty,
) -> None:
    engine = backend_engine
    counts: Counter[str] = Counter()
    data = png_bytes(64, 36)

    def store(uow: SqlAlchemyUnitOfWork, image: ImageAttachment) -> int:
        image_id: int = uow.images.save(BASE_TRADE, image)
        return image_id

    def load(uow: SqlAlchemyUnitOfWork, image: ImageAttachment, key: int) -> ImageAttachment:
        stored = uow.images.get(key)
        assert stored is not None
        assert stored.data == data
        assert stored.mime_type == "image/png"
        return ImageAttachment(data=stored.data, caption=stored.caption)

    @settings(HOSTILE, max_examples=examples)
    @given(caption=st.one_of(valid_optional_texts, long_texts))
    def example(caption: Any) -> None:
        _reset(engine)
        _run(
            engine,
            counts,
            lambda: ImageAttachment(data=data, caption=caption),
            store,
            load,
            ImageModel,
        )

    example()
    _report(record_property, _summary("image captions", request, counts), counts)
    assert counts["stored and read back exactly"] > 0


def test_unencodable_text_is_refused_not_a_driver_error(backend_engine: Engine) -> None:
    """A lone surrogate cannot be stored as UTF-8 by any backend."""
    _reset(backend_engine, with_trade=False)

    def save() -> None:
        trade = _trade("S1", "\ud800")
        with _uow(backend_engine) as uow:
            uow.trades.save(trade)
            uow.commit()

    with pytest.raises(ValidationError):
        save()
    assert _rows(backend_engine, TradeModel) == 0


# -- images -----------------------------------------------------------------------------------


@functools.cache
def _bombs() -> list[tuple[str, bytes]]:
    return list(bomb_cases())


def _encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _sources() -> dict[str, bytes]:
    base = Image.open(BytesIO(png_bytes(120, 68, seed=7))).convert("RGB")
    rgba = base.convert("RGBA")
    rgba.putalpha(180)
    frames = [base.convert("P"), base.rotate(90).convert("P")]
    gif = BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=50)
    return {
        "png": _encode(base, "PNG"),
        "png-rgba-interlaced": _encode(rgba, "PNG", interlace=1),
        "png-palette": _encode(base.convert("P"), "PNG"),
        "jpeg": _encode(base, "JPEG", quality=80),
        "jpeg-progressive": _encode(base, "JPEG", quality=80, progressive=True),
        "gif-animated": gif.getvalue(),
        "webp-lossy": _encode(base, "WEBP", quality=70),
        "webp-lossless-alpha": _encode(rgba, "WEBP", lossless=True),
    }


SOURCES: Final = _sources()


def _pixels(data: bytes) -> bytes:
    with Image.open(BytesIO(data)) as image:
        image.load()
        return image.convert("RGBA").tobytes()


@st.composite
def damaged_images(draw: st.DrawFn) -> tuple[str, str, bytes]:
    name = draw(st.sampled_from(sorted(SOURCES)))
    data = SOURCES[name]
    how = draw(st.sampled_from(["truncate", "mutate", "mutate-header", "splice"]))
    if how == "truncate":
        return name, how, data[: draw(st.integers(0, len(data) - 1))]
    damaged = bytearray(data)
    if how == "splice":
        other = SOURCES[draw(st.sampled_from(sorted(SOURCES)))]
        cut = draw(st.integers(1, len(data) - 1))
        return name, how, bytes(damaged[:cut]) + other[draw(st.integers(0, len(other) - 1)) :]
    span = min(len(data), 64) if how == "mutate-header" else len(data)
    for _ in range(draw(st.integers(1, 16))):
        damaged[draw(st.integers(0, span - 1))] = draw(st.integers(0, 255))
    return name, how, bytes(damaged)


def _analyse(data: bytes) -> str:
    """`invalid`, or `accepted` after checking that the analysis is a sound one."""
    try:
        analysed = analyse_image(data)
    except InvalidImageError:
        return "invalid"
    facts = analysed.facts
    assert facts.mime_type in {"image/png", "image/jpeg", "image/gif", "image/webp"}
    assert facts.width >= 1
    assert facts.height >= 1
    assert facts.file_size == len(data)
    with Image.open(BytesIO(analysed.thumbnail)) as thumbnail:
        assert thumbnail.format == "WEBP"
        assert max(thumbnail.size) <= THUMBNAIL_SIZE
    return "accepted"


@pytest.mark.parametrize("examples", [EXAMPLES_IMAGES], ids=lambda n: f"inputs={n}")
def test_damaged_images_are_invalid_never_another_error(
    examples: int, record_property: RecordProperty
) -> None:
    counts: Counter[str] = Counter()
    originals = {name: _pixels(data) for name, data in SOURCES.items()}

    @settings(HOSTILE, max_examples=examples)
    @given(case=damaged_images())
    def example(case: tuple[str, str, bytes]) -> None:
        name, how, data = case
        counts["inputs"] += 1
        outcome = _analyse(data)
        counts[f"{how} {outcome}"] += 1
        if how == "truncate" and outcome == "accepted":
            # Only trailing bytes after the complete pixel data (a PNG's CRC/IEND, a GIF's
            # trailer or later frames) may be missing: what is decoded is the original.
            assert _pixels(data) == originals[name], f"truncated {name} decoded differently"

    example()
    # Every truncation point of one small file of each format, too.
    for name, data in SOURCES.items():
        for cut in random.Random(name).sample(range(len(data)), min(150, len(data))):
            counts["inputs"] += 1
            outcome = _analyse(data[:cut])
            counts[f"truncate {outcome}"] += 1
            if outcome == "accepted":
                assert _pixels(data[:cut]) == originals[name], f"{name} cut at {cut}"
    line = "hostile images (analyse_image): " + ", ".join(
        f"{count} {name}" for name, count in sorted(counts.items())
    )
    print(line)
    record_property("images_fuzzed", counts["inputs"])


@pytest.mark.parametrize("examples", [EXAMPLES_IMAGES_REPOSITORY], ids=lambda n: f"inputs={n}")
def test_damaged_images_are_refused_by_the_repository(
    backend_engine: Engine,
    examples: int,
    request: pytest.FixtureRequest,
    record_property: RecordProperty,
) -> None:
    engine = backend_engine
    _reset(engine)
    counts: Counter[str] = Counter()

    def attach(data: bytes) -> str:
        before = _rows(engine, ImageModel)
        try:
            with _uow(engine) as uow:
                uow.images.save(BASE_TRADE, ImageAttachment(data=data, caption="fuzz"))
                uow.commit()
        except InvalidImageError:
            assert _rows(engine, ImageModel) == before
            return "invalid"
        assert _rows(engine, ImageModel) == before + 1
        return "stored"

    @settings(HOSTILE, max_examples=examples)
    @given(case=damaged_images())
    def example(case: tuple[str, str, bytes]) -> None:
        _name, how, data = case
        counts["inputs"] += 1
        expected = "invalid" if _analyse(data) == "invalid" else "stored"
        assert attach(data) == expected
        counts[f"{how} {expected}"] += 1

    example()
    for name, data in _bombs():
        if name.endswith(UNDER_THE_CAP):
            continue  # may decode: hundreds of MB, in the capped child process only
        counts["inputs"] += 1
        assert attach(data) == "invalid", name
        counts["bomb invalid"] += 1
    line = f"hostile images (repository, {_backend(request)}): " + ", ".join(
        f"{count} {name}" for name, count in sorted(counts.items())
    )
    print(line)
    record_property("images_fuzzed", counts["inputs"])


def test_bombs_are_invalid_within_a_capped_address_space(
    record_property: RecordProperty,
) -> None:
    completed = subprocess.run(
        [sys.executable, str(CHILD_PATH), "bombs"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    outcomes: dict[str, str] = result["outcomes"]
    assert len(outcomes) >= 15
    for name, outcome in outcomes.items():
        if name.endswith(UNDER_THE_CAP):
            assert outcome.startswith(("invalid", "accepted")), f"{name}: {outcome}"
        else:
            assert outcome.startswith("invalid"), f"{name}: {outcome}"
    print(
        f"decompression bombs: {len(outcomes)} bombs under an address-space cap "
        f"({result['limit'] >> 20} MiB = the child's size + 300 MiB): "
        f"{sum(o.startswith('invalid') for o in outcomes.values())} InvalidImageError, "
        f"{sum(o.startswith('accepted') for o in outcomes.values())} accepted under the pixel "
        "cap, 0 MemoryError, 0 other errors"
    )
    record_property("bombs", len(outcomes))


def test_jpeg_with_a_lying_frame_header_is_invalid() -> None:
    with pytest.raises(InvalidImageError):
        analyse_image(jpeg_with_size(7000, 7000))
