"""Which ingest worker reads and sends each part of each file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from sxe.ingest import parallel
from sxe.ingest.parallel import _Turns


def test_small_file_has_one_sender_large_takes_turns(tmp_path: Path) -> None:
    small = tmp_path / "small.jsonl"
    small.write_bytes(b"x" * parallel.SMALL_FILE_BYTES)
    large = tmp_path / "large.jsonl"
    large.write_bytes(b"x" * (parallel.SMALL_FILE_BYTES + 1))
    missing = tmp_path / "missing.jsonl"

    turns = _Turns.plan([small, large, small, missing], workers=2, format_name=None)

    assert [turns.sender(0, part) for part in range(3)] == [0, 0, 0]
    assert [turns.sender(1, part) for part in range(3)] == [0, 1, 0]
    assert [turns.sender(2, part) for part in range(3)] == [0, 0, 0]
    assert [turns.sender(3, part) for part in range(3)] == [1, 1, 1]
    assert [turns.skips(worker, 0) for worker in (0, 1)] == [False, True]
    assert [turns.skips(worker, 1) for worker in (0, 1)] == [False, False]
    assert [turns.skips(worker, 3) for worker in (0, 1)] == [True, False]


def test_large_json_lines_arrays_and_csv_are_chained(tmp_path: Path) -> None:
    filler = b" " * parallel.SMALL_FILE_BYTES
    files = {
        "lines.jsonl": b"{}\n" + filler,
        "array.json": b"[" + filler + b"]",
        "document.json": b"{" + filler + b"}",
        "rows.csv": b"handle\n" + filler,
        "small-array.json": b"[]",
    }
    paths = []
    for name, data in files.items():
        paths.append(tmp_path / name)
        paths[-1].write_bytes(data)

    assert _Turns.plan(paths, workers=2, format_name=None).chained == [True, True, False, True, False]
    # A forced CSV format reads every file as CSV, so every large one is chained.
    assert _Turns.plan(paths, workers=2, format_name="csv-followers").chained == [True] * 4 + [False]


def test_large_gzip_file_chained_through_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = b'{"id": 1}\n' * 1000
    names = ["lines.jsonl.gz", "document.json.gz", "nested.jsonl.gz", "plain.jsonl"]
    contents = [gzip.compress(lines), gzip.compress(b"{" + lines + b"}"), gzip.compress(gzip.compress(lines)), lines]
    paths = []
    for name, data in zip(names, contents, strict=True):
        paths.append(tmp_path / name)
        paths[-1].write_bytes(data)
    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 10)

    turns = _Turns.plan(paths, workers=2, format_name=None)

    # The workers resume a decompressed copy of a gzip file. A gzip file inside a gzip
    # file and a JSON document are read whole by every worker.
    assert turns.chained == [True, False, False, True]
    assert turns.copied == [True, False, False, False]
