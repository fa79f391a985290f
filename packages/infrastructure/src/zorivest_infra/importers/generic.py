"""`generic`: Zorivest's own executions CSV (see `zorivest_infra.cli.csv_import`).

Columns exec_id, time, instrument, action, quantity, price, account_id (or --account),
commission, realized_pnl, by header name in any order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO, Final

from zorivest_core.application.importing import (
    Detection,
    ImportContext,
    ParsedExecution,
    ParsedItem,
    RowRejection,
)
from zorivest_infra.cli import csv_import

_REQUIRED: Final = frozenset(csv_import.REQUIRED_COLUMNS)


class GenericCsvImporter:
    """Zorivest's executions CSV (exec_id, time, instrument, action, quantity, price)."""

    @property
    def name(self) -> str:
        return "generic"

    @property
    def description(self) -> str:
        return "Zorivest CSV: exec_id, time, instrument, action, quantity, price"

    def detect(self, sample: bytes) -> Detection:
        text = sample.decode("utf-8", errors="replace").lstrip("\ufeff")
        for line in text.splitlines():
            if not line.strip():
                continue
            names = {cell.strip().lower() for cell in next(csv.reader([line]), [])}
            missing = sorted(_REQUIRED - names)
            if not missing:
                return Detection(50, "a header with exec_id, time, instrument, action, ...")
            found = len(_REQUIRED & names)
            return Detection(
                0,
                f"missing column(s) {', '.join(missing)}",
                closeness=10 + 10 * found if found else 0,
            )
        return Detection(0, "no header line")

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[ParsedItem]:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", errors="strict")
        lines: list[int] = []
        try:
            for item in csv_import.read_trades(
                text,
                source=context.source_name,
                account=context.account_id,
                zone=context.zone,
                lines=lines,
            ):
                if isinstance(item, csv_import.Rejected):
                    yield RowRejection(item.line, item.reason)
                else:
                    yield ParsedExecution(line=lines.pop(), trade=item)
        finally:
            text.detach()
