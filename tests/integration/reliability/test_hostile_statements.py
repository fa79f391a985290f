"""Hostile and broken statement files, through the whole import, on every backend.

Whatever the file does (an XML bomb, an external entity, a truncation after thousands of
rows, an interruption between chunks, an endless line), the journal ends exactly as it
was: the use case writes in the caller's transaction and an exception rolls it back.
Checked with raw SQL.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Final
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.contract._rows import add_account
from zorivest_core.application.importing import ImportContext, ParsedItem
from zorivest_core.application.use_cases.import_statement import import_statement
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.database.unit_of_work import SqlAlchemyUnitOfWork
from zorivest_infra.importers.ibkr_csv import IbkrCsvImporter
from zorivest_infra.importers.ibkr_flex import IbkrFlexImporter

ZONE: Final = ZoneInfo("America/New_York")
ROW: Final = (
    '<Trade accountId="U1" assetCategory="STK" symbol="AAPL" ibExecID="E{i:06d}" '
    'dateTime="20240308;{h:02d}{m:02d}00" buySell="BUY" quantity="1" tradePrice="10" '
    'ibCommission="-1" currency="USD" conid="265598"/>\n'
)


def flex(count: int) -> bytes:
    rows = "".join(ROW.format(i=i, h=10 + i // 3600 % 6, m=i // 60 % 60) for i in range(count))
    return (
        '<?xml version="1.0"?>\n<FlexQueryResponse><FlexStatements><FlexStatement '
        f'accountId="U1"><Trades>\n{rows}</Trades></FlexStatement></FlexStatements>'
        "</FlexQueryResponse>\n"
    ).encode()


def stored(session_factory: sessionmaker[Session]) -> tuple[int, int]:
    with session_factory() as session:
        trades = session.execute(text("SELECT COUNT(*) FROM trades")).scalar_one()
        cached = session.execute(text("SELECT COUNT(*) FROM identifier_cache")).scalar_one()
    return int(trades), int(cached)


@pytest.fixture
def factory(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_factory() as session:
        add_account(session, "U1")
        session.commit()
    return session_factory


def run(factory: sessionmaker[Session], items: Iterator[ParsedItem]) -> None:
    with SqlAlchemyUnitOfWork(factory) as uow:
        import_statement(uow, items, format_name="ibkr-flex", chunk_size=500)
        uow.commit()


HOSTILE: Final = [
    pytest.param(
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><FlexQueryResponse>&b;'
        b"</FlexQueryResponse>",
        "DOCTYPE",
        id="billion-laughs",
    ),
    pytest.param(
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<FlexQueryResponse>&x;</FlexQueryResponse>",
        "DOCTYPE",
        id="external-entity",
    ),
    pytest.param(flex(3_000)[:-500], "not well-formed", id="truncated-after-thousands"),
    pytest.param(flex(10)[:-30] + b"\xff\xfe" + flex(10)[-30:], "not well-formed", id="bad-byte"),
]


@pytest.mark.parametrize(("data", "reason"), HOSTILE)
def test_a_hostile_or_broken_flex_file_changes_nothing(
    factory: sessionmaker[Session], data: bytes, reason: str
) -> None:
    items = IbkrFlexImporter().parse(io.BytesIO(data), ImportContext(zone=ZONE))
    with pytest.raises(ValidationError, match=reason):
        run(factory, items)
    assert stored(factory) == (0, 0)


def test_an_interruption_between_chunks_changes_nothing(factory: sessionmaker[Session]) -> None:
    def interrupted() -> Iterator[ParsedItem]:
        parsed = IbkrFlexImporter().parse(io.BytesIO(flex(1_600)), ImportContext(zone=ZONE))
        for index, item in enumerate(parsed):
            if index == 1_200:  # two chunks of 500 were saved in the transaction
                raise KeyboardInterrupt
            yield item

    with pytest.raises(KeyboardInterrupt):
        run(factory, interrupted())
    assert stored(factory) == (0, 0)


def test_an_endless_csv_line_is_refused_and_changes_nothing(
    factory: sessionmaker[Session],
) -> None:
    header = (
        b'"ClientAccountID","IBExecID","DateTime","Symbol","Buy/Sell","Quantity","TradePrice"\n'
    )
    good = b'"U1","E1","20240308;100000","AAPL","BUY","1","10"\n'
    data = header + good + b'"U1","' + b"9" * (2 * 1024 * 1024) + b'"\n'
    items = IbkrCsvImporter().parse(io.BytesIO(data), ImportContext(zone=ZONE))
    with pytest.raises(ValidationError, match="line 3 is longer than"):
        run(factory, items)
    assert stored(factory) == (0, 0)
