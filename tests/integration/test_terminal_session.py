"""A user's session in a real pseudo-terminal, 80 columns wide (pexpect).

The passphrase is typed at the hidden prompt, an import shows its progress bar (stderr is
a terminal), `trades` prints the compact table, Ctrl-C stops an import with exit code 130
and nothing imported, and `trade delete` asks before deleting. Every line the terminal
received fits in 80 columns, and every number of the listed trades appears whole.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import sys
from decimal import Decimal
from pathlib import Path
from typing import Final

import pexpect
import pytest
from rich.cells import cell_len

PASSPHRASE: Final = "pty session passphrase 7"
WIDTH: Final = 80
ANSI: Final = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[=>]")


def spawn(*arguments: str, env: dict[str, str] | None = None) -> pexpect.spawn[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("ZORIVEST_PASSPHRASE", "COLUMNS", "LINES", "NO_COLOR")
    }
    environment.update({"TERM": "xterm-256color", **(env or {})})
    return pexpect.spawn(
        sys.executable,
        ["-m", "zorivest_infra.cli", *arguments],
        env=environment,
        dimensions=(40, WIDTH),
        encoding="utf-8",
        timeout=300,
        # A terminal user's shell starts commands with Ctrl-C live; a test run started in
        # the background (`pytest &`) would hand its ignored SIGINT down instead.
        preexec_fn=_interruptible,
    )


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def finish(child: pexpect.spawn[str]) -> tuple[str, int]:
    child.expect(pexpect.EOF)
    child.close()
    if child.exitstatus is not None:
        return child.before or "", child.exitstatus
    assert child.signalstatus is not None
    return child.before or "", 128 + child.signalstatus


def screen_lines(text: str) -> list[str]:
    """What the terminal shows, line by line (colours and cursor controls removed)."""
    lines = []
    for raw in ANSI.sub("", text).replace("\r\n", "\n").split("\n"):
        lines.append(raw.rsplit("\r", 1)[-1])  # a progress bar redraws over itself
    return lines


def write_csv(path: Path, rows: int) -> list[tuple[str, str, str]]:
    """Executions from a CSV we write ourselves; returns (exec_id, price, pnl) of each."""
    start = dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.UTC)
    written = []
    with path.open("w", encoding="utf-8") as stream:
        stream.write(
            "exec_id,time,instrument,action,quantity,price,account_id,commission,realized_pnl\n"
        )
        for number in range(rows):
            exec_id = f"0000e0d5.{number:08x}.01.01-{'x' * 20}"
            price = Decimal("123456.789") + number
            pnl = Decimal("-98765.4321") if number % 2 else Decimal("1234567.5")
            time = (start + dt.timedelta(seconds=number)).isoformat()
            stream.write(f"{exec_id},{time},BRK.B,BOT,0.0001234,{price},ACC1,1.25,{pnl}\n")
            written.append((exec_id, f"{price:,f}", f"{pnl:,f}"))
    return written


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_an_80_column_terminal_session(tmp_path: Path) -> None:
    journal = tmp_path / "journal.zorivest"
    child = spawn("init", str(journal))
    child.expect("New passphrase")
    child.sendline(PASSPHRASE)
    child.expect("Repeat for confirmation")
    child.sendline(PASSPHRASE)
    output, status = finish(child)
    assert status == 0, output
    assert PASSPHRASE not in output  # the prompt is hidden

    env = {"ZORIVEST_PASSPHRASE": PASSPHRASE}
    _, status = finish(spawn("account", "add", str(journal), "ACC1", "--name", "Main", env=env))
    assert status == 0

    # An import big enough for the progress bar, with the passphrase typed at the prompt.
    rows = write_csv(tmp_path / "executions.csv", 15_000)
    assert (tmp_path / "executions.csv").stat().st_size > 1_000_000
    child = spawn("import", str(journal), str(tmp_path / "executions.csv"))
    child.expect("Passphrase")
    child.sendline(PASSPHRASE)
    output, status = finish(child)
    assert status == 0, output
    assert "Importing" in output  # the progress bar was drawn
    assert re.search(r"inserted\s+15,000", ANSI.sub("", output))
    for line in screen_lines(output):
        assert cell_len(line) <= WIDTH, line

    # The compact table: fits, nothing cut.
    output, status = finish(spawn("trades", str(journal), "--limit", "20", env=env))
    assert status == 0, output
    lines = [line for line in screen_lines(output) if line.strip()]
    assert lines[0].startswith("Time (UTC)")
    for line in lines:
        assert cell_len(line) <= WIDTH, line
    body = "\n".join(lines)
    for _, price, pnl in rows[-20:]:
        assert price in body
        assert pnl in body
    assert "…" in body  # the long exec ids were shortened in the middle
    assert len(lines) == 2 + 20 + 1

    # Ctrl-C during an import: exit 130, one line, nothing imported.
    write_csv(tmp_path / "big.csv", 120_000)
    child = spawn("import", str(journal), str(tmp_path / "big.csv"), env=env)
    child.expect("Importing")
    child.sendintr()
    output, status = finish(child)
    assert status == 130, output
    assert "nothing was imported" in output
    assert "Traceback" not in output
    output, status = finish(spawn("trades", str(journal), "--limit", "1", env=env))
    assert "15,000 in all" in output

    # A delete asks in a terminal; "no" keeps the trade, "yes" deletes it.
    doomed = rows[0][0]
    for answer, expected_status in (("n", 1), ("y", 0)):
        child = spawn("trade", "delete", str(journal), doomed, env=env)
        child.expect(r"Delete trade .*\?")
        child.sendline(answer)
        output, status = finish(child)
        assert status == expected_status, output
    assert "Deleted trade" in output
    output, _ = finish(spawn("trades", str(journal), "--limit", "1", env=env))
    assert "14,999 in all" in output
