"""Chart screenshots for the demo: real PNG images drawn with Pillow.

Each chart shows daily candles of the demo's price path around one round trip, with its
entry and exit marked, like a screenshot a trader would paste into a journal.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageDraw, ImageFont

from zorivest_infra.cli.demo_data import PricePath, RoundTrip

WIDTH: Final = 1280
HEIGHT: Final = 720
_CANDLES: Final = 60
_BACKGROUND: Final = (14, 17, 23)
_GRID: Final = (36, 42, 54)
_TEXT: Final = (200, 206, 216)
_UP: Final = (38, 166, 154)
_DOWN: Final = (239, 83, 80)
_ENTRY: Final = (66, 165, 245)
_EXIT: Final = (255, 202, 40)
_MARGIN_LEFT: Final = 24
_MARGIN_RIGHT: Final = 96
_MARGIN_TOP: Final = 72
_MARGIN_BOTTOM: Final = 48


@dataclass(frozen=True, slots=True)
class _Candle:
    open: float
    high: float
    low: float
    close: float


def _candles(path: PricePath, first_day: int, count: int, rng: random.Random) -> list[_Candle]:
    vol = path.instrument.daily_volatility
    candles = []
    for day in range(first_day, first_day + count):
        open_, close = path.close(day - 1), path.close(day)
        high = max(open_, close) * (1 + abs(rng.gauss(0, vol * 0.5)))
        low = min(open_, close) * (1 - abs(rng.gauss(0, vol * 0.5)))
        candles.append(_Candle(open_, high, low, close))
    return candles


def chart_png(
    trip: RoundTrip, path: PricePath, *, entry_day: int, exit_day: int, seed: int
) -> bytes:
    """A 1280x720 PNG candlestick chart of ``trip`` (entry and exit marked)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible pictures, not security
    first_day = max(1, entry_day - 40)
    candles = _candles(path, first_day, _CANDLES, rng)
    low = min(candle.low for candle in candles)
    high = max(candle.high for candle in candles)
    span = (high - low) or 1.0
    low -= span * 0.05
    high += span * 0.05

    image = Image.new("RGB", (WIDTH, HEIGHT), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    title_font = ImageFont.load_default(size=26)
    font = ImageFont.load_default(size=15)
    plot_right = WIDTH - _MARGIN_RIGHT
    plot_bottom = HEIGHT - _MARGIN_BOTTOM
    plot_width = plot_right - _MARGIN_LEFT
    plot_height = plot_bottom - _MARGIN_TOP

    def y_of(price: float) -> float:
        return plot_bottom - (price - low) / (high - low) * plot_height

    for step in range(7):
        price = low + (high - low) * step / 6
        y = y_of(price)
        draw.line([(_MARGIN_LEFT, y), (plot_right, y)], fill=_GRID, width=1)
        draw.text((plot_right + 8, y - 8), f"{price:,.2f}", fill=_TEXT, font=font)

    slot = plot_width / len(candles)
    body = max(2.0, slot * 0.6)
    for index, candle in enumerate(candles):
        x = _MARGIN_LEFT + slot * (index + 0.5)
        colour = _UP if candle.close >= candle.open else _DOWN
        draw.line([(x, y_of(candle.high)), (x, y_of(candle.low))], fill=colour, width=2)
        top, bottom = sorted((y_of(candle.open), y_of(candle.close)))
        draw.rectangle([x - body / 2, top, x + body / 2, max(bottom, top + 1)], fill=colour)

    entry = trip.entries[0]
    _marker(
        draw,
        x=_MARGIN_LEFT + slot * (entry_day - first_day + 0.5),
        y=y_of(float(entry.price)),
        colour=_ENTRY,
        pointing_up=not trip.short,
    )
    if trip.exits:
        exit_fill = trip.exits[-1]
        _marker(
            draw,
            x=_MARGIN_LEFT + slot * (exit_day - first_day + 0.5),
            y=y_of(float(exit_fill.price)),
            colour=_EXIT,
            pointing_up=trip.short,
        )

    side = "short" if trip.short else "long"
    quantity = sum(fill.quantity for fill in trip.entries)
    title = f"{trip.instrument} · daily · {side} {quantity:f} @ {entry.price:f}"
    if trip.exits:
        # ASCII only: Pillow's built-in font has no arrow glyph.
        title += f" to {trip.exits[-1].price:f}   P&L {trip.realized_pnl:,.2f}"
    draw.text((_MARGIN_LEFT, 22), title, fill=_TEXT, font=title_font)
    draw.text(
        (_MARGIN_LEFT, plot_bottom + 14),
        f"{trip.account_id}   entry {entry.time:%Y-%m-%d %H:%M} UTC   (Zorivest demo)",
        fill=_TEXT,
        font=font,
    )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _marker(
    draw: ImageDraw.ImageDraw,
    *,
    x: float,
    y: float,
    colour: tuple[int, int, int],
    pointing_up: bool,
) -> None:
    size = 12
    if pointing_up:
        points = [(x, y + 6), (x - size, y + 6 + size * 1.6), (x + size, y + 6 + size * 1.6)]
    else:
        points = [(x, y - 6), (x - size, y - 6 - size * 1.6), (x + size, y - 6 - size * 1.6)]
    draw.polygon(points, fill=colour)
    draw.line([(x - 30, y), (x + 30, y)], fill=colour, width=2)
