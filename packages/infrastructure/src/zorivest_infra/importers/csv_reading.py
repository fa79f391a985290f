"""CSV plumbing shared by every CSV importer: decoding, records with their lines, dialects.

A broker's CSV is read line by line from the binary stream (constant memory; a line longer
than :data:`MAX_LINE_BYTES` is refused, so a hostile 1 GB line cannot exhaust memory) and
each line is decoded on its own, so that a byte the encoding cannot read is reported at
the line that holds it, not "near" some other line.

The stdlib ``csv`` reader then runs in strict mode over those lines, and every record comes
with the physical lines it spans. That makes structural damage visible instead of silent:

- an unclosed quote makes the reader swallow the following lines into one field; such a
  record spans several lines and is rejected at the line where the quote opened, naming
  the lines it swallowed, whatever its number of fields (or, at the end of the file, as a
  quote that never closes);
- a stray character after a closing quote is a ``csv.Error`` rejected at its record's line;
- a record with more or fewer fields than the header is rejected by the importer, which
  knows the header's width (:func:`width_problem`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

from zorivest_core.application.importing import RowRejection
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers.text_lines import numbered_lines

MAX_LINE_BYTES: Final = 1 << 20
"""No broker writes a 1 MiB line; a longer one is refused whole (bounded memory)."""

DELIMITERS: Final = (",", ";", "\t", "|")
_DELIMITER_NAMES: Final = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def delimiter_name(delimiter: str) -> str:
    """How to name a delimiter in a message (`semicolon`, `tab`, or the character)."""
    return _DELIMITER_NAMES.get(delimiter, repr(delimiter))


class CsvFileError(ValidationError):
    """The file cannot be read as a whole (wrong encoding, a line too long, no header)."""


@dataclass(frozen=True, slots=True)
class CsvRecord:
    """One CSV record: its cells and the physical lines it spans (1-based, inclusive)."""

    line: int
    last_line: int
    cells: list[str]

    @property
    def blank(self) -> bool:
        return all(not cell.strip() for cell in self.cells)


def decoded_lines(stream: BinaryIO, *, source: str, encoding: str = "utf-8") -> Iterator[str]:
    """The stream's lines as text, each decoded on its own (a UTF-8 BOM is dropped).

    Raises:
        CsvFileError: A line that the encoding cannot decode (naming the line and the
            byte), or a line longer than :data:`MAX_LINE_BYTES`.
    """

    def too_long(number: int) -> CsvFileError:
        return CsvFileError(
            f"{source}: line {number} is longer than {MAX_LINE_BYTES // (1 << 20)} MiB; "
            "this is not a statement file"
        )

    for number, raw in numbered_lines(stream, max_bytes=MAX_LINE_BYTES, too_long=too_long):
        line = raw.removeprefix(b"\xef\xbb\xbf") if number == 1 else raw
        try:
            yield line.decode(encoding)
        except UnicodeDecodeError as error:
            byte = line[error.start]
            raise CsvFileError(
                f"{source}: line {number} is not {encoding} text (byte 0x{byte:02X} at "
                f"column {error.start + 1}); save the file as UTF-8 (or name its encoding "
                "in a profile)"
            ) from None


class _CountedLines:
    """Feeds lines to the csv reader and counts how many it has consumed."""

    __slots__ = ("_lines", "consumed")

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.consumed = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.consumed += 1
        return line


def records(
    lines: Iterable[str], *, delimiter: str, first_line: int = 1
) -> Iterator[CsvRecord | RowRejection]:
    """The CSV records of `lines`, each with its lines; structural errors as rejections.

    `first_line` is the file line number of the first of `lines`.
    """
    counted = _CountedLines(lines)
    counted.consumed = first_line - 1
    reader = csv.reader(counted, delimiter=delimiter, quotechar='"', strict=True)
    while True:
        start = counted.consumed + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "unexpected end of data" in str(error):
                yield RowRejection(
                    start,
                    f"unclosed quote: the quoted field that opens on line {start} never "
                    f"closes (it runs to the end of the file, line {counted.consumed}); "
                    "nothing after it could be read",
                )
                return
            yield RowRejection(start, f"not valid CSV ({error})")
            continue
        yield CsvRecord(start, max(start, counted.consumed), cells)


def width_problem(record: CsvRecord, width: int) -> str | None:
    """Why a record is not one row of the header's `width` fields, or None when it is.

    A record spanning several lines is refused even with the right number of fields: no
    statement field holds a line break, and an unclosed quote that happens to close on a
    later line would otherwise turn several rows into one silently.
    """
    count = len(record.cells)
    if record.last_line > record.line:
        swallowed = (
            f"line {record.last_line}"
            if record.last_line == record.line + 1
            else f"lines {record.line + 1}-{record.last_line}"
        )
        return (
            f"unclosed quote? the quoted field that opens on line {record.line} runs on to "
            f"line {record.last_line}, swallowing {swallowed} ({count} fields, the header "
            f"has {width})"
        )
    if count == width:
        return None
    hint = " (an unquoted delimiter inside a value?)" if count > width else ""
    return f"expected {width} fields as in the header, got {count}{hint}"


def split_header_line(line: str, delimiter: str) -> list[str]:
    """One line split as a CSV header (for detection over a sample)."""
    try:
        return [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter))]
    except (csv.Error, StopIteration):
        return []


def sample_lines(sample: bytes, *, limit: int = 60) -> list[str]:
    """The first complete lines of a detection sample, decoded leniently (for judging only).

    The last line of a 64 KiB sample may be cut; it is dropped unless the sample is whole.
    """
    text = sample.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    lines = text.splitlines()
    if len(sample) >= 65_536 and lines:
        lines.pop()
    return lines[:limit]


def delimiter_counts(line: str) -> dict[str, int]:
    """How many fields each candidate delimiter splits `line` into."""
    return {delimiter: len(split_header_line(line, delimiter)) for delimiter in DELIMITERS}
