"""Hardened, streaming XML reading for statement files.

Files are untrusted. The parser is the standard library's expat with every feature an
XML bomb needs refused before it can act: a DOCTYPE (so no internal subset), entity
declarations, unparsed entities, external entity references, and parameter entities
(never parsed). Those are the protections `defusedxml` installs on the same parser;
here they are set directly so rows arrive as expat's own attribute dicts (SAX wrapping
tripled the parse time), and tests prove each refusal. Entity expansion therefore
cannot happen ("billion laughs"), nor can a file reach outside itself.

The file is fed 64 KiB at a time and only start events of the wanted elements are kept
(name, attributes, line), so memory stays constant however long the file is. One token
(a start tag, say) longer than `MAX_TOKEN_BYTES` is refused before it can grow: expat
buffers an unfinished token whole.

A file that is not well-formed (truncated, a wrong byte) raises `ValidationError` with the
line and column; callers yield items as they go and the use case writes nothing then.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Final, NoReturn
from xml.parsers import expat

from zorivest_core.domain.errors import ValidationError

READ_SIZE: Final = 64 * 1024
MAX_TOKEN_BYTES: Final = 4 * 1024 * 1024
"""Largest run of bytes without any parser event (one tag, say): a Flex row is ~2 KiB."""


class _RefusedError(Exception):
    """Raised from a handler: the document uses a feature statements never need."""


def _refuse(what: str) -> NoReturn:
    raise _RefusedError(what)


def start_events(
    stream: BinaryIO, wanted: frozenset[str], *, source: str
) -> Iterator[tuple[str, dict[str, str], int]]:
    """Yield (element name, attributes, line) for each start tag named in `wanted`.

    Raises:
        ValidationError: Not well-formed XML (with its line and column), a DOCTYPE or
            entity declaration, or a single token larger than `MAX_TOKEN_BYTES`.
    """
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = lambda *_: _refuse("a DOCTYPE")
    parser.EntityDeclHandler = lambda *_: _refuse("an entity declaration")
    parser.UnparsedEntityDeclHandler = lambda *_: _refuse("an unparsed entity")
    parser.ExternalEntityRefHandler = lambda *_: _refuse("an external entity")
    events: list[tuple[str, dict[str, str], int]] = []
    progressed = [False]

    def start(name: str, attributes: dict[str, str]) -> None:
        progressed[0] = True
        if name in wanted:
            events.append((name, attributes, parser.CurrentLineNumber))

    def other(*_: object) -> None:
        progressed[0] = True

    parser.StartElementHandler = start
    parser.EndElementHandler = other
    parser.CharacterDataHandler = other
    pending = 0
    try:
        while True:
            data = stream.read(READ_SIZE)
            progressed[0] = False
            parser.Parse(data, not data)
            if not data:
                break
            pending = 0 if progressed[0] else pending + len(data)
            if pending > MAX_TOKEN_BYTES:
                raise ValidationError(
                    f"{source}: line {parser.CurrentLineNumber}: one XML token is longer than "
                    f"{MAX_TOKEN_BYTES // (1024 * 1024)} MiB; refused (not a statement)"
                )
            if events:
                yield from events
                events.clear()
        yield from events
    except expat.ExpatError as error:
        raise ValidationError(
            f"{source}: line {error.lineno}, column {error.offset}: not well-formed XML "
            f"({expat.ErrorString(error.code)}); nothing was imported"
        ) from None
    except _RefusedError as refused:
        raise ValidationError(
            f"{source}: line {parser.CurrentLineNumber}: refused: the XML declares {refused} "
            "(DTD or entities); statements never need them and they can expand without bound"
        ) from None
