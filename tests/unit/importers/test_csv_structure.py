"""CSV damage is reported at the right line and never swallows a row silently."""

from __future__ import annotations

import pytest

from tests.unit.importers.helpers import executions, parse_bytes, rejections
from zorivest_core.domain.errors import ValidationError
from zorivest_infra.importers.csv_reading import MAX_LINE_BYTES, CsvFileError
from zorivest_infra.importers.generic import GenericCsvImporter
from zorivest_infra.importers.schwab import SchwabImporter

HEADER = b"exec_id,time,instrument,action,quantity,price,account_id\n"


def _row(exec_id: str, price: str = "10") -> bytes:
    return f"{exec_id},2024-03-08T09:30:00Z,AAPL,BUY,1,{price},A\n".encode()


def test_unclosed_quote_at_the_end_is_reported_where_it_opens() -> None:
    data = HEADER + _row("E1") + b'E2,2024-03-08T09:30:00Z,"AAPL,BUY,1,10,A\n' + _row("E3")
    items = parse_bytes(GenericCsvImporter(), data)
    assert [item.trade.exec_id for item in executions(items)] == ["E1"]
    assert rejections(items) == [
        (
            3,
            "unclosed quote: the quoted field that opens on line 3 never closes (it runs to "
            "the end of the file, line 4); nothing after it could be read",
        )
    ]


def test_unclosed_quote_closed_later_names_the_swallowed_lines() -> None:
    data = (
        HEADER
        + b'E1,2024-03-08T09:30:00Z,"AAPL,BUY,1,10,A\n'
        + _row("E2")
        + b'E3,2024-03-08T09:30:00Z,AAPL",BUY,1,10,A\n'
        + _row("E4")
    )
    items = parse_bytes(GenericCsvImporter(), data)
    assert [item.trade.exec_id for item in executions(items)] == ["E4"]
    assert rejections(items) == [
        (
            2,
            "unclosed quote? the quoted field that opens on line 2 runs on to line 4, "
            "swallowing lines 3-4 (7 fields, the header has 7)",
        )
    ]


def test_text_after_a_closing_quote_rejects_that_line_only() -> None:
    data = HEADER + b'E1,2024-03-08T09:30:00Z,"AAPL"X,BUY,1,10,A\n' + _row("E2")
    items = parse_bytes(GenericCsvImporter(), data)
    assert [item.trade.exec_id for item in executions(items)] == ["E2"]
    assert rejections(items) == [(2, "not valid CSV (',' expected after '\"')")]


def test_wrong_field_count_is_rejected_at_its_line() -> None:
    data = HEADER + _row("E1") + b"E2,2024-03-08T09:30:00Z,AAPL,BUY,1,10,A,extra\n" + _row("E3")
    items = parse_bytes(GenericCsvImporter(), data)
    assert [item.trade.exec_id for item in executions(items)] == ["E1", "E3"]
    assert rejections(items) == [
        (3, "expected 7 fields as in the header, got 8 (an unquoted delimiter inside a value?)")
    ]


def test_latin1_byte_on_line_2_is_reported_at_line_2() -> None:
    data = HEADER + b"E1,2024-03-08T09:30:00Z,CAF\xc9,BUY,1,10,A\n" + _row("E2")
    with pytest.raises(CsvFileError) as caught:
        parse_bytes(GenericCsvImporter(), data)
    assert str(caught.value) == (
        "test.csv: line 2 is not utf-8 text (byte 0xC9 at column 28); save the file as UTF-8 "
        "(or name its encoding in a profile)"
    )


def test_an_endless_line_is_refused_in_bounded_memory() -> None:
    data = HEADER + b"E1," + b"9" * (MAX_LINE_BYTES + 10) + b"\n"
    with pytest.raises(CsvFileError, match="line 2 is longer than 1 MiB"):
        parse_bytes(GenericCsvImporter(), data)


def test_blank_lines_are_skipped_and_crlf_and_bom_are_read() -> None:
    data = b"\xef\xbb\xbf" + HEADER.replace(b"\n", b"\r\n") + b"\r\n" + _row("E1")
    (item,) = parse_bytes(GenericCsvImporter(), data)
    assert executions([item])[0].line == 3


def test_numbers_in_messages_are_shown_as_written() -> None:
    data = HEADER + _row("E1", price="-100") + _row("E2", price='"1,5"')
    assert rejections(parse_bytes(GenericCsvImporter(), data)) == [
        (2, "price: must not be negative (got -100)"),
        (
            3,
            "price: '1,5' is not a number with '.' as decimal separator (written with ',' "
            "as decimal separator?)",
        ),
    ]


def test_no_header_names_the_missing_columns() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_bytes(SchwabImporter(), b"Date,Action,Symbol\n01/02/2024,Buy,X\n")
    assert str(caught.value) == (
        "test.csv: line 2: not a Schwab file: the header lacks Quantity, Price, Fees & Comm, Amount"
    )


def test_empty_file_is_refused() -> None:
    with pytest.raises(CsvFileError, match="the file is empty"):
        parse_bytes(SchwabImporter(), b"\n\n")


def test_a_forced_delimiter_that_does_not_split_the_header_says_so() -> None:
    data = b'"Date","Action","Symbol","Description","Quantity","Price","Fees & Comm","Amount"\n'
    with pytest.raises(CsvFileError) as caught:
        parse_bytes(SchwabImporter(), data, delimiter=";")
    assert str(caught.value) == (
        "test.csv: line 1: the Schwab header is not semicolon-separated as --delimiter ';' says"
    )
