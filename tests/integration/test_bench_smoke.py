"""Smoke test of the benchmarks: `python -m bench --quick` runs and prints every row.

Only that the benchmark code still works against the current API is checked. No timing is
asserted here, ever: numbers come from `python -m bench` (docs/performance.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench import WORKLOAD_NAMES

REPO_ROOT = Path(__file__).resolve().parents[2]

# The start of each table row a workload prints (list_newest and image_list print two).
EXPECTED_ROWS = {
    "save_many": ["save_many 10,000 new trades"],
    "reimport": ["re-import the same 10,000"],
    "get": ["1,000 get(exec_id)"],
    "list_newest": [
        "newest 100 of an account @ 1,000 trades",
        "newest 100 of an account @ 50,000 trades",
    ],
    "iterate": ["iterate 50,000 trades of an account"],
    "totals": ["totals(account) over 50,000 trades"],
    "open_pool": ["open a journal + 50 pooled connections"],
    "image_save": ["save a 2560x1440 PNG screenshot"],
    "image_list": [
        "list thumbnails of 100 screenshots: bytes returned",
        "list thumbnails of 100 screenshots: bytes read from the file",
    ],
    "rt_rebuild": ["rebuild round trips of 50,000 executions"],
    "rt_report": ["report over 50,000 closed round trips"],
    "rt_import": ["import 10,000 executions into 50,000"],
    "flex_import": ["import a 10,000-execution Flex XML"],
    "flex_import_rss": ["import 10,000 Flex executions, streamed"],
    "startup": ["`zorivest --help`", "`zorivest info`"],
}


def _run_module(module: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`python -m module arguments...` from the repository root; it must exit 0."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return completed


def test_bench_quick_runs_and_prints_every_workload(tmp_path: Path) -> None:
    assert set(EXPECTED_ROWS) == set(WORKLOAD_NAMES)
    completed = _run_module("bench", "--quick", "--workdir", str(tmp_path))
    lines = completed.stdout.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("workload "))
    rows = []
    for line in lines[header + 2 :]:
        if not line.strip():
            break
        rows.append([cell.strip() for cell in line.split(" | ")])
    assert all(len(cells) == 6 for cells in rows), rows
    assert all(cells[5] in {"yes", "NO", "-"} for cells in rows), rows
    assert all(cells[1] and cells[2] and cells[3] for cells in rows), rows
    labels = [cells[0] for cells in rows]
    expected = [label for name in WORKLOAD_NAMES for label in EXPECTED_ROWS[name]]
    assert len(labels) == len(expected), labels
    for label, start in zip(labels, expected, strict=True):
        assert label.startswith(start), (label, start)
    assert "CPU" in completed.stdout
    assert "SQLCipher" in completed.stdout


def test_the_read_profile_runs_and_names_every_part() -> None:
    completed = _run_module("bench.profile_reads")
    for part in (
        "raw get (driver execute + fetchone)",
        "ours newest 100 (unit of work + list)",
        "decode + restore 100 entities",
        "-- 2000 gets: functions by own time",
        "-- 200 newest-100 listings: functions by own time",
    ):
        assert part in completed.stdout
    assert "restore_columns" in completed.stdout  # the profile lists the functions it saw
