from __future__ import annotations

import json
from pathlib import Path
from unittest.mock import ANY

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sxe.errors import UsageError
from sxe.ingest import read_profiles, reader
from sxe.ingest.hashing import bytes_hash, canonical_json, content_hash
from sxe.ingest.reader import DecodedRecord as SourceRecord
from sxe.ingest.reader import UnreadableRecord, read_records
from sxe.models import RecordLocation, Rejection, SourceProfile

V1_USER = {"id": 7, "id_str": "7", "screen_name": "seven", "name": "Seven", "followers_count": 70}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def jsonl(*values: object) -> bytes:
    return "".join(json.dumps(value) + "\n" for value in values).encode("utf-8")


def test_reader_json_document_is_one_record(tmp_path: Path) -> None:
    path = write(tmp_path, "one.json", json.dumps({"a": 1}, indent=2).encode())

    records = list(read_records(path))

    assert records == [SourceRecord(location=RecordLocation(file=str(path)), payload={"a": 1}, raw=ANY)]


def test_reader_json_array_uses_zero_based_index(tmp_path: Path) -> None:
    path = write(tmp_path, "many.json", json.dumps([{"a": 1}, {"a": 2}], indent=2).encode())

    records = list(read_records(path))

    assert [record.location.index for record in records] == [0, 1]
    assert [record.location.line for record in records] == [None, None]
    assert [record.payload for record in records if isinstance(record, SourceRecord)] == [{"a": 1}, {"a": 2}]


@pytest.mark.parametrize("read_bytes", [1, 7, 64 * 1024])
def test_reader_array_error_names_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_bytes: int) -> None:
    monkeypatch.setattr(reader, "READ_BYTES", read_bytes)
    text = '[\n {"a": "\u00e9"},\n {"a": 2},\n\n {"c" 3},\n {"a": 4}\n]'
    path = write(tmp_path, "broken.json", text.encode())

    records = list(read_records(path))

    stored = [record.payload for record in records if isinstance(record, SourceRecord)]
    assert stored == [{"a": "é"}, {"a": 2}, {"a": 4}]
    assert [record.location.index for record in records] == [0, 1, 2, 3]
    broken = records[2]
    assert isinstance(broken, UnreadableRecord)
    assert broken.rejection.reason == "array element 2 is not valid JSON: Expecting ':' delimiter at line 5"
    assert broken.content_hash == bytes_hash(b'{"c" 3}')


@pytest.mark.parametrize("read_bytes", [1, 7, 64 * 1024])
def test_reader_array_reads_on_after_invalid_elements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_bytes: int
) -> None:
    monkeypatch.setattr(reader, "READ_BYTES", read_bytes)
    broken = ['{"a": [1,]}', '{"b": "quote \\" and ] inside", "c": 1,}', "nul", '{"d": {"e": 1]}}']
    text = "[" + ", ".join([broken[0], '{"a": 1}', broken[1], broken[2], '{"a": 2}', broken[3], '{"a": 3}']) + "]"
    path = write(tmp_path, "broken.json", text.encode())

    records = list(read_records(path))

    assert [record.location.index for record in records] == list(range(7))
    assert [record.payload for record in records if isinstance(record, SourceRecord)] == [{"a": 1}, {"a": 2}, {"a": 3}]
    rejected = [record for record in records if isinstance(record, UnreadableRecord)]
    assert [record.content_hash for record in rejected] == [bytes_hash(element.encode()) for element in broken]


def test_reader_array_unclosed_element_ends(tmp_path: Path) -> None:
    path = write(tmp_path, "cut.json", b'[{"a": 1}, {"b": [2, 3}, {"a": 4}')

    records = list(read_records(path))

    assert [record.payload for record in records if isinstance(record, SourceRecord)] == [{"a": 1}]
    cut = records[-1]
    assert isinstance(cut, UnreadableRecord)
    assert cut.location.index == 1
    assert cut.rejection.reason == (
        "array element 1 at line 1 is not valid JSON: its brackets or quotes do not close before the file ends"
    )


def test_reader_array_overlong_element_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "READ_BYTES", 16)
    monkeypatch.setattr(reader, "MAX_RECORD_BYTES", 64)
    path = write(tmp_path, "long.json", b'[{"a": 1}, {"b": [' + b"1, " * 100 + b'}, {"a": 2}]')

    records = list(read_records(path))

    assert len(records) == 2
    assert records[-1].rejection.reason == (
        "array element 1 at line 1 is not valid JSON: its brackets or quotes do not close within 64 bytes,"
        " so the elements after it were not read"
    )


def test_reader_array_spanning_many_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "READ_BYTES", 5)
    elements = [{"n": number, "text": "line\n" * (number % 3)} for number in range(40)]
    path = write(tmp_path, "many.json", json.dumps(elements, indent=1).encode())

    records = list(read_records(path))

    assert [record.payload for record in records if isinstance(record, SourceRecord)] == elements
    assert [record.location.index for record in records] == list(range(40))


def test_reader_jsonl_uses_one_based_physical_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "lines.jsonl", b'{"a": 1}\n\n   \n{"a": 2}\n')

    records = list(read_records(path))

    assert [record.location.line for record in records] == [1, 4]
    assert [record.payload for record in records if isinstance(record, SourceRecord)] == [{"a": 1}, {"a": 2}]


def test_reader_accepts_bom_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.jsonl", b'\xef\xbb\xbf{"a": 1}\r\n{"a": 2}\r\n')

    records = list(read_records(path))

    assert [record.payload for record in records if isinstance(record, SourceRecord)] == [{"a": 1}, {"a": 2}]


def test_reader_accepts_bom_before_document(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.json", b'\xef\xbb\xbf[{"a": 1}]')

    records = list(read_records(path))

    assert records == [SourceRecord(location=RecordLocation(file=str(path), index=0), payload={"a": 1}, raw=ANY)]


def test_reader_bad_line_is_rejected_between_good_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "mixed.jsonl", b'{"a": 1}\n{"email": "x@example.com", "a": \n{"a": 3}\n')

    records = list(read_records(path))

    assert len(records) == 3
    assert isinstance(records[0], SourceRecord)
    assert isinstance(records[2], SourceRecord)
    bad = records[1]
    assert isinstance(bad, UnreadableRecord)
    assert bad.location == RecordLocation(file=str(path), line=2)
    assert bad.rejection.kind == "unparseable"
    assert "line 2" in bad.rejection.reason
    assert "column" in bad.rejection.reason
    assert "example.com" not in bad.rejection.reason
    assert bad.content_hash == bytes_hash(b'{"email": "x@example.com", "a":')


def test_reader_broken_first_line_still_reads_as_jsonl(tmp_path: Path) -> None:
    path = write(tmp_path, "first.txt", b'{"a": \n{"a": 2}\n{"a": 3}\n')

    records = list(read_records(path))

    assert isinstance(records[0], UnreadableRecord)
    assert records[0].location.line == 1
    assert [record.payload for record in records[1:] if isinstance(record, SourceRecord)] == [{"a": 2}, {"a": 3}]


def test_reader_broken_document_is_one_file_rejection(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.json", b'{\n  "data": [\n    {"id": "1"},\n    {"id": "2"\n  ]\n}\n')

    records = list(read_records(path))

    assert len(records) == 1
    record = records[0]
    assert isinstance(record, UnreadableRecord)
    assert record.location == RecordLocation(file=str(path))
    assert record.rejection.kind == "unparseable"
    assert record.rejection.reason.startswith("file is not valid JSON")
    assert "line 5" in record.rejection.reason


def test_reader_invalid_utf8_line_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.jsonl", b'{"a": 1}\n{"a": "caf\xe9"}\n{"a": 3}\n')

    records = list(read_records(path))

    assert isinstance(records[1], UnreadableRecord)
    assert "not valid UTF-8" in records[1].rejection.reason
    assert isinstance(records[2], SourceRecord)


@pytest.mark.parametrize("read_bytes", [1, 5, 64 * 1024])
def test_reader_invalid_utf8_array_element_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_bytes: int
) -> None:
    monkeypatch.setattr(reader, "READ_BYTES", read_bytes)
    data = '[{"a": "é"}, {"a": "caf'.encode() + b'\xe9"}, {"a": 3}]'
    path = write(tmp_path, "latin1.json", data)

    invalid_at = data.index(b"\xe9")

    records = list(read_records(path))

    assert [record.payload for record in records if isinstance(record, SourceRecord)] == [{"a": "é"}, {"a": 3}]
    rejected = records[1]
    assert isinstance(rejected, UnreadableRecord)
    assert rejected.rejection.reason.startswith(
        f"array element 1 is not valid UTF-8: invalid byte at file offset {invalid_at}; save the file as UTF-8"
    )
    assert rejected.content_hash == bytes_hash(b'{"a": "caf\xe9"}')


def test_reader_jsonl_content_detected_without_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, "export.json", b'{"a": 1}\n{"a": 2}\n')

    records = list(read_records(path))

    assert [record.location.line for record in records] == [1, 2]


def test_reader_single_line_jsonl_keeps_line_number(tmp_path: Path) -> None:
    path = write(tmp_path, "one.jsonl", b'{"a": 1}\n')

    records = list(read_records(path))

    assert records == [SourceRecord(location=RecordLocation(file=str(path), line=1), payload={"a": 1}, raw=ANY)]


def test_reader_empty_file_yields_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.jsonl", b"\n  \r\n")

    assert list(read_records(path)) == []


def test_reader_missing_file_raises_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        list(read_records(tmp_path / "nope.json"))


def test_content_hash_ignores_key_order_and_whitespace() -> None:
    first = json.loads('{"b": [1, 2], "a": "é"}')
    second = json.loads('{ "a" : "é",\n "b": [1,2] }')

    assert content_hash(first) == content_hash(second)
    assert canonical_json(first) == '{"a":"é","b":[1,2]}'.encode()
    assert len(content_hash(first)) == 64


def test_content_hash_differs_for_different_values() -> None:
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def test_read_profiles_keeps_going_after_bad_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "users.jsonl", jsonl(V1_USER) + b"{not json\n" + jsonl(dict(V1_USER, id_str="8", screen_name="eight"))
    )

    records = list(read_profiles(path))

    assert [record.location.line for record in records] == [1, 2, 3]
    assert [record.format for record in records] == ["x-api-v1.1"] * 3
    assert isinstance(records[0].result, SourceProfile)
    assert records[1].result.kind == "unparseable"  # type: ignore[union-attr]
    assert records[1].payload is None
    assert isinstance(records[2].result, SourceProfile)
    assert records[2].result.handle == "eight"


def test_read_profiles_hashes_each_item(tmp_path: Path) -> None:
    path = write(tmp_path, "users.jsonl", jsonl(V1_USER))

    [record] = read_profiles(path)

    assert record.payload == V1_USER
    assert record.content_hash == content_hash(V1_USER)


def test_read_profiles_gives_envelope_items_an_index(tmp_path: Path) -> None:
    envelope = {
        "data": [{"id": "1", "username": "one"}, {"id": "2", "username": "two"}],
        "errors": [
            {
                "title": "Not Found Error",
                "detail": "missing",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ],
    }
    path = write(tmp_path, "page.jsonl", jsonl(envelope, envelope))

    records = list(read_profiles(path))

    locations = [(record.location.line, record.location.item) for record in records]
    assert locations == [(1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2)]
    assert records[1].location.describe() == f"{path}:1 item 1"
    assert records[1].payload == {"id": "2", "username": "two"}


def test_read_profiles_unknown_format_raises_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "users.jsonl", jsonl(V1_USER))

    with pytest.raises(UsageError, match="'instagram'") as error:
        read_profiles(path, format_name="instagram")
    assert "x-api-v2" in str(error.value)


def test_read_profiles_undetectable_file_raises_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path, "mystery.jsonl", jsonl({"foo": 1, "bar": 2}))

    with pytest.raises(UsageError, match="--format") as error:
        read_profiles(path)
    assert "[foo, bar]" in str(error.value)
    assert str(path) not in str(error.value)


def test_read_profiles_explicit_format_skips_detection(tmp_path: Path) -> None:
    path = write(tmp_path, "mystery.jsonl", jsonl({"foo": 1}))

    [record] = read_profiles(path, format_name="x-api-v1.1")

    assert record.result == Rejection(kind="missing_identity", reason=record.result.reason)  # type: ignore[union-attr]


def test_read_profiles_all_lines_broken_yields_rejections(tmp_path: Path) -> None:
    path = write(tmp_path, "garbage.jsonl", b"{nope\n{also nope\n")

    records = list(read_profiles(path))

    assert [record.format for record in records] == ["unknown", "unknown"]
    assert [record.result.kind for record in records] == ["unparseable", "unparseable"]  # type: ignore[union-attr]


def test_read_profiles_missing_file_raises_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        read_profiles(tmp_path / "nope.jsonl")


def test_envelope_items_share_one_raw_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    users = [{"id": str(number), "username": f"user{number}", "name": "User"} for number in range(3)]
    path = write(tmp_path, "page.json", json.dumps({"data": users, "meta": {"result_count": 3}}).encode())
    hashed: list[bytes] = []

    def counting_hash(data: bytes) -> str:
        hashed.append(data)
        return bytes_hash(data)

    monkeypatch.setattr(reader, "bytes_hash", counting_hash)
    records = list(read_profiles(path, format_name="x-api-v2"))

    assert len(records) == 3
    assert len(hashed) == 1
    assert {record.raw_sha256 for record in records} == {bytes_hash(path.read_bytes().strip())}


@pytest.mark.parametrize("number", [2**64, -(2**63) - 1, 10**30, -(10**25)])
def test_reader_keeps_huge_integers_exact(tmp_path: Path, number: int) -> None:
    inside = {"id": number, "tag": "7300000000000000000"}
    lines = write(tmp_path, "big.jsonl", jsonl(inside))
    array = write(tmp_path, "big.json", json.dumps([inside, inside], indent=2).encode())

    payloads = [record.payload for path in (lines, array) for record in read_records(path)]

    assert payloads == [inside, inside, inside]
    assert [type(payload["id"]) for payload in payloads] == [int, int, int]


# Digit strings and numbers near the 64-bit limits, where orjson and the json module could differ.
NEAR_LIMITS = st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1]) | st.integers()
DIGIT_TEXT = st.text(alphabet='-0123456789 a"', max_size=30)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | NEAR_LIMITS | st.floats(allow_nan=False) | DIGIT_TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, spaced=st.booleans())
def test_reader_jsonl_matches_json_module(value: object, spaced: bool) -> None:
    line = json.dumps({"v": value}, separators=(", ", ": ") if spaced else (",", ":"))

    [record] = reader._jsonl_records("values.jsonl", iter([line.encode()]))

    assert isinstance(record, SourceRecord)
    assert repr(record.payload) == repr(json.loads(line))


def test_reader_array_end_in_its_own_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first read ends right after the last element, so the separators before "]"
    # start the next read, which is the last one.
    path = write(tmp_path, "one.json", b'[{"a":1}\n]')
    monkeypatch.setattr(reader, "HEAD_BYTES", len(b'[{"a":1}'))
    monkeypatch.setattr(reader, "READ_BYTES", 8)

    assert [record.payload for record in read_records(path)] == [{"a": 1}]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("followers.xlsx", b"PK\x03\x04\x14\x00\x06\x00", "is a ZIP archive, such as an Excel workbook"),
        ("followers.csv", b"PK\x03\x04\x14\x00\x06\x00", "export the sheet as CSV UTF-8"),
        ("followers.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "is an Excel 97-2003 workbook"),
        ("followers.txt", "handle\tfollowers\n".encode("utf-16"), "is UTF-16 text"),
        ("report.pdf", b"%PDF-1.7\n", "is a PDF document"),
    ],
)
def test_reader_names_files_that_hold_no_text(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    path = write(tmp_path, name, data)

    with pytest.raises(UsageError) as raised:
        list(read_records(path))

    assert expected in str(raised.value)
    assert str(path) in str(raised.value)


def test_reader_windows_encoded_line_names_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "fans.csv", "handle,name\njose,Jos\u00e9\n".encode("cp1252"))

    [record] = list(read_records(path))

    assert isinstance(record, UnreadableRecord)
    assert "line 2 is not valid UTF-8" in record.rejection.reason
    assert "save the file as UTF-8" in record.rejection.reason


def test_semicolon_header_names_separator(tmp_path: Path) -> None:
    path = write(tmp_path, "fans.csv", b"platform;username;followers\ntiktok;jose;12\n")

    with pytest.raises(UsageError) as error:
        read_profiles(path)

    assert "separated by ';', not by commas" in str(error.value)
    assert "fans.csv" in str(error.value)
