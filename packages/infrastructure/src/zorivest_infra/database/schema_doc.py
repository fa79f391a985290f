"""Render docs/schema.md (a Mermaid ER diagram and an index list) from the models' metadata.

`scripts/generate_schema_doc.py` writes the file; a test compares it with
`render_schema_doc()`, so the document cannot drift from the models. The output is
deterministic: tables, relationships and indexes are sorted by name, columns keep their
declaration order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapper, RelationshipProperty, registry
from sqlalchemy.types import TypeEngine

from zorivest_infra.database.models import Base
from zorivest_infra.database.types import ExactDecimal, JSONText, UTCDateTime

GENERATOR: Final = "scripts/generate_schema_doc.py"
DOC_PATH: Final = "docs/schema.md"

_HEADER: Final = f"""\
# Database schema

<!-- Generated from zorivest_infra.database.models by `uv run python {GENERATOR}`.
     Do not edit by hand: tests/integration/test_schema_doc.py fails when it is stale. -->

The journal's {{count}} tables. Column types are logical types:

| type | meaning | SQLite / SQLCipher | PostgreSQL |
|---|---|---|---|
| `decimal(Ndp)` | exact, N decimal places, 18 digits | scaled BIGINT | NUMERIC(18, N) |
| `datetime_utc` | aware instant, read back in UTC | UTC text | TIMESTAMPTZ |
| `json` | JSON document (lists, objects) | TEXT | TEXT |
| `string(n)` | text of at most n characters | VARCHAR(n) | VARCHAR(n) |
| `text`, `int`, `bool`, `binary` | unbounded text, integer, boolean, bytes | | |

Keys: PK primary key, FK foreign key, UK unique. Comments say whether a column may be
null and its default. Relationship labels name the referencing column and its
`ON DELETE` rule; a dotted line is an ORM-only link without a foreign key.
"""


# Checked in order: Text before String (Text is a String), decorators before their impl.
_NAMED_TYPES: Final[tuple[tuple[type[TypeEngine[Any]], str], ...]] = (
    (UTCDateTime, "datetime_utc"),
    (JSONText, "json"),
    (Text, "text"),
    (Boolean, "bool"),
    (Integer, "int"),
    (LargeBinary, "binary"),
)


def logical_type(type_: TypeEngine[Any]) -> str:
    """The logical type name shown in the diagram (e.g. ``decimal(10dp)``, ``string(64)``)."""
    if isinstance(type_, ExactDecimal):
        return f"decimal({type_.scale}dp)"
    for type_class, name in _NAMED_TYPES:
        if isinstance(type_, type_class):
            return name
    if isinstance(type_, String) and type_.length:
        return f"string({type_.length})"
    return type(type_).__name__.lower()


def _table_name(mapper: Mapper[Any]) -> str:
    table = mapper.local_table
    if not isinstance(table, Table):  # pragma: no cover - every model maps one table
        raise TypeError(f"{mapper.class_.__name__} is not mapped to a table")
    return table.name


def _default(column: Column[Any]) -> str | None:
    default = column.default
    arg = getattr(default, "arg", None)
    if default is None or arg is None or callable(arg):
        return None
    text = str(arg).lower() if isinstance(arg, bool) else str(arg)
    return text.replace('"', "'")  # a Mermaid comment cannot contain a double quote


def _keys(column: Column[Any], unique_columns: set[str]) -> list[str]:
    keys = []
    if column.primary_key:
        keys.append("PK")
    if column.foreign_keys:
        keys.append("FK")
    if column.name in unique_columns and not column.primary_key:
        keys.append("UK")
    return keys


def _single_column_uniques(table: Table) -> set[str]:
    names: set[str] = set()
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and len(constraint.columns) == 1:
            names.update(column.name for column in constraint.columns)
    for index in table.indexes:
        if index.unique and len(index.columns) == 1:
            names.update(column.name for column in index.columns)
    return names


def _attribute_line(column: Column[Any], unique_columns: set[str]) -> str:
    parts = [logical_type(column.type), column.name]
    keys = _keys(column, unique_columns)
    if keys:
        parts.append(", ".join(keys))
    notes = ["null" if column.nullable else "not null"]
    default = _default(column)
    if default is not None:
        notes.append(f"default {default}")
    parts.append(f'"{", ".join(notes)}"')
    return "        " + " ".join(parts)


def _entity(table: Table) -> Iterator[str]:
    unique_columns = _single_column_uniques(table)
    yield f"    {table.name} {{"
    for column in table.columns:
        yield _attribute_line(column, unique_columns)
    yield "    }"


def _fk_relationship(constraint: ForeignKeyConstraint) -> str:
    child = constraint.table
    parent = constraint.referred_table
    columns = list(constraint.columns)
    optional = any(column.nullable for column in columns)
    column_names = {column.name for column in columns}
    one_to_one = column_names == {column.name for column in child.primary_key.columns} or any(
        isinstance(other, UniqueConstraint) and {c.name for c in other.columns} == column_names
        for other in child.constraints
    )
    parent_side = "|o" if optional else "||"
    child_side = "o|" if one_to_one else "o{"
    rule = constraint.ondelete.upper() if constraint.ondelete else "NO ACTION"
    label = f"{', '.join(column.name for column in columns)} ON DELETE {rule}"
    return f'    {parent.name} {parent_side}--{child_side} {child.name} : "{label}"'


def _orm_only_relationships(mappers: Iterable[Mapper[Any]]) -> Iterator[str]:
    """View-only ORM links whose join is not backed by a foreign-key constraint."""
    for mapper in mappers:
        for relationship in mapper.relationships:
            if not isinstance(relationship, RelationshipProperty) or not relationship.viewonly:
                continue
            pairs = relationship.local_remote_pairs or []
            if any(remote.foreign_keys for _local, remote in pairs):
                continue
            parent = _table_name(mapper)
            child = _table_name(relationship.mapper)
            remote_columns = ", ".join(remote.name for _local, remote in pairs)
            child_side = "o{" if relationship.uselist else "o|"
            yield f'    {parent} ||..{child_side} {child} : "{remote_columns} (no FK)"'


def _indexes(table: Table) -> Iterator[tuple[str, str, str]]:
    for index in table.indexes:
        yield _index_row(index)
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            columns = ", ".join(column.name for column in constraint.columns)
            yield str(constraint.name), columns, "unique constraint"


def _index_row(index: Index) -> tuple[str, str, str]:
    columns = ", ".join(
        getattr(expression, "name", str(expression)) for expression in index.expressions
    )
    return str(index.name), columns, "unique index" if index.unique else "index"


def render_schema_doc(
    metadata: MetaData | None = None, mapper_registry: registry | None = None
) -> str:
    """The whole docs/schema.md text for `metadata` (default: the journal's models)."""
    metadata = Base.metadata if metadata is None else metadata
    mapper_registry = Base.registry if mapper_registry is None else mapper_registry
    tables = sorted(metadata.tables.values(), key=lambda table: table.name)

    lines = [_HEADER.format(count=len(tables)), "```mermaid", "erDiagram"]
    for table in tables:
        lines.extend(_entity(table))
    relationships = sorted(
        _fk_relationship(constraint)
        for table in tables
        for constraint in table.foreign_key_constraints
    )
    mappers = sorted(mapper_registry.mappers, key=_table_name)
    relationships.extend(sorted(_orm_only_relationships(mappers)))
    lines.extend(relationships)
    lines.append("```")
    lines.append("")
    lines.append("## Indexes and unique constraints")
    lines.append("")
    lines.append("The primary key of every table is indexed too and not listed.")
    lines.append("")
    lines.append("| table | name | columns | kind |")
    lines.append("|---|---|---|---|")
    for table in tables:
        for name, columns, kind in sorted(_indexes(table)):
            lines.append(f"| {table.name} | `{name}` | {columns} | {kind} |")
    lines.append("")
    return "\n".join(lines)
