"""A reader stopped after any record and resumed at its position yields exactly the records that follow."""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sxe.ingest import ReadOptions, read_chunk, read_items, reader
from sxe.ingest.reader import CSV_LAYOUT, JSON_ARRAY, JSON_LINES, ReadPosition, open_records, resume_records

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


def _jsonl(values: list[Any], crlf: bool, broken_line: bool) -> bytes:
    end = "\r\n" if crlf else "\n"
    lines = [json.dumps(value, ensure_ascii=False) for value in values]
    if broken_line:
        lines.insert(len(lines) // 2, '{"cut": ')
    return (end.join(lines) + end + end).encode("utf-8")


def _array(values: list[Any], indent: int | None, broken_element: bool) -> bytes:
    """Return `values` as a JSON array; with `broken_element`, an invalid element and a Latin-1 one join it."""
    if not broken_element:
        return json.dumps(values, ensure_ascii=False, indent=indent).encode("utf-8")
    elements = [json.dumps(value, ensure_ascii=False, indent=indent).encode("utf-8") for value in values]
    elements.insert(len(elements) // 2, b'{"cut": [1,], "a": "]"}')
    elements.insert(len(elements) // 3, b'{"caf\xe9": "\xe9t\xe9"}')
    return b"[" + b",\n".join(elements) + b"]"


def _assert_resumes_everywhere(path: Path, read_bytes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first read still contains a byte order mark and the character that picks the layout.
    monkeypatch.setattr(reader, "HEAD_BYTES", len(reader.UTF8_BOM) + 1 + read_bytes)
    monkeypatch.setattr(reader, "READ_BYTES", read_bytes)
    whole = list(open_records(path).records)
    for cut in range(1, len(whole) + 1):
        stream = open_records(path)
        first = list(islice(stream.records, cut))
        position = stream.position()
        stream.close()
        assert position is not None
        assert first + list(resume_records(path, position).records) == whole, cut


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(VALUES, min_size=1, max_size=8),
    crlf=st.booleans(),
    broken_line=st.booleans(),
    bom=st.booleans(),
    read_bytes=st.integers(min_value=1, max_value=40),
)
def test_json_lines_resume_after_every_record(
    tmp_path_factory: pytest.TempPathFactory,
    values: list[Any],
    crlf: bool,
    broken_line: bool,
    bom: bool,
    read_bytes: int,
) -> None:
    path = tmp_path_factory.mktemp("lines") / "values.jsonl"
    path.write_bytes((reader.UTF8_BOM if bom else b"") + _jsonl(values, crlf, broken_line))

    with pytest.MonkeyPatch.context() as patched:
        _assert_resumes_everywhere(path, read_bytes, patched)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(VALUES, min_size=1, max_size=8),
    indent=st.sampled_from([None, 2]),
    broken_element=st.booleans(),
    bom=st.booleans(),
    read_bytes=st.integers(min_value=1, max_value=40),
)
def test_json_arrays_resume_after_every_element(
    tmp_path_factory: pytest.TempPathFactory,
    values: list[Any],
    indent: int | None,
    broken_element: bool,
    bom: bool,
    read_bytes: int,
) -> None:
    path = tmp_path_factory.mktemp("arrays") / "values.json"
    path.write_bytes((reader.UTF8_BOM if bom else b"") + _array(values, indent, broken_element))

    with pytest.MonkeyPatch.context() as patched:
        _assert_resumes_everywhere(path, read_bytes, patched)


CELLS = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\x00"), max_size=8)


def _csv(rows: list[list[str]], crlf: bool, broken_row: bool) -> bytes:
    """Return a header and `rows` as CSV: cells with commas, quotes or line ends are quoted."""
    end = "\r\n" if crlf else "\n"
    lines = ['handle,"bio, with comma",note']
    for row in rows:
        lines.append(",".join('"' + cell.replace('"', '""') + '"' if set(cell) & set(',"\n') else cell for cell in row))
        lines.append("")
    if broken_row:
        lines.insert(len(lines) // 2, "a,b,c,d,e")
    return (end.join(lines) + end).encode("utf-8")


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(CELLS, min_size=1, max_size=3), min_size=1, max_size=8),
    crlf=st.booleans(),
    broken_row=st.booleans(),
    bom=st.booleans(),
    read_bytes=st.integers(min_value=1, max_value=40),
)
def test_csv_resumes_after_every_row(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[list[str]],
    crlf: bool,
    broken_row: bool,
    bom: bool,
    read_bytes: int,
) -> None:
    path = tmp_path_factory.mktemp("rows") / "rows.csv"
    path.write_bytes((reader.UTF8_BOM if bom else b"") + _csv(rows, crlf, broken_row))

    with pytest.MonkeyPatch.context() as patched:
        _assert_resumes_everywhere(path, read_bytes, patched)


def test_positions_count_bytes_lines_and_elements(tmp_path: Path) -> None:
    lines = tmp_path / "values.jsonl"
    lines.write_bytes(reader.UTF8_BOM + '{"a": "é"}\n\n{"b": 2}\n'.encode())
    array = tmp_path / "values.json"
    array.write_bytes('[\n  {"a": "é"},\n  [1, 2]\n]'.encode())

    line_stream, array_stream = open_records(lines), open_records(array)
    next(line_stream.records), next(array_stream.records)

    assert line_stream.position() == ReadPosition(JSON_LINES, offset=3 + 12, line=2)
    assert array_stream.position() == ReadPosition(JSON_ARRAY, offset=15, line=2, index=1)
    # The resumed array reader reads the element that is itself an array, not an opening bracket.
    [element] = resume_records(array, array_stream.position()).records  # type: ignore[arg-type]
    assert element.payload == [1, 2]


def test_csv_position_keeps_the_header(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_bytes(reader.UTF8_BOM + b'handle,bio\n\nada,"two\nlines"\nbob,x\n')

    stream = open_records(rows)
    next(stream.records)

    assert stream.position() == ReadPosition(CSV_LAYOUT, offset=3 + 11 + 1 + 16, line=5, header=("handle", "bio"))
    [row] = resume_records(rows, stream.position()).records  # type: ignore[arg-type]
    assert row.payload == {"handle": "bob", "bio": "x"}
    assert row.location.line == 5


def test_document_has_no_position(tmp_path: Path) -> None:
    document = tmp_path / "one.json"
    document.write_text('{"a": 1}')

    assert open_records(document).position() is None


def _x_page(page: int, users: int) -> dict[str, Any]:
    data = [{"id": str(page * 100 + user), "username": f"user_{page}_{user}", "name": "U"} for user in range(users)]
    return {"data": data, "meta": {"result_count": users}}


@pytest.mark.parametrize("size", [1, 4, 5, 7])
def test_chained_chunks_read_whole_file(tmp_path: Path, size: int) -> None:
    pages = tmp_path / "pages.jsonl"
    lines = [json.dumps(_x_page(page, users=1 + page % 3)) for page in range(40)]
    lines.insert(30, "not json")
    pages.write_text("\n".join(lines) + "\n")

    chunks, start = [], None
    while True:
        items, start = read_chunk(pages, size, start)
        chunks.append(items)
        if start is None:
            break

    read = [item.parse() for chunk in chunks for item in chunk]
    assert read == [item.parse() for item in read_items(pages)]
    # After the first chunk, which contains the detection sample, a chunk ends with the
    # first whole record that brings it to `size` items.
    for chunk in chunks[1:-1]:
        last_record = chunk[-1].read
        assert len(chunk) >= size
        assert sum(item.read is not last_record for item in chunk) < size


def test_first_chunk_holds_the_whole_detection_sample(tmp_path: Path) -> None:
    pages = tmp_path / "pages.jsonl"
    pages.write_text("".join(json.dumps(_x_page(page, users=3)) + "\n" for page in range(30)))

    items, start = read_chunk(pages, 2)

    # The format is detected from 20 decoded records, so the first chunk takes all of them.
    assert len(items) == 20 * 3
    assert start is not None
    assert start.format_name == "x-api-v2"
    assert start.position.line == 21


@pytest.mark.parametrize("size", [1, 7])
def test_chained_csv_chunks_read_whole_file(tmp_path: Path, size: int) -> None:
    rows = tmp_path / "rows.csv"
    body = "".join(f'x,user_{n},"bio of\nuser {n}"\n' for n in range(45))
    rows.write_text("platform,handle,bio\n" + body + "x,a,b,c,d\n" + body.replace("user_", "other_"))

    read, start = [], None
    while True:
        items, start = read_chunk(rows, size, start, ReadOptions("csv-followers"))
        read.extend(item.parse() for item in items)
        if start is None:
            break

    assert read == [item.parse() for item in read_items(rows, "csv-followers")]


def test_read_chunk_refuses_a_document(tmp_path: Path) -> None:
    document = tmp_path / "page.json"
    document.write_text(json.dumps(_x_page(1, users=30)))

    with pytest.raises(ValueError, match=f"reads JSON Lines, JSON arrays and CSV only, and {document} reads as json"):
        read_chunk(document, 5)
