"""Process edges of the `zorivest` command (issue 12, items 3, 4 and 11), in subprocesses.

Core dumps are off once a secret is in memory; passphrases that are not valid text are
refused without showing any part of them; a closed output pipe and Ctrl-C end the process
the conventional way, with no traceback and no Python warning text.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.integration.reliability._child import cheap_kdf

PASSPHRASE = "edge passphrase 5k"
CHEAP = "from zorivest_infra.database import connection; connection.KDF_PARAMETERS = {params!r}"


def _python(code: str, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    environment = {**os.environ, "ZORIVEST_PASSPHRASE": PASSPHRASE, **(env or {})}
    environment.pop("ZORIVEST_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-c", _setup() + textwrap.dedent(code)],
        env=environment,
        capture_output=True,
        check=False,
        timeout=120,
    )


def _setup() -> str:
    return (
        CHEAP.format(params=cheap_kdf()).replace("KdfParameters", "connection.KdfParameters") + "\n"
    )


def _cli(args: list[str]) -> str:
    return (
        f"import sys; sys.argv = ['zorivest', *{args!r}]\n"
        "from zorivest_infra.cli import main\nmain()"
    )


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "journal.zorivest"
    csv = tmp_path / "trades.csv"
    rows = [f"E{index},2024-01-01T00:00:{index % 60:02d}Z,X,BOT,1,1,A" for index in range(2_000)]
    csv.write_text(
        "exec_id,time,instrument,action,quantity,price,account_id\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    for args in (
        ["init", str(path)],
        ["account", "add", str(path), "A", "--name", "A"],
        ["import", str(path), str(csv)],
    ):
        done = _python(_cli(args))
        assert done.returncode == 0, done.stderr
    return path


# -- item 3: core dumps --------------------------------------------------------------------

LIMITS = """
import ctypes, resource
def report():
    libc = ctypes.CDLL(None)
    print("LIMITS", resource.getrlimit(resource.RLIMIT_CORE), libc.prctl(3, 0, 0, 0, 0), flush=True)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_core_dumps_are_off_once_a_key_is_in_memory(tmp_path: Path) -> None:
    code = (
        LIMITS
        + f"""
import resource
soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))  # like `ulimit -c unlimited`
report()
from zorivest_infra.journal import Journal
with Journal.create({str(tmp_path / "j.db")!r}, "a passphrase here"):
    report()
"""
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    before, after = [
        line for line in done.stdout.decode().splitlines() if line.startswith("LIMITS")
    ]
    assert before != "LIMITS (0, 0) 0", "the test could not enable dumps first"
    assert after == "LIMITS (0, 0) 0"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_the_command_line_turns_core_dumps_off_before_reading_a_passphrase(
    journal: Path,
) -> None:
    code = LIMITS + "import atexit; atexit.register(report)\n" + _cli(["info", str(journal)])
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert "LIMITS (0, 0) 0" in done.stdout.decode()


# -- item 4: passphrases that are not valid text ------------------------------------------


def test_a_passphrase_that_is_not_utf8_is_refused_without_showing_it(journal: Path) -> None:
    secret_tail = b"\xe9t\xe9-zz9"
    environment = {**os.environ}
    environment.pop("ZORIVEST_PASSPHRASE", None)
    environment_bytes = {os.fsencode(k): os.fsencode(v) for k, v in environment.items()}
    environment_bytes[b"ZORIVEST_PASSPHRASE"] = b"abc" + secret_tail
    done = subprocess.run(
        [sys.executable, "-c", _cli(["info", str(journal)])],
        env=environment_bytes,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    error = done.stderr.decode("utf-8", "replace")
    assert "not valid text" in error
    for fragment in ("zz9", "udce9", "\\x"):
        assert fragment not in error
    assert error.count("\n") == 1


@pytest.mark.parametrize("source", ["environment", "file"])
def test_a_whitespace_only_passphrase_is_refused_like_an_empty_one(
    journal: Path, tmp_path: Path, source: str
) -> None:
    if source == "file":
        secret = tmp_path / "secret.txt"
        secret.write_text("   \t \n", encoding="utf-8")
        done = _python(_cli(["info", str(journal), "--passphrase-file", str(secret)]))
    else:
        done = _python(_cli(["info", str(journal)]), env={"ZORIVEST_PASSPHRASE": "  \t "})
    assert done.returncode in (2, 8), done.stderr
    assert b"whitespace" in done.stderr


def test_bad_bytes_in_a_passphrase_file_are_refused(journal: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"pass\xff\xfeword-zz9\n")
    done = _python(_cli(["info", str(journal), "--passphrase-file", str(secret)]))
    assert done.returncode == 8, done.stderr
    assert b"not UTF-8" in done.stderr
    assert b"zz9" not in done.stderr


# -- item 11: SIGPIPE, Ctrl-C, warnings ---------------------------------------------------


def test_output_into_a_closed_pipe_ends_quietly_by_sigpipe(journal: Path) -> None:
    reader_closed = subprocess.Popen(
        [sys.executable, "-c", _setup() + _cli(["trades", str(journal), "--json", "--limit", "0"])],
        env={**os.environ, "ZORIVEST_PASSPHRASE": PASSPHRASE},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader_closed.stdout is not None
    assert reader_closed.stderr is not None
    first = reader_closed.stdout.readline()
    reader_closed.stdout.close()  # like `| head -1`
    errors = reader_closed.stderr.read()
    status = reader_closed.wait(timeout=120)
    assert first.strip() == b"["
    assert status == -signal.SIGPIPE, errors
    assert errors == b""


def test_ctrl_c_at_the_prompt_exits_130_with_one_line(journal: Path) -> None:
    code = """
import getpass, sys
def interrupted(*args, **kwargs):
    raise KeyboardInterrupt
getpass.getpass = interrupted
sys.stdin.isatty = lambda: True
""" + _cli(["info", str(journal)])
    done = _python(code, env={"ZORIVEST_PASSPHRASE": ""})
    # An empty variable is refused before the prompt; run without it instead.
    environment = {k: v for k, v in os.environ.items() if k != "ZORIVEST_PASSPHRASE"}
    done = subprocess.run(
        [sys.executable, "-c", _setup() + code],
        env=environment,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 130, done.stderr
    lines = done.stderr.decode().strip().splitlines()
    assert lines[-1].startswith("zorivest: error: interrupted"), lines
    assert b"Traceback" not in done.stderr


def test_piped_stdin_gets_no_python_warning(journal: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "ZORIVEST_PASSPHRASE"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CHEAP.format(params=cheap_kdf()).replace("KdfParameters", "connection.KdfParameters")
            + "\n"
            + _cli(["info", str(journal), "--json"]),
        ],
        env=environment,
        input=(PASSPHRASE + "\n").encode(),
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert b"Warning" not in done.stderr
    assert json.loads(done.stdout)["row_counts"]["trades"] == 2_000
