"""Secrets: no passphrase or key escapes, no plaintext reaches the disk, files are private.

A full create / import / attach / report / backup / snapshot / re-key / backup cycle runs
with every logger at DEBUG (SQLAlchemy's statement and row logging included), plus calls
that fail on purpose (wrong passphrase, duplicate, conflict, bad image, corrupt file...).
The passphrases and the 256-bit keys (derived independently here from each file's salt:
raw bytes, lower- and upper-case hex) must appear in no log record, exception (message,
repr, traceback, chained causes, or a local variable of a product frame), `repr`, captured
output or file. Marker strings stored in trades, notes, reports and captions must not
appear in the raw bytes of the journal, its -wal (read while it is open), its backups or
snapshots; all of them are mode 0600. One more pass runs the same cycle through the
`zorivest` command line in subprocesses (passphrase from ZORIVEST_PASSPHRASE).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import stat
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.factories import png_bytes
from zorivest_core.domain.entities import Account, ImageAttachment, Trade, TradeReport
from zorivest_core.domain.enums import AccountType, TradeAction
from zorivest_core.domain.errors import (
    ConflictError,
    CorruptJournalError,
    DuplicateError,
    InvalidImageError,
    InvalidPassphraseError,
    ValidationError,
    ZorivestError,
)
from zorivest_infra.database import connection
from zorivest_infra.database.connection import (
    PAGE_SIZE,
    SALT_LEN,
    KdfParameters,
    create_encrypted_connection,
    derive_key,
)
from zorivest_infra.journal import Journal, JournalExistsError

RecordProperty = Callable[[str, object], None]

PASSPHRASE = "S3cret-Passphrase-\u00c5\u00e6-'single'-\"double\"-\U0001f511-one"
NEW_PASSPHRASE = "N3w-Secret-Passphrase-\u00df-\u05e9-two"
WRONG_PASSPHRASE = "definitely not the passphrase"
CLI_PASSPHRASE = "cli-S3cret-passphrase-'q'-\u00e9-three"
CLI_NEW_PASSPHRASE = "cli-N3w-secret-passphrase-four"

MARKERS = {
    "trade instrument": "ZVMK-INSTR-9d2c",
    "account notes": "ZVMK-NOTES-41af-\u00e9\u00e8",
    "report lessons": "ZVMK-LESSON-77b0",
    "image caption": "ZVMK-CAPTION-0e5a",
    "post-rekey notes": "ZVMK-AFTER-REKEY-c3d1",
}
ACCOUNT_ID = "SECRET-ACC"
BASE_TIME = dt.datetime(2024, 5, 6, 13, 30, tzinfo=dt.UTC)
TRADES = 200

CLI_WRAPPER = (
    "import logging, sys\n"
    "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,\n"
    "                    format='%(name)s %(levelname)s %(message)s')\n"
    "for name in ('sqlalchemy', 'sqlalchemy.engine', 'sqlalchemy.pool', 'alembic'):\n"
    "    logging.getLogger(name).setLevel(logging.DEBUG)\n"
    "from zorivest_infra.cli import main\n"
    "sys.argv[0] = 'zorivest'\n"
    "main()\n"
)


# -- what must never leak ---------------------------------------------------------------------


@dataclass
class Secrets:
    texts: list[str] = field(default_factory=list)
    blobs: list[bytes] = field(default_factory=list)

    def add_passphrase(self, passphrase: str) -> None:
        self.texts.append(passphrase)
        self.blobs += [passphrase.encode(), passphrase.encode("utf-16-le")]

    def add_key(self, key: bytes) -> None:
        assert len(key) == 32
        for text in (key.hex(), key.hex().upper()):
            self.texts.append(text)
            self.blobs.append(text.encode())
        self.texts += [repr(key)[2:-1], key.decode("latin-1")]
        self.blobs.append(key)

    def check_text(self, where: str, text: str) -> None:
        for secret in self.texts:
            assert secret not in text, f"a passphrase or key appears in {where}"

    def check_bytes(self, where: str, data: bytes) -> None:
        for secret in self.blobs:
            assert secret not in data, f"a passphrase or key appears in the bytes of {where}"


def _markers_absent(where: str, data: bytes) -> None:
    for what, marker in MARKERS.items():
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            assert marker.encode(encoding) not in data, f"{what} marker in plaintext in {where}"


def _derive(params: KdfParameters, passphrase: str, salt: bytes) -> bytes:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connection, "KDF_PARAMETERS", params)
        return derive_key(passphrase, salt)


def _salt(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(SALT_LEN)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _exception_texts(error: BaseException) -> Iterator[tuple[str, str]]:
    """Everything an exception exposes, including the locals of the product's frames."""
    yield "traceback", "".join(traceback.format_exception(error))
    for link in _chain(error):
        name = type(link).__name__
        yield f"{name} str", str(link)
        yield f"{name} repr", repr(link)
        yield f"{name} args", repr(link.args)
        yield f"{name} attributes", repr(getattr(link, "__dict__", {}))
        tb = link.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            filename = frame.f_code.co_filename
            if "zorivest_infra" in filename or "zorivest_core" in filename:
                for local, value in frame.f_locals.items():
                    if local in {"passphrase", "new_passphrase", "password"}:
                        continue  # the caller's own argument, not a leak
                    yield f"local {local!r} of {frame.f_code.co_name}", _safe_repr(value)
            tb = tb.tb_next


def _safe_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception as error:  # a repr that fails is not a leak
        return f"<repr failed: {type(error).__name__}>"
    if isinstance(value, bytes | bytearray):
        text += bytes(value).decode("latin-1")
    return text


def _expect(
    errors: list[BaseException], kind: type[BaseException], call: Callable[[], Any]
) -> None:
    with pytest.raises(kind) as caught:
        call()
    errors.append(caught.value)


def _walk(root: Path) -> Iterator[Path]:
    for directory, _subdirs, files in os.walk(root):
        for name in files:
            yield Path(directory) / name


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- entities ---------------------------------------------------------------------------------


def _trades(prefix: str) -> list[Trade]:
    return [
        Trade(
            exec_id=f"{prefix}-{index:04d}",
            time=BASE_TIME + dt.timedelta(seconds=index),
            instrument=MARKERS["trade instrument"],
            action=TradeAction.BOT,
            quantity=Decimal(index + 1),
            price=Decimal("187.12"),
            account_id=ACCOUNT_ID,
            commission=Decimal("0.35"),
        )
        for index in range(TRADES)
    ]


# -- the in-process cycle ---------------------------------------------------------------------


def test_no_secret_or_plaintext_escapes_a_full_cycle(
    tmp_path: Path,
    fast_kdf: None,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    record_property: RecordProperty,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "alembic", "zorivest_infra"):
        caplog.set_level(logging.DEBUG, logger=name)
    # Every record reaches `caplog` (and is checked below); pytest's report of the test's log
    # keeps its usual threshold, so `-rA` shows the summary, not thousands of SQL lines.
    for handler in logging.getLogger().handlers:
        if handler is not caplog.handler and type(handler).__name__ == "LogCaptureHandler":
            monkeypatch.setattr(handler, "level", logging.WARNING)
    work = tmp_path / "journals"
    work.mkdir()
    path = work / "secret.db"
    secrets = Secrets()
    secrets.add_passphrase(PASSPHRASE)
    secrets.add_passphrase(NEW_PASSPHRASE)
    errors: list[BaseException] = []
    reprs: dict[str, str] = {}
    scratch_before = set(Path(tempfile.gettempdir()).glob("zorivest-check-*"))

    journal = Journal.create(path, PASSPHRASE)
    old_key = _derive(connection.KDF_PARAMETERS, PASSPHRASE, _salt(path))
    secrets.add_key(old_key)
    trades = _trades("OLD")
    account = Account(
        ACCOUNT_ID, "Secret account", AccountType.BROKER, notes=MARKERS["account notes"]
    )
    image = ImageAttachment(data=png_bytes(320, 180), caption=MARKERS["image caption"])
    with journal.unit_of_work() as uow:
        uow.accounts.save(account)
        result = uow.trades.save_many(trades)
        assert len(result.inserted) == TRADES
        image_id = uow.images.save(trades[0].exec_id, image)
        report = TradeReport(trades[0].exec_id, lessons_learned=MARKERS["report lessons"])
        report_id = uow.trade_reports.save(report)
        uow.commit()
        reprs.update(
            {
                "uow (active)": repr(uow),
                "trades repository": repr(uow.trades),
                "images repository": repr(uow.images),
                "accounts repository": repr(uow.accounts),
                "reports repository": repr(uow.trade_reports),
                "stored image": repr(uow.images.get(image_id)),
                "stored report": repr(uow.trade_reports.get(report_id)),
                "stored account": repr(uow.accounts.get(ACCOUNT_ID)),
            }
        )
        # Failures on purpose, inside the unit of work.
        _expect(errors, DuplicateError, lambda: uow.trades.save(trades[1]))
        unknown = dataclasses.replace(trades[5], exec_id="X-1", account_id="NO-SUCH-ACCOUNT")
        _expect(errors, ConflictError, lambda: uow.trades.save(unknown))
        _expect(
            errors,
            InvalidImageError,
            lambda: uow.images.save(trades[0].exec_id, ImageAttachment(data=b"\x89PNG broken")),
        )
        _expect(errors, ConflictError, lambda: uow.images.save("NO-SUCH-TRADE", image))
        # A re-key while a unit of work holds a connection is refused.
        _expect(errors, ConflictError, lambda: journal.change_passphrase(NEW_PASSPHRASE))
    reprs["uow (ended)"] = repr(uow)

    # The log, read while the journal is open and before any checkpoint: encrypted too.
    wal = Path(f"{path}-wal")
    wal_bytes = wal.read_bytes()
    assert len(wal_bytes) > PAGE_SIZE, "the test expects the new rows to be in the -wal"
    _markers_absent("the -wal of the open journal", wal_bytes)
    _markers_absent("the open journal", path.read_bytes())
    for side in (path, wal, Path(f"{path}-shm")):
        assert _mode(side) == 0o600, f"{side.name} has mode {oct(_mode(side))}"

    _expect(errors, InvalidPassphraseError, lambda: Journal.open(path, WRONG_PASSPHRASE))
    _expect(errors, JournalExistsError, lambda: Journal.create(path, PASSPHRASE))
    _expect(
        errors, InvalidPassphraseError, lambda: create_encrypted_connection(path, WRONG_PASSPHRASE)
    )
    _expect(errors, ValidationError, lambda: journal.change_passphrase(""))

    backup_old = journal.backup(work / "backup-old.db")
    # The pre-migration snapshot `open` writes before an upgrade, made the same way (there
    # is no older schema revision to upgrade from yet).
    snapshot = journal.snapshot(f"pre-{journal.schema_revision}")
    assert snapshot.name.startswith("secret.pre-")

    journal.change_passphrase(NEW_PASSPHRASE)
    new_key = _derive(connection.KDF_PARAMETERS, NEW_PASSPHRASE, _salt(path))
    assert new_key != old_key
    secrets.add_key(new_key)
    with journal.unit_of_work() as uow:
        uow.accounts.save(
            Account("SECRET-2", "After re-key", AccountType.BANK, notes=MARKERS["post-rekey notes"])
        )
        uow.commit()
    _markers_absent("the -wal after the re-key", wal.read_bytes())
    backup_new = journal.backup(work / "backup-new.db")
    reprs.update(
        {
            "journal": repr(journal),
            "journal str": str(journal),
            "engine": repr(journal.engine),
            "engine url": repr(journal.engine.url),
            "engine pool": repr(journal.engine.pool),
            "info": repr(journal.info()),
            "verify": repr(journal.verify()),
            "trades": repr(trades[:3]),
            "account": repr(account),
            "image": repr(image),
            "report": repr(report),
        }
    )
    journal.close()
    reprs["journal (closed)"] = repr(journal)

    # Old backups keep the old passphrase; a damaged copy is refused without leaking.
    _expect(errors, InvalidPassphraseError, lambda: Journal.open(backup_old, NEW_PASSPHRASE))
    damaged = bytearray(backup_new.read_bytes())
    damaged[100] ^= 0xFF
    corrupt = work / "corrupt-copy.db"
    corrupt.write_bytes(bytes(damaged))
    os.chmod(corrupt, 0o600)
    _expect(errors, CorruptJournalError, lambda: Journal.open(corrupt, NEW_PASSPHRASE))
    corrupt.unlink()

    # The copies are journals: they open with their passphrase and hold the markers.
    for copy, passphrase in ((backup_old, PASSPHRASE), (snapshot, PASSPHRASE), (path, None)):
        with (
            Journal.open(copy, passphrase or NEW_PASSPHRASE) as opened,
            opened.unit_of_work() as uow,
        ):
            stored = uow.trades.get(trades[0].exec_id)
            assert stored is not None
            assert stored.instrument == MARKERS["trade instrument"]
            stored_account = uow.accounts.get(ACCOUNT_ID)
            assert stored_account is not None
            assert stored_account.notes == MARKERS["account notes"]
    with Journal.open(backup_new, NEW_PASSPHRASE) as opened, opened.unit_of_work() as uow:
        notes = uow.accounts.get("SECRET-2")
        assert notes is not None
        assert notes.notes == MARKERS["post-rekey notes"]

    # Files: private, no secret, no plaintext marker.
    files = sorted(_walk(work))
    assert {backup_old, backup_new, snapshot, path} <= set(files)
    for file in files:
        data = file.read_bytes()
        secrets.check_bytes(file.name, data)
        _markers_absent(file.name, data)
        assert _mode(file) == 0o600, f"{file.name} has mode {oct(_mode(file))}"
    assert set(Path(tempfile.gettempdir()).glob("zorivest-check-*")) <= scratch_before

    # Logs, exceptions, reprs, output.
    records = caplog.records
    assert any(r.name.startswith("sqlalchemy.engine") for r in records), "no SQL was logged"
    assert any(r.name.startswith("zorivest_infra") for r in records)
    for record in records:
        text = f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
        if record.exc_info and record.exc_info[1] is not None:
            text += "".join(traceback.format_exception(record.exc_info[1]))
        secrets.check_text(f"log record of {record.name}", text)
    checked = 0
    for error in errors:
        assert isinstance(error, ZorivestError), repr(error)
        for where, text in _exception_texts(error):
            secrets.check_text(f"{type(error).__name__} ({where})", text)
            checked += 1
    for what, text in reprs.items():
        secrets.check_text(f"repr of {what}", text)
    out, err = capfd.readouterr()
    secrets.check_text("stdout", out)
    secrets.check_text("stderr", err)
    summary = (
        f"secrets: {len(records)} DEBUG log records, {len(errors)} deliberate exceptions "
        f"({checked} texts incl. chained causes and product-frame locals), {len(reprs)} reprs, "
        f"the -wal/-shm while open and {len(files)} files after closing (journal, backups, "
        "snapshot) searched for "
        f"2 passphrases and 2 keys (raw, hex, HEX) and {len(MARKERS)} plaintext markers: none "
        "found; every file 0600"
    )
    print(summary)
    record_property("log_records_checked", len(records))
    record_property("exceptions_checked", len(errors))
    record_property("files_checked", len(files))


# -- the same through the command line --------------------------------------------------------


def _cli(
    work: Path, args: list[str], passphrase: str, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZORIVEST_PASSPHRASE": passphrase, "ZORIVEST_DEBUG": "1", **extra_env}
    return subprocess.run(
        [sys.executable, "-c", CLI_WRAPPER, *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_no_secret_or_plaintext_escapes_the_command_line(
    tmp_path: Path, record_property: RecordProperty
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    work = tmp_path / "cli"
    work.mkdir()
    csv = inputs / "trades.csv"
    rows = ["exec_id,time,instrument,action,quantity,price,account_id,commission"]
    rows += [
        f"CLI-{index:03d},2024-03-08T09:{index % 60:02d}:00-05:00,"
        f"{MARKERS['trade instrument']},BOT,{index + 1},12.5,{ACCOUNT_ID},0.5"
        for index in range(50)
    ]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    picture = inputs / "chart.png"
    picture.write_bytes(png_bytes(200, 120))

    runs: list[tuple[str, subprocess.CompletedProcess[str], bool]] = []

    def run(label: str, args: list[str], passphrase: str, ok: bool = True, **env: str) -> None:
        completed = _cli(work, args, passphrase, **env)
        runs.append((label, completed, ok))
        assert (completed.returncode == 0) == ok, (label, completed.stdout, completed.stderr)

    journal = "cli.db"
    run("init", ["init", journal], CLI_PASSPHRASE)
    old_salt = _salt(work / journal)
    run(
        "account add",
        [
            "account",
            "add",
            journal,
            ACCOUNT_ID,
            "--name",
            "CLI",
            "--notes",
            MARKERS["account notes"],
        ],
        CLI_PASSPHRASE,
    )
    run("import", ["import", journal, str(csv)], CLI_PASSPHRASE)
    run(
        "attach",
        ["attach", journal, "CLI-000", str(picture), "--caption", MARKERS["image caption"]],
        CLI_PASSPHRASE,
    )
    run("backup", ["backup", journal, "backup-old.db"], CLI_PASSPHRASE)
    run(
        "passwd",
        ["passwd", journal],
        CLI_PASSPHRASE,
        ZORIVEST_NEW_PASSPHRASE=CLI_NEW_PASSPHRASE,
    )
    new_salt = _salt(work / journal)
    run("verify with the old passphrase", ["verify", journal], CLI_PASSPHRASE, ok=False)

    # The command line derives keys with the production Argon2id parameters.
    secrets = Secrets()
    secrets.add_passphrase(CLI_PASSPHRASE)
    secrets.add_passphrase(CLI_NEW_PASSPHRASE)
    secrets.add_key(_derive(KdfParameters(), CLI_PASSPHRASE, old_salt))
    secrets.add_key(_derive(KdfParameters(), CLI_NEW_PASSPHRASE, new_salt))
    assert _salt(work / "backup-old.db") == old_salt

    logged = 0
    for label, completed, _ok in runs:
        secrets.check_text(f"stdout of {label}", completed.stdout)
        secrets.check_text(f"stderr of {label}", completed.stderr)
        logged += completed.stderr.count("\n")
    assert any("sqlalchemy.engine" in completed.stderr for _, completed, _ in runs)
    assert "Traceback" in runs[-1][1].stderr, "ZORIVEST_DEBUG should show the traceback"

    files = sorted(_walk(work))
    assert len(files) >= 2
    for file in files:
        data = file.read_bytes()
        secrets.check_bytes(file.name, data)
        _markers_absent(file.name, data)
        assert _mode(file) == 0o600, f"{file.name} has mode {oct(_mode(file))}"
    for file in _walk(inputs):
        secrets.check_bytes(file.name, file.read_bytes())
    print(
        f"secrets (command line): {len(runs)} zorivest commands with DEBUG logging "
        f"({logged} lines of output), {len(files)} files: no passphrase or key, no plaintext "
        "marker, every file 0600"
    )
    record_property("cli_commands", len(runs))
