"""Properties of amount parsing: any amount a broker may write reads back exactly."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.budget import examples
from zorivest_infra.importers import values

AMOUNTS = st.decimals(
    min_value=Decimal("-999999999999"),
    max_value=Decimal("999999999999"),
    places=6,
    allow_nan=False,
    allow_infinity=False,
)


def _grouped(value: Decimal, *, thousands: str, decimal: str) -> str:
    """`value` written with grouped thousands, as a US or European statement would."""
    sign = "-" if value < 0 else ""
    whole, _, fraction = f"{abs(value):f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = thousands.join(groups)
    return f"{sign}{text}{decimal}{fraction}" if fraction else f"{sign}{text}"


@settings(max_examples=examples(200), deadline=None)
@given(AMOUNTS)
def test_us_and_european_writing_read_back_exactly(value: Decimal) -> None:
    us = _grouped(value, thousands=",", decimal=".")
    european = _grouped(value, thousands=".", decimal=",")
    assert values.number(us, "amount") == value
    assert values.number(f"${us}".replace("$-", "-$"), "amount") == value
    assert values.number(european, "amount", decimal=",") == value
    assert values.number(f"{value:f}", "amount") == value
