"""The report's chart: cumulative net P&L over time and daily P&L bars, drawn with Pillow.

1200x600 PNG: a line of cumulative net P&L in closing order over a bar per day (green up,
red down), a zero line, labelled axes (dates along the bottom, amounts on the left) and a
legend. Pillow is already a dependency (thumbnails); a chart this simple needs no plotting
library.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from PIL import Image, ImageDraw, ImageFont

WIDTH: Final = 1200
HEIGHT: Final = 600
_LEFT: Final = 110
_RIGHT: Final = 30
_TOP: Final = 70
_BOTTOM: Final = 80
_BACKGROUND: Final = (255, 255, 255)
_GRID: Final = (226, 230, 236)
_AXIS: Final = (90, 98, 110)
_TEXT: Final = (33, 37, 41)
_LINE: Final = (33, 102, 172)
_UP: Final = (46, 160, 67)
_DOWN: Final = (214, 57, 57)
_TICKS: Final = 6
_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _nice_step(span: float) -> float:
    """A round grid step (1, 2 or 5 times a power of ten) giving about six lines."""
    raw = span / _TICKS if span > 0 else 1.0
    power = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1.0
    while power > raw:
        power /= 10
    for factor in (1, 2, 5, 10):
        if power * factor >= raw:
            return power * factor
    return power * 10


def _amount(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:,.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1_000:,.0f}k"
    return f"{value:,.0f}"


@dataclass(frozen=True, slots=True)
class _Plot:
    left: float
    top: float
    right: float
    bottom: float
    low: float
    high: float

    def y_of(self, value: float) -> float:
        return self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top)


def chart_png(days: Sequence[tuple[dt.date, Decimal]], *, title: str, currency: str) -> bytes:
    """The chart of ``days`` (day, net P&L closed that day), in day order, as PNG bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=15)
    draw.text((_LEFT, 22), title, fill=_TEXT, font=ImageFont.load_default(size=24))
    if not days:
        draw.text(
            (_LEFT, HEIGHT // 2), "No closed round trips in this period.", fill=_TEXT, font=font
        )
        return _png(image)
    daily = [float(amount) for _, amount in days]
    cumulative = list(itertools.accumulate(daily))
    low = min(0.0, *daily, *cumulative)
    high = max(0.0, *daily, *cumulative)
    step = _nice_step(high - low)
    low = step * (low // step)
    high = max(step * -(-high // step), low + step)
    plot = _Plot(_LEFT, _TOP, WIDTH - _RIGHT, HEIGHT - _BOTTOM, low, high)
    _grid(draw, plot, step, font)
    first = days[0][0].toordinal()
    span = max(days[-1][0].toordinal() - first + 1, 1)
    # Positions follow the calendar: days without closed round trips leave a gap.
    slots = [(day.toordinal() - first) for day, _ in days]
    _bars_and_line(draw, plot, slots=slots, span=span, daily=daily, cumulative=cumulative)
    _x_labels(draw, plot, first, span, font)
    draw.text((plot.left, HEIGHT - 32), "Day the round trips closed (UTC)", fill=_AXIS, font=font)
    draw.text((12, plot.top - 28), f"Net P&L ({currency})", fill=_AXIS, font=font)
    _legend(draw, plot, font)
    return _png(image)


def _grid(draw: ImageDraw.ImageDraw, plot: _Plot, step: float, font: _Font) -> None:
    tick = plot.low
    while tick <= plot.high + step / 2:
        y = plot.y_of(tick)
        draw.line([(plot.left, y), (plot.right, y)], fill=_GRID, width=1)
        label = _amount(tick)
        width = draw.textlength(label, font=font)
        draw.text((plot.left - 10 - width, y - 8), label, fill=_TEXT, font=font)
        tick += step
    zero = plot.y_of(0.0)
    draw.line([(plot.left, zero), (plot.right, zero)], fill=_AXIS, width=2)
    draw.line([(plot.left, plot.top), (plot.left, plot.bottom)], fill=_AXIS, width=2)


def _bars_and_line(
    draw: ImageDraw.ImageDraw,
    plot: _Plot,
    *,
    slots: list[int],
    span: int,
    daily: list[float],
    cumulative: list[float],
) -> None:
    slot = (plot.right - plot.left) / span
    bar = max(1.0, slot * 0.7)
    zero = plot.y_of(0.0)
    for index, amount in zip(slots, daily, strict=True):
        x = plot.left + slot * (index + 0.5)
        y = plot.y_of(amount)
        draw.rectangle(
            [x - bar / 2, min(y, zero), x + bar / 2, max(y, zero)],
            fill=_UP if amount >= 0 else _DOWN,
        )
    points = [
        (plot.left + slot * (i + 0.5), plot.y_of(v)) for i, v in zip(slots, cumulative, strict=True)
    ]
    if len(points) > 1:
        draw.line(points, fill=_LINE, width=3, joint="curve")
    else:
        x, y = points[0]
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=_LINE)


def _x_labels(draw: ImageDraw.ImageDraw, plot: _Plot, first: int, span: int, font: _Font) -> None:
    slot = (plot.right - plot.left) / span
    labels = min(span, 7)
    for n in range(labels):
        index = round(n * (span - 1) / max(labels - 1, 1))
        x = plot.left + slot * (index + 0.5)
        text = dt.date.fromordinal(first + index).isoformat()
        width = draw.textlength(text, font=font)
        draw.line([(x, plot.bottom), (x, plot.bottom + 6)], fill=_AXIS, width=1)
        # Kept inside the picture: the last label is right-aligned to the plot's edge.
        left = min(max(x - width / 2, 4.0), WIDTH - 4 - width)
        draw.text((left, plot.bottom + 10), text, fill=_TEXT, font=font)


def _legend(draw: ImageDraw.ImageDraw, plot: _Plot, font: _Font) -> None:
    x = plot.right - 420
    draw.line([(x, 34), (x + 30, 34)], fill=_LINE, width=3)
    draw.text((x + 38, 26), "cumulative net P&L", fill=_TEXT, font=font)
    draw.rectangle([x + 210, 27, x + 224, 41], fill=_UP)
    draw.rectangle([x + 226, 27, x + 240, 41], fill=_DOWN)
    draw.text((x + 248, 26), "net P&L of the day", fill=_TEXT, font=font)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
