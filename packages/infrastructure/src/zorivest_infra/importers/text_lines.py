"""Text lines of an untrusted file, each of bounded length, numbered for messages.

`csv.reader` over a text stream would read a 1 GB line into memory before any field
limit applies; lines read here are refused as soon as one exceeds `MAX_LINE_BYTES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO, Final

from zorivest_core.domain.errors import ValidationError

MAX_LINE_BYTES: Final = 1024 * 1024
"""Longest line accepted (a statement row is well under 10 KiB)."""


def numbered_lines(
    stream: BinaryIO, *, max_bytes: int, too_long: Callable[[int], Exception]
) -> Iterator[tuple[int, bytes]]:
    """Yield each raw line of `stream` with its number (from 1), never reading more than
    `max_bytes` + 1 bytes of a line: a longer one raises `too_long(its number)`."""
    number = 0
    while True:
        raw = stream.readline(max_bytes + 1)
        if not raw:
            return
        number += 1
        if len(raw) > max_bytes:
            raise too_long(number)
        yield number, raw


def bounded_lines(
    stream: BinaryIO, *, source: str, max_bytes: int = MAX_LINE_BYTES
) -> Iterator[str]:
    """Yield the UTF-8 lines of `stream` (line endings kept, a leading BOM dropped).

    Raises:
        ValidationError: A line is longer than `max_bytes`, or is not UTF-8 (naming the
            line number).
    """

    def too_long(number: int) -> ValidationError:
        return ValidationError(
            f"{source}: line {number} is longer than {max_bytes // 1024} KiB; refused "
            "(not a statement file?)"
        )

    for number, raw in numbered_lines(stream, max_bytes=max_bytes, too_long=too_long):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValidationError(
                f"{source}: line {number}: byte {error.start + 1} is not UTF-8; save the "
                "file as UTF-8"
            ) from None
        if number == 1:
            text = text.removeprefix("\ufeff")
        yield text
