"""Format-level parsing: each faulty row is isolated, numbered and kept byte for byte."""

from dataclasses import replace

from joinedup.channels import load_channels
from joinedup.ingest.fields import split_name
from joinedup.ingest.readers import read_file

PHONE = load_channels()["phone"]
HEADER = b"CallID,StartTime,CLI,DNIS,Queue,WaitSecs,TalkSecs,Disposition,AgentID,CallerName,CallerPostcode,CaseRef\r\n"


def row(n: int, name: str = "") -> bytes:
    return f"{n},26/10/2025 10:00:00,077,011,Council Tax,1,2,ANSWERED,A1,{name},LS6,\r\n".encode()


def test_unbalanced_quote_costs_one_row_not_the_rest_of_the_file() -> None:
    data = HEADER + row(1) + b'2,26/10/2025 10:00:00,"077,011,Council Tax,1,2,ANSWERED,A1,,LS6,\r\n' + row(3) + row(4)
    read = read_file(data, PHONE)
    assert [r.row for r in read.rows] == [1, 2, 3, 4]
    assert [r.record is not None for r in read.rows] == [True, False, True, True]
    bad = read.rows[1]
    assert "unbalanced quote" in bad.error and bad.line == 3
    assert bad.raw == b'2,26/10/2025 10:00:00,"077,011,Council Tax,1,2,ANSWERED,A1,,LS6,\r\n'


def test_quoted_newlines_are_one_row() -> None:
    read = read_file(HEADER + row(1, '"two\r\nlines"') + row(2), PHONE)
    assert [r.record["CallerName"] for r in read.rows] == ["two\r\nlines", ""]
    assert [r.line for r in read.rows] == [2, 4]


def test_bom_is_not_part_of_the_first_column_and_cp1252_channel_with_bom_reads_utf8() -> None:
    read = read_file(b"\xef\xbb\xbf" + HEADER + row(1, "Zoë"), replace(PHONE, encoding="cp1252"))
    assert read.rows[0].record["CallID"] == "1" and read.rows[0].record["CallerName"] == "Zoë"
    assert any("byte-order mark" in w for w in read.warnings)


def test_empty_and_header_only() -> None:
    assert read_file(b"", PHONE).empty and read_file(b"  \r\n", PHONE).empty
    header_only = read_file(HEADER, PHONE)
    assert not header_only.empty and header_only.rows == [] and header_only.file_error is None


def test_names_are_split_without_titles() -> None:
    assert split_name("Mrs E. Boothroyd") == ("E.", "Boothroyd")
    assert split_name("Young, Rebecca") == ("Rebecca", "Young")
    assert split_name("joe") == ("joe", None)


def test_encodings_the_bytes_contradict_are_read_as_the_bytes_say_and_flagged() -> None:
    letter = replace(PHONE, encoding="cp1252", fallback_encoding=None)
    utf8 = read_file(HEADER + row(1, "Zoë"), letter)  # no BOM: as cp1252 it would be ZoÃ«
    assert utf8.rows[0].record["CallerName"] == "Zoë" and "valid UTF-8" in utf8.warnings[0]
    mixed = read_file(HEADER + row(1, "Zoë") + row(2, "Noël").replace("ë".encode(), b"\xeb"), letter)
    assert [r.record["CallerName"] for r in mixed.rows] == ["Zoë", "Noël"]
    assert "valid UTF-8 although the channel is cp1252" in mixed.rows[0].warning and mixed.rows[1].warning is None
    utf16 = read_file((HEADER + row(1, "Zoë")).decode().encode("utf-16"), PHONE)
    assert utf16.rows[0].record["CallerName"] == "Zoë" and "UTF-16 LE (byte-order mark)" in utf16.warnings[0]
    no_bom = read_file((HEADER + row(1)).decode().encode("utf-16-le"), PHONE)
    assert "looks like UTF-16 or UTF-32 without a byte-order mark" in no_bom.file_error
    assert no_bom.rows[0].raw == (HEADER + row(1)).decode().encode("utf-16-le")  # kept whole, as delivered
