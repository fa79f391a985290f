"""`zorivest import`: a statement file (any known format, or `-` for stdin) into a journal.

The command only parses options, opens the file and the journal, and prints: detection is
`zorivest_infra.importers`, the rules are the `import_statement` use case.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from zorivest_core.application.importing import ImportContext, Importer
from zorivest_core.application.use_cases import profiles
from zorivest_core.application.use_cases.import_statement import (
    CHUNK_SIZE,
    ConflictReport,
    ImportSummary,
    StrictImportError,
    import_statement,
)
from zorivest_infra import importers
from zorivest_infra.cli import csv_import
from zorivest_infra.cli.errors import CliError, ExitCode, handle_errors
from zorivest_infra.cli.options import JournalOrUrl, PassphraseFile, Url, Zone, positional
from zorivest_infra.cli.output import stderr_console, stdout_console
from zorivest_infra.cli.render import safe
from zorivest_infra.cli.target import open_journal, resolve
from zorivest_infra.cli.wording import count_of

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class _CountingReader(io.RawIOBase):
    """A raw binary stream that counts the bytes read through it (for the progress bar)."""

    def __init__(self, inner: BinaryIO) -> None:
        super().__init__()
        self._inner = inner
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._inner.read(len(view))
        size = len(data)
        view[:size] = data
        self.consumed += size
        return size


def _list_formats() -> None:
    out = stdout_console()
    for importer in importers.all_importers():
        out.print(f"{importer.name:<10} {importer.description}", markup=False, highlight=False)


@handle_errors
def import_statement_command(
    *,
    journal: JournalOrUrl = None,
    statement: Annotated[
        str | None, positional("FILE", "The statement file, or - for standard input.")
    ] = None,
    format_name: Annotated[
        str | None,
        typer.Option(
            "--format", metavar="NAME", help="Use this format (see --formats); else detected."
        ),
    ] = None,
    formats: Annotated[
        bool, typer.Option("--formats", help="List the formats and exit.", is_eager=True)
    ] = False,
    account: Annotated[
        str | None,
        typer.Option(
            "--account",
            metavar="ID",
            help="Journal account for rows whose file names no account the journal has.",
            show_default=False,
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            metavar="NAME",
            help="A CSV mapping profile saved with `zorivest profile add`.",
            show_default=False,
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option("--delimiter", metavar="C", help="CSV delimiter, e.g. ';' (else sniffed)."),
    ] = None,
    zone: Zone = None,
    replace: Annotated[
        bool,
        typer.Option(help="Replace conflicting stored trades with the file's (each reported)."),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(help="Import nothing when any row is rejected or conflicts."),
    ] = False,
    chunk_size: Annotated[int, typer.Option(hidden=True, min=1)] = CHUNK_SIZE,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Import a broker or bank statement; safe to repeat (re-importing adds nothing).

    The format is detected from the file's content (never its name) and named in the
    summary; `--format NAME` forces one; `zorivest import --formats` lists them. Which
    account: the file's own account id when the journal has that account, else
    `--account`; never a guess.

    The whole file is ONE transaction, committed at the end: a file malformed as a whole,
    an interruption or a crash keeps nothing. Rows that are not valid are listed with their
    line and reason; the other rows are imported.

    On a server database: `zorivest import --url URL FILE`
    """
    if formats:
        _list_formats()
        return
    target, (file_name,) = resolve(journal, url, [statement], ["FILE"])
    timezone = csv_import.zone_from_name(zone)
    if delimiter is not None and len(delimiter.encode("unicode_escape")) > 2:
        raise CliError(f"--delimiter must be one character (got {delimiter!r})", ExitCode.USAGE)
    if profile is not None and format_name is not None:
        raise CliError("give --profile or --format, not both", ExitCode.USAGE)
    forced = importers.importer_named(format_name) if format_name is not None else None
    with importers.open_statement(file_name) as (stream, shown, head):
        importer: Importer | None = None
        if forced is not None:
            importer, how = forced, "chosen with --format"
        elif profile is None:
            importer, _ = importers.detect_format(head, source=shown)
            how = "detected from its content"
        else:
            how = f"with profile {profile}"
        context = ImportContext(
            account_id=account, zone=timezone, delimiter=delimiter, source_name=shown
        )
        console = stderr_console()
        counter = _CountingReader(stream)
        progress = Progress(
            TextColumn("Importing"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        with open_journal(target, passphrase_file) as opened:
            if profile is not None:
                from zorivest_infra.importers.generic import GenericCsvImporter

                with opened.unit_of_work(read_only=True) as reading:
                    saved = profiles.load_profile(reading, profile).profile
                importer = GenericCsvImporter(saved)
                account = account or saved.account_id
            if importer is None:  # pragma: no cover - set above on every path
                raise CliError("no format chosen", ExitCode.ERROR)
            try:
                with progress, opened.unit_of_work() as uow:
                    task = progress.add_task("import", total=None)
                    summary = import_statement(
                        uow,
                        importer.parse(io.BufferedReader(counter), context),
                        format_name=importer.name,
                        account_id=account,
                        replace=replace,
                        chunk_size=chunk_size,
                        on_progress=lambda _items: progress.update(
                            task, completed=counter.consumed
                        ),
                        strict=strict,
                    )
                    uow.commit()
            except StrictImportError as refused:
                found = refused.summary
                _print_summary(shown, target.shown, how, found, committed=False)
                raise CliError(
                    f"--strict: {count_of(found.rejected, 'row')} rejected and "
                    f"{count_of(found.conflicts, 'conflict')}; nothing was imported",
                    ExitCode.INVALID_INPUT,
                ) from None
            except KeyboardInterrupt:
                raise CliError(
                    "import interrupted; nothing was imported (the import is one transaction)",
                    ExitCode.INTERRUPTED,
                ) from None
    _print_summary(shown, target.shown, how, summary, committed=True)


def _print_summary(
    source: str, shown: str, how: str, summary: ImportSummary, *, committed: bool
) -> None:
    out = stdout_console()
    verb = "Imported" if committed else "Checked (nothing imported)"
    out.print(f"{verb} {escape(safe(source))} into {escape(safe(shown))}", highlight=False)
    out.print(f"  format      {summary.format_name} ({how})", markup=False, highlight=False)
    lines = [
        ("rows read", summary.items, ""),
        ("inserted", summary.inserted, ""),
        ("duplicates", summary.duplicates, "already in the journal with the same content"),
        ("conflicts", summary.conflicts, "stored with different content; left as is"),
        ("rejected", summary.rejected, "not valid; listed below"),
    ]
    optional = [
        ("replaced", summary.replaced, "stored trades replaced by the file's"),
        ("repeated", summary.repeated, "exec_id given again later in the file; later wins"),
        ("bank lines", summary.bank_inserted, "new bank transactions"),
        ("bank dups", summary.bank_duplicates, "bank lines already stored"),
        ("fees", summary.fees, "ledger entries beyond the commission"),
        ("identifiers", summary.identifiers, "CUSIP/ISIN/conid cached"),
    ]
    lines += [line for line in optional if line[1]]
    for label, count, note in lines:
        suffix = f"  ({note})" if note and count else ""
        out.print(f"  {label:<11} {count:>10,}{suffix}", highlight=False)
    for account, rows in summary.unknown_accounts.items():
        out.print(
            f"  account {safe(repr(account))} is not in the journal: "
            f"{count_of(rows, 'row')} rejected",
            markup=False,
            highlight=False,
        )
    if summary.rejected_rows:
        out.print("Rejected rows:", highlight=False)
        for row in summary.rejected_rows:
            out.print(f"  line {row.line}: {safe(row.reason)}", markup=False, highlight=False)
        hidden = summary.rejected - len(summary.rejected_rows)
        if hidden:
            out.print(f"  ... and {count_of(hidden, 'more rejected row')}", highlight=False)
    _print_reports(
        "Conflicting exec_ids (journal unchanged; --replace takes the file's):",
        summary.conflict_reports,
        summary.conflicts,
    )
    _print_reports("Replaced (old -> new):", summary.replaced_reports, summary.replaced)
    _print_reports(
        "Repeated within the file (the later line wins; earlier -> later):",
        summary.repeat_reports,
        summary.repeated,
    )


def _print_reports(title: str, reports: list[ConflictReport], total: int) -> None:
    if not reports:
        return
    out = stdout_console()
    out.print(title, highlight=False)
    for report in reports:
        where = f"line {report.line}"
        if report.repeats_line is not None:
            where += f" repeats line {report.repeats_line}"
        out.print(f"  {where}: {safe(report.exec_id)}", markup=False, highlight=False)
        for change in report.changes:
            out.print(
                safe(f"    {change.field}: {change.stored} -> {change.file}"),
                markup=False,
                highlight=False,
            )
    hidden = total - len(reports)
    if hidden:
        out.print(f"  ... and {hidden:,} more", highlight=False)
