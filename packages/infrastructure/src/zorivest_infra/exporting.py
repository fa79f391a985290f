"""A journal as open files, and a journal rebuilt from them.

``export_journal`` writes every table of the schema to ``DIR`` as CSV or JSON Lines (one
file per table, rows in primary-key order, every column under its own name), the
screenshots and their thumbnails as image files, and ``manifest.json`` listing every file
with its SHA-256. Values are written exactly: decimals in plain notation, times ISO 8601
UTC, dates ISO 8601, JSON columns as JSON, booleans ``true``/``false``. In CSV a NULL is
written as the table's ``null`` marker from the manifest (``\\N`` unless a text equals
it), so NULL and an empty text stay apart. Nothing in the output depends on when or
where it was written, so exporting a rebuilt journal gives the same bytes again.

``rebuild_journal`` reads such a directory (checking every SHA-256 first) into an empty
journal, in one transaction, keeping every id and time as exported.

The export is read in one read transaction (a consistent snapshot) and streamed, so
memory stays bounded whatever the journal's size.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Final, Literal

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    Engine,
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    insert,
    or_,
    select,
)

from zorivest_core.domain.errors import ValidationError
from zorivest_core.domain.validation import decimal_text
from zorivest_infra.atomic_files import publish_directory
from zorivest_infra.database.models import Base
from zorivest_infra.database.types import ExactDecimal, JSONText, UTCDateTime

DataFormat = Literal["csv", "json"]
MANIFEST: Final = "manifest.json"
FORMAT_NAME: Final = "zorivest-export"
FORMAT_VERSION: Final = 1
_BATCH: Final = 500
_BLOB_BATCH: Final = 8
_IMAGE_SUFFIX: Final = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
}
_NULL: Final = "\\N"


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What an export wrote (or a rebuild read): rows per table and the files."""

    rows: dict[str, int]
    files: int


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


_KINDS: Final = (
    (ExactDecimal, "decimal"),
    (UTCDateTime, "time"),
    (JSONText, "json"),
    (Boolean, "bool"),
    (Integer, "int"),
    (LargeBinary, "file"),
    (Date, "date"),
    (String, "text"),
)


def _kind(table: Table, name: str) -> str:
    """How a column's values are written: decimal, time, json, bool, int, file, date, text.

    Raises:
        TypeError: A column type this module does not know how to write exactly.
    """
    kind = table.c[name].type
    for base, label in _KINDS:
        if isinstance(kind, base):
            return label
    raise TypeError(f"{table.name}.{name}: no open-file form for {type(kind).__name__}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _private_writer(path: Path) -> IO[str]:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(descriptor, "w", encoding="utf-8", newline="")


def _private_dirs(root: Path, directory: Path) -> None:
    """Create ``directory`` under ``root`` with every new level 0700."""
    current = root
    for part in directory.relative_to(root).parts:
        current /= part
        current.mkdir(mode=0o700, exist_ok=True)


def _write_private_bytes(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)


# -- values ------------------------------------------------------------------------------


def _csv_bool(value: str) -> bool:
    if value not in ("true", "false"):
        raise ValueError(f"expected true or false, got {value!r}")
    return value == "true"


_Codec = dict[str, Callable[[Any], Any]]
_JSON_ENCODE: Final[_Codec] = {
    "decimal": decimal_text,
    "time": lambda value: value.astimezone(dt.UTC).isoformat(),
    "date": lambda value: value.isoformat(),
}
_CSV_ENCODE: Final[_Codec] = {
    **_JSON_ENCODE,
    "json": lambda value: json.dumps(value, ensure_ascii=False),
    "bool": lambda value: "true" if value else "false",
    "int": str,
}
_JSON_DECODE: Final[_Codec] = {
    "decimal": Decimal,
    "time": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
}
_CSV_DECODE: Final[_Codec] = {**_JSON_DECODE, "json": json.loads, "bool": _csv_bool, "int": int}


def _to_open(kind: str, value: Any, *, csv_cell: bool) -> Any:
    """A stored value as written to the open files (JSON-ready; text in CSV)."""
    encoder = (_CSV_ENCODE if csv_cell else _JSON_ENCODE).get(kind)
    return value if value is None or encoder is None else encoder(value)


def _from_open(kind: str, value: Any, *, csv_cell: bool) -> Any:
    """The inverse of :func:`_to_open` (files are resolved by the caller)."""
    decoder = (_CSV_DECODE if csv_cell else _JSON_DECODE).get(kind)
    return value if value is None or decoder is None else decoder(value)


def _null_marker(connection: Connection, table: Table) -> str:
    """``\\N``, or ``\\N0``, ``\\N1``... when a stored text equals the marker."""
    # Only plain text can clash: every other kind's CSV form is never exactly the marker.
    texts = [column for column in table.c if _kind(table, column.name) == "text"]
    marker, attempt = _NULL, 0
    while texts:
        clash = select(table.c[texts[0].name]).where(or_(*(column == marker for column in texts)))
        if connection.execute(clash.limit(1)).first() is None:
            break
        marker, attempt = f"{_NULL}{attempt}", attempt + 1
    return marker


# -- export ------------------------------------------------------------------------------


def _file_name(table: Table, column: str, key: str, row: dict[str, Any]) -> str:
    if table.name == "images" and column == "data":
        return f"images/{key}.{_IMAGE_SUFFIX.get(row.get('mime_type') or '', 'bin')}"
    if table.name == "images" and column == "thumbnail":
        return f"images/thumbnails/{key}.webp"
    return f"files/{table.name}/{key}.{column}.bin"


def _row_key(table: Table, row: dict[str, Any]) -> str:
    parts = [str(row[column.name]) for column in table.primary_key.columns]
    key = "-".join(parts)
    if not all(char.isalnum() or char in "-_." for char in key) or key.startswith("."):
        # A primary key that is not safe as a file name: name the file by its digest.
        key = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return key


def _rows(connection: Connection, table: Table) -> Iterator[dict[str, Any]]:
    has_files = any(_kind(table, column.name) == "file" for column in table.c)
    statement = select(table).order_by(*table.primary_key.columns)
    result = connection.execution_options(yield_per=_BLOB_BATCH if has_files else _BATCH).execute(
        statement
    )
    for row in result.mappings():
        yield dict(row)


def export_to_directory(
    engine: Engine, destination: Path, data_format: DataFormat, *, revision: str | None
) -> ExportSummary:
    """`export_journal` of one consistent snapshot, appearing at `destination` whole or not
    at all: written into a new private directory beside it, every file fsynced, then
    renamed into place (`publish_directory`). On any error nothing is left behind.

    Args:
        engine: The journal's engine (PostgreSQL reads at REPEATABLE READ: one snapshot).
        destination: A path that does not exist, or an empty directory.
        data_format: ``csv`` or ``json``.
        revision: The journal's schema revision, recorded in the manifest.
    """
    parent = destination.parent
    building = Path(tempfile.mkdtemp(prefix=_partial_prefix(destination), dir=parent))
    try:
        connection = engine.connect()
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection, connection.begin():
            summary = export_journal(connection, building, data_format, revision=revision)
        publish_directory(building, destination)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return summary


def _partial_prefix(destination: Path) -> str:
    return f".{destination.name}.partial-"


def leftover_exports(destination: Path) -> list[Path]:
    """Hidden partial exports beside `destination` (``.DIR.partial-*``): left by an export
    that crashed or was killed (an error removes its own), or still being written by one
    running now. Their files are not encrypted."""
    parent = destination.parent
    prefix = _partial_prefix(destination)
    try:
        found = [
            path
            for path in parent.iterdir()
            if path.name.startswith(prefix) and path.is_dir() and not path.is_symlink()
        ]
    except OSError:
        return []
    return sorted(found)


def export_journal(
    connection: Connection, directory: Path, data_format: DataFormat, *, revision: str | None
) -> ExportSummary:
    """Write every table of the journal under ``directory`` (which must exist, empty).

    Args:
        connection: A connection inside one (read) transaction: the snapshot exported.
        directory: An existing, empty directory.
        data_format: ``csv`` or ``json`` (JSON Lines: one object per line).
        revision: The journal's schema revision, recorded in the manifest.
    """
    files: list[dict[str, Any]] = []
    tables: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for table in _tables():
        columns = [column.name for column in table.c]
        kinds = {name: _kind(table, name) for name in columns}
        suffix = "csv" if data_format == "csv" else "jsonl"
        relative = f"tables/{table.name}.{suffix}"
        (directory / "tables").mkdir(mode=0o700, exist_ok=True)
        marker = _null_marker(connection, table) if data_format == "csv" else None
        count = 0
        with _private_writer(directory / relative) as stream:
            writer = csv.writer(stream, lineterminator="\n") if data_format == "csv" else None
            if writer is not None:
                writer.writerow(columns)
            for row in _rows(connection, table):
                key = _row_key(table, row)
                for name in columns:
                    if kinds[name] == "file" and row[name] is not None:
                        name_of_file = _file_name(table, name, key, row)
                        target = directory / name_of_file
                        _private_dirs(directory, target.parent)
                        _write_private_bytes(target, row[name])
                        files.append(
                            {
                                "path": name_of_file,
                                "bytes": len(row[name]),
                                "sha256": hashlib.sha256(row[name]).hexdigest(),
                            }
                        )
                        row[name] = name_of_file
                csv_cell = writer is not None
                values = {
                    name: row[name]
                    if kinds[name] == "file"
                    else _to_open(kinds[name], row[name], csv_cell=csv_cell)
                    for name in columns
                }
                if writer is not None:
                    writer.writerow(
                        [marker if values[name] is None else values[name] for name in columns]
                    )
                else:
                    stream.write(json.dumps(values, ensure_ascii=False) + "\n")
                count += 1
        entry: dict[str, Any] = {
            "name": table.name,
            "file": relative,
            "rows": count,
            "columns": [{"name": name, "type": kinds[name]} for name in columns],
            "sha256": _sha256(directory / relative),
        }
        if marker is not None:
            entry["null"] = marker
        tables.append(entry)
        counts[table.name] = count
    manifest = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "schema_revision": revision,
        "data_format": data_format,
        "tables": tables,
        "files": sorted(files, key=lambda item: item["path"]),
    }
    with _private_writer(directory / MANIFEST) as stream:
        stream.write(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return ExportSummary(rows=counts, files=len(files))


# -- rebuild -----------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict[str, Any]:
    """The export's manifest, checked for its format and every file's SHA-256.

    Raises:
        ValidationError: Not an export, another version, or a file missing or changed.
    """
    path = directory / MANIFEST
    if not path.is_file():
        raise ValidationError(f"{directory} is not a Zorivest export (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ValidationError(f"{path} is not a Zorivest export manifest")
    if manifest.get("version") != FORMAT_VERSION:
        raise ValidationError(
            f"{path}: export format version {manifest.get('version')!r} is not supported "
            f"(this Zorivest reads version {FORMAT_VERSION})"
        )
    listed = [(item["file"], item["sha256"]) for item in manifest["tables"]]
    listed += [(item["path"], item["sha256"]) for item in manifest["files"]]
    for relative, expected in listed:
        target = _inside(directory, relative)
        if not target.is_file():
            raise ValidationError(f"{relative}: listed in the manifest but missing")
        if _sha256(target) != expected:
            raise ValidationError(f"{relative}: its SHA-256 does not match the manifest")
    return manifest


def _inside(directory: Path, relative: str) -> Path:
    target = (directory / relative).resolve()
    if not target.is_relative_to(directory.resolve()):
        raise ValidationError(f"{relative!r}: a manifest path outside the export directory")
    return target


def _records(directory: Path, entry: dict[str, Any], data_format: str) -> Iterator[dict[str, Any]]:
    path = _inside(directory, entry["file"])
    with path.open(encoding="utf-8", newline="") as stream:
        if data_format == "csv":
            reader = csv.reader(stream)
            header = next(reader, None)
            for row in reader:
                yield dict(zip(header or [], row, strict=True))
        else:
            for line in stream:
                yield json.loads(line)


def rebuild_journal(connection: Connection, directory: Path) -> ExportSummary:
    """Replace everything in the (new) journal with the export's rows, keeping ids.

    Runs inside the caller's transaction: on any error nothing is kept.

    Raises:
        ValidationError: The export is damaged or does not match this schema; the message
            names the file, line and column.
    """
    manifest = read_manifest(directory)
    data_format = manifest["data_format"]
    by_name = {item["name"]: item for item in manifest["tables"]}
    tables = _tables()
    unknown = sorted(set(by_name) - {table.name for table in tables})
    if unknown:
        raise ValidationError(f"the export has tables this schema lacks: {', '.join(unknown)}")
    for table in reversed(tables):
        connection.execute(delete(table))
    counts: dict[str, int] = {}
    for table in tables:
        entry = by_name.get(table.name)
        if entry is None:
            counts[table.name] = 0
            continue
        counts[table.name] = _load_table(connection, directory, table, entry, data_format)
    return ExportSummary(rows=counts, files=len(manifest["files"]))


def _load_table(
    connection: Connection, directory: Path, table: Table, entry: dict[str, Any], data_format: str
) -> int:
    names = [column["name"] for column in entry["columns"]]
    missing = [name for name in names if name not in table.c]
    if missing:
        raise ValidationError(
            f"{entry['file']}: columns {', '.join(missing)} are not in the schema"
        )
    kinds = {name: _kind(table, name) for name in names}
    marker = entry.get("null")
    csv_cell = data_format == "csv"
    batch: list[dict[str, Any]] = []
    count = 0
    for number, record in enumerate(
        _records(directory, entry, data_format), start=2 if csv_cell else 1
    ):
        row: dict[str, Any] = {}
        for name in names:
            value = record.get(name)
            if csv_cell and value == marker:
                value = None
            try:
                if kinds[name] == "file":
                    row[name] = None if value is None else _inside(directory, value).read_bytes()
                else:
                    row[name] = _from_open(kinds[name], value, csv_cell=csv_cell)
            except (ValueError, TypeError, OSError) as error:
                raise ValidationError(
                    f"{entry['file']} line {number}, column {name}: {error}"
                ) from None
        batch.append(row)
        count += 1
        if len(batch) >= (_BLOB_BATCH if "file" in kinds.values() else _BATCH):
            connection.execute(insert(table), batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)
    if count != entry["rows"]:
        raise ValidationError(f"{entry['file']}: {count} rows, the manifest says {entry['rows']}")
    return count


__all__ = ["DataFormat", "ExportSummary", "export_journal", "read_manifest", "rebuild_journal"]
