"""Deterministic IBKR Flex Query XML for the import benchmarks, generated as a stream.

`flex_chunks(count)` yields the bytes of a Flex statement with `count` stock executions
(constant memory, any size); `FlexStream` wraps it as a binary file. `raw_row(i)` is the
trades row the journal stores for execution `i`, in the driver's values (scaled integers,
UTC ISO text), for the raw `executemany` baseline.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any, Final
from zoneinfo import ZoneInfo

ACCOUNT: Final = "U1000001"
ZONE: Final = ZoneInfo("America/New_York")
_START: Final = dt.datetime(2019, 1, 2, 9, 30)  # noqa: DTZ001 - New York wall-clock time
_ROWS_PER_SESSION: Final = (6 * 3600 + 30 * 60) // 7  # 09:30 to 16:00, 7 s apart
_HEAD: Final = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<FlexQueryResponse queryName="bench" type="AF">'
    b'<FlexStatements count="1">\n<FlexStatement accountId="' + ACCOUNT.encode() + b'">'
    b"<Trades>\n"
)
_TAIL: Final = b"</Trades></FlexStatement></FlexStatements></FlexQueryResponse>\n"
_SYMBOLS: Final = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "AMD", "SPY", "QQQ")
_ROW: Final = (
    '<Trade accountId="{account}" currency="USD" fxRateToBase="1" assetCategory="STK" '
    'symbol="{symbol}" conid="{conid}" multiplier="1" tradeID="{i}" ibExecID="BENCH{i:010d}" '
    'dateTime="{when}" buySell="{side}" quantity="{quantity}" tradePrice="{price}" '
    'ibCommission="-{commission}" ibCommissionCurrency="USD" openCloseIndicator="O" '
    'fifoPnlRealized="0" levelOfDetail="EXECUTION"/>\n'
)
_CHUNK_ROWS: Final = 1_000


def _fields(i: int) -> tuple[str, str, int, int, int, dt.datetime]:
    """Symbol, side, quantity, price (cents), commission (cents), local time of row i."""
    # Each symbol is bought, then the same quantity sold: a round trip of two executions,
    # as a day trader's statement holds. (With side and quantity taken from i alone, each
    # symbol was only ever bought or only ever sold: every lot stayed open, and matching
    # must hold open lots in memory, so a million of them measured the data, not the import.)
    leg = i // len(_SYMBOLS)
    side = "BUY" if leg % 2 == 0 else "SELL"
    quantity = 1 + (leg // 2) % 300
    price_cents = 1_000 + (i * 7_919) % 99_000
    commission_cents = 1 + i % 250
    # 7 s apart within each day's 09:30-16:00 session (weekends too: no calendar needed).
    # Running around the clock reached 2019-03-10 02:00, a New York time that does not
    # exist, which the importer rightly refuses.
    day, slot = divmod(i, _ROWS_PER_SESSION)
    when = _START + dt.timedelta(days=day, seconds=7 * slot)
    return _SYMBOLS[i % len(_SYMBOLS)], side, quantity, price_cents, commission_cents, when


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def flex_chunks(count: int) -> Iterator[bytes]:
    """The statement's bytes, about 1,000 rows at a time."""
    yield _HEAD
    for start in range(0, count, _CHUNK_ROWS):
        rows = []
        for i in range(start, min(count, start + _CHUNK_ROWS)):
            symbol, side, quantity, price, commission, when = _fields(i)
            rows.append(
                _ROW.format(
                    account=ACCOUNT,
                    symbol=symbol,
                    conid=1000 + i % len(_SYMBOLS),
                    i=i,
                    when=when.strftime("%Y%m%d;%H%M%S"),
                    side=side,
                    quantity=quantity if side == "BUY" else -quantity,
                    price=_cents(price),
                    commission=_cents(commission),
                )
            )
        yield "".join(rows).encode()
    yield _TAIL


class FlexStream(io.RawIOBase):
    """`flex_chunks(count)` as a readable binary stream (never held whole)."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self._chunks = flex_chunks(count)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def raw_row(i: int) -> tuple[Any, ...]:
    """The trades row stored for execution i (what our importer must store too)."""
    symbol, side, quantity, price, commission, when = _fields(i)
    moment = when.replace(tzinfo=ZONE).astimezone(dt.UTC)
    return (
        f"BENCH{i:010d}",
        moment.isoformat(" ", "microseconds")[:26],
        symbol,
        "BOT" if side == "BUY" else "SLD",
        quantity * 10**10,
        price * 10**8,
        ACCOUNT,
        commission * 10**4,
        0,
        "stock",
        10**10,
        None,
        None,
        None,
        None,
        "USD",
        10**10,
    )


RAW_COLUMNS: Final = (
    "exec_id, time, instrument, action, quantity, price, account_id, commission, "
    "realized_pnl, asset_class, multiplier, underlying, expiry, strike, option_right, "
    "currency, fx_rate"
)
RAW_INSERT_SQL: Final = f"INSERT INTO trades ({RAW_COLUMNS}) VALUES ({', '.join('?' * 17)})"
