"""Gzip-compressed input reads as its content, and a damaged file keeps the records before the damage."""

from __future__ import annotations

import errno
import gzip
import io
import json
import zlib
from pathlib import Path

import pytest

from sxe.errors import UsageError
from sxe.ingest import read_profiles, reader
from sxe.ingest.compressed import content_suffix
from sxe.ingest.reader import DecodedRecord, UnreadableRecord, choose_layout, open_records, read_records
from sxe.models import FileDamage

USERS = [{"id": n, "id_str": str(n), "screen_name": f"user_{n}", "name": f"User {n}"} for n in range(300)]
LINES = "".join(json.dumps(user) + "\n" for user in USERS).encode()


def _payloads(path: Path) -> list[object]:
    return [record.payload for record in read_records(path) if isinstance(record, DecodedRecord)]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("users.jsonl.gz", LINES),
        ("users.json.gz", json.dumps(USERS).encode()),
        ("export.gz", LINES),
    ],
)
def test_gzip_file_reads_like_its_content(tmp_path: Path, name: str, data: bytes) -> None:
    plain = tmp_path / "plain.jsonl"
    plain.write_bytes(LINES)
    compressed = tmp_path / name
    compressed.write_bytes(gzip.compress(data))

    assert _payloads(compressed) == _payloads(plain) == USERS


def test_gzip_tsv_dialect_from_inner_suffix(tmp_path: Path) -> None:
    path = tmp_path / "fans.tsv.gz"
    path.write_bytes(gzip.compress(b"platform\thandle\ntiktok\tana\n"))

    [record] = read_profiles(path)

    assert record.format == "csv-followers"
    assert record.result.handle == "ana"  # type: ignore[union-attr]


def test_concatenated_gzip_members_read_as_one_file(tmp_path: Path) -> None:
    path = tmp_path / "parts.jsonl.gz"
    half = len(LINES) // 2
    cut = LINES.index(b"\n", half) + 1
    path.write_bytes(gzip.compress(LINES[:cut]) + gzip.compress(LINES[cut:]))

    assert _payloads(path) == USERS


@pytest.mark.parametrize("read_bytes", [7, 64 * 1024])
def test_truncated_gzip_keeps_the_records_before_the_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_bytes: int
) -> None:
    monkeypatch.setattr(reader, "READ_BYTES", read_bytes)
    compressed = gzip.compress(LINES)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(compressed[: len(compressed) * 2 // 3])

    records = list(read_records(path))

    decoded = [record.payload for record in records if isinstance(record, DecodedRecord)]
    assert 0 < len(decoded) < len(USERS)
    assert decoded == USERS[: len(decoded)]
    damage = records[-1]
    assert isinstance(damage, UnreadableRecord)
    assert damage.location.file == str(path)
    assert damage.rejection.reason.startswith("file is a damaged gzip file: Compressed file ended before")
    assert damage.rejection.reason.endswith("was not read, so compress or download the file again")
    assert isinstance(damage.rejection, FileDamage)
    assert f"after decompressed byte {damage.rejection.offset} " in damage.rejection.reason


def test_gzip_stream_is_recognised_by_its_first_bytes() -> None:
    stream = io.BytesIO(gzip.compress(LINES))

    records = list(open_records(stream, name="upload").records)

    assert [record.payload for record in records if isinstance(record, DecodedRecord)] == USERS


@pytest.mark.parametrize(
    ("name", "suffix"),
    [("a.jsonl.gz", ".jsonl"), ("A.CSV.GZ", ".csv"), ("b.json", ".json"), ("data.gz", ""), ("notes.txt.gz", ".txt")],
)
def test_content_suffix_looks_past_gz(name: str, suffix: str) -> None:
    assert content_suffix(name) == suffix


def test_gzip_layout_from_content(tmp_path: Path) -> None:
    array = tmp_path / "export.gz"
    array.write_bytes(gzip.compress(json.dumps(USERS).encode()))
    rows = tmp_path / "fans.csv.gz"
    rows.write_bytes(gzip.compress(b"platform,handle\ntiktok,ana\n"))

    assert choose_layout(array) == reader.JSON_ARRAY
    assert choose_layout(rows) == reader.CSV_LAYOUT


def _stored_block_gzip(data: bytes) -> bytearray:
    """Return `data` gzipped without compression, so its bytes are stored unchanged in deflate blocks."""
    return bytearray(gzip.compress(data, compresslevel=0))


def _with_changed_content(data: bytes) -> bytes:
    """Return `data` gzipped with one content byte changed, which zlib decompresses without an error.

    The digit changed stays a digit, so every line still parses, and only the CRC-32
    check at the end of the stream fails.
    """
    compressed = _stored_block_gzip(data)
    middle = compressed.index(b'"id": 150,')
    compressed[middle + len(b'"id": 1')] = ord("9")
    return bytes(compressed)


def _with_invalid_block(data: bytes) -> bytes:
    """Return `data` gzipped with a deflate block of the reserved type 11 in the middle, which makes zlib raise."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as out:
        out.write(data[: len(data) // 2])
        # A full flush ends the deflate block and starts the next one at a byte boundary.
        out.flush(zlib.Z_FULL_FLUSH)
        block_start = buffer.tell()
        out.write(data[len(data) // 2 :])
    compressed = bytearray(buffer.getvalue())
    compressed[block_start] = 0xFF
    return bytes(compressed)


CORRUPTIONS = {
    "changed content": (_with_changed_content, "CRC check failed"),
    "invalid deflate data": (_with_invalid_block, "invalid block type"),
    "bad second member": (lambda data: gzip.compress(data) + b"not gzip", "Not a gzipped file"),
}


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_corrupt_gzip_file_yields_only_its_damage(tmp_path: Path, corruption: str) -> None:
    corrupt, message = CORRUPTIONS[corruption]
    path = tmp_path / "corrupt.jsonl.gz"
    path.write_bytes(corrupt(LINES))

    records = list(read_records(path))

    [damage] = records
    assert isinstance(damage, UnreadableRecord)
    assert isinstance(damage.rejection, FileDamage)
    assert damage.location.file == str(path)
    assert damage.rejection.reason.startswith(f"{path} is a corrupt gzip file: ")
    assert message in damage.rejection.reason
    assert damage.rejection.reason.endswith("download or compress it again; nothing from this file was stored")


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_corrupt_gzip_stream_yields_only_its_damage(corruption: str) -> None:
    corrupt, message = CORRUPTIONS[corruption]
    stream = io.BytesIO(corrupt(LINES))

    records = list(open_records(stream, name="upload.jsonl.gz").records)

    [damage] = records
    assert isinstance(damage.rejection, FileDamage)
    assert damage.rejection.reason.startswith("upload.jsonl.gz is a corrupt gzip file: ")
    assert message in damage.rejection.reason
    assert not stream.closed


class _FullDisk(io.BytesIO):
    def write(self, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_stream_check_full_disk_names_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader.tempfile, "TemporaryFile", _FullDisk)
    stream = io.BytesIO(gzip.compress(LINES))

    with pytest.raises(UsageError, match="No space left on device. Free space there, or set TMPDIR"):
        open_records(stream, name="upload.jsonl.gz")


def test_stream_check_write_error_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    class _Broken(io.BytesIO):
        def write(self, data: object) -> int:
            raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(reader.tempfile, "TemporaryFile", _Broken)

    with pytest.raises(OSError, match="Input/output error"):
        open_records(io.BytesIO(gzip.compress(LINES)), name="upload.jsonl.gz")


def test_truncated_gzip_stream_keeps_earlier_records() -> None:
    compressed = gzip.compress(LINES)
    stream = io.BytesIO(compressed[: len(compressed) * 2 // 3])

    records = list(open_records(stream, name="cut.jsonl.gz").records)

    decoded = [record.payload for record in records if isinstance(record, DecodedRecord)]
    assert 0 < len(decoded) < len(USERS)
    assert decoded == USERS[: len(decoded)]
    assert isinstance(records[-1].rejection, FileDamage)  # type: ignore[union-attr]
    assert records[-1].rejection.reason.startswith("file is a damaged gzip file: ")  # type: ignore[union-attr]


def test_corrupt_inner_gzip_layer_is_found(tmp_path: Path) -> None:
    path = tmp_path / "nested.jsonl.gz"
    path.write_bytes(gzip.compress(_with_changed_content(LINES)))

    [damage] = read_records(path)

    assert isinstance(damage, UnreadableRecord)
    assert "is a corrupt gzip file: CRC check failed" in damage.rejection.reason
