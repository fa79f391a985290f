"""``zorivest export`` and ``zorivest import-export``: the journal as open files and back.

The work is done by :mod:`zorivest_infra.exporting`; these commands choose where the files
go, make the result appear whole or not at all, and say what happened.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Literal

import typer

from zorivest_infra.atomic_files import publish
from zorivest_infra.cli.errors import CliError, ExitCode, handle_errors
from zorivest_infra.cli.options import JournalOrUrl, PassphraseFile, Url, positional
from zorivest_infra.cli.out_files import existing_parent
from zorivest_infra.cli.passphrase import chosen_passphrase
from zorivest_infra.cli.render import plural, say, warn
from zorivest_infra.cli.target import open_journal, resolve


def _refuse_non_empty(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise CliError(
            f"{directory} already exists and is not an empty directory; choose a new DIR",
            ExitCode.ALREADY_EXISTS,
        )


@handle_errors
def export(
    *,
    journal: JournalOrUrl = None,
    directory: Annotated[
        str | None, positional("DIR", "A new (or empty) directory for the files.")
    ] = None,
    data_format: Annotated[
        Literal["csv", "json"],
        typer.Option("--format", help="Tables as CSV, or as JSON Lines (one object a line)."),
    ] = "csv",
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Write every table of the journal to DIR as open files (NOT encrypted).

    One file per table (`tables/NAME.csv` or `.jsonl`), screenshots and thumbnails as image
    files (`images/`), and `manifest.json` listing every file with its SHA-256. Rebuild a
    journal from it with `zorivest import-export DIR NEW_JOURNAL`.
    """
    from zorivest_infra.exporting import export_to_directory, leftover_exports

    target, (name,) = resolve(journal, url, [directory], ["DIR"])
    destination = Path(name)
    _refuse_non_empty(destination)
    existing_parent(destination)
    with open_journal(target, passphrase_file) as opened:
        summary = export_to_directory(
            opened.engine, destination, data_format, revision=opened.schema_revision
        )
    rows = sum(summary.rows.values())
    say(
        f"Exported {plural(len(summary.rows), 'table')} ({plural(rows, 'row')}) and "
        f"{plural(summary.files, 'file')} to {destination}."
    )
    say("These files are NOT encrypted: keep them private, delete them when done.")
    leftovers = leftover_exports(destination)
    if leftovers:
        warn(
            f"{plural(len(leftovers), 'partial export')} beside {destination}, left by an "
            f"export that crashed or was killed (or one still running), NOT encrypted: "
            f"{', '.join(map(str, leftovers))}; delete them when no export is running"
        )


@handle_errors
def import_export(
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="A directory written by `zorivest export`.")
    ],
    journal: Annotated[
        Path, typer.Argument(metavar="NEW_JOURNAL", help="The new encrypted journal.")
    ],
    passphrase_file: PassphraseFile = None,
) -> None:
    """Rebuild a new encrypted journal from an export (ids and times kept as exported).

    Every file's SHA-256 is checked against the manifest first. The new journal appears
    whole or not at all; an existing file is never overwritten. Asks for the new journal's
    passphrase twice (or takes --passphrase-file / ZORIVEST_PASSPHRASE).
    """
    from zorivest_infra.exporting import read_manifest, rebuild_journal
    from zorivest_infra.journal import Journal

    if not directory.is_dir():
        raise CliError(f"no export directory at {directory}", ExitCode.NOT_FOUND)
    if journal.exists() or journal.is_symlink():
        raise CliError(
            f"{journal} already exists; import-export never overwrites", ExitCode.ALREADY_EXISTS
        )
    parent = existing_parent(journal)
    read_manifest(directory)  # refuse a damaged export before asking for anything
    passphrase = chosen_passphrase(passphrase_file)
    building = parent / f".{journal.name}.partial-{secrets.token_hex(6)}"
    try:
        with (
            Journal.create(building, passphrase) as created,
            created.engine.begin() as connection,
        ):
            summary = rebuild_journal(connection, directory)
        try:
            publish(building, journal)
        except FileExistsError:
            raise CliError(
                f"{journal} already exists; import-export never overwrites", ExitCode.ALREADY_EXISTS
            ) from None
    finally:
        for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
            leftover.unlink(missing_ok=True)
    rows = sum(summary.rows.values())
    files = plural(summary.files, "file")
    say(f"Rebuilt {journal} from {directory}: {plural(rows, 'row')}, {files}.")
