"""`ofx`: OFX/QFX statements, 1.x (SGML) and 2.x (XML), parsed with `ofxtools`.

Follows the Open Financial Exchange Specification 2.2 (and 1.6 for SGML): banking
statements (`STMTRS`, `CCSTMTRS`: `STMTTRN` with TRNTYPE, DTPOSTED, TRNAMT, FITID,
NAME/MEMO) and investment statements (`INVSTMTRS`: BUYSTOCK/SELLSTOCK/BUYOPT/SELLOPT/
BUYMF/SELLMF/BUYDEBT/SELLDEBT/BUYOTHER/SELLOTHER, securities resolved through `SECLIST`).

- Bank lines become bank transactions, idempotent by FITID (required, and unique per
  account, by the specification): the dedup key hashes the file's account id + FITID, so
  a corrected line re-sent with the same FITID is not stored twice. (`ofxtools` refuses a
  STMTTRN without FITID, naming it, so the content hash is never needed here.)
- Trades: exec_id `OFX-<ACCTID>-<FITID>` (FITIDs are unique only per account); quantity
  = |UNITS| (OFX signs units: negative when sold), side from the aggregate (BUY*/SELL*);
  COMMISSION paid is stored positive; FEES and TAXES go to the ledger (`other`,
  `regulatory`). Options: multiplier = SHPERCTRCT, strike/expiry/right from OPTINFO.
  The instrument is the SECLIST TICKER; CUSIPs (and other SECID types) are cached.
- Times: OFX datetimes carry their offset (GMT when absent, per the specification).

`ofxtools` builds the whole document in memory, so a file larger than `MAX_BYTES` is
refused (statements are kilobytes to a few megabytes). Its parser is regex-based, not an
XML parser, so entity declarations are never expanded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, BinaryIO, ClassVar, Final

from ofxtools.header import OFXHeaderError
from ofxtools.models.base import OFXAggregateError
from ofxtools.Parser import OFXTree, ParseError
from ofxtools.Types import OFXTypeError

from zorivest_core.application.importing import (
    Detection,
    Fee,
    Identifier,
    ImportContext,
    ParsedBankTransaction,
    ParsedExecution,
    ParsedItem,
    RowRejection,
    provisional_account,
)
from zorivest_core.domain.entities import BankTransaction, Trade
from zorivest_core.domain.enums import (
    AssetClass,
    BalanceSource,
    FeeType,
    IdentifierType,
    OptionRight,
    TradeAction,
    TransactionCategory,
)
from zorivest_core.domain.errors import ValidationError

MAX_BYTES: Final = 64 * 1024 * 1024
_MAX_EXEC_ID: Final = 128

_CATEGORIES: Final = {
    "INT": TransactionCategory.INTEREST,
    "DIV": TransactionCategory.DIVIDEND,
    "FEE": TransactionCategory.FEE,
    "SRVCHG": TransactionCategory.FEE,
    "DEP": TransactionCategory.DEPOSIT,
    "ATM": TransactionCategory.ATM,
    "POS": TransactionCategory.CARD_PURCHASE,
    "CHECK": TransactionCategory.CHECK,
    "DIRECTDEP": TransactionCategory.ACH_CREDIT,
    "DIRECTDEBIT": TransactionCategory.ACH_DEBIT,
    "REPEATPMT": TransactionCategory.ACH_DEBIT,
    "PAYMENT": TransactionCategory.ACH_DEBIT,
    "CASH": TransactionCategory.WITHDRAWAL,
}
_ASSET_CLASSES: Final = {
    "STOCK": AssetClass.STOCK,
    "OPT": AssetClass.OPTION,
    "MF": AssetClass.FUND,
    "DEBT": AssetClass.BOND,
    "OTHER": AssetClass.OTHER,
}
_ID_TYPES: Final = {"CUSIP": IdentifierType.CUSIP, "ISIN": IdentifierType.ISIN}


class OfxImporter:
    """OFX/QFX bank and investment statements (1.x SGML and 2.x XML)."""

    name: ClassVar[str] = "ofx"
    description: ClassVar[str] = "OFX/QFX 1.x and 2.x: bank lines, investment buys and sells"

    def detect(self, sample: bytes) -> Detection:
        head = sample.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096].upper()
        if head.startswith(b"OFXHEADER:"):
            return Detection(100, "an OFX 1.x (SGML) header")
        if b"<?OFX " in head or (head.startswith(b"<?XML") and b"<OFX>" in head):
            return Detection(100, "an OFX 2.x (XML) header")
        if b"<OFX>" in head:
            return Detection(0, "an <OFX> element without the OFX header lines", closeness=70)
        return Detection(0, "no OFXHEADER line or <?OFX ...?> declaration")

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[ParsedItem]:
        data = stream.read(MAX_BYTES + 1)
        source = context.source_name
        if len(data) > MAX_BYTES:
            raise ValidationError(f"{source}: larger than {MAX_BYTES // 2**20} MiB; refused")
        tree = OFXTree()
        try:
            tree.parse(io.BytesIO(data))
            document = tree.convert()
        except (ParseError, OFXHeaderError, OFXAggregateError, OFXTypeError, ValueError) as error:
            raise ValidationError(
                f"{source}: not a valid OFX statement ({_first_line(error)}); nothing was imported"
            ) from None
        text = data.decode("latin-1")
        securities = _securities(document)
        for statement in document.statements:
            account = statement.account
            account_id = str(account.acctid)
            kind = type(statement).__name__
            if kind in {"STMTRS", "CCSTMTRS"}:
                yield from _bank_lines(statement, account_id, text, context)
            elif kind == "INVSTMTRS":
                currency = str(statement.curdef)
                yield from _trades(
                    statement,
                    account_id,
                    currency=currency,
                    securities=securities,
                    text=text,
                    context=context,
                )


def _first_line(error: Exception) -> str:
    message = str(error).strip().splitlines()
    return message[0][:120] if message else type(error).__name__


def _line_of(text: str, fitid: str | None) -> int:
    """The file line of the element carrying this FITID (1 when it cannot be found)."""
    if not fitid:
        return 1
    position = text.find(f"<FITID>{fitid}")
    return 1 if position < 0 else text.count("\n", 0, position) + 1


# -- bank lines ---------------------------------------------------------------------------


def _bank_lines(
    statement: Any, account_id: str, text: str, context: ImportContext
) -> Iterator[ParsedItem]:
    for line_item in statement.banktranlist or ():
        fitid = str(line_item.fitid or "").strip()
        line = _line_of(text, fitid)
        try:
            description = _description(line_item)
            amount = Decimal(line_item.trnamt)
            posted: dt.datetime = line_item.dtposted
            dedup = hashlib.blake2b(
                f"ofx-fitid\x00{account_id}\x00{fitid}".encode(), digest_size=16
            ).hexdigest()
            category = _CATEGORIES.get(str(line_item.trntype))
            if category is None and str(line_item.trntype) == "XFER":
                category = (
                    TransactionCategory.TRANSFER_IN
                    if amount > 0
                    else TransactionCategory.TRANSFER_OUT
                )
            transaction = BankTransaction(
                account_id=provisional_account(account_id, context),
                date=posted,
                description=description,
                amount=amount,
                dedup_hash=dedup,
                source=BalanceSource.OFX_IMPORT,
                category=category or TransactionCategory.OTHER,
                reference_id=fitid[:100] or None,
            )
        except ValidationError as error:
            yield RowRejection(line, f"STMTTRN FITID {fitid!r}: {error}")
            continue
        yield ParsedBankTransaction(line=line, transaction=transaction, broker_account=account_id)


def _description(line_item: Any) -> str:
    parts = [str(part).strip() for part in (line_item.name, line_item.memo) if part]
    parts = [part for part in parts if part]
    return " / ".join(parts) if parts else str(line_item.trntype)


# -- investment trades --------------------------------------------------------------------


class _Security:
    __slots__ = ("asset_class", "expiry", "multiplier", "right", "strike", "ticker", "underlying")

    def __init__(self, info: Any, kind: str, by_id: dict[tuple[str, str], Any]) -> None:
        secinfo = info.secinfo
        self.ticker: str | None = str(secinfo.ticker).strip() if secinfo.ticker else None
        self.asset_class = _ASSET_CLASSES.get(kind, AssetClass.OTHER)
        self.expiry: dt.date | None = None
        self.strike: Decimal | None = None
        self.right: OptionRight | None = None
        self.multiplier: Decimal | None = None
        self.underlying: str | None = None
        if kind == "OPT":
            self.expiry = info.dtexpire.date() if info.dtexpire else None
            self.strike = Decimal(info.strikeprice) if info.strikeprice is not None else None
            self.right = OptionRight.CALL if str(info.opttype) == "CALL" else OptionRight.PUT
            self.multiplier = Decimal(info.shperctrct) if info.shperctrct else None
            if info.secid is not None:
                underlying = by_id.get((str(info.secid.uniqueidtype), str(info.secid.uniqueid)))
                if underlying is not None and underlying.secinfo.ticker:
                    self.underlying = str(underlying.secinfo.ticker).strip()


def _securities(document: Any) -> dict[tuple[str, str], _Security]:
    infos = list(document.securities or ())
    by_id = {
        (str(info.secinfo.secid.uniqueidtype), str(info.secinfo.secid.uniqueid)): info
        for info in infos
    }
    return {
        key: _Security(info, type(info).__name__.removesuffix("INFO"), by_id)
        for key, info in by_id.items()
    }


def _trades(
    statement: Any,
    account_id: str,
    *,
    currency: str,
    securities: dict[tuple[str, str], _Security],
    text: str,
    context: ImportContext,
) -> Iterator[ParsedItem]:
    for transaction in statement.invtranlist or ():
        kind = type(transaction).__name__
        if not (kind.startswith(("BUY", "SELL"))):
            continue  # income, transfers, splits: not executions
        detail = transaction.invbuy if kind.startswith("BUY") else transaction.invsell
        fitid = str(detail.invtran.fitid).strip()
        line = _line_of(text, fitid)
        try:
            yield _execution(
                kind,
                detail,
                account_id=account_id,
                currency=currency,
                securities=securities,
                line=line,
                context=context,
            )
        except ValidationError as error:
            yield RowRejection(line, f"{kind} FITID {fitid!r}: {error}")


def _execution(
    kind: str,
    detail: Any,
    *,
    account_id: str,
    currency: str,
    securities: dict[tuple[str, str], _Security],
    line: int,
    context: ImportContext,
) -> ParsedExecution:
    id_type, id_value = str(detail.secid.uniqueidtype), str(detail.secid.uniqueid)
    security = securities.get((id_type, id_value))
    if security is None or not security.ticker:
        raise ValidationError(f"security {id_type} {id_value} has no TICKER in SECLIST")
    units = Decimal(detail.units)
    if units.is_zero():
        raise ValidationError("UNITS: must not be zero")
    fitid = str(detail.invtran.fitid).strip()
    exec_id = f"OFX-{account_id}-{fitid}"
    if len(exec_id) > _MAX_EXEC_ID:
        exec_id = "OFX-" + hashlib.blake2b(exec_id.encode(), digest_size=20).hexdigest()
    trade_currency = str(detail.currency.cursym) if detail.currency is not None else currency
    fx_rate = Decimal(detail.currency.currate) if detail.currency is not None else None
    trade = Trade(
        exec_id=exec_id,
        time=detail.invtran.dttrade,
        instrument=security.ticker,
        action=TradeAction.BOT if kind.startswith("BUY") else TradeAction.SLD,
        quantity=abs(units),
        price=Decimal(detail.unitprice),
        account_id=provisional_account(account_id, context),
        commission=Decimal(detail.commission or 0),
        asset_class=security.asset_class,
        multiplier=security.multiplier,
        underlying=security.underlying,
        expiry=security.expiry,
        strike=security.strike,
        option_right=security.right,
        currency=trade_currency,
        fx_rate=fx_rate,
    )
    fees = tuple(
        Fee(fee_type, Decimal(amount), trade_currency)
        for fee_type, amount in ((FeeType.OTHER, detail.fees), (FeeType.REGULATORY, detail.taxes))
        if amount
    )
    identifiers: tuple[Identifier, ...] = ()
    known_type = _ID_TYPES.get(id_type)
    if known_type is not None:
        identifiers = (Identifier(known_type, id_value, security.ticker),)
    return ParsedExecution(
        line=line,
        trade=trade,
        fees=fees,
        identifiers=identifiers,
        broker_account=account_id,
    )
