"""What every broker CSV importer shares: finding the header, walking records, rejecting.

A subclass names its format, its required header columns and how one record becomes an
execution (`row`); this base finds the header (after a preamble, if the format has one),
picks the delimiter from the header line itself, and turns every problem into a rejection
with its line, so that no row is ever dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO, ClassVar, Generic, TypeVar

from zorivest_core.application.importing import (
    Detection,
    Fee,
    ImportContext,
    ParsedItem,
    RowRejection,
)
from zorivest_core.domain.enums import FeeType
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers.csv_reading import (
    DELIMITERS,
    CsvFileError,
    CsvRecord,
    decoded_lines,
    delimiter_name,
    records,
    sample_lines,
    split_header_line,
    width_problem,
)
from zorivest_infra.importers.ids import DerivedIds


def column_key(name: str) -> str:
    """A header name compared case- and space-insensitively."""
    return " ".join(name.replace("\ufeff", "").split()).lower()


@dataclass(frozen=True, slots=True)
class Columns:
    """The header: where each (case-insensitive) column name is, and how many there are."""

    positions: dict[str, int]
    width: int
    line: int
    repeated: frozenset[str] = frozenset()
    """Column names (keys) that appear more than once in the header."""
    _resolved: dict[str, int | None] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, cells: list[str], line: int) -> Columns:
        positions: dict[str, int] = {}
        repeated: set[str] = set()
        for index, cell in enumerate(cells):
            key = column_key(cell)
            if key in positions and key:
                repeated.add(key)
            positions.setdefault(key, index)
        return cls(positions, len(cells), line, frozenset(repeated))

    def index(self, name: str) -> int | None:
        """Where column `name` is; `name` may list alternatives (`Date|Datum`)."""
        try:
            return self._resolved[name]  # resolved once per file, not once per row
        except KeyError:
            pass
        found = None
        for alternative in name.split("|"):
            found = _position(self.positions, alternative)
            if found is not None:
                break
        self._resolved[name] = found
        return found

    def has(self, name: str) -> bool:
        return self.index(name) is not None

    def cell(self, record: CsvRecord, name: str) -> str:
        """The stripped cell of column `name` ("" when the file has no such column)."""
        index = self.index(name)
        return "" if index is None else record.cells[index].strip()

    def cell_after(self, record: CsvRecord, name: str) -> str:
        """The cell right of column `name` (DEGIRO's unnamed currency columns)."""
        index = self.index(name)
        if index is None or index + 1 >= len(record.cells):
            return ""
        return record.cells[index + 1].strip()


@dataclass(frozen=True, slots=True)
class _HeaderMatch:
    line: int
    delimiter: str
    cells: list[str]


S = TypeVar("S")


class CsvImporter(Generic[S]):
    """Base of the CSV importers; see the module docstring. `S`: per-file state."""

    name: ClassVar[str]
    title: str
    description: ClassVar[str]
    required: tuple[str, ...]
    """Header columns that identify the format (matched case-insensitively); an entry may
    list alternative names, `Date|Datum` (the first is the one messages name), and a name
    ending in `*` matches header names that start with it."""
    delimiters: tuple[str, ...] = (",",)
    score: ClassVar[int] = 100
    """Detection score of a matching header (a broker's distinctive header: 100)."""
    max_preamble: ClassVar[int] = 0
    """How many lines of text may come before the header (Schwab writes a title line);
    blank lines and `#` comment lines before the header are skipped and not counted."""
    encoding: str = "utf-8"

    # -- detection -------------------------------------------------------------------------

    def detect(self, sample: bytes) -> Detection:
        lines = [line for line in sample_lines(sample) if not _skipped_before_header(line)]
        best_missing: list[str] = list(self.required)
        wrong_delimiter: str | None = None
        for line in lines[: self.max_preamble + 1]:
            for delimiter in DELIMITERS:
                missing = self._missing(split_header_line(line, delimiter))
                if not missing and delimiter in self.delimiters:
                    return Detection(self.score, f"the {self.title} header ({self._shown()})")
                if not missing:
                    wrong_delimiter = delimiter
                elif len(missing) < len(best_missing):
                    best_missing = missing
        if wrong_delimiter is not None:
            separated = " or ".join(delimiter_name(d) for d in self.delimiters)
            return Detection(
                0,
                f"the {self.title} columns are there but {delimiter_name(wrong_delimiter)}-"
                f"separated; {self.title} files are {separated}-separated (for a re-saved "
                f"file use --delimiter {wrong_delimiter!r} --format {self.name})",
                closeness=95,
            )
        if len(best_missing) == len(self.required):
            return Detection(0, f"not a {self.title} file: no header with {self._shown()}")
        # How near: the share of this format's columns the best header line has (< 90).
        present = len(self.required) - len(best_missing)
        return Detection(
            0,
            f"not a {self.title} file: the header lacks {', '.join(best_missing)}",
            closeness=10 + 80 * present // len(self.required),
        )

    def _missing(self, cells: list[str]) -> list[str]:
        present = {column_key(cell): index for index, cell in enumerate(cells)}
        return [
            _first_name(name)
            for name in self.required
            if not any(
                _position(present, alternative) is not None for alternative in name.split("|")
            )
        ]

    def _shown(self) -> str:
        return ", ".join(_first_name(name) for name in self.required)

    # -- parsing ---------------------------------------------------------------------------

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[ParsedItem]:
        source = context.source_name
        lines = decoded_lines(stream, source=source, encoding=self.encoding)
        header, rest = self._find_header(lines, context)
        columns = Columns.of(header.cells, header.line)
        self.check_columns(columns, context)
        state = self.start(columns, context)
        blank_seen = False
        for record in records(rest, delimiter=header.delimiter, first_line=header.line + 1):
            if isinstance(record, RowRejection):
                yield record
                continue
            if record.blank:
                blank_seen = True
                continue
            if self.is_footer(record, columns, blank_seen=blank_seen):
                continue
            problem = width_problem(record, columns.width)
            if problem is not None:
                yield RowRejection(record.line, problem)
                continue
            try:
                item = self.row(columns, record, context, state)
            except ValidationError as error:
                yield RowRejection(record.line, str(error))
                continue
            yield item

    def _find_header(
        self, lines: Iterator[str], context: ImportContext
    ) -> tuple[_HeaderMatch, Iterator[str]]:
        source = context.source_name
        delimiters = (context.delimiter,) if context.delimiter else self.delimiters
        checked: list[str] = []
        number = 0
        for text in lines:
            number += 1
            if _skipped_before_header(text):
                continue
            checked.append(text)
            for delimiter in delimiters:
                cells = split_header_line(text, delimiter)
                if not self._missing(cells):
                    return _HeaderMatch(number, delimiter, cells), lines
            if len(checked) > self.max_preamble:
                break
        if not checked:
            raise CsvFileError(f"{source}: the file is empty (expected a {self.title} header)")
        detection = self.detect("".join(checked).encode())
        reason = detection.reason
        if detection.matched and context.delimiter:
            reason = (
                f"the {self.title} header is not {delimiter_name(context.delimiter)}-"
                f"separated as --delimiter {context.delimiter!r} says"
            )
        raise CsvFileError(f"{source}: line {number}: {reason}")

    # -- hooks -----------------------------------------------------------------------------

    def check_columns(self, columns: Columns, context: ImportContext) -> None:
        """Refuse a header that lacks what this import needs (beyond detection)."""

    def start(self, columns: Columns, context: ImportContext) -> S:
        """Per-file state handed to every `row` call (id counters and the like)."""
        raise NotImplementedError

    def is_footer(self, record: CsvRecord, columns: Columns, *, blank_seen: bool) -> bool:
        """Whether `record` is text after the table (a disclaimer), not a row."""
        return False

    def row(
        self, columns: Columns, record: CsvRecord, context: ImportContext, state: S
    ) -> ParsedItem:
        raise NotImplementedError


class DerivedIdCsvImporter(CsvImporter[DerivedIds]):
    """A CSV format that writes no execution id: each row's id is derived (importers.ids)."""

    def start(self, columns: Columns, context: ImportContext) -> DerivedIds:
        return DerivedIds(self.name)


def _position(positions: dict[str, int], alternative: str) -> int | None:
    """Where the column `alternative` is; a trailing `*` matches names by their start
    (DEGIRO's costs column: `Transaction and/or third party fees` in some versions)."""
    if not alternative.endswith("*"):
        return positions.get(column_key(alternative))
    prefix = column_key(alternative[:-1])
    return next((index for key, index in positions.items() if key.startswith(prefix)), None)


def _first_name(name: str) -> str:
    return name.split("|", maxsplit=1)[0].rstrip("*")


def _skipped_before_header(line: str) -> bool:
    """Blank lines, and `#` comment lines (our fixtures name their source that way)."""
    text = line.strip()
    return not text or text.startswith("#")


def account_for(context: ImportContext, broker_account: str | None) -> str:
    """The account a row is given before the import use case maps it to a journal account.

    The file's own account id first (the use case keeps it when the journal has that
    account, else uses --account), then --account; a row with neither is rejected here.
    """
    if broker_account:
        return broker_account
    if context.account_id:
        return context.account_id
    raise ValidationError("the file names no account for this row; give --account ID")


def fee_if_charged(fee_type: FeeType, amount: Decimal | None, currency: str) -> tuple[Fee, ...]:
    """The row's fee for the transaction ledger; none for an empty or zero cell."""
    return (Fee(fee_type, amount, currency),) if amount is not None and amount != 0 else ()
