"""Benchmarks of the Zorivest data layer against raw SQLite/SQLCipher, measured in one run.

Run ``uv run python -m bench`` (full sizes, a few minutes) or ``uv run python -m bench
--quick`` (small sizes, well under a minute). Each workload is timed through the project's
public API ("ours") and through plain ``sqlcipher3`` DB-API code doing the same work on the
same schema ("raw"), on the same machine in the same process run; the table shows both and
their ratio against the target of issue 7. See docs/performance.md.

Benchmarks are not tests: nothing here asserts a time. The test suite only runs
``python -m bench --quick`` once (tests/integration/test_bench_smoke.py) so this code cannot
rot.
"""

from __future__ import annotations

__all__ = ["WORKLOAD_NAMES"]

WORKLOAD_NAMES: tuple[str, ...] = (
    "save_many",
    "reimport",
    "get",
    "list_newest",
    "iterate",
    "totals",
    "open_pool",
    "image_save",
    "image_list",
    "rt_rebuild",
    "rt_report",
    "rt_import",
    "flex_import",
    "flex_import_rss",
)
"""The workloads, in the order they run and are printed (``--only`` takes these names)."""
