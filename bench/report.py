"""Result rows and their rendering: a plain-text table for the terminal, Markdown for docs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "Row",
    "format_bytes",
    "format_seconds",
    "render_markdown",
    "render_text",
]

HEADERS = ("workload", "ours", "raw baseline", "ratio", "target", "met?")


@dataclass(slots=True)
class Row:
    """One line of the result table.

    Attributes:
        name: The workload's ``--only`` name (every row of a workload carries it).
        workload: What was measured, for people.
        ours: Our measurement, formatted.
        raw: The raw baseline's measurement, formatted.
        ratio: The compared quantity, formatted (usually ours / raw).
        target: The target of issue 7.
        met: Whether the target is met; None for rows that only inform.
        notes: Details printed under the table (plans, byte counts, KDF time, ...).
    """

    name: str
    workload: str
    ours: str
    raw: str
    ratio: str
    target: str
    met: bool | None
    notes: list[str] = field(default_factory=list)

    def cells(self) -> tuple[str, ...]:
        verdict = "-" if self.met is None else ("yes" if self.met else "NO")
        return (self.workload, self.ours, self.raw, self.ratio, self.target, verdict)


def format_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.2f} s"


def format_bytes(count: float) -> str:
    if abs(count) < 1024:
        return f"{count:.0f} B"
    if abs(count) < 1024**2:
        return f"{count / 1024:.1f} KiB"
    return f"{count / 1024**2:.1f} MiB"


def _notes(rows: Sequence[Row]) -> list[str]:
    lines: list[str] = []
    for row in rows:
        lines.extend(f"[{row.name}] {note}" for note in row.notes)
    return lines


def render_text(rows: Sequence[Row], machine: Sequence[tuple[str, str]], title: str) -> str:
    """The machine description, the table in fixed-width columns, then the notes."""
    table = [HEADERS, *(row.cells() for row in rows)]
    widths = [max(len(line[index]) for line in table) for index in range(len(HEADERS))]
    rule = "-+-".join("-" * width for width in widths)
    out = [title, ""]
    label_width = max(len(label) for label, _ in machine)
    out.extend(f"  {label.ljust(label_width)}  {value}" for label, value in machine)
    out.append("")
    for index, line in enumerate(table):
        out.append(" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if index == 0:
            out.append(rule)
    notes = _notes(rows)
    if notes:
        out.extend(["", "Notes:", *(f"  {note}" for note in notes)])
    return "\n".join(out)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(rows: Sequence[Row], machine: Sequence[tuple[str, str]], title: str) -> str:
    """The same content as `render_text`, as Markdown (for docs/performance.md)."""
    out = [f"### {title}", "", "| | |", "|---|---|"]
    out.extend(f"| {_md_cell(label)} | {_md_cell(value)} |" for label, value in machine)
    out.extend(["", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)])
    out.extend("| " + " | ".join(_md_cell(cell) for cell in row.cells()) + " |" for row in rows)
    notes = _notes(rows)
    if notes:
        out.extend(["", "Notes:", ""])
        out.extend(f"- {_md_cell(note)}" for note in notes)
    return "\n".join(out)
