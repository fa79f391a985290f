"""Measuring helpers: best-of-N timing, statement capture, query plans, process I/O and RSS."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import psutil
from sqlalchemy import Engine, event

__all__ = [
    "CapturedStatement",
    "PeakRss",
    "best_of",
    "capture_statements",
    "query_plan",
    "quiet_heap",
    "read_bytes_of_process",
    "timed",
]


@contextmanager
def quiet_heap() -> Iterator[None]:
    """Collect garbage, then hide every object that exists now from the collector.

    The benchmark's own fixtures (a hundred thousand entities, a million-row generator's
    leftovers) would otherwise make every full collection during a measurement slower, and
    charge that to whichever side allocates more. Objects created inside the block are
    collected as usual.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _once(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def timed(action: Callable[[], Any]) -> float:
    """Seconds one call of ``action`` takes (on a quiet heap)."""
    with quiet_heap():
        return _once(action)


def best_of(repeats: int, action: Callable[[], Any]) -> float:
    """The fastest of ``repeats`` timed calls: the least disturbed by other load."""
    with quiet_heap():
        return min(_once(action) for _ in range(max(1, repeats)))


@dataclass(frozen=True, slots=True)
class CapturedStatement:
    sql: str
    parameters: Any


@contextmanager
def capture_statements(engine: Engine) -> Iterator[list[CapturedStatement]]:
    """Every statement the engine sends to the driver inside the block, with parameters."""
    captured: list[CapturedStatement] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        captured.append(CapturedStatement(statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield captured
    finally:
        event.remove(engine, "before_cursor_execute", record)


def query_plan(connection: Any, sql: str, parameters: Sequence[Any] | Any = ()) -> list[str]:
    """The ``EXPLAIN QUERY PLAN`` detail lines of a statement on a DB-API connection."""
    rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters).fetchall()
    return [str(row[-1]) for row in rows]


def read_bytes_of_process() -> int:
    """Bytes this process has read through read()/pread() so far (``rchar`` of /proc).

    Counts reads served from the OS page cache too, so it measures what SQLite asked the
    file system for (every page it loaded and decrypted), not what the disk delivered.
    """
    with open("/proc/self/io", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    raise RuntimeError("/proc/self/io has no rchar line")


def _vm_hwm() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_vm_hwm() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


@dataclass
class PeakRss:
    """Peak resident memory growth of this process during a ``with`` block.

    The growth is the peak RSS inside the block minus the RSS at its start. The peak is the
    kernel's own high-water mark (``VmHWM``, reset at the start through
    ``/proc/self/clear_refs``) where available, and in any case at least the highest value a
    sampling thread saw every 2 ms.
    """

    interval: float = 0.002
    start_rss: int = 0
    peak_rss: int = 0
    method: str = "sampling"
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _kernel: bool = False

    @property
    def growth(self) -> int:
        return max(0, self.peak_rss - self.start_rss)

    def _sample(self) -> None:
        process = psutil.Process()
        while not self._stop.wait(self.interval):
            self.peak_rss = max(self.peak_rss, process.memory_info().rss)

    def __enter__(self) -> Self:
        gc.collect()
        self.start_rss = psutil.Process().memory_info().rss
        self.peak_rss = self.start_rss
        self._kernel = _reset_vm_hwm()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        hwm = _vm_hwm() if self._kernel else None
        if hwm is not None:
            self.method = "VmHWM"
            self.peak_rss = max(self.peak_rss, hwm)
