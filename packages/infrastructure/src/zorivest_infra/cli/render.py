"""Listings for people and programs: one column spec, four streaming formats.

A listing is a list of :class:`Column` and an iterable of records (any objects). Every
format writes one record at a time, so memory stays bounded however many records stream
through:

- ``table``: aligned text for people. In a terminal it fits the terminal's width: ids
  (``shorten=True``) are shortened in the middle, then the columns with the lowest
  ``priority`` are dropped; numbers are never cut and are right-aligned. ``wide`` shows
  every column in full. Column widths come from the first rows (:data:`SAMPLE_ROWS`);
  a later, wider value widens its column from then on instead of being cut. Piped, the
  table is plain and shown in full (nothing shortened or dropped); colour only in a
  terminal and never with ``NO_COLOR``.
- ``csv``: a header of field names, then one line per record.
- ``json``: a JSON array, one object a line. ``ndjson``: one JSON object per line.

Every text from stored or imported data is printed through :func:`safe` in tables and
CSV shown in a terminal, so control characters (an escape sequence in an exec id, say)
are shown as escapes instead of driving the terminal. JSON escapes them itself
(:func:`json_line` adds DEL and the C1 controls, which ``json`` leaves raw).
"""

from __future__ import annotations

import csv
import enum
import itertools
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, Final

import typer
from rich.cells import cell_len

SAMPLE_ROWS: Final = 200
"""How many rows decide the column widths before the first row is printed."""

_GAP: Final = "  "
_MIN_SHORTENED: Final = 5  # e.g. "ab…yz": still tells two ids apart at a glance
_ELLIPSIS: Final = "…"
# C0 and C1 controls, DEL, the line/paragraph separators and the bidirectional overrides
# and isolates (which reorder what follows them on screen).
_UNSAFE: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What json.dumps leaves raw although a terminal acts on it.
_JSON_RAW: Final = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class OutputFormat(enum.StrEnum):
    """The formats every listing offers (``--format``)."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    NDJSON = "ndjson"


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\n``)."""
    return _UNSAFE.sub(_escape_one, text)


def say(message: str) -> None:
    """Print a message line to stdout, control characters escaped (names, paths)."""
    typer.echo(safe(message))


def warn(message: str) -> None:
    """Print ``zorivest: warning: ...`` to stderr, control characters escaped."""
    typer.echo(f"zorivest: warning: {safe(message)}", err=True)


def json_line(value: object) -> str:
    """``json.dumps`` with DEL, C1 controls and bidi overrides escaped as well."""
    text = json.dumps(value, ensure_ascii=False)
    return _JSON_RAW.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def colour_wanted(stream: IO[str]) -> bool:
    """Colour only for a terminal, never with NO_COLOR (any value) or TERM=dumb."""
    if "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@dataclass(frozen=True, slots=True)
class Cell:
    """A table cell's text and an optional colour (an SGR code such as ``"32"``)."""

    text: str
    style: str = ""


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a listing.

    Attributes:
        key: The field name in CSV headers and JSON objects.
        header: The table header.
        value: The record's value for CSV/JSON (plain: str, int, bool or None).
        cell: The record's table cell (text, or a :class:`Cell` with a colour).
        numeric: Right-aligned, never shortened.
        shorten: May be shortened in the middle to fit (ids, names).
        min_width: The narrowest a shortened cell gets.
        priority: Lower priorities are dropped first when a table does not fit; 0 columns
            are never dropped.
        table: Shown in tables (False: CSV/JSON only, for fields people rarely need).
    """

    key: str
    header: str
    value: Callable[[Any], object]
    cell: Callable[[Any], str | Cell]
    numeric: bool = False
    shorten: bool = False
    min_width: int = 8
    priority: int = 0
    table: bool = True


def write_listing(
    columns: Sequence[Column],
    records: Iterable[Any],
    output_format: OutputFormat,
    *,
    wide: bool = False,
    footer: Callable[[int], str | Sequence[str] | None] | None = None,
    empty: str | None = None,
    stream: IO[str] | None = None,
) -> int:
    """Write ``records`` in ``output_format`` and return how many were written.

    Args:
        columns: The listing's columns.
        records: Streamed once.
        output_format: table, csv, json or ndjson.
        wide: Tables: every column, nothing shortened.
        footer: Tables: lines printed after the rows, given the count (None: nothing).
        empty: Tables: printed instead of an empty table.
        stream: Defaults to the current ``sys.stdout``.
    """
    out = sys.stdout if stream is None else stream
    if output_format is OutputFormat.CSV:
        count = _write_csv(columns, records, out)
    elif output_format is OutputFormat.JSON:
        count = _write_json(columns, records, out, array=True)
    elif output_format is OutputFormat.NDJSON:
        count = _write_json(columns, records, out, array=False)
    else:
        count = _TableWriter(columns, out, wide=wide).write(records)
        if count == 0 and empty is not None:
            out.write(safe(empty) + "\n")
        elif footer is not None:
            lines = footer(count) or ()
            for line in [lines] if isinstance(lines, str) else lines:
                out.write(safe(line) + "\n")
    out.flush()
    return count


def _record(columns: Sequence[Column], item: Any) -> dict[str, object]:
    return {column.key: column.value(item) for column in columns}


def _write_json(
    columns: Sequence[Column], records: Iterable[Any], out: IO[str], *, array: bool
) -> int:
    count = 0
    if array:
        out.write("[")
    for item in records:
        if array:
            out.write(",\n" if count else "\n")
        out.write(json_line(_record(columns, item)))
        if not array:
            out.write("\n")
        count += 1
    if array:
        out.write("\n]\n" if count else "]\n")
    return count


def _csv_text(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):  # e.g. a round trip's exec ids: JSON, never a Python repr
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def _write_csv(columns: Sequence[Column], records: Iterable[Any], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    escape = out.isatty() if hasattr(out, "isatty") else False
    writer.writerow([column.key for column in columns])
    count = 0
    for item in records:
        row = [_csv_text(column.value(item)) for column in columns]
        if escape:
            row = [safe(value) if isinstance(value, str) else value for value in row]
        writer.writerow(row)
        count += 1
    return count


def _cells_of(text: str) -> int:
    """Terminal cells ``text`` takes (ASCII: one per character, the common case)."""
    return len(text) if text.isascii() else cell_len(text)


def terminal_width(stream: IO[str]) -> int | None:
    """The width to fit, or None (piped: no limit)."""
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        columns = os.environ.get("COLUMNS", "")
        return int(columns) if columns.isdigit() and int(columns) > 0 else None
    return shutil.get_terminal_size().columns


def shorten_middle(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells by replacing its middle with an ellipsis."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return _ELLIPSIS[:width]
    keep = width - 1
    head_cells = (keep + 1) // 2
    head, tail = "", ""
    for char in text:
        if cell_len(head + char) > head_cells:
            break
        head += char
    for char in reversed(text):
        if cell_len(head) + cell_len(tail + char) > keep:
            break
        tail = char + tail
    return f"{head}{_ELLIPSIS}{tail}"


class _TableWriter:
    """Aligned rows whose widths come from a first sample and only ever grow."""

    def __init__(self, columns: Sequence[Column], out: IO[str], *, wide: bool) -> None:
        self.all_columns = [column for column in columns if column.table]
        self.out = out
        self.wide = wide
        self.limit = None if wide else terminal_width(out)
        self.colour = colour_wanted(out)
        self.shown: list[int] = []
        self.widths: list[int] = []

    def write(self, records: Iterable[Any]) -> int:
        iterator: Iterator[Any] = iter(records)
        sample = [self._cells(item) for item in itertools.islice(iterator, SAMPLE_ROWS)]
        if not sample:
            return 0
        self._layout(sample)
        self._emit_header()
        count = 0
        for cells in sample:
            self._emit(cells)
            count += 1
        for item in iterator:
            self._emit(self._cells(item))
            count += 1
        return count

    def _cells(self, item: Any) -> list[Cell]:
        cells: list[Cell] = []
        for column in self.all_columns:
            made = column.cell(item)
            cell = made if isinstance(made, Cell) else Cell(made)
            cells.append(Cell(safe(cell.text), cell.style))
        return cells

    def _layout(self, sample: list[list[Cell]]) -> None:
        natural = [
            max([_cells_of(column.header), *(_cells_of(row[index].text) for row in sample)])
            for index, column in enumerate(self.all_columns)
        ]
        shown = list(range(len(self.all_columns)))
        widths = dict(enumerate(natural))
        limit = self.limit
        if limit is not None:
            # Shorten ids first (down to their minimum), then drop the least useful columns.
            def total() -> int:
                return sum(widths[i] for i in shown) + len(_GAP) * (len(shown) - 1)

            def squeeze(*, hard: bool = False) -> None:
                # The widest shortenable columns give way first, down to their minimum
                # (or, as a last resort, to their header's width).
                excess = total() - limit
                candidates = [i for i in shown if self.all_columns[i].shorten]
                for i in sorted(candidates, key=lambda i: -widths[i]):
                    if excess <= 0:
                        break
                    column = self.all_columns[i]
                    header = max(_cells_of(column.header), _MIN_SHORTENED)
                    floor = header if hard else max(column.min_width, header)
                    cut = min(excess, max(0, widths[i] - floor))
                    widths[i] -= cut
                    excess -= cut

            squeeze()
            droppable = sorted(
                (i for i in shown if self.all_columns[i].priority > 0),
                key=lambda i: (self.all_columns[i].priority, -i),
            )
            while total() > limit and droppable:
                shown.remove(droppable.pop(0))
                for i in shown:
                    widths[i] = natural[i]
                squeeze()
            if total() > limit:
                squeeze(hard=True)
        self.shown = shown
        self.widths = [widths[i] for i in shown]

    def _emit_header(self) -> None:
        parts = []
        for position, index in enumerate(self.shown):
            column = self.all_columns[index]
            header = shorten_middle(column.header, self.widths[position])
            parts.append(self._pad(header, self.widths[position], right=column.numeric))
        line = _GAP.join(parts).rstrip()
        rule = _GAP.join("-" * width for width in self.widths)
        if self.colour:
            line = f"\x1b[1m{line}\x1b[0m"
        self.out.write(f"{line}\n{rule}\n")

    def _emit(self, cells: list[Cell]) -> None:
        parts = []
        for position, index in enumerate(self.shown):
            column = self.all_columns[index]
            cell = cells[index]
            width = self.widths[position]
            text = cell.text
            length = _cells_of(text)
            if length > width:
                if column.shorten and not self.wide and self.limit is not None:
                    text = shorten_middle(text, width)
                else:
                    # Never cut a number or a full-width table: widen from here on.
                    self.widths[position] = width = length
            padded = self._pad(text, width, right=column.numeric)
            if self.colour and cell.style:
                padded = f"\x1b[{cell.style}m{padded}\x1b[0m"
            parts.append(padded)
        self.out.write(_GAP.join(parts).rstrip() + "\n")

    @staticmethod
    def _pad(text: str, width: int, *, right: bool) -> str:
        space = " " * max(0, width - _cells_of(text))
        return f"{space}{text}" if right else f"{text}{space}"


def pick_format(output_format: OutputFormat | None, as_json: bool) -> OutputFormat:
    """``--format``, with ``--json`` as its alias (both given must agree)."""
    if as_json:
        if output_format not in (None, OutputFormat.JSON):
            from zorivest_infra.cli.errors import CliError, ExitCode

            raise CliError(
                f"--json and --format {output_format.value} disagree; give one", ExitCode.USAGE
            )
        return OutputFormat.JSON
    return output_format or OutputFormat.TABLE


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 trade``, ``2 trades`` (with thousands grouped)."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count:,} {word}"


__all__ = [
    "Cell",
    "Column",
    "OutputFormat",
    "colour_wanted",
    "json_line",
    "pick_format",
    "plural",
    "safe",
    "shorten_middle",
    "terminal_width",
    "write_listing",
]
