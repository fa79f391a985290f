"""Counts in words: "1 trade", "2 trades", "1,000 rows" (never "1 trades" or "row(s)")."""

from __future__ import annotations


def count_of(count: int, singular: str, plural: str | None = None) -> str:
    """`count` with the noun in the number it takes (`plural` defaults to singular + s)."""
    noun = singular if count == 1 else (plural or f"{singular}s")
    return f"{count:,} {noun}"


def noun_for(count: int, singular: str, plural: str | None = None) -> str:
    """The noun alone, in the number `count` takes."""
    return singular if count == 1 else (plural or f"{singular}s")
