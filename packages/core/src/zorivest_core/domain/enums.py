"""Every enumeration the schema's comments name. Stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class TradeAction(StrEnum):
    BOT = "BOT"
    SLD = "SLD"


class AssetClass(StrEnum):
    """What kind of instrument a trade is in (P&L needs it: options and futures scale)."""

    STOCK = "stock"
    OPTION = "option"
    FUTURE = "future"
    FOREX = "forex"
    CRYPTO = "crypto"
    BOND = "bond"
    FUND = "fund"
    OTHER = "other"


class OptionRight(StrEnum):
    """An option's right: a call or a put (stored as the one-letter code)."""

    CALL = "C"
    PUT = "P"


class AccountType(StrEnum):
    BROKER = "broker"
    BANK = "bank"
    REVOLVING = "revolving"
    INSTALLMENT = "installment"
    IRA = "ira"
    K401 = "401k"


class ConvictionLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    MAX = "max"


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    EXECUTED = "executed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class ImageOwnerType(StrEnum):
    TRADE = "trade"
    REPORT = "report"
    PLAN = "plan"


class RoundTripStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    PARTIAL = "partial"


class IdentifierType(StrEnum):
    CUSIP = "cusip"
    ISIN = "isin"
    SEDOL = "sedol"
    FIGI = "figi"
    CONID = "conid"  # Interactive Brokers' contract id


class FeeType(StrEnum):
    COMMISSION = "commission"
    EXCHANGE = "exchange"
    REGULATORY = "regulatory"
    ECN = "ecn"
    CLEARING = "clearing"
    PLATFORM = "platform"
    OTHER = "other"


class StrategyType(StrEnum):
    VERTICAL = "vertical"
    IRON_CONDOR = "iron_condor"
    BUTTERFLY = "butterfly"
    CALENDAR = "calendar"
    STRADDLE = "straddle"
    STRANGLE = "strangle"
    CUSTOM = "custom"


class MistakeCategory(StrEnum):
    EARLY_EXIT = "early_exit"
    LATE_EXIT = "late_exit"
    OVERSIZED = "oversized"
    NO_STOP = "no_stop"
    REVENGE_TRADE = "revenge_trade"
    FOMO_ENTRY = "fomo_entry"
    IGNORED_PLAN = "ignored_plan"
    OVERTRADING = "overtrading"
    CHASING = "chasing"
    OTHER = "other"


class RoutingType(StrEnum):
    PFOF = "pfof"
    DMA = "dma"
    HYBRID = "hybrid"


class TransactionCategory(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"
    FEE = "fee"
    INTEREST = "interest"
    DIVIDEND = "dividend"
    ACH_DEBIT = "ach_debit"
    ACH_CREDIT = "ach_credit"
    WIRE_IN = "wire_in"
    WIRE_OUT = "wire_out"
    CHECK = "check"
    CARD_PURCHASE = "card_purchase"
    REFUND = "refund"
    ATM = "atm"
    OTHER = "other"


class BalanceSource(StrEnum):
    MANUAL = "manual"
    CSV_IMPORT = "csv_import"
    OFX_IMPORT = "ofx_import"
    QIF_IMPORT = "qif_import"
    PDF_IMPORT = "pdf_import"
    AGENT_SUBMIT = "agent_submit"


class SettingValueType(StrEnum):
    """How a setting's text value is typed when read back."""

    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    JSON = "json"
