"""Execution ids for files that carry none, and repeated ids inside one file.

Deterministic id (formats without a broker execution id: Schwab, Fidelity, DEGIRO):

    <format>-<24 hex digits of SHA-256(format, account, content)>-<occurrence>

`content` is the text of the cells the importer reads, as written in the file, in a fixed
order (so a re-ordered or widened export gives the same ids). `occurrence` counts earlier
rows of the same file with the same content (0, 1, ...): two genuinely identical fills stay
two executions, and re-importing the file (or a longer export of the same period) gives
every row the id it had, so nothing is inserted twice. The account is in the hash, so two
accounts' files never collide, and so is the format name. The time zone is deliberately
not: re-importing with another --tz gives the same ids with different times, which the
import reports as conflicts instead of silently storing the trades twice.

Memory: one small integer per distinct row (about 100 bytes), not the rows themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


class DerivedIds:
    """Deterministic exec ids for one file of one format."""

    __slots__ = ("_format", "_seen")

    def __init__(self, format_name: str) -> None:
        self._format = format_name
        self._seen: dict[int, int] = {}

    def next_id(self, account: str, content: Sequence[str]) -> str:
        digest = hashlib.sha256(
            "\x1f".join((self._format, account, *content)).encode("utf-8")
        ).digest()
        key = int.from_bytes(digest[:16], "big")
        occurrence = self._seen.get(key, 0)
        self._seen[key] = occurrence + 1
        return f"{self._format}-{digest[:12].hex()}-{occurrence}"


class RepeatedIds:
    """Remembers the line of each broker exec id seen in this file."""

    __slots__ = ("_lines",)

    def __init__(self) -> None:
        self._lines: dict[str, int] = {}

    def earlier_line(self, exec_id: str, line: int) -> int | None:
        """The line where `exec_id` appeared before in this file (None: first time)."""
        earlier = self._lines.get(exec_id)
        self._lines[exec_id] = line
        return earlier
