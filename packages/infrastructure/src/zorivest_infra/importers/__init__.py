"""Statement importers: one adapter per format, and the registry that picks one.

Formats are detected from the file's content (its first 64 KiB), never its name. Each
format module is imported only when it is used, so `zorivest --help` stays fast.

    importer_named("ibkr-flex")        -> the importer, or NotFoundError listing the names
    detect_format(sample, delimiter)   -> (importer, Detection), or UnrecognisedFormatError
    open_statement(path_or_dash)       -> (binary stream, name for messages, first bytes)
"""

from __future__ import annotations

import importlib
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from zorivest_core.application.importing import Detection, Importer
from zorivest_core.domain.errors import NotFoundError, ValidationError

__all__ = [
    "FORMATS",
    "SAMPLE_SIZE",
    "FormatEntry",
    "UnrecognisedFormatError",
    "all_importers",
    "detect_format",
    "importer_named",
    "open_statement",
]

SAMPLE_SIZE: Final = 64 * 1024
"""Bytes of a file that detection looks at."""


@dataclass(frozen=True, slots=True)
class FormatEntry:
    """Where a format's importer class lives (imported on first use)."""

    name: str
    module: str
    class_name: str


# One line per format. Detection asks each; the highest score wins, ties go to the
# earlier line.
FORMATS: Final = (
    FormatEntry("ibkr-flex", "zorivest_infra.importers.ibkr_flex", "IbkrFlexImporter"),
    FormatEntry("ibkr-csv", "zorivest_infra.importers.ibkr_csv", "IbkrCsvImporter"),
    FormatEntry("ofx", "zorivest_infra.importers.ofx", "OfxImporter"),
    FormatEntry("schwab", "zorivest_infra.importers.schwab", "SchwabImporter"),
    FormatEntry("fidelity", "zorivest_infra.importers.fidelity", "FidelityImporter"),
    FormatEntry("tradovate", "zorivest_infra.importers.tradovate", "TradovateImporter"),
    FormatEntry("degiro", "zorivest_infra.importers.degiro", "DegiroImporter"),
    FormatEntry("generic", "zorivest_infra.importers.generic", "GenericCsvImporter"),
)


class UnrecognisedFormatError(ValidationError):
    """No importer recognises the file; the message names the closest format and why."""


_LOADED: dict[str, Importer] = {}


def _load(entry: FormatEntry) -> Importer:
    importer = _LOADED.get(entry.name)
    if importer is None:
        module = importlib.import_module(entry.module)
        importer = getattr(module, entry.class_name)()
        _LOADED[entry.name] = importer
    return importer


def all_importers() -> list[Importer]:
    """Every registered importer, in registry order."""
    return [_load(entry) for entry in FORMATS]


def importer_named(name: str) -> Importer:
    """The importer of format `name` (as `--format` takes it).

    Raises:
        NotFoundError: No format has that name (the message lists the names).
    """
    for entry in FORMATS:
        if entry.name == name:
            return _load(entry)
    names = ", ".join(entry.name for entry in FORMATS)
    raise NotFoundError(f"unknown format {name!r}; the formats are: {names}")


def detect_format(sample: bytes, *, source: str = "<input>") -> tuple[Importer, Detection]:
    """The importer whose `detect` is most certain about `sample`.

    Raises:
        UnrecognisedFormatError: No importer matched; the message names the closest format
            and why it did not match (or the delimiter problem, for CSV-like text).
    """
    if not sample.strip():
        raise UnrecognisedFormatError(f"{source}: the file is empty")
    verdicts = [(importer, importer.detect(sample)) for importer in all_importers()]
    matched = [item for item in verdicts if item[1].matched]
    if matched:
        return max(matched, key=lambda item: item[1].score)
    hint = _delimiter_hint(sample)
    if hint is not None:
        raise UnrecognisedFormatError(f"{source}: no format recognised; {hint}")
    closest, verdict = max(verdicts, key=lambda item: item[1].closeness)
    raise UnrecognisedFormatError(
        f"{source}: no format recognised; closest is {closest.name}: {verdict.reason} "
        "(see zorivest import --formats, or force one with --format NAME)"
    )


def _delimiter_hint(sample: bytes) -> str | None:
    """Why CSV-like text matched nothing, when its delimiter is the likely reason."""
    first = _first_line(sample)
    if first is None or first.lstrip().startswith("<"):
        return None
    counts = {delimiter: first.count(delimiter) for delimiter in (",", ";", "\t", "|")}
    delimiter = max(counts, key=lambda key: counts[key])
    if delimiter == "," or counts[delimiter] <= counts[","]:
        return None
    if delimiter == ";":
        return "looks like semicolon-delimited: use --delimiter ';' or --format degiro"
    shown = "\\t" if delimiter == "\t" else delimiter
    return f"looks like {shown!r}-delimited: use --delimiter '{shown}'"


def _first_line(sample: bytes) -> str | None:
    for raw in sample.splitlines():
        text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
        if text.strip():
            return text
    return None


class _Replayed(io.RawIOBase):
    """A stream whose first bytes were already read for detection, read from the start."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._head:
            size = min(len(view), len(self._head))
            view[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)


@contextmanager
def open_statement(name: str) -> Iterator[tuple[BinaryIO, str, bytes]]:
    """Open a statement file, or standard input for `-`.

    Yields:
        (a binary stream from the first byte, the name to show in messages, the first
        `SAMPLE_SIZE` bytes for detection).

    Raises:
        NotFoundError: The file does not exist.
        ValidationError: The path is a directory.
    """
    if name == "-":
        raw: BinaryIO = sys.stdin.buffer
        shown = "<stdin>"
        head = raw.read(SAMPLE_SIZE)
        yield io.BufferedReader(_Replayed(head, raw)), shown, head
        return
    path = Path(name)
    if not path.exists():
        raise NotFoundError(f"statement file {name} does not exist")
    if path.is_dir():
        raise ValidationError(f"{name} is a directory, not a statement file")
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_SIZE)
        handle.seek(0)
        yield handle, os.fspath(path), head
