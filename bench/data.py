"""Deterministic benchmark data: trades (as entities and as raw rows) and chart screenshots.

Every trade exists in two equal forms: a validated `Trade` entity for our API, and the tuple
of driver values the raw baseline inserts (scaled integers for prices, quantities and money,
UTC ISO text for time, in `TRADE_COLUMNS` order). `raw_row(spec)` is exactly what the
project's column types bind for `trade(spec)`; the benchmark checks that on stored rows.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from PIL import Image, ImageChops, ImageDraw, ImageFont

from zorivest_core.domain.entities import Trade
from zorivest_core.domain.enums import TradeAction
from zorivest_infra.database.models import TradeModel

__all__ = [
    "BASE_TIME",
    "DETAIL_COLUMNS",
    "INSERT_TRADE_SQL",
    "MAIN_ACCOUNT",
    "NO_DETAILS",
    "OTHER_ACCOUNT",
    "SELECT_TRADE_COLUMNS",
    "TRADE_COLUMNS",
    "RawTrade",
    "TradeSeries",
    "chart_png",
    "raw_rows",
    "trades",
]

TRADE_COLUMNS: Final = (
    "exec_id",
    "time",
    "instrument",
    "action",
    "quantity",
    "price",
    "account_id",
    "commission",
    "realized_pnl",
)
DETAIL_COLUMNS: Final = tuple(
    column.name for column in TradeModel.__table__.columns if column.name not in TRADE_COLUMNS
)
"""The instrument details (revision 0002): NULL for the benchmark's stock trades, but part
of every stored trade, so every raw read selects them as the repository does."""
NO_DETAILS: Final = (None,) * len(DETAIL_COLUMNS)

SELECT_TRADE_COLUMNS: Final = ", ".join(TRADE_COLUMNS + DETAIL_COLUMNS)
INSERT_TRADE_SQL: Final = (
    f"INSERT INTO trades ({', '.join(TRADE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(TRADE_COLUMNS))})"
)

MAIN_ACCOUNT: Final = "U1000001"
OTHER_ACCOUNT: Final = "U2000002"
BASE_TIME: Final = dt.datetime(2019, 1, 2, 14, 30, tzinfo=dt.UTC)

_SYMBOLS: Final = (
    "AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "AMD", "NFLX", "INTC",
    "SPY", "QQQ", "IWM", "DIA", "ES", "NQ", "CL", "GC", "EURUSD", "BTCUSD",
)  # fmt: skip
_ACTIONS: Final = (TradeAction.BOT, TradeAction.SLD)
_PRICE_SCALE: Final = 10**10
_MONEY_SCALE: Final = 10**6

RawTrade = tuple[str, str, str, str, int, int, str, int, int]
"""One trades row as the driver stores it, in `TRADE_COLUMNS` order."""


@dataclass(frozen=True, slots=True)
class TradeSeries:
    """A deterministic series of one account's trades.

    Trade ``i`` has exec_id ``<prefix><i:010d>`` and time ``start + i * step_seconds``, so
    times are unique and increase with ``i``; its numbers cycle through realistic ranges.
    """

    account_id: str
    prefix: str
    step_seconds: int = 30
    offset_seconds: int = 0

    def exec_id(self, i: int) -> str:
        return f"{self.prefix}{i:010d}"

    def time(self, i: int) -> dt.datetime:
        return BASE_TIME + dt.timedelta(seconds=self.offset_seconds + i * self.step_seconds)


def _numbers(i: int) -> tuple[int, int, int, int]:
    """Quantity (whole units), price, commission and P&L (in cents) of trade ``i``."""
    quantity = 1 + i % 500
    price_cents = 1_000 + (i * 7_919) % 99_000
    commission_cents = i % 300
    pnl_cents = (i * 104_729) % 2_000_001 - 1_000_000
    return quantity, price_cents, commission_cents, pnl_cents


def trades(series: TradeSeries, start: int, stop: int) -> list[Trade]:
    """Validated entities of trades ``start <= i < stop`` of ``series``."""
    result: list[Trade] = []
    cents = Decimal("0.01")
    for i in range(start, stop):
        quantity, price_cents, commission_cents, pnl_cents = _numbers(i)
        result.append(
            Trade(
                exec_id=series.exec_id(i),
                time=series.time(i),
                instrument=_SYMBOLS[i % len(_SYMBOLS)],
                action=_ACTIONS[i % 2],
                quantity=Decimal(quantity),
                price=price_cents * cents,
                account_id=series.account_id,
                commission=commission_cents * cents,
                realized_pnl=pnl_cents * cents,
            )
        )
    return result


def raw_rows(
    series: TradeSeries, start: int, stop: int, chunk: int = 50_000
) -> Iterator[list[RawTrade]]:
    """The same trades as `trades`, as driver rows, in lists of at most ``chunk`` rows.

    Built without any datetime or Decimal arithmetic per row so a million rows take about a
    second: the time text is assembled from a per-day prefix and the seconds of the day.
    """
    day_cache: dict[int, str] = {}
    base_seconds = BASE_TIME.hour * 3600 + BASE_TIME.minute * 60 + BASE_TIME.second
    base_day = BASE_TIME.date()
    symbols = _SYMBOLS
    n_symbols = len(symbols)
    actions = tuple(action.value for action in _ACTIONS)
    prefix = series.prefix
    account = series.account_id
    step = series.step_seconds
    cents_to_price = _PRICE_SCALE // 100
    cents_to_money = _MONEY_SCALE // 100
    for first in range(start, stop, chunk):
        rows: list[RawTrade] = []
        for i in range(first, min(first + chunk, stop)):
            seconds = base_seconds + series.offset_seconds + i * step
            day, second_of_day = divmod(seconds, 86_400)
            day_text = day_cache.get(day)
            if day_text is None:
                day_text = (base_day + dt.timedelta(days=day)).isoformat()
                day_cache[day] = day_text
            hour, rest = divmod(second_of_day, 3600)
            minute, second = divmod(rest, 60)
            quantity, price_cents, commission_cents, pnl_cents = _numbers(i)
            rows.append(
                (
                    f"{prefix}{i:010d}",
                    f"{day_text} {hour:02d}:{minute:02d}:{second:02d}.000000",
                    symbols[i % n_symbols],
                    actions[i % 2],
                    quantity * _PRICE_SCALE,
                    price_cents * cents_to_price,
                    account,
                    commission_cents * cents_to_money,
                    pnl_cents * cents_to_money,
                )
            )
        yield rows


# ---------------------------------------------------------------------------------------------
# Screenshots
# ---------------------------------------------------------------------------------------------


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError):  # a Pillow built without FreeType: bitmap font
        return ImageFont.load_default()


def chart_png(seed: int, width: int = 2560, height: int = 1440) -> bytes:
    """A realistic trading-platform screenshot as PNG bytes.

    Dark two-axis gradient background, grid, a few hundred candles with wicks, two moving
    averages, volume bars, price-axis labels, a title bar and an order ticket panel: about
    what a pasted 1440p chart screenshot holds, so PNG decoding costs what it costs there.
    """
    rng = random.Random(seed)
    # Background: a diagonal two-channel gradient (not trivially compressible, like the
    # shaded backgrounds of charting platforms).
    vertical = Image.linear_gradient("L").resize((width, height))
    horizontal = Image.linear_gradient("L").rotate(90).resize((width, height))
    red = vertical.point(lambda value: 14 + value * 18 // 255)
    green = horizontal.point(lambda value: 17 + value * 14 // 255)
    blue = vertical.point(lambda value: 40 - value * 14 // 255)
    image = Image.merge("RGB", (red, green, blue))
    # A faint low-frequency texture, as rendered gradients and heat-map shading have; it
    # brings the PNG to a typical pasted-screenshot size (several hundred KB).
    small = (max(1, width // 8), max(1, height // 8))
    noise = bytes(
        min(255, max(0, round(128 + rng.gauss(0, 2.0)))) for _ in range(small[0] * small[1])
    )
    texture = Image.frombytes("L", small, noise).resize((width, height), Image.Resampling.BILINEAR)
    image = ImageChops.add(image, Image.merge("RGB", (texture, texture, texture)), offset=-128)
    draw = ImageDraw.Draw(image)

    top, bottom, left, right = 70, height - 260, 20, width - 170
    volume_top = bottom + 30
    for grid_x in range(left, right, 80):
        draw.line([(grid_x, top), (grid_x, height - 40)], fill=(48, 54, 68), width=1)
    for grid_y in range(top, height - 40, 60):
        draw.line([(left, grid_y), (right, grid_y)], fill=(48, 54, 68), width=1)

    label_font = _font(20)
    title_font = _font(30)
    count = 260
    spacing = (right - left) / count
    price = 180.0 + rng.random() * 40
    candles: list[tuple[float, float, float, float, float]] = []
    for _ in range(count):
        open_ = price
        close = open_ + rng.gauss(0, 1.4)
        high = max(open_, close) + abs(rng.gauss(0, 0.8))
        low = min(open_, close) - abs(rng.gauss(0, 0.8))
        candles.append((open_, high, low, close, abs(rng.gauss(1.0, 0.5))))
        price = close
    lowest = min(candle[2] for candle in candles)
    highest = max(candle[1] for candle in candles)
    largest_volume = max(candle[4] for candle in candles)

    def y_of(value: float) -> float:
        return bottom - (value - lowest) / (highest - lowest) * (bottom - top - 20)

    closes: list[float] = []
    fast: list[tuple[float, float]] = []
    slow: list[tuple[float, float]] = []
    for index, (open_, high, low, close, volume) in enumerate(candles):
        x = left + spacing * (index + 0.5)
        rising = close >= open_
        colour = (38, 166, 154) if rising else (239, 83, 80)
        draw.line([(x, y_of(high)), (x, y_of(low))], fill=colour, width=2)
        body_top, body_bottom = sorted((y_of(open_), y_of(close)))
        draw.rectangle(
            [x - spacing * 0.35, body_top, x + spacing * 0.35, max(body_bottom, body_top + 1)],
            fill=colour,
        )
        bar = (volume / largest_volume) * (height - 60 - volume_top)
        draw.rectangle(
            [x - spacing * 0.35, height - 60 - bar, x + spacing * 0.35, height - 60],
            fill=(colour[0] // 2, colour[1] // 2, colour[2] // 2),
        )
        closes.append(close)
        if len(closes) >= 9:
            fast.append((x, y_of(sum(closes[-9:]) / 9)))
        if len(closes) >= 21:
            slow.append((x, y_of(sum(closes[-21:]) / 21)))
    draw.line(fast, fill=(255, 183, 77), width=3, joint="curve")
    draw.line(slow, fill=(100, 181, 246), width=3, joint="curve")

    for y in range(top, bottom, 60):
        value = lowest + (bottom - y) / (bottom - top - 20) * (highest - lowest)
        draw.text((right + 14, y - 10), f"{value:8.2f}", fill=(178, 181, 190), font=label_font)
    for index in range(0, count, 26):
        draw.text(
            (left + spacing * index, height - 34),
            f"{9 + index // 26:02d}:30",
            fill=(178, 181, 190),
            font=label_font,
        )

    draw.rectangle([0, 0, width, 56], fill=(24, 26, 33))
    draw.text(
        (24, 12),
        f"AAPL  5m  NASDAQ   O {candles[-1][0]:.2f}  H {candles[-1][1]:.2f}  "
        f"L {candles[-1][2]:.2f}  C {candles[-1][3]:.2f}   EMA 9  EMA 21   seed {seed}",
        fill=(220, 221, 225),
        font=title_font,
    )
    panel = (width - 620, 100, width - 200, 420)
    draw.rounded_rectangle(panel, radius=12, fill=(30, 34, 45), outline=(70, 76, 92), width=2)
    lines = (
        "Order ticket",
        f"BUY 100 AAPL @ {candles[-1][3]:.2f} LMT",
        f"Stop {candles[-1][3] - 2.5:.2f}   Target {candles[-1][3] + 5:.2f}",
        "Risk 250.00 USD   R:R 2.0",
        "Account U1000001   TIF DAY",
    )
    for row, text in enumerate(lines):
        draw.text(
            (panel[0] + 24, panel[1] + 22 + row * 56),
            text,
            fill=(230, 230, 235) if row == 0 else (178, 181, 190),
            font=title_font if row == 0 else label_font,
        )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
