from __future__ import annotations

from pathlib import Path

import pytest

from sxe.errors import UsageError
from sxe.pipeline import collect_inputs, find_inputs


def test_folder_gives_every_readable_suffix(tmp_path: Path) -> None:
    names = ["a.json", "b.jsonl", "c.ndjson", "d.jsonlines", "e.csv", "g.json.gz", "nested/f.TSV", "notes.txt", "h.gz"]
    for name in names:
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("{}\n")

    found = collect_inputs([tmp_path])

    assert [path.relative_to(tmp_path).as_posix() for path in found] == names[:7]


def test_folder_without_inputs_names_the_suffixes(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing to read")

    with pytest.raises(UsageError) as raised:
        collect_inputs([tmp_path])

    message = str(raised.value)
    assert f"folder {tmp_path} contains no " in message
    assert ".csv" in message
    assert ".jsonl" in message
    assert "pass files or another folder" in message


def test_file_of_any_suffix_is_taken(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text("{}\n")

    assert collect_inputs([path]) == [path]


def test_folder_files_of_other_suffixes_are_listed(tmp_path: Path) -> None:
    for name in ("a.json", "notes.txt", "b.csv.gz", "c.txt.gz"):
        (tmp_path / name).write_text("{}\n")

    files, skipped = find_inputs([tmp_path])

    assert files == [tmp_path / "a.json", tmp_path / "b.csv.gz"]
    assert skipped == [tmp_path / "c.txt.gz", tmp_path / "notes.txt"]
