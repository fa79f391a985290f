"""Builders for valid entities and real images, used by the seed's tests and the contract suite."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from PIL import Image, ImageDraw

from zorivest_core.domain.entities import Account, ImageAttachment, Trade
from zorivest_core.domain.enums import AccountType, TradeAction

BASE_TIME = dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.UTC)


def make_account(account_id: str = "ACC1", **overrides: Any) -> Account:
    values: dict[str, Any] = {
        "account_id": account_id,
        "name": f"Account {account_id}",
        "account_type": AccountType.BROKER,
        "institution": "Interactive Brokers",
        "created_at": BASE_TIME,
    }
    values.update(overrides)
    return Account(**values)


def make_trade(exec_id: str = "TEST001", **overrides: Any) -> Trade:
    values: dict[str, Any] = {
        "exec_id": exec_id,
        "time": BASE_TIME,
        "instrument": "AAPL",
        "action": TradeAction.BOT,
        "quantity": Decimal(100),
        "price": Decimal("189.25"),
        "account_id": "ACC1",
        "commission": Decimal("1.000000"),
        "realized_pnl": Decimal(0),
    }
    values.update(overrides)
    return Trade(**values)


def png_bytes(width: int = 640, height: int = 360, *, seed: int = 0) -> bytes:
    """A real PNG chart-like screenshot (lines on a gradient), distinct per seed."""
    image = Image.new("RGB", (width, height), (12, 16, 24))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 8):
        shade = (x * 255 // max(width, 1) + seed * 37) % 256
        draw.line([(x, 0), (x, height)], fill=(shade // 4, shade // 3, shade // 2))
    points = [
        (x, height // 2 + ((x * (seed + 3)) % 97) - 48)
        for x in range(0, width, max(width // 40, 1))
    ]
    draw.line(points, fill=(0, 220, 120), width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def make_stored_image(data: bytes | None = None, *, caption: str | None = None) -> ImageAttachment:
    """An attachment carrying a real image (a PNG screenshot unless bytes are given)."""
    return ImageAttachment(data=png_bytes() if data is None else data, caption=caption)
