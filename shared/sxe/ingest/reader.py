"""Read a source file into decoded JSON values, one per record.

A file is one of three layouts, chosen per file:

- a JSON document: one record located by the file alone;
- a JSON array: one record per element, located by its 0-based index;
- JSON Lines: one record per non-blank line, located by its 1-based line number.

Files named `*.jsonl`, `*.ndjson` or `*.jsonlines` are always read as JSON Lines.
For other names the layout follows the content: a file that parses as one JSON
value is a document or an array, and a file that does not is JSON Lines when its
lines parse on their own (see `_looks_like_jsonl`).

A UTF-8 byte order mark is skipped and CRLF line ends are accepted. A JSONL line
that is not valid JSON becomes an `UnreadableRecord` at that line and the other
lines are still read. A JSON document or array that does not parse becomes one
`UnreadableRecord` for the whole file. Reasons name the line and column of the
error and never quote the content.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sxe.errors import UsageError
from sxe.ingest.hashing import bytes_hash
from sxe.models import RecordLocation, Rejection, SourceRecord

UTF8_BOM = b"\xef\xbb\xbf"
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".jsonlines"})


@dataclass(frozen=True, slots=True)
class UnreadableRecord:
    """A line or file that is not valid UTF-8 JSON.

    `content_hash` is the hex SHA-256 of the raw bytes, so repeats can be counted
    without storing the content.
    """

    location: RecordLocation
    rejection: Rejection
    content_hash: str


ReadResult = SourceRecord | UnreadableRecord


def read_records(path: str | Path) -> Iterator[ReadResult]:
    """Yield one `SourceRecord` per decoded value and one `UnreadableRecord` per failure.

    An empty or all-whitespace file yields nothing. Raises UsageError when the file
    cannot be opened.
    """
    path = Path(path)
    data = _read_bytes(path).removeprefix(UTF8_BOM)
    if not data.strip():
        return

    name = str(path)
    if path.suffix.lower() in JSONL_SUFFIXES:
        yield from _jsonl_records(name, data)
        return

    whole_error: json.JSONDecodeError | UnicodeDecodeError
    try:
        value = json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        whole_error = error
    else:
        yield from _document_records(name, value)
        return

    if _looks_like_jsonl(data, whole_error):
        yield from _jsonl_records(name, data)
    else:
        yield _unreadable_file(name, data, whole_error)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"input file not found: {path}; check the path") from None
    except IsADirectoryError:
        raise UsageError(f"input path is a directory, not a file: {path}") from None
    except OSError as error:
        raise UsageError(f"cannot read input file {path}: {error.strerror}") from None


def _document_records(name: str, value: Any) -> Iterator[SourceRecord]:
    if isinstance(value, list):
        for index, element in enumerate(value):
            yield SourceRecord(location=RecordLocation(file=name, index=index), payload=element)
    else:
        yield SourceRecord(location=RecordLocation(file=name), payload=value)


def _looks_like_jsonl(data: bytes, whole_error: json.JSONDecodeError | UnicodeDecodeError) -> bool:
    """Decide whether a file that failed to parse as one document is JSON Lines.

    It is when it has two or more non-blank lines and either the first value ended
    before more data, the first line parses alone, or at least half the lines parse
    alone. A broken pretty-printed document has few lines that parse alone.
    """
    lines = [line for line in data.split(b"\n") if line.strip()]
    if len(lines) < 2:
        return False
    if isinstance(whole_error, json.JSONDecodeError) and whole_error.msg == "Extra data":
        return True
    if _parses_alone(lines[0]):
        return True

    parsed = sum(1 for line in lines if _parses_alone(line))
    return parsed * 2 >= len(lines)


def _parses_alone(line: bytes) -> bool:
    try:
        value = json.loads(line.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return isinstance(value, (dict, list))


def _jsonl_records(name: str, data: bytes) -> Iterator[ReadResult]:
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        line = raw_line.strip()
        if not line:
            continue

        location = RecordLocation(file=name, line=number)
        try:
            value = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError as error:
            reason = f"line {number} is not valid UTF-8: invalid byte at offset {error.start}"
            yield _unreadable(location, reason, line)
        except json.JSONDecodeError as error:
            reason = f"line {number} is not valid JSON: {_error_message(error)} at column {error.colno}"
            yield _unreadable(location, reason, line)
        else:
            yield SourceRecord(location=location, payload=value)


def _unreadable_file(name: str, data: bytes, error: json.JSONDecodeError | UnicodeDecodeError) -> UnreadableRecord:
    if isinstance(error, UnicodeDecodeError):
        reason = f"file is not valid UTF-8: invalid byte at offset {error.start}"
    else:
        reason = f"file is not valid JSON: {_error_message(error)} at line {error.lineno}, column {error.colno}"
    return _unreadable(RecordLocation(file=name), reason, data)


def _error_message(error: json.JSONDecodeError) -> str:
    """Return the decoder's message without its trailing " at", which the caller's position replaces."""
    return error.msg.removesuffix(" at")


def _unreadable(location: RecordLocation, reason: str, raw: bytes) -> UnreadableRecord:
    return UnreadableRecord(
        location=location,
        rejection=Rejection(kind="unparseable", reason=reason),
        content_hash=bytes_hash(raw),
    )
