"""Deduplication keys for imported bank statement lines.

Re-importing a statement must insert nothing, and two genuinely identical lines on one
statement (two $5.00 coffees on the same day) must both be kept. The key is therefore a
hash of the line's canonical content plus its `occurrence`: the 0-based count of earlier
lines on the same statement with exactly the same content. `statement_dedup_hashes`
numbers the occurrences for an importer.

Canonical content is chosen so that harmless re-export differences do not change the hash:
amounts compare by value ("1.50", "1.5" and 1.5 are one amount), times are compared in UTC
(the same instant at a different precision or offset is one time), descriptions ignore
leading/trailing and repeated whitespace and Unicode composition differences.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from zorivest_core.domain import validation as v

DEDUP_HASH_LENGTH: Final = 32
_VERSION: Final = "zorivest-bank-dedup/v1"

StatementLine = tuple[dt.date, Decimal | int | str | float, str, str | None]
"""(date, amount, description, reference_id) of one statement line."""


def _canonical_date(value: object) -> str:
    if isinstance(value, dt.datetime):
        return "T" + v.utc("date", value).isoformat()
    if isinstance(value, dt.date):
        return "D" + value.isoformat()
    raise v.fail("date", value, "must be a date or an aware datetime")


def _canonical_text(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise v.fail(field, value, "must be a string")
    return " ".join(unicodedata.normalize("NFC", value).split())


def canonical_line(
    account_id: str,
    date: dt.date,
    amount: Decimal | int | str | float,
    description: str,
    *,
    reference_id: str | None = None,
    occurrence: int = 0,
) -> str:
    """The canonical text that `compute_dedup_hash` hashes (exposed for tests and audits)."""
    account = v.text("account_id", account_id, max_length=64)
    money = v.exact("amount", amount, scale=v.MONEY_SCALE)
    reference = "" if reference_id is None else _canonical_text("reference_id", reference_id)
    count = v.integer("occurrence", occurrence, minimum=0)
    fields = [
        _VERSION,
        account,
        _canonical_date(date),
        v.decimal_text(money),
        _canonical_text("description", description),
        reference,
        count,
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def compute_dedup_hash(  # noqa: PLR0917 - the positional signature importers were given
    account_id: str,
    date: dt.date,
    amount: Decimal | int | str | float,
    description: str,
    reference_id: str | None = None,
    occurrence: int = 0,
) -> str:
    """The 32-hex-character deduplication hash of one statement line.

    Args:
        account_id: The account the statement belongs to.
        date: The transaction date (a `date`, or an aware `datetime`; naive datetimes are
            refused). A date and a datetime at midnight are different values.
        amount: The signed amount (Decimal, int, str, or float via its shortest repr).
        description: The statement text; whitespace runs and Unicode form are normalised.
        reference_id: The bank's reference, if the export has one.
        occurrence: How many earlier lines of the same statement have identical content
            (0 for the first). This keeps genuinely identical lines apart.

    Returns:
        BLAKE2b (16-byte digest) of the canonical line, as 32 lower-case hex characters.

    Raises:
        ValidationError: A value is missing, of the wrong type, or not an exact amount.
    """
    line = canonical_line(
        account_id, date, amount, description, reference_id=reference_id, occurrence=occurrence
    )
    return hashlib.blake2b(line.encode("utf-8"), digest_size=DEDUP_HASH_LENGTH // 2).hexdigest()


def statement_dedup_hashes(account_id: str, lines: Iterable[StatementLine]) -> list[str]:
    """Dedup hashes of a whole statement, numbering identical lines 0, 1, 2, ...

    Importing the same statement again yields the same hashes, so nothing is re-inserted;
    two identical lines get different occurrences, so both are kept.

    Args:
        account_id: The account the statement belongs to.
        lines: `(date, amount, description, reference_id)` per line, in statement order.

    Returns:
        One hash per line, in the same order.
    """
    seen: Counter[str] = Counter()
    hashes: list[str] = []
    for date, amount, description, reference_id in lines:
        content = canonical_line(account_id, date, amount, description, reference_id=reference_id)
        occurrence = seen[content]
        seen[content] += 1
        hashes.append(
            compute_dedup_hash(account_id, date, amount, description, reference_id, occurrence)
        )
    return hashes
