"""Read a source file into decoded records, one per JSON value or CSV row, in constant memory.

A file is one of four layouts, chosen per file:

- a JSON document: one record located by the file alone;
- a JSON array: one record per element, located by its 0-based index;
- JSON Lines: one record per non-blank line, located by its 1-based line number;
- CSV: one record per data row (a dict keyed by the header), located by its line number.

Files named `*.jsonl`, `*.ndjson` or `*.jsonlines` are always JSON Lines and files
named `*.csv` or `*.tsv` always CSV. Otherwise the first bytes decide: `[` starts a
JSON array, `{` a document or JSON Lines (see `_looks_like_jsonl`), and any other
first character a CSV header, except in a file named `*.json`.

Arrays, JSON Lines and CSV are read as streams, so memory stays flat whatever the
file size. A document is read whole, up to `MAX_DOCUMENT_BYTES`.

A UTF-8 byte order mark is skipped and CRLF line ends are accepted. A JSONL line
that is not valid JSON, including a truncated last line, becomes an
`UnreadableRecord` at that line and the other lines are still read. An array
element that is not valid JSON or not UTF-8 becomes an `UnreadableRecord` at its
index, and the elements after it are still read, unless its brackets or quotes never
close (see `_array_records`). A document that does not parse is one
`UnreadableRecord` for the whole file. Reasons name the line and column of the error
and never quote the content. Every record carries its raw bytes, or their SHA-256 for
an unreadable one.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, NamedTuple, cast

import orjson

from sxe.errors import UsageError
from sxe.ingest.compressed import (
    GZIP_MAGIC,
    GzipContent,
    GzipDamage,
    Prefixed,
    Teeing,
    content_suffix,
    find_corruption,
    is_gzip,
)
from sxe.ingest.hashing import bytes_hash
from sxe.models import FileDamage, RecordLocation, Rejection

UTF8_BOM = b"\xef\xbb\xbf"
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".jsonlines"})
CSV_SUFFIXES = frozenset({".csv", ".tsv"})

HEAD_BYTES = 64 * 1024
SAVE_AS_UTF8 = "save the file as UTF-8, such as with `iconv -f WINDOWS-1252 -t UTF-8` for a Windows export"
# The first bytes of files without text records, with what each file is and how to get text from it.
FOREIGN_FILES = (
    (b"PK\x03\x04", "a ZIP archive, such as an Excel workbook (.xlsx)", "export the sheet as CSV UTF-8, or unzip it"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls)", "export the sheet as CSV UTF-8"),
    (b"%PDF", "a PDF document", "export the data as CSV or JSON instead"),
    (b"\xff\xfe", "UTF-16 text", "save it as CSV UTF-8, or convert it with `iconv -f UTF-16 -t UTF-8`"),
    (b"\xfe\xff", "UTF-16 text", "save it as CSV UTF-8, or convert it with `iconv -f UTF-16 -t UTF-8`"),
)
READ_BYTES = 256 * 1024
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
MAX_RECORD_BYTES = 16 * 1024 * 1024
JSONL_SAMPLE_LINES = 64

JSON_DOCUMENT = "json"
JSON_ARRAY = "json-array"
JSON_LINES = "jsonl"
CSV_LAYOUT = "csv"


@dataclass(frozen=True, slots=True)
class DecodedRecord:
    """One decoded JSON value or CSV row, with the bytes (or text) it was read from.

    `raw` is empty where nothing was read, such as a record that arrived decoded.
    """

    location: RecordLocation
    payload: Any
    raw: bytes | str
    _raw_sha256: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def raw_sha256(self) -> str:
        """Return the hex SHA-256 of `raw` as UTF-8, or "" when it is empty.

        Computed on first access, because a record that is never parsed, such as a
        duplicate, never needs it. The items of one envelope share the record, so it
        is computed once for all of them.
        """
        digest = self._raw_sha256
        if digest is None:
            raw = self.raw.encode("utf-8") if isinstance(self.raw, str) else self.raw
            digest = bytes_hash(raw) if raw else ""
            object.__setattr__(self, "_raw_sha256", digest)
        return digest


@dataclass(frozen=True, slots=True)
class UnreadableRecord:
    """A line, element, row or file that is not valid UTF-8 JSON or CSV.

    `content_hash` is the hex SHA-256 of the raw bytes, so repeats can be counted
    without storing the content.
    """

    location: RecordLocation
    rejection: Rejection
    content_hash: str


ReadResult = DecodedRecord | UnreadableRecord


@dataclass(frozen=True, slots=True)
class ReadPosition:
    """The position of a JSON Lines, JSON array or CSV reader after the last record it yielded.

    `offset` is the file offset of the first byte after that record, `line` the line
    number at that byte, `index` the array index of the next element (0 for the
    other layouts), and `header` a CSV file's header once it was read.
    `resume_records` reads on from here, in this or another process, so a record is
    decoded by one reader only.
    """

    layout: str
    offset: int
    line: int
    index: int = 0
    header: tuple[str, ...] | None = None


# The layouts whose readers can stop after any record and resume there.
RESUMABLE_LAYOUTS = frozenset({JSON_LINES, JSON_ARRAY, CSV_LAYOUT})


@dataclass(slots=True)
class RecordStream:
    """The records of one file, the layout they were read in, and for a resumable layout the reader's position."""

    layout: str
    records: Iterator[ReadResult]
    _position: Callable[[], ReadPosition] | None = None

    def __iter__(self) -> Iterator[ReadResult]:
        return self.records

    def position(self) -> ReadPosition | None:
        """Return the reader's position after the last record it yielded, or None for a layout it cannot resume."""
        return None if self._position is None else self._position()

    def close(self) -> None:
        """Stop reading early. A stream opened from a path closes its file."""
        close = getattr(self.records, "close", None)
        if close is not None:
            close()


def read_records(path: str | Path) -> Iterator[ReadResult]:
    """Yield one record per decoded value or row of the file at `path`.

    An empty or all-whitespace file yields nothing. Raises UsageError when the file
    cannot be opened.
    """
    stream = open_records(path)
    return stream.records


def open_records(source: str | Path | IO[bytes], *, name: str | None = None, layout: str | None = None) -> RecordStream:
    """Choose the layout of a file or binary stream and return its records as an iterator.

    `name` locates records in messages and picks the layout by suffix; it defaults
    to the path. `layout` forces one of "json", "json-array", "jsonl" or "csv".
    Raises UsageError when a path cannot be opened. A stream is read once, and the
    caller closes it after the records are consumed; a path is opened and closed here.

    A gzip file or stream is decompressed to its end first, because changed bytes in a
    deflate stream can decompress to wrong content that only the final CRC-32 check
    reveals. A corrupt one yields only its damage record. A gzip stream is copied to an
    anonymous temporary file while it is checked, and read again from there.
    """
    owns_handle = isinstance(source, (str, Path))
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = name or str(path)
        corruption = _path_corruption(path)
        if corruption is not None:
            return corrupt_records(name, corruption, layout)
        handle = _open(path)
    else:
        handle = source
        name = name or "stream"

    head = handle.read(HEAD_BYTES)
    if head.startswith(GZIP_MAGIC) and not owns_handle:
        spool, corruption = _spool_checked(head, handle)
        if corruption is not None:
            return corrupt_records(name, corruption, layout)
        handle, owns_handle = spool, True
        head = handle.read(HEAD_BYTES)
    if head.startswith(GZIP_MAGIC):
        handle = cast(IO[bytes], GzipContent(Prefixed(head, handle)))
        head = handle.read(HEAD_BYTES)
    _reject_foreign(name, head)
    start = len(UTF8_BOM) if head.startswith(UTF8_BOM) else 0
    head = head[start:]
    chosen = layout or _choose_layout(name, head)
    stream = _records(chosen, name, head, handle, start)
    if isinstance(handle, GzipContent):
        stream.records = _reporting_damage(stream.records, handle, name)
    if owns_handle:
        stream.records = _closing(stream.records, handle)
    return stream


def corrupt_records(name: str, damage: GzipDamage, layout: str | None = None) -> RecordStream:
    """Return the records of the corrupt gzip file `name`: only the record that quarantines it.

    The layout is `layout`, or a JSON document's, so that a format chosen for the file
    applies and none is detected from its content.
    """
    return RecordStream(layout or JSON_DOCUMENT, iter((damage_record(name, damage),)))


def choose_layout(path: Path, layout: str | None = None) -> str:
    """Return the layout `open_records` reads the file at `path` in, from its name and first bytes."""
    if layout is not None:
        return layout
    with _open(path) as handle:
        head = handle.read(HEAD_BYTES).removeprefix(UTF8_BOM)
    return _choose_layout(str(path), head)


def resume_records(path: Path, position: ReadPosition, *, name: str | None = None) -> RecordStream:
    """Read the records of the file at `path` that follow `position`, as `open_records` would yield them there.

    The file must be the one `position` was taken in. Raises UsageError when it
    cannot be opened.
    """
    handle = _open(path)
    handle.seek(position.offset)
    name = name or str(path)
    if position.layout == JSON_LINES:
        stream = _jsonl_stream(name, _lines(b"", handle), _LineCursor(position.offset, position.line))
    elif position.layout == CSV_LAYOUT:
        stream = _csv_stream(name, _lines(b"", handle), _RawLines(position.offset, position.line, position.header))
    else:
        stream = _array_stream(name, _ArrayText(b"", handle, position))
    if isinstance(handle, GzipContent):
        stream.records = _reporting_damage(stream.records, handle, name)
    stream.records = _closing(stream.records, handle)
    return stream


class DecompressedCopy(NamedTuple):
    """The content of a gzip file written to the plain file `path`, and the damage that ended it, if any.

    Readers given a copy read `path` under the gzip file's name and add the damage
    record at the end, so they yield the records that reading the gzip file yields.
    """

    path: Path
    damage: GzipDamage | None


def decompress_copy(path: Path, target: Path) -> DecompressedCopy:
    """Write the content of the gzip file at `path` to the new file `target`, readable by its owner only.

    The content is read in the sizes `open_records` reads a JSON Lines, JSON array or
    CSV file in, because the read sizes decide how much content a damaged block takes
    with it (see `GzipContent`). Memory stays at one read. Raises UsageError when `path`
    cannot be opened, and OSError when `target` exists or cannot be written.
    """
    with GzipContent(_open_file(path)) as content:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(descriptor, "wb") as out:
            part = content.read(HEAD_BYTES)
            while part:
                out.write(part)
                part = content.read(READ_BYTES)
        return DecompressedCopy(target, content.found_damage())


def damage_record(name: str, damage: GzipDamage) -> UnreadableRecord:
    """Return the record that quarantines the damaged end or the corruption of the gzip file `name`, a FileDamage."""
    if damage.truncated:
        reason = (
            f"file is a damaged gzip file: {damage.message}; the content after decompressed byte {damage.offset} "
            "was not read, so compress or download the file again"
        )
    else:
        reason = (
            f"{name} is a corrupt gzip file: {damage.message} at decompressed byte {damage.offset}; "
            "download or compress it again; nothing from this file was stored"
        )
    rejection = FileDamage(kind="unparseable", reason=reason, offset=damage.offset)
    return replace(_unreadable(RecordLocation(file=name), reason, b""), rejection=rejection)


def _open(path: Path) -> IO[bytes]:
    """Open the file at `path` for reading its content: a gzip file is decompressed as it is read."""
    handle = _open_file(path)
    if handle.peek(len(GZIP_MAGIC))[: len(GZIP_MAGIC)] == GZIP_MAGIC:
        return cast(IO[bytes], GzipContent(handle))
    return handle


def _path_corruption(path: Path) -> GzipDamage | None:
    """Return the damage that makes the file at `path` a corrupt gzip file, or None for any other file."""
    if not is_gzip(path):
        return None
    return find_corruption(_open_file(path))


# The errors of a write that found the disk or the user's quota full.
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def _spool_checked(head: bytes, rest: IO[bytes]) -> tuple[IO[bytes], GzipDamage | None]:
    """Copy a gzip stream that starts with `head` to an anonymous temporary file while checking it.

    Returns the copy, at its start, and the damage that makes the stream corrupt, or
    None. The copy contains the compressed bytes, and is closed here when the stream is corrupt.
    """
    spool = tempfile.TemporaryFile()
    try:
        corruption = find_corruption(Teeing(Prefixed(head, rest), spool))
        spool.seek(0)
    except OSError as error:
        spool.close()
        if error.errno not in _NO_ROOM:
            raise
        raise UsageError(
            f"cannot copy the gzip stream into {tempfile.gettempdir()} to check it: {error.strerror}. "
            "Free space there, or set TMPDIR to a folder with room for the compressed file"
        ) from None
    except BaseException:
        spool.close()
        raise
    if corruption is not None:
        spool.close()
    return spool, corruption


def _open_file(path: Path) -> io.BufferedReader:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise UsageError(f"input file not found: {path}; check the path") from None
    except IsADirectoryError:
        raise UsageError(f"input path is a directory, not a file: {path}") from None
    except OSError as error:
        raise UsageError(f"cannot read input file {path}: {error.strerror}") from None


def _reporting_damage(records: Iterator[ReadResult], content: GzipContent, name: str) -> Iterator[ReadResult]:
    """Yield `records`, then an unreadable record whose rejection is a FileDamage when the gzip stream was damaged."""
    yield from records
    damage = content.found_damage()
    if damage is not None:
        yield damage_record(name, damage)


def _closing(records: Iterator[ReadResult], handle: IO[bytes]) -> Iterator[ReadResult]:
    try:
        yield from records
    finally:
        handle.close()


def _reject_foreign(name: str, head: bytes) -> None:
    """Raise UsageError for a file without text records, naming what it is and how to export them."""
    for magic, kind, fix in FOREIGN_FILES:
        if head.startswith(magic):
            raise UsageError(f"{name} is {kind}, not JSON or CSV text; {fix}, then import that file")


def _choose_layout(name: str, head: bytes) -> str:
    suffix = content_suffix(name)
    if suffix in JSONL_SUFFIXES:
        return JSON_LINES
    if suffix in CSV_SUFFIXES:
        return CSV_LAYOUT

    first = head.lstrip()[:1]
    if first == b"[":
        return JSON_ARRAY
    if first in (b"{", b"") or suffix == ".json":
        return JSON_DOCUMENT
    return CSV_LAYOUT


def _records(layout: str, name: str, head: bytes, handle: IO[bytes], start: int) -> RecordStream:
    """Return the records of `head` and the rest of `handle`, whose first byte is at file offset `start`."""
    if layout == JSON_LINES:
        return _jsonl_stream(name, _lines(head, handle), _LineCursor(start, 1))
    if layout == JSON_ARRAY:
        return _array_stream(name, _ArrayText(head, handle, ReadPosition(JSON_ARRAY, start, 1)))
    if layout == CSV_LAYOUT:
        return _csv_stream(name, _lines(head, handle), _RawLines(start, 1))
    return RecordStream(layout, _document_or_lines(name, head, handle))


# --- Lines -----------------------------------------------------------------------------


def _lines(head: bytes, handle: IO[bytes]) -> Iterator[bytes]:
    """Yield the lines of `head` followed by the rest of the stream, each with its line end.

    `start` moves through the buffer instead of slicing the rest of it off after each
    line, which would copy up to a whole read per line.
    """
    buffer, start = head, 0
    while True:
        end = buffer.find(b"\n", start)
        if end >= 0:
            yield buffer[start : end + 1]
            start = end + 1
            continue
        chunk = handle.read(READ_BYTES)
        if not chunk:
            if start < len(buffer):
                yield buffer[start:]
            return
        buffer, start = buffer[start:] + chunk, 0


@dataclass(slots=True)
class _LineCursor:
    """The file offset and number of the next line a JSON Lines reader takes."""

    offset: int
    line: int

    def position(self) -> ReadPosition:
        return ReadPosition(JSON_LINES, self.offset, self.line)


def _jsonl_stream(name: str, lines: Iterator[bytes], cursor: _LineCursor) -> RecordStream:
    return RecordStream(JSON_LINES, _jsonl_records(name, lines, cursor), cursor.position)


def _jsonl_records(name: str, lines: Iterator[bytes], cursor: _LineCursor | None = None) -> Iterator[ReadResult]:
    """Yield a record per non-blank line, moving `cursor` past each line before its record is yielded."""
    cursor = cursor or _LineCursor(0, 1)
    for number, raw_line in enumerate(lines, start=cursor.line):
        cursor.offset += len(raw_line)
        cursor.line = number + 1
        line = raw_line.strip()
        if not line:
            continue
        yield _decode_line(name, number, line)


def _decode_line(name: str, number: int, line: bytes) -> ReadResult:
    location = RecordLocation(file=name, line=number)
    if _orjson_reads_exactly(line):
        # orjson decodes the common case faster. It rejects some text the json module
        # reads (NaN, lone surrogates), so the json module decides what is valid.
        try:
            return DecodedRecord(location=location, payload=orjson.loads(line), raw=line)
        except orjson.JSONDecodeError:
            pass
    try:
        value = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as error:
        reason = f"line {number} is not valid UTF-8: invalid byte at offset {error.start}; {SAVE_AS_UTF8}"
        return _unreadable(location, reason, line)
    except json.JSONDecodeError as error:
        reason = f"line {number} is not valid JSON: {_error_message(error)} at column {error.colno}"
        return _unreadable(location, reason, line)
    return DecodedRecord(location=location, payload=value, raw=line)


def _orjson_reads_exactly(text: bytes) -> bool:
    """Return False for JSON text with an integer that orjson would read as a float.

    orjson turns an integer outside the signed and unsigned 64-bit ranges into a
    float, where the json module keeps it exact. Every integer of up to 19 digits
    fits, negative ones up to 18, so only longer digit runs are looked at, found by
    byte searches that skip the 19-digit ids of most payloads. A run right after a
    quote or letter is inside a string. One inside a string that reads as a number
    costs only the json module's slower decoding.
    """
    digits = text.translate(_DIGITS_AS_ZEROS)
    for needle in (_TWENTY_DIGITS, _MINUS_NINETEEN_DIGITS):
        start = digits.find(needle)
        while start >= 0:
            number = _INTEGER.match(text, start)
            assert number is not None, "the needle starts with an integer"
            if (start == 0 or text[start - 1] in _BEFORE_NUMBER) and not (
                _INT64_MIN <= int(number.group()) <= _UINT64_MAX
            ):
                return False
            start = digits.find(needle, number.end())
    return True


_DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_TWENTY_DIGITS = b"0" * 20
_MINUS_NINETEEN_DIGITS = b"-" + b"0" * 19
_INTEGER = re.compile(b"-?[0-9]+")
# The bytes JSON allows right before a number: after a key, in an array, or white space.
_BEFORE_NUMBER = frozenset(b" \t\r\n:[,")
_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1


# --- Documents -------------------------------------------------------------------------


def _document_or_lines(name: str, head: bytes, handle: IO[bytes]) -> Iterator[ReadResult]:
    """Read a file starting with `{`: one document, or JSON Lines.

    A file that fits in the first read is decided on its whole content. A longer
    one is JSON Lines when its first line parses alone, and a document otherwise.
    """
    more = handle.read(1)
    if not more:
        yield from _small_document(name, head)
        return

    first_line = head.split(b"\n", 1)[0]
    if _parses_alone(first_line) and b"\n" in head.strip():
        yield from _jsonl_records(name, _lines(head + more, handle))
        return

    data = head + more + handle.read(MAX_DOCUMENT_BYTES)
    if handle.read(1):
        reason = f"file is a single JSON document larger than {MAX_DOCUMENT_BYTES} bytes; split it into JSON Lines"
        yield _unreadable(RecordLocation(file=name), reason, data[:HEAD_BYTES])
        return
    yield from _small_document(name, data)


def _small_document(name: str, data: bytes) -> Iterator[ReadResult]:
    if not data.strip():
        return
    whole_error: json.JSONDecodeError | UnicodeDecodeError
    try:
        value = json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        whole_error = error
    else:
        yield from _document_values(name, value, data)
        return

    if _looks_like_jsonl(data, whole_error):
        yield from _jsonl_records(name, iter(data.split(b"\n")))
    else:
        yield _unreadable_file(name, data, whole_error)


def _document_values(name: str, value: Any, data: bytes) -> Iterator[DecodedRecord]:
    if isinstance(value, list):
        # A small array was parsed whole, so an element's raw bytes are its JSON as the json module writes it.
        for index, element in enumerate(value):
            raw = json.dumps(element, ensure_ascii=False).encode("utf-8")
            yield DecodedRecord(RecordLocation(file=name, index=index), element, raw)
    else:
        yield DecodedRecord(RecordLocation(file=name), value, data.strip())


def _looks_like_jsonl(data: bytes, whole_error: json.JSONDecodeError | UnicodeDecodeError) -> bool:
    """Decide whether a file that failed to parse as one document is JSON Lines.

    It is when it has two or more non-blank lines and either the first value ended
    before more data, the first line parses alone, or at least half of the first
    `JSONL_SAMPLE_LINES` lines parse alone. A broken pretty-printed document has few
    lines that parse alone.
    """
    lines = [line for line in data.split(b"\n")[: JSONL_SAMPLE_LINES * 4] if line.strip()][:JSONL_SAMPLE_LINES]
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


def _unreadable_file(name: str, data: bytes, error: json.JSONDecodeError | UnicodeDecodeError) -> UnreadableRecord:
    if isinstance(error, UnicodeDecodeError):
        reason = f"file is not valid UTF-8: invalid byte at offset {error.start}; {SAVE_AS_UTF8}"
    else:
        reason = f"file is not valid JSON: {_error_message(error)} at line {error.lineno}, column {error.colno}"
    return _unreadable(RecordLocation(file=name), reason, data)


# --- Arrays ----------------------------------------------------------------------------


def _array_stream(name: str, text: _ArrayText) -> RecordStream:
    return RecordStream(JSON_ARRAY, _array_records(name, text), text.position)


def _array_records(name: str, text: _ArrayText) -> Iterator[ReadResult]:
    """Stream the elements of a top-level JSON array with `JSONDecoder.raw_decode`.

    The buffer contains at most one element plus one read, so memory stays flat. An
    element that is not valid JSON is quarantined, and the elements after it are
    still read when its brackets and quotes close within `MAX_RECORD_BYTES`.
    Otherwise its end is unknown, so it ends the array, and its reason states that
    the later elements were not read. A reader resumed after an element starts at
    the separators that follow it.
    """
    decoder = json.JSONDecoder()
    index = text.index
    text.fill()
    if index == 0:
        text.skip(_ARRAY_OPENING)
    while True:
        text.skip(_ELEMENT_SEPARATORS)
        if text.exhausted():
            # Separators can go on in the next read, so they are skipped again after it.
            if not text.fill():
                yield _unreadable(RecordLocation(file=name, index=index), "array is not closed with ]", b"")
                return
            continue
        if text.next_character() == "]":
            return

        try:
            value, end = decoder.raw_decode(text.buffer, text.start)
        except json.JSONDecodeError as error:
            element_end = _element_end(text.buffer, text.start)
            if element_end is None and text.remaining() < MAX_RECORD_BYTES and text.fill():
                continue  # the element may go on in the next read
            yield _take_invalid_element(name, text, error, element_end)
            if element_end is None:
                return
            index += 1
            continue
        if end == len(text.buffer) and isinstance(value, (int, float)) and text.fill():
            continue  # a number at the end of the buffer may go on in the next read

        yield _take_element(name, text, value, end)
        index += 1


def _take_element(name: str, text: _ArrayText, value: Any, end: int) -> ReadResult:
    """Return the element that ends at buffer[end] and move past it.

    An element with a byte that is not UTF-8 comes back as a quarantine record.
    """
    location = RecordLocation(file=name, index=text.index)
    invalid_at = text.invalid_byte(end)
    text.index += 1
    if invalid_at is None:
        return DecodedRecord(location, value, text.take(end))

    reason = (
        f"array element {location.index} is not valid UTF-8: invalid byte at file offset {invalid_at}; {SAVE_AS_UTF8}"
    )
    return _unreadable(location, reason, text.take_bytes(end))


def _take_invalid_element(
    name: str, text: _ArrayText, error: json.JSONDecodeError, element_end: int | None
) -> UnreadableRecord:
    """Return the quarantine record of the element at `text.start`, moving past it when its end is known.

    Without an end, the element runs to the end of the file or past
    `MAX_RECORD_BYTES`, and the reason states which.
    """
    location = RecordLocation(file=name, index=text.index)
    if element_end is None:
        # The decoder's message names where it stopped, which does not describe an unclosed element.
        reason = f"array element {text.index} at line {text.line} is not valid JSON: its brackets or quotes "
        if text.remaining() >= MAX_RECORD_BYTES:
            reason += f"do not close within {MAX_RECORD_BYTES} bytes, so the elements after it were not read"
        else:
            reason += "do not close before the file ends"
        return _unreadable(location, reason, text.head(HEAD_BYTES).encode("utf-8", _INVALID_AS_SURROGATES))

    reason = f"array element {text.index} is not valid JSON: {_error_message(error)} at line {text.line_at(error.pos)}"
    raw = text.take_bytes(element_end).rstrip()
    text.index += 1
    return _unreadable(location, reason, raw)


_ARRAY_OPENING = re.compile(r"\s*\[?")
_ELEMENT_SEPARATORS = re.compile(r"[ \t\r\n,]*")


def _element_end(text: str, start: int) -> int | None:
    """Return the index of the comma or `]` that ends the array element at `text[start]`, or None.

    That is the first comma or `]` outside strings and outside the element's own
    brackets. It is found for any invalid element except one with an unclosed string
    or bracket, for which None is returned. A stray `}` does not end an element.
    """
    depth = 0
    position = start
    while match := _STRUCTURE.search(text, position):
        character, position = match.group(), match.end()
        if character == '"':
            closed = _STRING_REST.match(text, position)
            if closed is None:
                return None
            position = closed.end()
        elif character in "[{":
            depth += 1
        elif character in "]}" and depth:
            depth -= 1
        elif character != "}" and not depth:
            return match.start()
    return None


_STRUCTURE = re.compile(r'["\[\]{},]')
_STRING_REST = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)


class _ArrayText:
    """The decoded text of a JSON array still to be parsed, refilled from the stream on demand.

    `buffer[start:]` is the text not parsed yet. Parsing an element moves `start`
    instead of slicing the buffer, which would copy the rest of a read for every
    element. `fill` drops the parsed text when it appends the next read. `at` is
    where `head` starts in the file, with the line number and array index there.
    """

    def __init__(self, head: bytes, handle: IO[bytes], at: ReadPosition) -> None:
        self._pending = head
        self._handle = handle
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        # True once a read contained a byte that is not UTF-8. Later elements are then checked for one.
        self.has_invalid_bytes = False
        self.buffer = ""
        self.start = 0
        # The file offset right after the bytes decoded so far.
        self._decoded_end = at.offset
        # The line number of buffer[start], and the index of the next element.
        self.line = at.line
        self.index = at.index

    def fill(self) -> bool:
        """Append the next read to the unparsed text; return False at the end of the stream."""
        chunk, self._pending = (self._pending or self._handle.read(READ_BYTES)), b""
        try:
            decoded = self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            # A failed decode keeps the decoder's state, so the read is decoded again
            # with each invalid byte as a lone surrogate, which `invalid_byte` finds.
            self._decoder.errors = _INVALID_AS_SURROGATES
            self.has_invalid_bytes = True
            decoded = self._decoder.decode(chunk, final=not chunk)
        self._decoded_end += len(chunk)
        self.buffer = self.buffer[self.start :] + decoded
        self.start = 0
        return bool(chunk)

    def position(self) -> ReadPosition:
        """Return the position of buffer[start]: its file offset, line number and the next element's index."""
        undecoded, _ = self._decoder.getstate()
        unparsed = len(self.buffer[self.start :].encode("utf-8", _INVALID_AS_SURROGATES))
        return ReadPosition(JSON_ARRAY, self._decoded_end - len(undecoded) - unparsed, self.line, self.index)

    def invalid_byte(self, end: int) -> int | None:
        """Return the file offset of the first byte in buffer[start:end] that is not UTF-8, or None."""
        if not self.has_invalid_bytes:
            return None
        found = _LONE_SURROGATE.search(self.buffer, self.start, end)
        if found is None:
            return None
        before = self.buffer[self.start : found.start()].encode("utf-8", _INVALID_AS_SURROGATES)
        return self.position().offset + len(before)

    def exhausted(self) -> bool:
        return self.start >= len(self.buffer)

    def remaining(self) -> int:
        return len(self.buffer) - self.start

    def next_character(self) -> str:
        return self.buffer[self.start]

    def head(self, size: int) -> str:
        return self.buffer[self.start : self.start + size]

    def line_at(self, position: int) -> int:
        """Return the line number of buffer[position], at or after `start`."""
        return self.line + self.buffer.count("\n", self.start, position)

    def skip(self, pattern: re.Pattern[str]) -> None:
        """Move past the text `pattern` matches at `start`, which may be empty."""
        end = pattern.match(self.buffer, self.start)
        assert end is not None, "skip patterns match the empty string"
        self.take(end.end())

    def take(self, end: int) -> str:
        """Return buffer[start:end] and move `start` to `end`."""
        consumed = self.buffer[self.start : end]
        self.line += consumed.count("\n")
        self.start = end
        return consumed

    def take_bytes(self, end: int) -> bytes:
        """Return the file's bytes of buffer[start:end], invalid ones included, and move `start` to `end`."""
        return self.take(end).encode("utf-8", _INVALID_AS_SURROGATES)


# The error handler that decodes each byte that is not UTF-8 to a lone surrogate and encodes it back.
_INVALID_AS_SURROGATES = "surrogateescape"
_LONE_SURROGATE = re.compile("[\udc80-\udcff]")


# --- CSV -------------------------------------------------------------------------------


class _RawLines:
    """Feed decoded lines to `csv.reader`, remembering the raw bytes of the current row and where it ends.

    `offset` is the file offset after the last line taken, `number` that line's
    number, and `header` the file's header once it was read.
    """

    def __init__(self, offset: int, line: int, header: tuple[str, ...] | None = None) -> None:
        self._lines: Iterator[bytes] = iter(())
        self.offset = offset
        self.number = line - 1
        self.header = header
        self.row_start = line
        self.row_bytes = bytearray()

    def __iter__(self) -> _RawLines:
        return self

    def __next__(self) -> str:
        raw = next(self._lines)
        self.number += 1
        self.offset += len(raw)
        self.row_bytes += raw
        return raw.decode("utf-8")

    def read(self, lines: Iterator[bytes]) -> _RawLines:
        self._lines = lines
        return self

    def start_row(self) -> None:
        self.row_start = self.number + 1
        self.row_bytes = bytearray()

    def position(self) -> ReadPosition:
        return ReadPosition(CSV_LAYOUT, self.offset, self.number + 1, header=self.header)


def _csv_stream(name: str, lines: Iterator[bytes], raw_lines: _RawLines) -> RecordStream:
    return RecordStream(CSV_LAYOUT, _csv_records(name, raw_lines.read(lines)), raw_lines.position)


def _csv_records(name: str, raw_lines: _RawLines) -> Iterator[ReadResult]:
    """Yield each data row as a dict keyed by the header, with `None` for missing cells.

    `csv.reader` takes a line only when the row it reads needs it, so when a row is
    yielded, `raw_lines` has taken exactly the lines up to its end.
    """
    dialect = "excel-tab" if content_suffix(name) == ".tsv" else "excel"
    reader = csv.reader(raw_lines, dialect=dialect)

    while True:
        raw_lines.start_row()
        try:
            row = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as error:
            reason = f"line {raw_lines.number} is not valid UTF-8: invalid byte at offset {error.start}; {SAVE_AS_UTF8}"
            yield _unreadable(RecordLocation(file=name, line=raw_lines.number), reason, bytes(raw_lines.row_bytes))
            continue
        except csv.Error as error:
            reason = f"line {raw_lines.number} is not valid CSV: {error}; the rows after it were not read"
            yield _unreadable(RecordLocation(file=name, line=raw_lines.number), reason, bytes(raw_lines.row_bytes))
            return

        if not any(cell.strip() for cell in row):
            continue
        if raw_lines.header is None:
            raw_lines.header = tuple(cell.strip() for cell in row)
            continue
        yield _csv_row(name, raw_lines.header, row, raw_lines)


def _csv_row(name: str, header: tuple[str, ...], row: list[str], raw_lines: _RawLines) -> ReadResult:
    location = RecordLocation(file=name, line=raw_lines.row_start)
    raw = bytes(raw_lines.row_bytes).strip()
    if len(row) > len(header):
        reason = f"line {raw_lines.row_start} has {len(row)} cells but the header has {len(header)} columns"
        return _unreadable(location, reason, raw)
    values: dict[str, str | None] = dict.fromkeys(header)
    values.update(zip(header, row, strict=False))
    return DecodedRecord(location=location, payload=values, raw=raw)


# --- Shared ----------------------------------------------------------------------------


def _error_message(error: json.JSONDecodeError) -> str:
    """Return the decoder's message without its trailing " at", which the caller's position replaces."""
    return error.msg.removesuffix(" at")


def _unreadable(location: RecordLocation, reason: str, raw: bytes) -> UnreadableRecord:
    # With no bytes to hash, the record's place in the file identifies it, so the
    # same failure in two files is quarantined twice and a re-run stays idempotent.
    digest = bytes_hash(raw) if raw else bytes_hash(f"location:{location.describe()}".encode())
    return UnreadableRecord(
        location=location,
        rejection=Rejection(kind="unparseable", reason=reason),
        content_hash=digest,
    )
