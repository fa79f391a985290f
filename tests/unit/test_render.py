"""The listing renderer: tables that fit, numbers never cut, formats, escaping, colour."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass

import pytest

from zorivest_infra.cli.render import (
    SAMPLE_ROWS,
    Cell,
    Column,
    OutputFormat,
    json_line,
    safe,
    shorten_middle,
    write_listing,
)


@dataclass
class Row:
    ident: str
    note: str
    amount: str
    extra: str


COLUMNS = [
    Column("ident", "ID", lambda r: r.ident, lambda r: r.ident, shorten=True, min_width=9),
    Column("note", "Note", lambda r: r.note, lambda r: r.note, priority=1),
    Column("amount", "Amount", lambda r: r.amount, lambda r: Cell(r.amount, "32"), numeric=True),
    Column("extra", "Extra", lambda r: r.extra, lambda r: r.extra, table=False),
]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def table(rows: list[Row], *, width: int | None, wide: bool = False, tty: bool = False) -> str:
    stream: io.StringIO = Tty() if tty else io.StringIO()
    env = {} if width is None else {"COLUMNS": str(width)}
    with pytest.MonkeyPatch.context() as patch:
        for key in ("COLUMNS", "NO_COLOR", "TERM"):
            patch.delenv(key, raising=False)
        for key, value in env.items():
            patch.setenv(key, value)
        if tty and width is not None:
            size = os.terminal_size((width, 24))
            patch.setattr("shutil.get_terminal_size", lambda: size)
        write_listing(COLUMNS, rows, OutputFormat.TABLE, wide=wide, stream=stream)
    return stream.getvalue()


LONG_ID = "2f32a967-0ea2-4d72-b6cf-916050e377af"


def test_ids_are_shortened_in_the_middle_and_numbers_kept_whole_to_fit() -> None:
    rows = [Row(LONG_ID, "a note " * 8, "1,234,567.891234", "x")]
    out = table(rows, width=40)
    lines = out.splitlines()
    assert all(len(line) <= 40 for line in lines), out
    assert "1,234,567.891234" in out
    assert "Note" not in out  # the low-priority column went first
    assert "2f32a967-0e…6050e377af" in out  # the room left goes to the id


def test_wide_and_piped_tables_show_everything() -> None:
    rows = [Row(LONG_ID, "note", "1.00", "x")]
    assert LONG_ID in table(rows, width=40, wide=True)
    assert LONG_ID in table(rows, width=None)


def test_a_later_wider_number_widens_its_column_instead_of_being_cut() -> None:
    rows = [Row(f"id{n}", "n", "1.00", "x") for n in range(SAMPLE_ROWS)]
    rows.append(Row("late", "n", "98,765,432,100.123456", "x"))
    out = table(rows, width=80)
    assert out.splitlines()[-1].endswith("98,765,432,100.123456")


def test_numbers_are_right_aligned() -> None:
    out = table([Row("a", "n", "1.00", "x"), Row("b", "n", "100.00", "x")], width=None)
    first, second = out.splitlines()[2:4]
    assert first.endswith("  1.00")
    assert len(first) == len(second)


def test_colour_only_in_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [Row("a", "n", "1.00", "x")]
    assert "\x1b[32m" in table(rows, width=80, tty=True)
    assert "\x1b[" not in table(rows, width=80)
    stream = Tty()
    monkeypatch.setenv("NO_COLOR", "")
    write_listing(COLUMNS, rows, OutputFormat.TABLE, stream=stream)
    assert "\x1b[" not in stream.getvalue()


def test_control_characters_are_escaped_in_tables() -> None:
    out = table([Row("E\x1b]52;c;AA\x07", "n\u202e", "1", "x")], width=None)
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\u202e" not in out
    assert "E\\x1b]52;c;AA\\x07" in out


def test_safe_and_json_line_escape_what_a_terminal_acts_on() -> None:
    assert safe("a\nb\tc\x9bd\x7f") == "a\\nb\\tc\\x9bd\\x7f"
    assert safe("plain ü 株") == "plain ü 株"
    line = json_line({"k": "x\x9b[2J\u2028"})
    assert "\x9b" not in line
    assert json.loads(line) == {"k": "x\x9b[2J\u2028"}


def test_machine_formats_carry_every_field_including_table_less_ones() -> None:
    rows = [Row("a", "n", "1.50", "x"), Row("b", None, "2", "y")]  # type: ignore[arg-type]
    for output_format, expected in (
        (OutputFormat.CSV, "ident,note,amount,extra\na,n,1.50,x\nb,,2,y\n"),
        (
            OutputFormat.NDJSON,
            '{"ident": "a", "note": "n", "amount": "1.50", "extra": "x"}\n'
            '{"ident": "b", "note": null, "amount": "2", "extra": "y"}\n',
        ),
    ):
        stream = io.StringIO()
        assert write_listing(COLUMNS, rows, output_format, stream=stream) == 2
        assert stream.getvalue() == expected
    stream = io.StringIO()
    write_listing(COLUMNS, rows, OutputFormat.JSON, stream=stream)
    assert [item["ident"] for item in json.loads(stream.getvalue())] == ["a", "b"]


def test_shorten_middle_counts_terminal_cells() -> None:
    assert shorten_middle("abcdefghij", 5) == "ab…ij"
    assert shorten_middle("short", 9) == "short"
    wide = shorten_middle("株株株株株株", 7)
    from rich.cells import cell_len

    assert cell_len(wide) <= 7
