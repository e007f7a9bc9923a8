"""Read source files into parsed records: one SourceProfile or Rejection per item.

`read_profiles` is the entry point. It streams a JSON document, JSON array, JSONL
or CSV file, picks the source format (given or detected), splits envelopes into
items and parses each item. CSV files always use the `csv-followers` format, with
its header mapping and any `--map column=field` overrides.

`read_items` does the same up to the parsing: it yields each item decoded and
located, and `PendingRecord.parse` finishes one. A reader that needs only some of a
file's records, such as an ingest worker process, parses only those. `read_chunk`
reads a JSON Lines or JSON array file one chunk at a time, each chunk starting where
the one before stopped, so that several processes can share a file's chunks without
decoding any record twice.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, NamedTuple

from sxe.errors import UsageError
from sxe.ingest.detect import detect_format
from sxe.ingest.formats import JSON_FORMATS, SourceFormat, get_format
from sxe.ingest.formats.csv_followers import CSV_FORMAT_NAME, CsvFollowers
from sxe.ingest.hashing import content_hash
from sxe.ingest.reader import (
    CSV_LAYOUT,
    DecodedRecord,
    DecompressedCopy,
    ReadPosition,
    ReadResult,
    RecordStream,
    UnreadableRecord,
    corrupt_records,
    damage_record,
    open_records,
    resume_records,
)
from sxe.models import Platform, RecordLocation, Rejection, SourceProfile, reduce_positionally

DETECTION_SAMPLE_SIZE = 20
UNKNOWN_FORMAT = "unknown"


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """One item of a source file and what it parsed to.

    `payload` is the item as decoded, before redaction, and None for an unparseable
    line or file, or after `without_payload`. `content_hash` is the hex SHA-256 of
    the payload's canonical JSON, or of the raw bytes when there is no payload.
    `raw_sha256` is the hex SHA-256 of the bytes the item was read from (for an
    envelope item, the whole envelope's).
    `format` is the format name, or "unknown" when a file has no readable value to
    detect a format from.
    """

    location: RecordLocation
    format: str
    payload: Any
    content_hash: str
    result: SourceProfile | Rejection
    raw_sha256: str = ""

    __reduce__ = reduce_positionally

    def without_payload(self) -> ParsedRecord:
        """Return this record without its decoded payload, for a process that gets its prepared form instead."""
        return ParsedRecord(self.location, self.format, None, self.content_hash, self.result, self.raw_sha256)


class PendingRecord(NamedTuple):
    """One item of a source file, decoded and located but not yet hashed or parsed.

    `read` is the reader's record and `item` the decoded item. For an item split out
    of an envelope, `envelope` is the rest of the envelope and `position` the item's
    index in it. An unreadable record has no item.
    """

    read: ReadResult
    source_format: SourceFormat | None
    item: Any = None
    envelope: Any = None
    position: int | None = None

    @property
    def format_name(self) -> str:
        return self.source_format.name if self.source_format else UNKNOWN_FORMAT

    def digest(self) -> str:
        """Return the record's content hash, as `parse` sets it."""
        if isinstance(self.read, UnreadableRecord):
            return self.read.content_hash
        return content_hash(self.item)

    def parse(self, digest: str | None = None) -> ParsedRecord:
        """Hash and parse the item into a ParsedRecord, as `read_profiles` yields it.

        `digest` is the record's `digest()`, when the caller has it already.
        """
        read, source_format = self.read, self.source_format
        if isinstance(read, UnreadableRecord):
            return _unreadable(read, self.format_name)
        assert source_format is not None, "an item that was decoded has a format"
        location = read.location if self.envelope is None else replace(read.location, item=self.position)
        return ParsedRecord(
            location=location,
            format=source_format.name,
            payload=self.item,
            content_hash=digest or content_hash(self.item),
            result=source_format.parse(self.item, self.envelope),
            raw_sha256=read.raw_sha256,
        )


def read_profiles(
    source: str | Path | IO[bytes],
    format_name: str | None = None,
    *,
    name: str | None = None,
    column_map: dict[str, str] | None = None,
    platform: Platform | None = None,
) -> Iterator[ParsedRecord]:
    """Read a source file or binary stream and yield one ParsedRecord per item, in file order.

    Without `format_name` the format is detected from the first decoded values, and
    a CSV file always reads as `csv-followers`. `column_map` (CSV column to field)
    and `platform` (the platform of rows that name none) configure the CSV format.
    Raises UsageError, before yielding anything, for a missing file, an unknown
    format name, an invalid column mapping, a format that cannot be detected, or a
    CSV header that no row can be read under (see `CsvFollowers.check_header`).
    """
    items = read_items(source, format_name, name=name, column_map=column_map, platform=platform)
    return map(PendingRecord.parse, items)


def read_items(
    source: str | Path | IO[bytes],
    format_name: str | None = None,
    *,
    name: str | None = None,
    column_map: dict[str, str] | None = None,
    platform: Platform | None = None,
) -> Iterator[PendingRecord]:
    """Read like `read_profiles`, with the same arguments and errors, but yield each item before parsing."""
    stream, source_format, sample = _open_items(source, format_name, name, column_map, platform)
    return _pending_records(itertools.chain(sample, stream.records), source_format)


class ReadOptions(NamedTuple):
    """Options for reading files: a format instead of detection, and CSV column overrides and default platform.

    `column_map` and `platform` have the meaning they have for `read_profiles`.
    """

    format_name: str | None = None
    column_map: dict[str, str] | None = None
    platform: Platform | None = None


class ChunkStart(NamedTuple):
    """The start of a chunk of a file: its reader's position, and the format of the file's records."""

    position: ReadPosition
    format_name: str | None


def read_chunk(
    path: Path,
    size: int,
    start: ChunkStart | None = None,
    options: ReadOptions = ReadOptions(),
    copy: DecompressedCopy | None = None,
) -> tuple[list[PendingRecord], ChunkStart | None]:
    """Read the items of a JSON Lines, JSON array or CSV file from `start`, or from its beginning, up to a chunk.

    A chunk ends with the first whole record that brings it to `size` items, so an
    envelope is never split. Returns the items and where the next chunk starts, or
    None when the file ended. The first chunk detects the format, unless
    `options` names one, with the errors of `read_items`; later chunks take it from
    `start`. Every process that reads on from a returned start gets the items
    that one reader of the whole file would yield there. With `copy`, the decompressed
    copy of the gzip file `path` is read in its place, and its damage record, if any,
    ends the last chunk. A corrupt copy is not read: its damage record is the only item.
    """
    source, name = (path if copy is None else copy.path), str(path)
    if copy is not None and copy.damage is not None and not copy.damage.truncated:
        damaged = corrupt_records(name, copy.damage)
        return [PendingRecord(record, _resumed_format(options.format_name, options)) for record in damaged], None
    if start is None:
        stream, source_format, sample = _open_items(
            source, options.format_name, name, options.column_map, options.platform
        )
    else:
        stream = resume_records(source, start.position, name=name)
        source_format = _resumed_format(start.format_name, options)
        sample = []
    items: list[PendingRecord] = []
    try:
        for records_read, record in enumerate(itertools.chain(sample, stream.records), start=1):
            items.extend(_record_items(record, source_format))
            if len(items) >= size and records_read >= len(sample):
                return items, ChunkStart(_resumable(stream, path), source_format.name if source_format else None)
    finally:
        stream.close()
    if copy is not None and copy.damage is not None:
        items.append(PendingRecord(damage_record(name, copy.damage), source_format))
    return items, None


def _resumed_format(format_name: str | None, options: ReadOptions) -> SourceFormat | None:
    """Return the format the first chunk chose; a CSV one with the options' overrides, as `_open_items` makes it."""
    if format_name == CSV_FORMAT_NAME:
        return CsvFollowers(options.column_map or {}, platform=options.platform)
    return None if format_name is None else get_format(format_name)


def _resumable(stream: RecordStream, path: Path) -> ReadPosition:
    position = stream.position()
    if position is None:
        raise ValueError(f"read_chunk reads JSON Lines, JSON arrays and CSV only, and {path} reads as {stream.layout}")
    return position


def _open_items(
    source: str | Path | IO[bytes],
    format_name: str | None,
    name: str | None,
    column_map: dict[str, str] | None,
    platform: Platform | None,
) -> tuple[RecordStream, SourceFormat | None, list[ReadResult]]:
    """Open the records of a file, choose its format, and return them with the sample read to detect it."""
    if isinstance(source, (str, Path)) and not Path(source).exists():
        raise UsageError(f"input file not found: {source}; check the path")
    source_format = get_format(format_name) if format_name is not None else None
    csv_format = CsvFollowers(column_map or {}, platform=platform)
    forced_layout = CSV_LAYOUT if format_name == CSV_FORMAT_NAME else None

    stream = open_records(source, name=name, layout=forced_layout)
    if stream.layout == CSV_LAYOUT:
        source_format = csv_format
    elif source_format is not None and source_format.name == CSV_FORMAT_NAME:
        source_format = csv_format
    records = stream.records
    sample = _take_sample(records)
    if source_format is None:
        source_format = _detect(sample)
    if isinstance(source_format, CsvFollowers):
        header = next((list(r.payload) for r in sample if isinstance(r, DecodedRecord)), None)
        if header is not None:
            source_format.check_header(header, source=name or str(source))

    return stream, source_format, sample


def _take_sample(records: Iterator[ReadResult]) -> list[ReadResult]:
    """Read records until the sample contains DETECTION_SAMPLE_SIZE decoded values or the file ends.

    Unreadable records before that point stay in the sample, so none is lost.
    A file with no decoded value is therefore read to its end here.
    """
    sample: list[ReadResult] = []
    decoded = 0
    for record in records:
        sample.append(record)
        if isinstance(record, DecodedRecord):
            decoded += 1
        if decoded >= DETECTION_SAMPLE_SIZE:
            break
    return sample


def _detect(sample: list[ReadResult]) -> SourceFormat | None:
    """Detect the format from the sample, or return None when the whole file has no decoded value."""
    values = [record.payload for record in sample if isinstance(record, DecodedRecord)]
    if not values:
        return None
    return detect_format(values, JSON_FORMATS)


def _pending_records(records: Iterator[ReadResult], source_format: SourceFormat | None) -> Iterator[PendingRecord]:
    for record in records:
        yield from _record_items(record, source_format)


def _record_items(record: ReadResult, source_format: SourceFormat | None) -> Iterator[PendingRecord]:
    if isinstance(record, UnreadableRecord):
        return iter((PendingRecord(record, source_format),))
    # A decoded value with no format cannot occur: _take_sample reads to the end of
    # the file before a format can stay undetected.
    return _expand(record, source_format) if source_format is not None else iter(())


def _expand(record: DecodedRecord, source_format: SourceFormat) -> Iterator[PendingRecord]:
    for position, (item, envelope) in enumerate(source_format.expand(record.payload)):
        yield PendingRecord(record, source_format, item, envelope, position)


def _unreadable(record: UnreadableRecord, format_name: str) -> ParsedRecord:
    return ParsedRecord(
        location=record.location,
        format=format_name,
        payload=None,
        content_hash=record.content_hash,
        result=record.rejection,
        raw_sha256=record.content_hash,
    )


def parse_decoded(record: DecodedRecord, source_format: SourceFormat) -> Iterator[ParsedRecord]:
    """Expand one decoded value and parse each item, giving envelope items an `item` index."""
    return map(PendingRecord.parse, _expand(record, source_format))


__all__ = [
    "ChunkStart",
    "ParsedRecord",
    "PendingRecord",
    "ReadOptions",
    "parse_decoded",
    "read_chunk",
    "read_items",
    "read_profiles",
]
