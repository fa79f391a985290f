"""Running an importer over a fixture or a text, for the importer tests."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from zorivest_core.application.importing import (
    ImportContext,
    Importer,
    ParsedExecution,
    ParsedItem,
    RowRejection,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imports"


def parse_bytes(importer: Importer, data: bytes, **context: Any) -> list[ParsedItem]:
    context.setdefault("source_name", "test.csv")
    return list(importer.parse(io.BytesIO(data), ImportContext(**context)))


def parse_fixture(importer: Importer, relative: str, **context: Any) -> list[ParsedItem]:
    path = FIXTURES / relative
    context.setdefault("source_name", str(path))
    with path.open("rb") as stream:
        return list(importer.parse(stream, ImportContext(**context)))


def executions(items: list[ParsedItem]) -> list[ParsedExecution]:
    return [item for item in items if isinstance(item, ParsedExecution)]


def rejections(items: list[ParsedItem]) -> list[tuple[int, str]]:
    return [(item.line, item.reason) for item in items if isinstance(item, RowRejection)]
