"""The importer port: how a statement file becomes entities, whatever its format.

One adapter per format lives in `zorivest_infra.importers`. The import use case is
format-agnostic: it picks an importer (detected from the file's content or named by the
user), streams what `parse` yields, and stores it.

    importer.detect(sample)     -> Detection (does this content look like my format?)
    importer.parse(stream, ctx) -> iterator of ParsedExecution | ParsedBankTransaction
                                   | RowRejection, in file order, constant memory

Nothing here reads files or touches a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO, Final, Protocol
from zoneinfo import ZoneInfo

from zorivest_core.domain.entities import BankTransaction, Trade
from zorivest_core.domain.enums import FeeType, IdentifierType


@dataclass(frozen=True, slots=True)
class Detection:
    """An importer's verdict on a file's first bytes.

    `score` is 0 when the content is not this format; higher is more certain (a format
    whose distinctive header matched scores 100). `reason` says why, in words a user can
    act on, also when it did not match ("the header has no 'Action' column").
    `closeness` (0-99), when `score` is 0, says how near the content came, so a file no
    format recognises gets one message naming the closest format and its reason.
    """

    score: int
    reason: str
    closeness: int = 0

    @property
    def matched(self) -> bool:
        return self.score > 0


@dataclass(frozen=True, slots=True)
class ImportContext:
    """What the user told the import besides the file.

    account_id: the journal account for rows whose file names none (or --account).
    zone: the time zone of local times in the file, when the format does not say.
    delimiter: a CSV delimiter forced by the user (None: the importer's own or sniffed).
    source_name: how to name the file in messages (its path, or "<stdin>").
    """

    account_id: str | None = None
    zone: ZoneInfo | None = None
    delimiter: str | None = None
    source_name: str = "<input>"


@dataclass(frozen=True, slots=True)
class Fee:
    """A fee beyond the commission, for the transaction ledger."""

    fee_type: FeeType
    amount: Decimal
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class Identifier:
    """An identifier the file gave for an instrument (CUSIP, ISIN, ...)."""

    id_type: IdentifierType
    value: str
    ticker: str


@dataclass(frozen=True, slots=True)
class ParsedExecution:
    """One execution read from a statement.

    line: the file line (CSV) or element line (XML/OFX) it came from, for messages.
    trade: the execution as the journal stores it (exec_id, aware UTC time, positive
        quantity with the action giving the side, commission paid positive); its
        account_id is `provisional_account(broker_account, context)`.
    broker_account: the account id the file itself names, if any (IBKR accountId, OFX
        ACCTID); the use case maps it to a journal account.
    broker_realized_pnl: the broker's own realized P&L for this execution, if the file
        carries one (IBKR fifoPnlRealized), for reconciliation.
    repeats_line: set when the same broker exec id appeared earlier in this file, at that
        line. Brokers correct last, so this later row is the one to keep; the use case
        reports "line N repeats line M" rather than "already in the journal".
    may_repeat: the importer checks this exec id for repeats within the file (ids the
        file itself gives, which a broker may correct by repeating them); the use case
        then remembers it, so that a later line can win over an earlier one already
        stored. False for ids unique by construction (IBKR ibExecID, deterministic ids),
        which keeps memory constant for those files.
    """

    line: int
    trade: Trade
    fees: tuple[Fee, ...] = ()
    identifiers: tuple[Identifier, ...] = ()
    broker_account: str | None = None
    broker_realized_pnl: Decimal | None = None
    repeats_line: int | None = None
    may_repeat: bool = False


@dataclass(frozen=True, slots=True)
class ParsedBankTransaction:
    """One bank statement line (OFX STMTTRN and bank CSVs)."""

    line: int
    transaction: BankTransaction
    broker_account: str | None = None


@dataclass(frozen=True, slots=True)
class RowRejection:
    """A row the importer could not turn into an entity, and why (never a secret)."""

    line: int
    reason: str


ParsedItem = ParsedExecution | ParsedBankTransaction | RowRejection

UNASSIGNED_ACCOUNT: Final = "-"
"""The account an importer gives an entity when neither the file nor the user names one;
the use case then rejects the row (it never guesses an account)."""


def provisional_account(broker_account: str | None, context: ImportContext) -> str:
    """The account id an importer puts on an entity before the use case maps it.

    The use case decides the journal account from `broker_account` (the file's own id, used
    when a journal account has it) and the user's `--account`; this is only a placeholder
    the entity needs to be valid.
    """
    return broker_account or context.account_id or UNASSIGNED_ACCOUNT


@dataclass(frozen=True, slots=True)
class StatementInfo:
    """What a format knows about the statement as a whole, when it knows it."""

    broker_account: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    extra: dict[str, str] = field(default_factory=dict)


class Importer(Protocol):
    """One statement format."""

    @property
    def name(self) -> str:
        """The format's name as the user types it (`ibkr-flex`, `schwab`, ...)."""
        ...

    @property
    def description(self) -> str:
        """One line for `zorivest import --formats`."""
        ...

    def detect(self, sample: bytes) -> Detection:
        """Judge the file's first bytes (up to 64 KiB); never the file name."""
        ...

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[ParsedItem]:
        """Yield the file's items in order, streaming (constant memory).

        A row that cannot be read yields a RowRejection and parsing goes on. A file that is
        malformed as a whole (truncated XML, not the format at all) raises
        `zorivest_core.domain.errors.ValidationError` naming the position; the use case
        then writes nothing.
        """
        ...
