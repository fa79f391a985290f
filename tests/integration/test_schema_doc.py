"""docs/schema.md is generated from the models and must not go stale."""

from __future__ import annotations

import re
from pathlib import Path

from zorivest_infra.database.models import Base
from zorivest_infra.database.schema_doc import DOC_PATH, GENERATOR, render_schema_doc

ROOT = Path(__file__).resolve().parents[2]


def test_schema_doc_is_up_to_date() -> None:
    path = ROOT / DOC_PATH
    assert path.exists(), f"{DOC_PATH} is missing: run `uv run python {GENERATOR}`"
    assert path.read_text(encoding="utf-8") == render_schema_doc(), (
        f"{DOC_PATH} is out of date with the models: run `uv run python {GENERATOR}`"
    )


def test_rendering_is_deterministic() -> None:
    assert render_schema_doc() == render_schema_doc()


def test_diagram_shows_every_table_column_and_foreign_key() -> None:
    text = render_schema_doc()
    diagram = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert diagram.startswith("erDiagram\n")
    for table in Base.metadata.tables.values():
        block = re.search(rf"^    {table.name} \{{\n(.*?)^    \}}", diagram, re.M | re.S)
        assert block is not None, table.name
        names = [line.split()[1] for line in block.group(1).splitlines()]
        assert names == [column.name for column in table.columns], table.name
        for constraint in table.foreign_key_constraints:
            assert re.search(
                rf"^    {constraint.referred_table.name} \S+ {table.name} : ", diagram, re.M
            ), (table.name, constraint.name)
    assert "decimal(10dp) price" in diagram
    assert "decimal(6dp) commission" in diagram
    assert "datetime_utc time" in diagram
    assert "json tags" in diagram
    assert "string(64) account_id PK" in diagram
    assert "string(128) trade_id FK, UK" in diagram
    assert "| trades | `ix_trades_account_id_time` | account_id, time, exec_id | index |" in text
