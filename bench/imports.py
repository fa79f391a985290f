"""Statement import workloads: a Flex Query XML file through the whole import path.

- `flex_import`: N executions (100,000 full) from a Flex XML file on disk into a new
  encrypted journal (importer + use case + commit), against the fastest plain parse of the
  same file (expat with a handler keeping each Trade's attributes, or ElementTree's
  iterparse clearing elements: the faster of the two) plus raw `executemany` of the same
  rows into a raw SQLCipher file. Target: ours <= 2x (parse + executemany).
- `flex_import_rss`: 1,000,000 executions generated on the fly (never on disk, never whole
  in memory) imported in a child process; target: peak RSS growth <= 50 MB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from xml.parsers import expat

from bench import baselines as raw
from bench.flex import ACCOUNT, RAW_COLUMNS, RAW_INSERT_SQL, ZONE, flex_chunks, raw_row
from bench.measure import best_of, timed
from bench.report import Row, format_bytes, format_seconds

if TYPE_CHECKING:
    from bench.workloads import Context

RSS_EXECUTIONS: Final = 1_000_000
RSS_LIMIT: Final = 50 * 1024**2


def _write_file(path: Path, count: int) -> int:
    with path.open("wb") as handle:
        for chunk in flex_chunks(count):
            handle.write(chunk)
    return path.stat().st_size


def _expat_parse(path: Path) -> int:
    rows: list[dict[str, str]] = []
    parser = expat.ParserCreate()

    def start(name: str, attributes: dict[str, str]) -> None:
        if name == "Trade":
            rows.append(attributes)

    parser.StartElementHandler = start
    with path.open("rb") as handle:
        parser.ParseFile(handle)
    return len(rows)


def _iterparse(path: Path) -> int:
    count = 0
    for _, element in ET.iterparse(path):  # noqa: S314 - our own generated file
        if element.tag == "Trade":
            count += 1
            element.clear()
    return count


def _import(ctx: Context, path: Path) -> tuple[float, int]:
    """Seconds of one import into a new journal (created and closed untimed), and count."""
    from zorivest_core.application.importing import ImportContext
    from zorivest_core.application.use_cases.import_statement import import_statement
    from zorivest_infra.importers.ibkr_flex import IbkrFlexImporter

    journal = ctx.create_journal("flex-ours")
    _add_account(journal)
    inserted: list[int] = []

    def run() -> None:
        with path.open("rb") as handle, journal.unit_of_work() as uow:
            items = IbkrFlexImporter().parse(handle, ImportContext(zone=ZONE))
            inserted.append(import_statement(uow, items, format_name="ibkr-flex").inserted)
            uow.commit()

    try:
        seconds = timed(run)
        _check_rows(journal, inserted[0])
    finally:
        ctx.close_journal(journal)
    return seconds, inserted[0]


def _add_account(journal: Any) -> None:
    from zorivest_core.domain.entities import Account
    from zorivest_core.domain.enums import AccountType

    with journal.unit_of_work() as uow:
        uow.accounts.save(Account(ACCOUNT, "Bench IBKR", AccountType.BROKER))
        uow.commit()


def _check_rows(journal: Any, count: int) -> None:
    """Stored rows must be exactly the raw baseline's rows (a sample, and the count)."""
    from bench.workloads import _driver_connection

    sample = list(range(0, count, max(1, count // 997)))
    expected = [raw_row(i) for i in sample]
    marks = ", ".join("?" * len(sample))
    query = f"SELECT {RAW_COLUMNS} FROM trades WHERE exec_id IN ({marks}) ORDER BY 1"
    with _driver_connection(journal) as conn:
        stored = conn.execute(query, [row[0] for row in expected]).fetchall()
        total = conn.execute("SELECT count(*) FROM trades").fetchone()[0]
    if stored != expected or total != count:
        raise RuntimeError("the Flex import stored rows other than the raw baseline's")


def _raw_insert(ctx: Context, rows: list[tuple[Any, ...]]) -> float:
    conn, _ = raw.create_raw_database(ctx.fresh_path("flex-raw"))
    try:
        conn.execute("BEGIN")
        raw.insert_account(conn, ACCOUNT)
        conn.execute("COMMIT")

        def insert() -> None:
            conn.execute("BEGIN")
            conn.executemany(RAW_INSERT_SQL, rows)
            conn.execute("COMMIT")

        return timed(insert)
    finally:
        conn.close()


def run_flex_import(ctx: Context) -> list[Row]:
    count = ctx.sizes.import_trades
    path = ctx.workdir / f"flex-{count}.xml"
    size = _write_file(path, count)
    parsed = {
        "expat": best_of(3, lambda: _expat_parse(path)),
        "iterparse": best_of(3, lambda: _iterparse(path)),
    }
    fastest = min(parsed, key=lambda name: parsed[name])
    rows = [raw_row(i) for i in range(count)]
    insert = min(_raw_insert(ctx, rows) for _ in range(2))
    del rows
    runs = [_import(ctx, path) for _ in range(2)]
    if [inserted for _, inserted in runs] != [count, count]:
        raise RuntimeError(f"the Flex import inserted {runs} of {count} executions")
    ours = min(seconds for seconds, _ in runs)
    base = parsed[fastest] + insert
    ratio = ours / base
    return [
        Row(
            "flex_import",
            f"import a {count:,}-execution Flex XML",
            format_seconds(ours),
            format_seconds(base),
            f"{ratio:.2f}x",
            "<= 2x",
            ratio <= 2,
            [
                f"file {format_bytes(size)}; ours = ibkr-flex importer (hardened expat, rows "
                "validated as Trade entities) + import_statement (account mapping, "
                "save_many, identifiers, the round trips of the touched pairs: two "
                "executions each here) + commit, into a new encrypted journal; best of 2",
                f"raw = fastest plain parse ({fastest}: {format_seconds(parsed[fastest])}; "
                f"expat {format_seconds(parsed['expat'])}, iterparse "
                f"{format_seconds(parsed['iterparse'])}) + executemany of the same 17-column "
                f"rows ({format_seconds(insert)}); stored rows checked equal to the raw rows",
            ],
        )
    ]


def run_flex_import_rss(ctx: Context) -> list[Row]:
    count = RSS_EXECUTIONS if ctx.sizes.label == "full" else ctx.sizes.import_trades
    repo_root = Path(__file__).resolve().parent.parent
    request = {"path": str(ctx.fresh_path("flex-rss")), "count": count}
    completed = subprocess.run(
        [sys.executable, "-m", "bench.import_child"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=False,
        cwd=repo_root,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, (str(repo_root), os.environ.get("PYTHONPATH", "")))
            ),
        },
    )
    if completed.returncode != 0:
        raise RuntimeError(f"bench.import_child failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    if result["inserted"] != count:
        raise RuntimeError(f"the streamed import inserted {result['inserted']} of {count}")
    return [
        Row(
            "flex_import_rss",
            f"import {count:,} Flex executions, streamed",
            f"+{format_bytes(result['growth'])} peak RSS, {format_seconds(result['seconds'])}",
            "-",
            "-",
            "peak RSS growth <= 50 MB",
            result["growth"] <= RSS_LIMIT,
            [
                "in a child process; the XML is generated while it is read (never whole on "
                f"disk or in memory); growth = peak RSS during the import ({result['method']}) "
                f"minus RSS before it ({format_bytes(result['start_rss'])}), after a warm-up "
                "import of 2,000 executions",
            ],
        )
    ]
