"""The ``zorivest`` subcommands. Each is a thin layer over the public Journal API."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from zorivest_core.application.use_cases.accounts import add_account, new_account
from zorivest_core.application.use_cases.attach_screenshot import attach_screenshot
from zorivest_core.application.use_cases.list_images import list_images
from zorivest_core.application.use_cases.list_trades import list_trades
from zorivest_core.application.use_cases.upgrade_journal import upgrade_journal
from zorivest_core.domain.enums import AccountType
from zorivest_infra.cli import csv_import
from zorivest_infra.cli.columns import account_columns, image_columns, trade_columns
from zorivest_infra.cli.errors import CliError, ExitCode, handle_errors
from zorivest_infra.cli.options import (
    AccountFilter,
    Format,
    JournalOrUrl,
    JournalPath,
    Json,
    PassphraseFile,
    Since,
    Until,
    Url,
    Wide,
    Zone,
    check_account_filter,
    positional,
)
from zorivest_infra.cli.out_files import existing_parent
from zorivest_infra.cli.output import plain, stderr_console, stdout_console
from zorivest_infra.cli.passphrase import (
    NEW_PASSPHRASE_ENV,
    chosen_passphrase,
    current_passphrase,
    optional_passphrase,
)
from zorivest_infra.cli.render import (
    OutputFormat,
    pick_format,
    plural,
    say,
    warn,
    write_listing,
)
from zorivest_infra.cli.target import (
    Target,
    open_journal,
    open_journal_file,
    open_unit_of_work,
    require_existing_journal,
    resolve,
)

# ------------------------------------------------------------------------------------------
# init
# ------------------------------------------------------------------------------------------


@handle_errors
def init(
    journal_name: JournalOrUrl = None,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Create a new encrypted journal (asks for the passphrase twice).

    There is no way to recover a forgotten passphrase: keep it in a password manager.
    With --url instead of JOURNAL: give a server database the Zorivest schema (the only
    command that creates it; the others refuse a database without it).
    """
    from zorivest_infra.journal import Journal

    target, _ = resolve(journal_name, url, [], [])
    if target.url is not None:
        from zorivest_infra.cli.server import init_server

        init_server(target.url)
        return
    journal = target.path or Path()
    if journal.exists():
        raise CliError(f"{journal} already exists; init never overwrites", ExitCode.ALREADY_EXISTS)
    existing_parent(journal)
    passphrase = chosen_passphrase(passphrase_file)
    if len(passphrase) < 8:
        warn("the passphrase is shorter than 8 characters: easy to guess for whoever gets the file")
    with Journal.create(journal, passphrase) as created:
        revision = created.schema_revision
    say(f"Created encrypted journal {journal} (schema revision {revision}).")
    say("Keep the passphrase safe: without it the journal cannot be opened.")


@handle_errors
def encrypt(
    source: Annotated[
        Path,
        typer.Argument(metavar="PLAIN_DB", help="A plaintext SQLite database.", show_default=False),
    ],
    journal: Annotated[
        Path,
        typer.Argument(metavar="JOURNAL", help="The new encrypted journal.", show_default=False),
    ],
    passphrase_file: PassphraseFile = None,
) -> None:
    """Copy a plaintext SQLite database into a new encrypted journal.

    The plaintext file is only read and is left as it is: once the new journal works, delete
    the plaintext file (and its copies) yourself. The new journal's passphrase is asked twice
    (or taken from --passphrase-file or ZORIVEST_PASSPHRASE).
    """
    from zorivest_infra.journal import Journal

    if not source.is_file():
        raise CliError(f"no database at {source}", ExitCode.NOT_FOUND)
    if journal.exists():
        raise CliError(
            f"{journal} already exists; encrypt never overwrites", ExitCode.ALREADY_EXISTS
        )
    passphrase = chosen_passphrase(passphrase_file)
    with Journal.encrypt_plaintext(source, journal, passphrase) as created:
        revision = created.schema_revision
    say(f"Encrypted {source} into {journal} (schema revision {revision}).")
    say(f"{source} is unchanged and still readable by anyone: delete it once you are done.")


# ------------------------------------------------------------------------------------------
# account add / list
# ------------------------------------------------------------------------------------------


@handle_errors
def account_add(
    *,
    journal: JournalOrUrl = None,
    account_id: Annotated[
        str | None, positional("ID", "The account's id, e.g. IBKR-MARGIN.")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="A readable name.", show_default=False)],
    account_type: Annotated[
        AccountType, typer.Option("--type", help="The kind of account.", case_sensitive=False)
    ] = AccountType.BROKER,
    institution: Annotated[
        str | None, typer.Option(help="Broker or bank name.", show_default=False)
    ] = None,
    currency: Annotated[str, typer.Option(help="ISO 4217 code.")] = "USD",
    tax_advantaged: Annotated[
        bool | None,
        typer.Option(
            "--tax-advantaged/--taxable",
            help="Default: tax-advantaged for ira and 401k accounts.",
            show_default=False,
        ),
    ] = None,
    notes: Annotated[str | None, typer.Option(show_default=False)] = None,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Add an account that trades (and balances) belong to.

    On a server database: `zorivest account add --url URL ID --name ...`
    """
    target, (identifier,) = resolve(journal, url, [account_id], ["ID"])
    account = new_account(  # bad input is refused before the passphrase is asked for
        account_id=identifier,
        name=name,
        account_type=account_type,
        institution=institution,
        currency=currency,
        tax_advantaged=tax_advantaged,
        notes=notes,
    )
    with open_journal(target, passphrase_file) as opened:
        add_account(opened.unit_of_work(), account)
    say(f"Added account {identifier} ({account_type.value}) to {target.shown}.")


@handle_errors
def account_list(
    *,
    journal: JournalOrUrl = None,
    output_format: Format = None,
    wide: Wide = False,
    as_json: Json = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """List the accounts with their number of trades.

    On a server database: `zorivest account list --url URL`
    """
    target, _ = resolve(journal, url, [], [])
    with open_unit_of_work(target, passphrase_file, read_only=True) as uow:
        accounts = uow.accounts.list_all()
        counts = {account.account_id: uow.trades.count(account.account_id) for account in accounts}
    write_listing(
        account_columns(counts),
        accounts,
        pick_format(output_format, as_json),
        wide=wide,
        empty=f"No accounts in {target.shown} yet (add one with: zorivest account add).",
    )


# ------------------------------------------------------------------------------------------
# trades
# ------------------------------------------------------------------------------------------


@handle_errors
def trades(
    *,
    journal: JournalOrUrl = None,
    account: AccountFilter = None,
    since: Since = None,
    until: Until = None,
    zone: Zone = None,
    limit: Annotated[int, typer.Option(min=0, help="At most this many; 0 for all.")] = 50,
    output_format: Format = None,
    wide: Wide = False,
    as_json: Json = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """List trades, newest first (all accounts merged unless --account is given).

    Times are shown in UTC, or in --tz ZONE, which also applies to --since/--until values
    written without an offset. The table fits the terminal (ids shortened in the middle;
    --wide shows them in full). --format csv|json|ndjson (--json: a JSON array) gives
    every field under the trade's field names, decimals as strings, times ISO 8601 UTC.

    On a server database: `zorivest trades --url URL ...`
    """
    target, _ = resolve(journal, url, [], [])
    timezone = csv_import.zone_from_name(zone)
    lower, upper = csv_import.since_until(since, until, timezone)
    with open_unit_of_work(target, passphrase_file, read_only=True) as uow:
        check_account_filter(uow, account, target)
        chosen = pick_format(output_format, as_json)
        total = uow.trades.count(account) if chosen is OutputFormat.TABLE else 0
        scope = f"account {account}" if account is not None else "all accounts"
        found = list_trades(uow, account_id=account, since=lower, until=upper, limit=limit or None)
        write_listing(
            trade_columns(zone=timezone, wide=wide, with_account=account is None),
            found,
            chosen,
            wide=wide,
            empty=f"No trades ({scope}).",
            footer=lambda count: [
                f"{plural(count, 'newest trade')} shown ({scope}; {total:,} in all)",
                *([f"Local times are {timezone.key}."] if timezone is not None else []),
            ],
        )


# ------------------------------------------------------------------------------------------
# images
# ------------------------------------------------------------------------------------------


def _read_image(path: Path) -> bytes:
    from zorivest_infra.images import MAX_INPUT_BYTES

    if not path.is_file():
        raise CliError(f"image file {path} does not exist", ExitCode.NOT_FOUND)
    with path.open("rb") as handle:
        data = handle.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise CliError(
            f"{path} is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB; attach a smaller "
            "screenshot",
            ExitCode.INVALID_INPUT,
        )
    return data


@handle_errors
def attach(
    *,
    journal: JournalOrUrl = None,
    exec_id: Annotated[str | None, positional("EXEC_ID", "The trade's exec_id.")] = None,
    image: Annotated[
        str | None, positional("IMAGE", "A PNG, JPEG, GIF or WebP screenshot.")
    ] = None,
    caption: Annotated[str | None, typer.Option(show_default=False)] = None,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Attach a screenshot to a trade (stored byte for byte, with a WebP thumbnail).

    On a server database: `zorivest attach --url URL EXEC_ID IMAGE`
    """
    target, (trade_id, image_name) = resolve(journal, url, [exec_id, image], ["EXEC_ID", "IMAGE"])
    data = _read_image(Path(image_name))
    with open_journal(target, passphrase_file) as opened:
        stored = attach_screenshot(opened.unit_of_work(), trade_id, data, caption=caption)
    size = f"{stored.file_size:,}" if stored.file_size is not None else "?"
    detail = f"{stored.width}x{stored.height} {stored.mime_type}, {size} bytes"
    say(f"Attached image {stored.id} ({detail}) to trade {trade_id}.")


@handle_errors
def images(
    *,
    journal: JournalOrUrl = None,
    exec_id: Annotated[str | None, positional("EXEC_ID", "The trade's exec_id.")] = None,
    output_format: Format = None,
    wide: Wide = False,
    as_json: Json = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """List the images attached to a trade (without loading the image bytes).

    On a server database: `zorivest images --url URL EXEC_ID`
    """
    target, (trade_id,) = resolve(journal, url, [exec_id], ["EXEC_ID"])
    with open_unit_of_work(target, passphrase_file, read_only=True) as uow:
        found = list_images(uow, trade_id)
    write_listing(
        image_columns(),
        found,
        pick_format(output_format, as_json),
        wide=wide,
        empty=f"No images attached to trade {trade_id}.",
        footer=lambda count: f"{plural(count, 'image')} of trade {trade_id}",
    )


# ------------------------------------------------------------------------------------------
# info / verify / upgrade
# ------------------------------------------------------------------------------------------


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    return f"{value:,} bytes ({value / 1e6:.1f} MB)"


@handle_errors
def info(
    journal: JournalOrUrl = None,
    as_json: Json = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Show the schema revision, row counts per table, file size, cipher and KDF settings."""
    target, _ = resolve(journal, url, [], [])
    with open_journal(target, passphrase_file) as opened:
        details = opened.info()
    leftovers = _leftovers_beside(target.path)
    if as_json:
        document = _jsonable(details)
        if isinstance(document, dict):
            document["leftovers"] = [os.fspath(path) for path in leftovers]
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    rows: list[tuple[str, str]] = [
        ("Location", details.location),
        ("Backend", f"{details.backend} ({'encrypted' if details.encrypted else 'NOT encrypted'})"),
        (
            "Schema revision",
            f"{details.revision or 'none'}"
            + (
                " (newest)"
                if details.revision == details.head_revision
                else f" (newest known: {details.head_revision})"
            ),
        ),
    ]
    if details.file_size is not None:
        rows.append(("File size", _size(details.file_size)))
        rows.append(("WAL size", _size(details.wal_size)))
    if details.page_count is not None:
        rows.append(("Pages", f"{details.page_count:,} x {details.page_size:,} bytes"))
    if details.cipher_version is not None:
        rows.append(("Cipher", f"SQLCipher {details.cipher_version} (AES-256, raw key)"))
    if details.format_version is not None:
        rows.append(("File format", f"journal format v{details.format_version}"))
    if details.kdf is not None:
        kdf = details.kdf
        rows.append(
            (
                "Key derivation",
                f"Argon2id, time_cost={kdf.time_cost}, memory={kdf.memory_cost_kib:,} KiB, "
                f"parallelism={kdf.parallelism}, key={kdf.hash_len * 8} bits",
            )
        )
    if leftovers:
        size = sum(path.stat().st_size for path in leftovers if path.exists())
        rows.append(
            (
                "Leftovers",
                f"{len(leftovers)} file(s) of interrupted copies, {_size(size)}; the next "
                "backup or snapshot here removes them (or delete them)",
            )
        )
    for label, value in rows:
        table.add_row(label, escape(value))
    console = stdout_console()
    console.print(table)
    counts = Table(title="Rows per table", title_justify="left")
    counts.add_column("Table")
    counts.add_column("Rows", justify="right")
    for name, count in details.row_counts.items():
        counts.add_row(Text(name), f"{count:,}")
    console.print(counts)


def _leftovers_beside(path: Path | None) -> list[Path]:
    """Partial files of crashed copies of this journal (snapshots go beside it)."""
    if path is None:
        return []
    from zorivest_infra.journal.partials import find_leftovers

    prefix = f".{path.stem}."
    parent = path.parent
    return [found for found in find_leftovers(parent) if found.name.startswith(prefix)]


def _jsonable(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            item.name: _jsonable(getattr(value, item.name)) for item in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, Path):
        return os.fspath(value)
    return plain(value)


@handle_errors
def verify(
    journal: JournalOrUrl = None,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Check the cipher (every page's HMAC), the database's integrity and its foreign keys.

    Exits with 1 when a problem is found.
    """
    from zorivest_core.domain.errors import CorruptJournalError
    from zorivest_infra.cli.errors import debug_enabled
    from zorivest_infra.journal.verify import summarise_problems

    target, _ = resolve(journal, url, [], [])
    try:
        with open_journal(target, passphrase_file) as opened:
            result = opened.verify()
    except CorruptJournalError as error:
        # Damage that keeps the journal from opening is what verify is asked to find.
        typer.echo(f"problem: {error}".replace("; run verify or restore a backup", ""))
        raise CliError(
            f"{target.shown} is damaged and does not open; restore a backup",
            ExitCode.ERROR,
        ) from error
    if result.ok:
        checks = ", ".join(name for name, passed in result.checks.items() if passed)
        say(f"OK: {target.shown} passed every check ({checks}).")
        return
    for line in summarise_problems(result.problems):
        typer.echo(f"problem: {line}")
    if debug_enabled():
        for problem in result.problems:
            typer.echo(f"  sqlite: {problem}", err=True)
    damaged = [p for p in result.problems if ": could not complete" not in p]
    if not damaged:
        short_of_space = any("not enough space" in p for p in result.problems)
        raise CliError(
            f"verify could not finish every check of {target.shown}; nothing damaged was "
            "found (see above for what stopped it)",
            ExitCode.STORAGE_FULL if short_of_space else ExitCode.ERROR,
        )
    raise CliError(
        f"{target.shown} is damaged; restore a backup (add --debug before verify for "
        "SQLite's own report)",
        ExitCode.ERROR,
    )


@handle_errors
def upgrade(
    journal: JournalOrUrl = None,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Bring the schema to the newest revision (a journal file is snapshotted first).

    Opening a journal file upgrades it anyway (after writing an encrypted snapshot
    <name>.pre-<revision>-<time>.zorivest beside it); this command does only that and says
    what happened. A server database is upgraded without a snapshot: back it up first
    (e.g. pg_dump).
    """
    target, _ = resolve(journal, url, [], [])
    done = upgrade_journal(lambda: open_journal(target, passphrase_file))
    if not done.upgraded:
        say(f"{target.shown} is at the newest schema revision ({done.after}).")
        return
    say(f"Upgraded {target.shown} from schema revision {done.before or 'none'} to {done.after}.")
    if done.snapshot is not None:
        say(f"Snapshot of the journal before the upgrade: {done.snapshot}")


# ------------------------------------------------------------------------------------------
# backup / passwd
# ------------------------------------------------------------------------------------------


@handle_errors
def backup(
    journal: JournalPath,
    dest: Annotated[
        Path,
        typer.Argument(
            metavar="DEST",
            help="The backup file, or an existing directory to put a timestamped one in.",
            show_default=False,
        ),
    ],
    passphrase_file: PassphraseFile = None,
) -> None:
    """Write a consistent, encrypted copy of the journal (safe while it is in use).

    The copy opens with the journal's passphrase as it is now.
    """
    require_existing_journal(journal)
    if dest.is_dir():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        dest = dest / f"{journal.stem}-{stamp}{journal.suffix or '.zorivest'}"
    if dest.exists():
        raise CliError(f"{dest} already exists; backup never overwrites", ExitCode.ALREADY_EXISTS)
    existing_parent(dest)
    with open_journal(Target(path=journal), passphrase_file) as opened:
        opened.backup(dest)
    size = dest.stat().st_size if dest.exists() else 0
    say(f"Backed up {journal} to {dest} ({size / 1e6:.1f} MB, encrypted).")


@handle_errors
def passwd(
    journal: JournalPath,
    passphrase_file: PassphraseFile = None,
    new_passphrase_file: Annotated[
        Path | None,
        typer.Option(
            "--new-passphrase-file",
            metavar="PATH",
            help=f"Read the new passphrase from PATH (or set {NEW_PASSPHRASE_ENV}).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Change the journal's passphrase (re-encrypts it; the old one stops working).

    Backups taken before keep the passphrase they were made with.
    """
    require_existing_journal(journal)
    old = current_passphrase(passphrase_file, prompt="Current passphrase")
    with open_journal_file(journal, old) as opened:
        new = chosen_passphrase(
            new_passphrase_file, environment=NEW_PASSPHRASE_ENV, prompt="New passphrase"
        )
        if new == old:
            raise CliError("the new passphrase is the same as the current one", ExitCode.USAGE)
        if len(new) < 8:
            warn("the new passphrase is shorter than 8 characters")
        opened.change_passphrase(new)
    say(f"Changed the passphrase of {journal}. Backups made before keep the old passphrase.")


# ------------------------------------------------------------------------------------------
# demo
# ------------------------------------------------------------------------------------------


@handle_errors
def demo(
    directory: Annotated[
        Path,
        typer.Argument(metavar="DIR", help="Where to create the demo journal."),
    ] = Path("demo-journal"),
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    executions: Annotated[int, typer.Option(hidden=True, min=1)] = 20_000,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Create an encrypted demo journal full of realistic data, then summarise it.

    Four accounts (margin broker, IRA, crypto, bank), 20,000 executions over two years with
    shorts, partial fills and fractional quantities, chart screenshots and trade reports.
    The passphrase comes from --passphrase-file or ZORIVEST_PASSPHRASE when given (and is
    never printed); otherwise the journal uses the public demo passphrase "zorivest-demo",
    so the demo journal is NOT private (for a private journal use `zorivest init`). No
    passphrase is written to any file. Running it again replaces only the files an earlier
    demo created in DIR; a DIR with other files is refused.
    """
    from zorivest_infra.cli.demo import print_result, run_demo

    given = optional_passphrase(passphrase_file)
    status = stderr_console()
    result = run_demo(directory, passphrase=given, seed=seed, executions=executions, status=status)
    print_result(stdout_console(), result)
