"""Gzip-compressed input reads as its content, and a damaged file keeps the records before the damage."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path

import pytest

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


def test_gzip_damage_keeps_earlier_records(tmp_path: Path) -> None:
    users = [{"id": n, "name": hashlib.sha256(str(n).encode()).hexdigest()} for n in range(2000)]
    compressed = bytearray(gzip.compress("".join(json.dumps(user) + "\n" for user in users).encode()))
    # Inverted bytes damage the deflate stream from there on. The gzip module reads the
    # stream in blocks of 8 KiB (Python 3.11) or 128 KiB (3.12), so the damage is in its first block.
    damaged_at = 6000
    compressed[damaged_at : damaged_at + 40] = bytes(byte ^ 0xFF for byte in compressed[damaged_at : damaged_at + 40])
    path = tmp_path / "damaged.jsonl.gz"
    path.write_bytes(bytes(compressed))

    records = list(read_records(path))

    decoded = [record.payload for record in records if isinstance(record, DecodedRecord)]
    assert len(decoded) > 50
    assert decoded == users[: len(decoded)]
    damage = records[-1]
    assert isinstance(damage, UnreadableRecord)
    assert damage.rejection.reason.startswith("file is a damaged gzip file: ")
