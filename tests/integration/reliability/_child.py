"""Child-process side of the reliability suite (and the parent's client for it).

Run by path (``python _child.py <mode>``); it imports only the product packages, never
``tests.*``, so it works from any working directory.

Modes:

``serve``
    A fork server. It imports the product once, then reads one JSON command per line from
    stdin and runs each in a freshly forked worker process, so a test can SIGKILL many
    workers without paying the interpreter start-up each time. A worker writes protocol
    lines ``<pid> <message>`` to stdout with single unbuffered ``write`` calls (so nothing
    it reported is lost or duplicated when it is killed); the server answers each command,
    once the worker has ended, with ``reaped <pid> <wait status>``.

    Commands (the passphrases travel over stdin, never argv):

    * ``{"task": "import", "path": ..., "passphrase": ..., "batch": N}``: open the journal,
      then forever import batches of N trades, one unit of work (one commit) per batch,
      writing ``committed <k>`` after the commit of batch k (k counts all batches in the
      journal, so ``k * N`` trades are then stored).
    * ``{"task": "rekey", "path": ..., "passphrases": [a, b]}``: open the journal with
      whichever of ``a``/``b`` opens it (``opened <i>``), then forever change the
      passphrase to the other one (``rekeyed <i>`` after each change).
    * ``{"task": "quit"}``.

``bombs``
    Caps the address space (``RLIMIT_AS``) at the current size plus 300 MiB, feeds
    decompression bombs and header-only images of huge dimensions to
    ``zorivest_infra.images.analyse_image`` and prints one JSON object: case name ->
    outcome (``invalid`` is the only acceptable one).

Both modes use cheap Argon2id parameters (:func:`cheap_kdf`); a parent that opens the same
journals must apply the same ones.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import queue
import resource
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import IO, Any, Final

CHILD_PATH: Final = Path(__file__).resolve()
ADDRESS_SPACE_HEADROOM: Final = 300 * 1024 * 1024
MAX_IMPORT_BATCHES: Final = 100_000
MAX_REKEYS: Final = 100_000
BASE_TIME: Final = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
ACCOUNT_ID: Final = "CRASH"


def cheap_kdf() -> Any:
    """The cheap Argon2id parameters used by workers and by parents that reopen journals.

    Same values as the ``fast_kdf`` fixture of tests/conftest.py.
    """
    from zorivest_infra.database.connection import KdfParameters

    return KdfParameters(time_cost=1, memory_cost_kib=1024, parallelism=1, hash_len=32)


def use_cheap_kdf() -> None:
    from zorivest_infra.database import connection

    connection.KDF_PARAMETERS = cheap_kdf()


def batch_exec_id(batch: int, index: int) -> str:
    return f"B{batch:07d}-{index:04d}"


def make_batch(batch: int, size: int) -> list[Any]:
    """The trades of batch number `batch` (0-based): commission 1 each, exact values."""
    from zorivest_core.domain.entities import Trade
    from zorivest_core.domain.enums import TradeAction

    return [
        Trade(
            exec_id=batch_exec_id(batch, index),
            time=BASE_TIME + dt.timedelta(seconds=batch * size + index),
            instrument=f"SYM{index % 17}",
            action=TradeAction.BOT if index % 2 else TradeAction.SLD,
            quantity=Decimal(index + 1),
            price=Decimal("123.4567890123"),
            account_id=ACCOUNT_ID,
            commission=Decimal(1),
            realized_pnl=Decimal("0.000001"),
        )
        for index in range(size)
    ]


# ---------------------------------------------------------------------------------------------
# Fork server (child side)
# ---------------------------------------------------------------------------------------------


def _emit(message: str) -> None:
    os.write(1, f"{os.getpid()} {message}\n".encode())


def _import_forever(command: dict[str, Any]) -> None:
    from zorivest_infra.journal import Journal

    size = int(command["batch"])
    with Journal.open(command["path"], command["passphrase"]) as journal:
        with journal.unit_of_work() as uow:
            stored = uow.trades.count()
        if stored % size:
            raise AssertionError(f"journal holds {stored} trades, not whole batches of {size}")
        batch = stored // size
        _emit(f"opened {batch}")
        while batch < MAX_IMPORT_BATCHES:
            trades = make_batch(batch, size)
            with journal.unit_of_work() as uow:
                uow.trades.save_many(trades)
                uow.commit()
            batch += 1
            _emit(f"committed {batch}")


def _rekey_forever(command: dict[str, Any]) -> None:
    from zorivest_core.domain.errors import InvalidPassphraseError
    from zorivest_infra.journal import Journal

    passphrases: list[str] = list(command["passphrases"])
    try:
        journal = Journal.open(command["path"], passphrases[0])
        current = 0
    except InvalidPassphraseError:
        journal = Journal.open(command["path"], passphrases[1])
        current = 1
    with journal:
        _emit(f"opened {current}")
        for _ in range(MAX_REKEYS):
            current = 1 - current
            journal.change_passphrase(passphrases[current])
            _emit(f"rekeyed {current}")


_TASKS: Final = {"import": _import_forever, "rekey": _rekey_forever}


def _work(command: dict[str, Any]) -> None:
    """The forked worker: never returns (os._exit), so no parent state is torn down twice."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _emit("started")
        _TASKS[command["task"]](command)
        _emit("finished")
    except BaseException as error:
        _emit(f"error {type(error).__name__}: {error}".replace("\n", " | "))
        code = 1
    finally:
        os._exit(code)


def _warm_up() -> None:
    """Import and load everything a worker needs (migration scripts too), before any fork."""
    import tempfile

    from zorivest_core.domain.entities import Account
    from zorivest_core.domain.enums import AccountType
    from zorivest_infra.journal import Journal

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "warm-up.db"
        Journal.create(path, "warm-up").close()
        with Journal.open(path, "warm-up") as journal, journal.unit_of_work() as uow:
            uow.accounts.save(Account(ACCOUNT_ID, "Warm-up", AccountType.BROKER))
            uow.trades.save_many(make_batch(0, 2))
            uow.trades.count()
            uow.commit()


def serve() -> None:
    use_cheap_kdf()
    _warm_up()
    os.write(1, b"ready\n")
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("task") == "quit":
            break
        pid = os.fork()
        if pid == 0:
            _work(command)
        _, status = os.waitpid(pid, 0)
        os.write(1, f"reaped {pid} {status}\n".encode())


# ---------------------------------------------------------------------------------------------
# Fork server (parent side)
# ---------------------------------------------------------------------------------------------


@dataclass
class WorkerRun:
    """What one worker reported before it ended (its protocol lines, in order)."""

    pid: int
    messages: list[str] = field(default_factory=list)
    status: int | None = None

    def values(self, kind: str) -> list[int]:
        """The integer arguments of the worker's ``<kind> <n>`` messages."""
        return [int(m.split()[1]) for m in self.messages if m.split()[0] == kind]

    @property
    def killed(self) -> bool:
        return (
            self.status is not None
            and os.WIFSIGNALED(self.status)
            and os.WTERMSIG(self.status) == signal.SIGKILL
        )

    def errors(self) -> list[str]:
        return [m for m in self.messages if m.startswith("error")]


class ForkServer:
    """Parent-side client of ``_child.py serve``."""

    def __init__(self, timeout: float = 60.0) -> None:
        self._timeout = timeout
        self._proc = subprocess.Popen(
            [sys.executable, str(CHILD_PATH), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.noise: list[str] = []
        stdout = self._proc.stdout
        assert stdout is not None
        self._reader = threading.Thread(target=self._read, args=(stdout,), daemon=True)
        self._reader.start()
        self._expect_line(lambda line: line == "ready", "the fork server to start")

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _next_line(self, deadline: float, what: str) -> str:
        remaining = deadline - time.monotonic()
        try:
            line = self._lines.get(timeout=max(remaining, 0.001))
        except queue.Empty:
            raise AssertionError(f"timed out waiting for {what}; output: {self.noise}") from None
        if line is None:
            raise AssertionError(f"fork server exited while waiting for {what}: {self.noise}")
        return line

    def _expect_line(self, match: Any, what: str) -> str:
        deadline = time.monotonic() + self._timeout
        while True:
            line = self._next_line(deadline, what)
            if match(line):
                return line
            self.noise.append(line)

    def start(self, command: dict[str, Any]) -> WorkerRun:
        """Send a command; return once its worker has said ``started``."""
        stdin = self._proc.stdin
        assert stdin is not None
        stdin.write(json.dumps(command) + "\n")
        stdin.flush()
        line = self._expect_line(lambda s: s.endswith(" started"), "a worker to start")
        return WorkerRun(pid=int(line.split()[0]))

    def wait_for(self, run: WorkerRun, kind: str, timeout: float | None = None) -> None:
        """Collect the worker's lines until one of `kind` (or its end) arrives."""
        deadline = time.monotonic() + (self._timeout if timeout is None else timeout)
        while True:
            line = self._next_line(deadline, f"{kind!r} from worker {run.pid}")
            if self._take(run, line) in (kind, "reaped"):
                return

    def kill(self, run: WorkerRun) -> WorkerRun:
        """SIGKILL the worker (if still alive) and collect everything it reported."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(run.pid, signal.SIGKILL)
        deadline = time.monotonic() + self._timeout
        while run.status is None:
            self._take(run, self._next_line(deadline, f"worker {run.pid} to be reaped"))
        return run

    def _take(self, run: WorkerRun, line: str) -> str:
        head, _, rest = line.partition(" ")
        if head == "reaped" and rest.split()[0] == str(run.pid):
            run.status = int(rest.split()[1])
            return "reaped"
        if head == str(run.pid):
            run.messages.append(rest)
            return rest.split()[0]
        self.noise.append(line)
        return ""

    def close(self) -> None:
        stdin = self._proc.stdin
        if stdin is not None:
            with contextlib.suppress(OSError):
                stdin.write(json.dumps({"task": "quit"}) + "\n")
                stdin.flush()
            with contextlib.suppress(OSError):
                stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)
        self._reader.join(timeout=5)


# ---------------------------------------------------------------------------------------------
# Decompression bombs
# ---------------------------------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int, color_type: int = 2, tail: bytes = b"") -> bytes:
    """A PNG that declares `width` x `height` but carries (almost) no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    idat = tail or png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + idat + png_chunk(b"IEND", b"")


def png_zero_bomb(side: int) -> bytes:
    """A genuinely complete greyscale PNG of side x side zero pixels (tiny when compressed)."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    parts = [compressor.compress(row) for _ in range(side)]
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", b"".join(parts))
        + png_chunk(b"IEND", b"")
    )


def _zlib_zeros(count: int) -> bytes:
    compressor = zlib.compressobj(9)
    block = b"\x00" * (1 << 20)
    parts = [compressor.compress(block) for _ in range(count >> 20)]
    parts.append(compressor.flush())
    return b"".join(parts)


def png_text_bomb(kind: bytes) -> bytes:
    """A 1x1 PNG with a zTXt/iCCP chunk that inflates to 64 MiB."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    payload = _zlib_zeros(64 << 20)
    body = b"bomb\x00\x00" + payload
    pixels = png_chunk(b"IDAT", zlib.compress(b"\x00\x00"))
    if kind == b"iCCP":
        return (
            b"\x89PNG\r\n\x1a\n"
            + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"iCCP", body)
            + pixels
            + png_chunk(b"IEND", b"")
        )
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + pixels
        + png_chunk(kind, body)
        + png_chunk(b"IEND", b"")
    )


def _small_image(fmt: str, **options: Any) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (16, 16), (200, 30, 30))
    out = BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def jpeg_with_size(width: int, height: int) -> bytes:
    """A real 16x16 JPEG whose frame header claims `width` x `height`."""
    data = bytearray(_small_image("JPEG"))
    index = 2
    while index < len(data):
        marker = data[index + 1]
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            data[index + 5 : index + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        index += 2 + length
    raise AssertionError("no SOF marker in Pillow's JPEG")


def gif_with_size(screen: tuple[int, int], frame: tuple[int, int]) -> bytes:
    """A real 16x16 GIF whose screen and first frame claim other sizes."""
    data = bytearray(_small_image("GIF"))
    data[6:10] = struct.pack("<HH", *screen)
    descriptor = data.index(b"\x2c", 13)
    data[descriptor + 5 : descriptor + 9] = struct.pack("<HH", *frame)
    return bytes(data)


def webp_vp8x_canvas(width: int, height: int) -> bytes:
    """An extended WebP whose canvas claims `width` x `height` (24-bit fields)."""
    simple = _small_image("WEBP", quality=50)
    vp8 = simple[12:]  # the "VP8 " chunk of the simple file
    flags = b"\x00\x00\x00\x00"
    canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    vp8x = b"VP8X" + struct.pack("<I", 10) + flags + canvas
    body = b"WEBP" + vp8x + vp8
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_vp8_frame(width: int, height: int) -> bytes:
    """A lossy WebP whose VP8 frame header claims `width` x `height` (14-bit fields)."""
    data = bytearray(_small_image("WEBP", quality=50))
    start = data.index(b"\x9d\x01\x2a")
    data[start + 3 : start + 7] = struct.pack("<HH", width & 0x3FFF, height & 0x3FFF)
    return bytes(data)


def webp_lossless_size(width: int, height: int) -> bytes:
    """A lossless WebP whose VP8L header claims `width` x `height` (14-bit fields)."""
    data = bytearray(_small_image("WEBP", lossless=True))
    start = data.index(b"VP8L") + 8
    assert data[start] == 0x2F
    bits = int.from_bytes(data[start + 1 : start + 5], "little")
    bits = (bits & ~((1 << 28) - 1)) | ((width - 1) & 0x3FFF) | (((height - 1) & 0x3FFF) << 14)
    data[start + 1 : start + 5] = bits.to_bytes(4, "little")
    return bytes(data)


UNDER_THE_CAP: Final = " (under the pixel cap)"
"""Marks bombs whose dimensions the product accepts (<= 50 MP): decoding them may succeed
(a tiny file can really be a big image) or fail, but must stay within the memory cap."""


def bomb_cases() -> Iterator[tuple[str, bytes]]:
    """Name and bytes of every bomb; all must give InvalidImageError except the ones whose
    name ends with `UNDER_THE_CAP`, which must only not exhaust memory or crash."""
    yield "png header-only 100000x100000", png_header_only(100_000, 100_000)
    yield "png header-only 2147483647x1", png_header_only(2**31 - 1, 1)
    yield "png header-only 16383x16383 rgba", png_header_only(16_383, 16_383, 6)
    yield "png header-only 0x0", png_header_only(0, 0)
    yield "png zeros 10000x10000 (real bomb)", png_zero_bomb(10_000)
    yield "png zTXt 64 MiB", png_text_bomb(b"zTXt")
    yield "png iCCP 64 MiB", png_text_bomb(b"iCCP")
    yield "jpeg frame 65500x65500", jpeg_with_size(65_500, 65_500)
    yield "jpeg frame 16000x16000", jpeg_with_size(16_000, 16_000)
    yield "gif screen 65535x65535", gif_with_size((65_535, 65_535), (16, 16))
    yield "gif frame 65535x65535", gif_with_size((16, 16), (65_535, 65_535))
    yield "webp vp8x canvas 16777216x16777216", webp_vp8x_canvas(1 << 24, 1 << 24)
    yield "webp vp8 frame 16383x16383", webp_vp8_frame(16_383, 16_383)
    yield "webp vp8l 16384x16384", webp_lossless_size(16_384, 16_384)
    yield "png header-only 7000x7000 rgba" + UNDER_THE_CAP, png_header_only(7000, 7000, 6)
    yield "png zeros 7071x7071" + UNDER_THE_CAP, png_zero_bomb(7071)
    yield "jpeg frame 7000x7000" + UNDER_THE_CAP, jpeg_with_size(7000, 7000)
    yield "gif frame 16000x3000" + UNDER_THE_CAP, gif_with_size((16_000, 3000), (16_000, 3000))
    yield "webp vp8l 7000x7000" + UNDER_THE_CAP, webp_lossless_size(7000, 7000)


def _address_space() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize in /proc/self/status")


def run_bombs() -> None:
    from zorivest_core.domain.errors import InvalidImageError
    from zorivest_infra.images import analyse_image

    cases = list(bomb_cases())  # built before the cap: building is not what is measured
    limit = _address_space() + ADDRESS_SPACE_HEADROOM
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    outcomes: dict[str, str] = {}
    for name, data in cases:
        started = time.perf_counter()
        try:
            analyse_image(data)
            outcome = "accepted"
        except InvalidImageError:
            outcome = "invalid"
        except MemoryError:
            outcome = "MemoryError (address-space cap hit)"
        except Exception as error:
            outcome = f"{type(error).__name__}: {error}"
        outcomes[name] = f"{outcome} in {time.perf_counter() - started:.2f}s"
    print(json.dumps({"limit": limit, "outcomes": outcomes}), flush=True)


def main(argv: list[str]) -> None:
    if argv[1:] == ["serve"]:
        serve()
    elif argv[1:] == ["bombs"]:
        run_bombs()
    else:
        raise SystemExit(f"usage: {argv[0]} serve|bombs")


if __name__ == "__main__":
    main(sys.argv)
