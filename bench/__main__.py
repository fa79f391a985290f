"""``python -m bench [--quick] [--only NAME ...] [--markdown FILE] [--workdir DIR]``.

Prints the machine description, then one table: workload | ours | raw baseline | ratio |
target | met?, then notes. Exit status 0 when every selected workload ran (a missed target
is a result, not an error; ``--strict`` makes it exit 1), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench import WORKLOAD_NAMES
from bench.machine import describe_machine
from bench.report import Row, format_seconds, render_markdown, render_text
from bench.workloads import FULL, QUICK, WORKLOADS, Context


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Zorivest data layer vs raw SQLite/SQLCipher, measured in one run.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes (a smoke run, well under a minute)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=WORKLOAD_NAMES,
        metavar="NAME",
        help=f"run only this workload (repeatable): {', '.join(WORKLOAD_NAMES)}",
    )
    parser.add_argument(
        "--markdown", type=Path, metavar="FILE", help="also write the result as Markdown"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        metavar="DIR",
        help="keep the journals in DIR (default: a temporary directory, removed afterwards)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser


def _log(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def run(arguments: argparse.Namespace, workdir: Path) -> list[Row]:
    sizes = QUICK if arguments.quick else FULL
    selected = [name for name in WORKLOAD_NAMES if not arguments.only or name in arguments.only]
    context = Context(sizes=sizes, workdir=workdir, log=_log)
    rows: list[Row] = []
    try:
        for name in selected:
            _log(f"{name} ...")
            start = time.perf_counter()
            rows.extend(WORKLOADS[name](context))
            _log(f"{name} done in {format_seconds(time.perf_counter() - start)}")
    finally:
        context.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    machine = describe_machine()
    start = time.perf_counter()
    if arguments.workdir is not None:
        arguments.workdir.mkdir(parents=True, exist_ok=True)
        rows = run(arguments, arguments.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="zorivest-bench-") as scratch:
            rows = run(arguments, Path(scratch))
    elapsed = time.perf_counter() - start
    mode = "quick" if arguments.quick else "full"
    title = f"Zorivest benchmark ({mode} run, {format_seconds(elapsed)})"
    print(render_text(rows, machine, title))
    if arguments.markdown is not None:
        arguments.markdown.write_text(render_markdown(rows, machine, title) + "\n")
    missed = [row for row in rows if row.met is False]
    if missed:
        summary = "; ".join(f"{row.workload} ({row.ratio}, target {row.target})" for row in missed)
        print(f"\n{len(missed)} target(s) missed: {summary}")
    return 1 if arguments.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
