"""Read source files into parsed records: one SourceProfile or Rejection per item.

`read_profiles` is the entry point. It reads a JSON document, JSON array or JSONL
file, picks the source format (given or detected), splits envelopes into items and
parses each item.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sxe.errors import UsageError
from sxe.ingest.detect import detect_format
from sxe.ingest.formats import SourceFormat, get_format
from sxe.ingest.hashing import content_hash
from sxe.ingest.reader import ReadResult, UnreadableRecord, read_records
from sxe.models import RecordLocation, Rejection, SourceProfile, SourceRecord

DETECTION_SAMPLE_SIZE = 20
UNKNOWN_FORMAT = "unknown"


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """One item of a source file and what it parsed to.

    `payload` is the item as decoded, before redaction, and None for an unparseable
    line or file. `content_hash` is the hex SHA-256 of the payload's canonical JSON,
    or of the raw bytes when there is no payload. `format` is the format name, or
    "unknown" when a file has no readable value to detect a format from.
    """

    location: RecordLocation
    format: str
    payload: Any
    content_hash: str
    result: SourceProfile | Rejection


def read_profiles(path: str | Path, format_name: str | None = None) -> Iterator[ParsedRecord]:
    """Read a source file and yield one ParsedRecord per item, in file order.

    Without `format_name` the format is detected from the first decoded values.
    Raises UsageError, before yielding anything, for a missing file, an unknown
    format name, or a format that cannot be detected.
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"input file not found: {path}; check the path")
    source_format = get_format(format_name) if format_name is not None else None

    records = read_records(path)
    sample = _take_sample(records)
    if source_format is None:
        source_format = _detect(sample)

    all_records = itertools.chain(sample, records)
    return _parse_records(all_records, source_format)


def _take_sample(records: Iterator[ReadResult]) -> list[ReadResult]:
    """Read records until the sample contains DETECTION_SAMPLE_SIZE decoded values or the file ends.

    Unreadable records before that point stay in the sample, so none is lost.
    A file with no decoded value is therefore read to its end here.
    """
    sample: list[ReadResult] = []
    decoded = 0
    for record in records:
        sample.append(record)
        if isinstance(record, SourceRecord):
            decoded += 1
        if decoded >= DETECTION_SAMPLE_SIZE:
            break
    return sample


def _detect(sample: list[ReadResult]) -> SourceFormat | None:
    """Detect the format from the sample, or return None when the whole file has no decoded value."""
    values = [record.payload for record in sample if isinstance(record, SourceRecord)]
    if not values:
        return None
    return detect_format(values)


def _parse_records(records: Iterator[ReadResult], source_format: SourceFormat | None) -> Iterator[ParsedRecord]:
    for record in records:
        if isinstance(record, UnreadableRecord):
            yield _unreadable(record, source_format)
        elif source_format is not None:
            yield from _parse_value(record, source_format)
        # A decoded value with no format cannot occur: _take_sample reads to the end
        # of the file before a format can stay undetected.


def _unreadable(record: UnreadableRecord, source_format: SourceFormat | None) -> ParsedRecord:
    return ParsedRecord(
        location=record.location,
        format=source_format.name if source_format else UNKNOWN_FORMAT,
        payload=None,
        content_hash=record.content_hash,
        result=record.rejection,
    )


def _parse_value(record: SourceRecord, source_format: SourceFormat) -> Iterator[ParsedRecord]:
    """Expand one decoded value and parse each item, giving envelope items an `item` index."""
    for position, (item, envelope) in enumerate(source_format.expand(record.payload)):
        location = record.location if envelope is None else replace(record.location, item=position)
        yield ParsedRecord(
            location=location,
            format=source_format.name,
            payload=item,
            content_hash=content_hash(item),
            result=source_format.parse(item, envelope),
        )


__all__ = ["ParsedRecord", "read_profiles"]
