"""Hardened, streaming XML reading for statement files.

Files are untrusted. The parser is defusedxml's expat SAX reader with DTDs forbidden
outright (which also refuses entity declarations, so "billion laughs" and external
entities never expand), fed 64 KiB at a time. Elements are handed out as their start
events (name, attributes, line), so memory stays constant however long the file is, and
one token (a start tag, say) longer than `MAX_TOKEN_BYTES` is refused before it can grow:
expat buffers an unfinished token whole.

A file that is not well-formed (truncated, a wrong byte) raises `ValidationError` with the
line and column expat reports; callers yield items as they go and the use case writes
nothing when that happens.
"""

from __future__ import annotations

import xml.sax
from collections.abc import Iterator, Mapping
from typing import BinaryIO, Final
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl

from defusedxml.common import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

from zorivest_core.domain.errors import ValidationError

READ_SIZE: Final = 64 * 1024
MAX_TOKEN_BYTES: Final = 4 * 1024 * 1024
"""Largest run of bytes without any parser event (one tag, say): a Flex row is ~2 KiB."""


class _Collector(ContentHandler):
    """Queues start events of interesting elements; notes that the parser made progress."""

    def __init__(self, wanted: frozenset[str], parser: DefusedExpatParser) -> None:
        super().__init__()
        self.wanted = wanted
        self.events: list[tuple[str, dict[str, str], int]] = []
        self.progressed = False
        # Fed incrementally, the SAX reader never sets a document locator; it knows the
        # line of the event being reported itself.
        self._parser = parser

    def startElement(self, name: str, attrs: AttributesImpl) -> None:  # noqa: N802 - SAX's name
        self.progressed = True
        if name in self.wanted:
            self.events.append((name, dict(attrs.items()), self._parser.getLineNumber() or 0))

    def endElement(self, name: str) -> None:  # noqa: N802
        self.progressed = True

    def characters(self, content: str) -> None:
        self.progressed = True


def start_events(
    stream: BinaryIO, wanted: frozenset[str], *, source: str
) -> Iterator[tuple[str, Mapping[str, str], int]]:
    """Yield (element name, attributes, line) for each start tag named in `wanted`.

    Raises:
        ValidationError: Not well-formed XML (with its line and column), a DTD or entity
            declaration, or a single token larger than `MAX_TOKEN_BYTES`.
    """
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    collector = _Collector(wanted, parser)
    parser.setContentHandler(collector)
    pending = 0
    try:
        while True:
            data = stream.read(READ_SIZE)
            if not data:
                break
            collector.progressed = False
            parser.feed(data)
            pending = 0 if collector.progressed else pending + len(data)
            if pending > MAX_TOKEN_BYTES:
                raise ValidationError(
                    f"{source}: line {parser.getLineNumber()}: one XML token is longer than "
                    f"{MAX_TOKEN_BYTES // (1024 * 1024)} MiB; refused (not a statement)"
                )
            if collector.events:
                yield from collector.events
                collector.events.clear()
        parser.close()
        yield from collector.events
    except xml.sax.SAXParseException as error:
        raise ValidationError(
            f"{source}: line {error.getLineNumber()}, column {error.getColumnNumber()}: "
            f"not well-formed XML ({error.getMessage()}); nothing was imported"
        ) from None
    except DefusedXmlException as error:
        raise ValidationError(
            f"{source}: refused: the XML declares a DTD or entities ({type(error).__name__}); "
            "statements never need them and they can expand without bound"
        ) from None
