"""A saved mapping profile: how one broker's CSV maps onto executions.

Profiles are stored in the journal (table `bank_import_configs`, whose `config` JSON
column is a column mapping by design; `config.kind` is "trade-csv") and used by the
generic CSV importer (`zorivest import JOURNAL FILE --profile NAME`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from zorivest_core.domain import zones
from zorivest_core.domain.errors import ValidationError

FIELDS: Final = (
    "exec_id",
    "time",
    "instrument",
    "action",
    "quantity",
    "price",
    "account_id",
    "commission",
    "realized_pnl",
    "multiplier",
    "asset_class",
    "underlying",
    "expiry",
    "strike",
    "right",
    "currency",
    "fx_rate",
)
"""Every field a profile can map; the default header name of each is the field's name."""

ID_STRATEGIES: Final = ("column", "derived")
DEFAULT_BUY: Final = ("BOT", "BUY", "B")
DEFAULT_SELL: Final = ("SLD", "SELL", "S")
PROFILE_KIND: Final = "trade-csv"


@dataclass(frozen=True, slots=True)
class MappingProfile:
    """How one broker's CSV maps onto executions; stored in the journal by name.

    columns: field -> header name, for fields whose header differs from the field name.
    date_format: strptime directives for `time` (None: ISO 8601).
    delimiter: None sniffs it from the header line (comma, semicolon, tab or pipe).
    decimal: the decimal separator, "." or ",".
    buy_words, sell_words: the action column's words (compared case-insensitively).
    zone: IANA zone of times without an offset (--tz overrides it).
    id_strategy: "column" (the file's exec id) or "derived" (deterministic, importers.ids).
    account_id: the journal account for rows that name none (--account overrides it).
    """

    name: str = "generic"
    columns: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    delimiter: str | None = None
    decimal: str = "."
    buy_words: tuple[str, ...] = DEFAULT_BUY
    sell_words: tuple[str, ...] = DEFAULT_SELL
    zone: str | None = None
    id_strategy: str = "column"
    account_id: str | None = None
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - set(FIELDS))
        if unknown:
            raise ValidationError(
                f"profile {self.name!r}: unknown field(s) {', '.join(unknown)}; fields are "
                f"{', '.join(FIELDS)}"
            )
        if self.decimal not in (".", ","):
            raise ValidationError(f"profile {self.name!r}: decimal must be '.' or ','")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ValidationError(f"profile {self.name!r}: the delimiter must be one character")
        if self.delimiter == self.decimal and self.delimiter is not None:
            raise ValidationError(
                f"profile {self.name!r}: the delimiter and the decimal separator are both "
                f"{self.delimiter!r}"
            )
        if self.id_strategy not in ID_STRATEGIES:
            raise ValidationError(
                f"profile {self.name!r}: id strategy must be one of {', '.join(ID_STRATEGIES)}"
            )
        overlap = {word.upper() for word in self.buy_words} & {
            word.upper() for word in self.sell_words
        }
        if overlap:
            raise ValidationError(
                f"profile {self.name!r}: {', '.join(sorted(overlap))} is both a buy and a sell word"
            )
        if self.zone is not None:
            zones.iana_zone(self.zone)
        try:
            "".encode(self.encoding)
        except LookupError:
            raise ValidationError(
                f"profile {self.name!r}: unknown encoding {self.encoding!r}"
            ) from None

    def header(self, field_name: str) -> str:
        """The header name that holds `field_name` in this broker's files.

        An empty name means the files have no such column (`action` "": the sign of the
        quantity gives the side).
        """
        if field_name == "right" and field_name not in self.columns:
            return "right|option_right"
        return self.columns.get(field_name, field_name)

    @property
    def has_action(self) -> bool:
        return self.header("action") != ""

    def to_config(self) -> dict[str, Any]:
        """The JSON document stored in `bank_import_configs.config`."""
        return {
            "kind": PROFILE_KIND,
            "version": 1,
            "columns": dict(self.columns),
            "date_format": self.date_format,
            "delimiter": self.delimiter,
            "decimal": self.decimal,
            "buy_words": list(self.buy_words),
            "sell_words": list(self.sell_words),
            "zone": self.zone,
            "id_strategy": self.id_strategy,
            "account_id": self.account_id,
            "encoding": self.encoding,
        }

    @classmethod
    def from_config(cls, name: str, config: Mapping[str, Any]) -> MappingProfile:
        """The profile in a stored document (ValidationError when it is not one)."""
        if config.get("kind") != PROFILE_KIND:
            raise ValidationError(f"{name!r} is not a trade CSV mapping profile")
        return cls(
            name=name,
            columns=dict(config.get("columns") or {}),
            date_format=config.get("date_format"),
            delimiter=config.get("delimiter"),
            decimal=config.get("decimal", "."),
            buy_words=tuple(config.get("buy_words") or DEFAULT_BUY),
            sell_words=tuple(config.get("sell_words") or DEFAULT_SELL),
            zone=config.get("zone"),
            id_strategy=config.get("id_strategy", "column"),
            account_id=config.get("account_id"),
            encoding=config.get("encoding", "utf-8"),
        )
