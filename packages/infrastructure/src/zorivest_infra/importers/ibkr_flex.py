"""`ibkr-flex`: Interactive Brokers Flex Query statements as XML.

Structure (IBKR Reporting Guide, "Flex Queries" and "Activity Flex Query Reference"):
`FlexQueryResponse > FlexStatements > FlexStatement accountId=... > Trades > Trade ...`,
each Trade's fields as attributes. Rows are read as they stream in (see `xml_stream`);
the field mapping is `ibkr_rows`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar, Final

from zorivest_core.application.importing import Detection, ImportContext, ParsedItem
from zorivest_infra.importers.ibkr_rows import execution_from_row, missing_zone_error
from zorivest_infra.importers.xml_stream import start_events

_WANTED: Final = frozenset({"FlexQueryResponse", "FlexStatement", "Trade"})


class IbkrFlexImporter:
    """Interactive Brokers Flex Query XML (Trades section, execution level)."""

    name: ClassVar[str] = "ibkr-flex"
    description: ClassVar[str] = "Interactive Brokers Flex Query as XML (Trades, Execution level)"

    def detect(self, sample: bytes) -> Detection:
        head = sample.lstrip(b"\xef\xbb\xbf \t\r\n")
        if b"<FlexQueryResponse" in sample:
            return Detection(100, "an XML FlexQueryResponse (IBKR Flex Query)")
        if b"<FlexStatement" in sample:
            return Detection(90, "an XML FlexStatement (IBKR Flex Query)")
        if head.startswith(b"<"):
            return Detection(
                0, "XML, but no <FlexQueryResponse> element near the start", closeness=30
            )
        return Detection(0, "not XML (a Flex Query XML file starts with '<')")

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[ParsedItem]:
        zone = context.zone
        if zone is None:
            raise missing_zone_error(context.source_name)
        statement_account: str | None = None
        for name, attributes, line in start_events(stream, _WANTED, source=context.source_name):
            if name == "Trade":
                row = attributes
                if statement_account and not row.get("accountId"):
                    row = {**row, "accountId": statement_account}
                yield execution_from_row(row, line, context, zone)
            elif name == "FlexStatement":
                statement_account = attributes.get("accountId", "").strip() or None
