"""Every example in README.md and docs/ runs as written.

- ```python blocks (README and every docs page) run in a fresh interpreter in an empty
  directory.
- ```sh blocks of docs/cli.md run in order, as one user's session: HOME is a temporary
  directory, `zorivest` is the command under test on PATH (and `python3 -m uv run
  zorivest` is read as `zorivest`: uv needs the repository as its working directory),
  ZORIVEST_PASSPHRASE is set (as the page suggests), the page's own CSV example is saved
  as executions.csv and a real PNG as chart.png. After `passwd` the new passphrase is used.
- A block preceded by `<!-- docs-test: skip (reason) -->` is not run, and says why; every
  ```sh block outside docs/cli.md must carry such a marker, so none is left out silently.
  Fences without a language (install commands, directory layouts) and text/csv/mermaid
  blocks are not commands.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.factories import png_bytes

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^(\s*)```(\w*)")
MARKER = re.compile(r"<!--\s*docs-test:\s*(.*?)\s*-->")
PASSPHRASE = "docs example passphrase 1"
NEW_PASSPHRASE = "docs example passphrase 2"


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    language: str
    code: str
    marker: str | None

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    previous = ""
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match is None:
            if lines[index].strip():
                previous = lines[index]
            index += 1
            continue
        indent, language = match.groups()
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index].removeprefix(indent))
            index += 1
        marker = MARKER.search(previous)
        found.append(
            Block(page, start + 1, language, "\n".join(body) + "\n", marker and marker.group(1))
        )
        previous = ""
        index += 1
    return found


ALL = [block for page in PAGES for block in blocks(page)]
PYTHON = [block for block in ALL if block.language == "python"]
CLI_SH = [block for block in ALL if block.language == "sh" and block.page.name == "cli.md"]


def test_every_command_block_outside_cli_md_says_why_it_is_not_run() -> None:
    unmarked = [
        block.name
        for block in ALL
        if block.language in ("sh", "bash", "shell")
        and block.page.name != "cli.md"
        and not (block.marker or "").startswith("skip")
    ]
    assert unmarked == []
    assert PYTHON, "the README's Python example was not found"
    assert len(CLI_SH) > 10


@pytest.mark.parametrize("block", PYTHON, ids=lambda block: block.name)
def test_python_examples_run_as_written(block: Block, tmp_path: Path) -> None:
    if (block.marker or "").startswith("skip"):
        pytest.skip(block.marker or "")
    result = subprocess.run(
        [sys.executable, "-c", block.code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _csv_example() -> str:
    (block,) = [b for b in ALL if b.language == "csv" and b.page.name == "cli.md"]
    return block.code


def test_cli_md_examples_run_in_order_as_one_session(tmp_path: Path) -> None:
    home, work, bin_dir = tmp_path / "home", tmp_path / "work", tmp_path / "bin"
    for directory in (home, work, bin_dir):
        directory.mkdir()
    shim = bin_dir / "zorivest"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m zorivest_infra.cli "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    (work / "executions.csv").write_text(_csv_example(), encoding="utf-8")
    (work / "chart.png").write_bytes(png_bytes(1280, 720, seed=2))
    # Statement files the import examples name: our own fixtures in those formats.
    fixtures = ROOT / "tests" / "fixtures" / "imports"
    for name, fixture in (
        ("flex.xml", "ibkr-flex/trades.xml"),
        ("statement.ofx", "ofx/brokerage-v2.ofx"),
    ):
        (work / name).write_bytes((fixtures / fixture).read_bytes())
    environment = {
        **os.environ,
        "HOME": str(home),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "ZORIVEST_NEW_PASSPHRASE": NEW_PASSPHRASE,
    }
    for name in ("COLUMNS", "ZORIVEST_PASSPHRASE"):
        environment.pop(name, None)
    ran = 0
    for block in CLI_SH:
        if (block.marker or "").startswith("skip"):
            continue
        script = block.code.replace("python3 -m uv run zorivest", "zorivest")
        if "zorivest init" in script:
            environment["ZORIVEST_PASSPHRASE"] = PASSPHRASE
        feed = environment["ZORIVEST_PASSPHRASE"] + "\n" if block.marker else None
        result = subprocess.run(
            ["/bin/bash", "-euo", "pipefail", "-c", script],
            cwd=work,
            env=environment,
            input=feed,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, (block.name, script, result.stdout, result.stderr)
        if "zorivest passwd" in script:
            environment["ZORIVEST_PASSPHRASE"] = NEW_PASSPHRASE
            environment["ZORIVEST_NEW_PASSPHRASE"] = PASSPHRASE
        ran += 1
    assert ran == len([b for b in CLI_SH if not (b.marker or "").startswith("skip")])
