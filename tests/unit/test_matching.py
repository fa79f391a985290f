"""The FIFO matching engine, on scenarios computed by hand and on generated histories.

Every expected number below was worked out on paper (the arithmetic is in the comments);
none is computed by the code under test.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from fractions import Fraction
from typing import Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.budget import examples
from zorivest_core.domain.enums import RoundTripStatus, TradeAction
from zorivest_core.domain.errors import ValidationError
from zorivest_core.domain.matching import (
    Execution,
    ExecutionPnl,
    PositionMatcher,
    divide_rounded,
    iter_round_trips,
    match_executions,
)

T0: Final = dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.UTC)
BOT: Final = TradeAction.BOT
SLD: Final = TradeAction.SLD
PROPERTIES: Final = settings(
    max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def fill(
    exec_id: str,
    minutes: float,
    action: TradeAction,
    quantity: str | int,
    price: str,
    commission: str = "0",
    multiplier: str = "1",
) -> Execution:
    return Execution(
        exec_id=exec_id,
        time=T0 + dt.timedelta(minutes=minutes),
        action=action,
        quantity=Decimal(quantity),
        price=Decimal(price),
        commission=Decimal(commission),
        multiplier=Decimal(multiplier),
    )


def test_long_round_trip() -> None:
    result = match_executions(
        "ACC1",
        "AAPL",
        [fill("E1", 0, BOT, 100, "50.00", "1.00"), fill("E2", 90, SLD, 100, "52.50", "1.00")],
    )
    (trip,) = result.round_trips
    assert trip.direction == BOT
    assert trip.entry_exec_ids == ["E1"]
    assert trip.exit_exec_ids == ["E2"]
    assert trip.total_quantity == Decimal(100)
    assert trip.entry_avg_price == Decimal("50")
    assert trip.exit_avg_price == Decimal("52.5")
    # (52.50 - 50.00) * 100 = 250 gross; minus 1.00 + 1.00 commission = 248
    assert trip.realized_pnl == Decimal("248")
    assert trip.total_commission == Decimal("2")
    assert trip.opened_at == T0
    assert trip.closed_at == T0 + dt.timedelta(minutes=90)
    assert trip.holding_period_seconds == 5400
    assert trip.status == RoundTripStatus.CLOSED
    assert result.executions == [ExecutionPnl("E2", Decimal(100), Decimal("248"))]


def test_short_round_trip() -> None:
    (trip,) = match_executions(
        "ACC1",
        "TSLA",
        [fill("S1", 0, SLD, 200, "30.10", "2.00"), fill("S2", 1, BOT, 200, "29.85", "2.00")],
    ).round_trips
    assert trip.direction == SLD
    assert trip.entry_exec_ids == ["S1"]
    assert trip.exit_exec_ids == ["S2"]
    # (30.10 - 29.85) * 200 = 50 gross; minus 4.00 commission = 46
    assert trip.realized_pnl == Decimal("46")
    assert trip.total_commission == Decimal("4")
    assert trip.holding_period_seconds == 60


def test_scale_in_and_out_matches_lots_first_in_first_out() -> None:
    result = match_executions(
        "ACC1",
        "MSFT",
        [
            fill("A", 0, BOT, 100, "10", "1.00"),
            fill("B", 1, BOT, 50, "11", "0.50"),
            fill("C", 2, SLD, 120, "12", "1.20"),
            fill("D", 3, SLD, 30, "9", "0.30"),
        ],
    )
    (trip,) = result.round_trips
    assert trip.entry_exec_ids == ["A", "B"]
    assert trip.exit_exec_ids == ["C", "D"]
    assert trip.total_quantity == Decimal(150)
    # (100*10 + 50*11) / 150 = 10.3333... -> 10.3333333333 at 10 places
    assert trip.entry_avg_price == Decimal("10.3333333333")
    # (120*12 + 30*9) / 150 = 1710 / 150 = 11.4
    assert trip.exit_avg_price == Decimal("11.4")
    # C closes 100 of A (+200) and 20 of B (+20); D closes 30 of B (-60): gross 160
    assert trip.realized_pnl == Decimal("157")  # 160 - 3.00 commission
    assert trip.total_commission == Decimal("3")
    # C: 220 - 1.20 own - 1.00 (all of A's) - 0.20 (20/50 of B's 0.50) = 217.60
    # D: -60 - 0.30 own - 0.30 (the rest of B's) = -60.60
    assert result.executions == [
        ExecutionPnl("C", Decimal(120), Decimal("217.6")),
        ExecutionPnl("D", Decimal(30), Decimal("-60.6")),
    ]


def test_a_flip_through_zero_is_split_with_its_commission_pro_rata() -> None:
    result = match_executions(
        "ACC1",
        "NVDA",
        [
            fill("L1", 0, BOT, 100, "20", "1.00"),
            fill("FLIP", 5, SLD, 300, "21", "1.00"),
            fill("C1", 9, BOT, 200, "20.5", "2.00"),
        ],
    )
    first, second = result.round_trips
    assert (first.direction, second.direction) == (BOT, SLD)
    assert first.exit_exec_ids == ["FLIP"]
    assert second.entry_exec_ids == ["FLIP"]
    assert first.total_quantity == Decimal(100)
    assert second.total_quantity == Decimal(200)
    # FLIP's 1.00 is split 100/300 = 0.333333 (half-even at 6 places) and 0.666667
    assert first.total_commission == Decimal("1.333333")  # 1.00 + 0.333333
    assert second.total_commission == Decimal("2.666667")  # 0.666667 + 2.00
    # first: (21 - 20) * 100 = 100 - 1.333333 = 98.666667
    assert first.realized_pnl == Decimal("98.666667")
    # second: (21 - 20.5) * 200 = 100 - 2.666667 = 97.333333
    assert second.realized_pnl == Decimal("97.333333")
    assert first.closed_at == second.opened_at == T0 + dt.timedelta(minutes=5)
    assert [pnl.exec_id for pnl in result.executions] == ["FLIP", "C1"]
    assert result.executions[0].closed_quantity == Decimal(100)


def test_an_option_counts_its_multiplier_of_100() -> None:
    (trip,) = match_executions(
        "ACC1",
        "AAPL 240621C00190000",
        [
            fill("O1", 0, BOT, 3, "2.15", "1.95", "100"),
            fill("O2", 60, SLD, 3, "3.40", "1.95", "100"),
        ],
    ).round_trips
    assert trip.entry_avg_price == Decimal("2.15")
    assert trip.exit_avg_price == Decimal("3.4")
    # (3.40 - 2.15) * 3 contracts * 100 = 375 gross; minus 3.90 = 371.10
    assert trip.realized_pnl == Decimal("371.1")
    assert trip.total_commission == Decimal("3.9")


def test_a_losing_trade() -> None:
    (trip,) = match_executions(
        "ACC1",
        "META",
        [fill("M1", 0, BOT, 10, "150", "0.50"), fill("M2", 1440, SLD, 10, "140.25", "0.50")],
    ).round_trips
    # (140.25 - 150) * 10 = -97.50; minus 1.00 = -98.50
    assert trip.realized_pnl == Decimal("-98.5")
    assert trip.holding_period_seconds == 86400


def test_an_open_position_is_an_open_round_trip_with_its_realized_part() -> None:
    result = match_executions(
        "ACC1",
        "AMD",
        [fill("P1", 0, BOT, 100, "10", "1.00"), fill("P2", 30, SLD, 40, "12", "0.40")],
    )
    (trip,) = result.round_trips
    assert trip.status == RoundTripStatus.OPEN
    assert trip.closed_at is None
    assert trip.holding_period_seconds is None
    assert trip.exit_exec_ids == ["P2"]
    assert trip.exit_avg_price == Decimal("12")
    assert trip.total_quantity == Decimal(100)
    # 40 * (12 - 10) = 80, minus P2's 0.40, minus 40/100 of P1's 1.00 = 79.20
    assert trip.realized_pnl == Decimal("79.2")
    assert trip.total_commission == Decimal("1.4")


def test_an_open_position_without_exits() -> None:
    (trip,) = match_executions("ACC1", "AMD", [fill("P1", 0, SLD, "0.5", "10")]).round_trips
    assert trip.status == RoundTripStatus.OPEN
    assert trip.exit_exec_ids is None
    assert trip.exit_avg_price is None
    assert trip.realized_pnl == Decimal(0)


def test_executions_at_the_same_time_are_ordered_by_exec_id() -> None:
    trips = match_executions(
        "ACC1", "X", [fill("B", 0, BOT, 1, "10"), fill("A", 0, SLD, 1, "11")]
    ).round_trips
    (trip,) = trips
    assert trip.direction == SLD  # "A" comes first
    assert trip.realized_pnl == Decimal(1)


def test_out_of_order_or_repeated_executions_are_refused() -> None:
    matcher = PositionMatcher("ACC1", "X")
    matcher.add(fill("B", 1, BOT, 1, "10"))
    with pytest.raises(ValidationError, match="order"):
        matcher.add(fill("A", 1, BOT, 1, "10"))
    with pytest.raises(ValidationError, match="order"):
        matcher.add(fill("B", 1, BOT, 1, "10"))
    with pytest.raises(ValidationError, match="quantity"):
        matcher.add(fill("C", 2, BOT, 0, "10"))


def test_a_position_in_two_currencies_is_refused() -> None:
    euro = Execution(
        "E2", T0 + dt.timedelta(minutes=1), SLD, Decimal(1), Decimal(11), currency="EUR"
    )
    with pytest.raises(ValidationError, match="currency"):
        match_executions("ACC1", "SAP", [fill("E1", 0, BOT, 1, "10"), euro])
    both_euro = [
        Execution("E1", T0, BOT, Decimal(1), Decimal(10), currency="EUR"),
        euro,
    ]
    (trip,) = match_executions("ACC1", "SAP", both_euro).round_trips
    assert trip.currency == "EUR"


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        ("1.0000000001", "2", "0.5"),  # 0.50000000005 -> tie, 0 is even
        ("1.0000000003", "2", "0.5000000002"),  # 0.50000000015 -> tie, up to even 2
        ("-1.0000000003", "2", "-0.5000000002"),
        ("10", "3", "3.3333333333"),
        ("20", "3", "6.6666666667"),
    ],
)
def test_division_rounds_half_even_at_the_scale(
    numerator: str, denominator: str, expected: str
) -> None:
    assert divide_rounded(Decimal(numerator), Decimal(denominator), 10) == Decimal(expected)


def test_average_price_rounds_half_even_at_ten_places() -> None:
    (trip,) = match_executions(
        "ACC1", "X", [fill("1", 0, BOT, 1, "1"), fill("2", 1, BOT, 1, "0.0000000003")]
    ).round_trips
    assert trip.entry_avg_price == Decimal("0.5000000002")


# ------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> list[Execution]:
    """Executions of one pair: integer quantities, cent prices, commission in cents per unit.

    A commission proportional to quantity is shared pro rata without any rounding, so the
    unit-by-unit reference below is exact too.
    """
    count = draw(st.integers(min_value=1, max_value=25))
    multiplier = draw(st.sampled_from(["1", "100", "0.5"]))
    executions = []
    minute = 0
    for index in range(count):
        minute += draw(st.integers(min_value=0, max_value=3))  # ties happen
        quantity = draw(st.integers(min_value=1, max_value=40))
        cents = draw(st.integers(min_value=1, max_value=100_000))
        per_unit = draw(st.integers(min_value=0, max_value=5))
        executions.append(
            Execution(
                exec_id=f"X{index:03d}",
                time=T0 + dt.timedelta(minutes=minute),
                action=draw(st.sampled_from([BOT, SLD])),
                quantity=Decimal(quantity),
                price=Decimal(cents).scaleb(-2),
                commission=Decimal(per_unit * quantity).scaleb(-2),
                multiplier=Decimal(multiplier),
            )
        )
    return executions


def unit_fifo_realized(executions: list[Execution]) -> Fraction:
    """Reference: split every execution into units and close units first in, first out.

    Returns the P&L of every closed unit net of both its units' commissions (Fractions).
    """
    open_units: list[tuple[int, Fraction, Fraction]] = []  # (side, price*mult, commission)
    realized = Fraction(0)
    for execution in sorted(executions, key=lambda e: (e.time, e.exec_id)):
        side = 1 if execution.action == BOT else -1
        value = Fraction(execution.price) * Fraction(execution.multiplier)
        unit_commission = Fraction(execution.commission) / Fraction(execution.quantity)
        for _ in range(int(execution.quantity)):
            if open_units and open_units[0][0] != side:
                open_side, open_value, open_commission = open_units.pop(0)
                realized += open_side * (value - open_value) - open_commission - unit_commission
            else:
                open_units.append((side, value, unit_commission))
    return realized


@PROPERTIES
@given(histories())
def test_net_pnl_plus_open_realized_equals_closed_units_cash_flow(
    executions: list[Execution],
) -> None:
    result = match_executions("ACC1", "X", executions)
    total = sum((trip.realized_pnl or Decimal(0) for trip in result.round_trips), Decimal(0))
    assert Fraction(total) == unit_fifo_realized(executions)
    per_execution = sum((pnl.realized_pnl for pnl in result.executions), Decimal(0))
    assert per_execution == total
    assert sum(trip.status == RoundTripStatus.OPEN for trip in result.round_trips) <= 1


@PROPERTIES
@given(histories())
def test_a_flat_history_nets_its_cash_flow_minus_every_commission(
    executions: list[Execution],
) -> None:
    position = sum((e.quantity if e.action == BOT else -e.quantity for e in executions), Decimal(0))
    if position:
        last = executions[-1]
        executions = [
            *executions,
            Execution(
                "ZFLAT",
                last.time + dt.timedelta(minutes=1),
                SLD if position > 0 else BOT,
                abs(position),
                Decimal("123.45"),
                Decimal("0.07"),
                last.multiplier,
            ),
        ]
    cash = sum(
        (
            (e.price if e.action == SLD else -e.price) * e.quantity * e.multiplier
            for e in executions
        ),
        Decimal(0),
    )
    commissions = sum((e.commission for e in executions), Decimal(0))
    trips = match_executions("ACC1", "X", executions).round_trips
    assert all(trip.status == RoundTripStatus.CLOSED for trip in trips)
    assert sum((t.realized_pnl or Decimal(0) for t in trips), Decimal(0)) == cash - commissions
    assert sum((t.total_commission for t in trips), Decimal(0)) == commissions
    # Every unit bought is sold: what the round trips entered is half of all quantity traded.
    traded = sum((e.quantity for e in executions), Decimal(0))
    assert 2 * sum((t.total_quantity for t in trips), Decimal(0)) == traded


@PROPERTIES
@given(histories(), st.randoms(use_true_random=False), st.data())
def test_matching_is_independent_of_input_order_and_chunking(
    executions: list[Execution], rng: random.Random, data: st.DataObject
) -> None:
    expected = match_executions("ACC1", "X", executions)
    shuffled = list(executions)
    rng.shuffle(shuffled)
    assert match_executions("ACC1", "X", shuffled) == expected

    ordered = sorted(executions, key=lambda e: e.key)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(ordered)), max_size=5)))
    matcher = PositionMatcher("ACC1", "X")
    trips = []
    for start, end in zip([0, *cuts], [*cuts, len(ordered)], strict=True):
        trips.extend(matcher.feed(ordered[start:end]))
    still_open = matcher.finish()
    if still_open is not None:
        trips.append(still_open)
    assert trips == expected.round_trips
    assert matcher.executions == expected.executions
    assert list(iter_round_trips("ACC1", "X", ordered)) == expected.round_trips
