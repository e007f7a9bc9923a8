"""Store one source file: raw records, quarantine and Tier 1 profiles, in chunked transactions.

Each record is hashed as received. A record whose hash is already stored is a
redelivery and counts as a duplicate. A record that is not a profile goes to
quarantine with its location and reason while its neighbours go on. Accepted
records are normalized in the same pass, because normalization needs the bio
before redaction to set `bio_has_email` and `bio_has_phone`; only the redacted
payload is stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from sxe import audit
from sxe.compliance.suppression import IngestScreen, SuppressionHit
from sxe.db import sql, transaction
from sxe.ingest import ParsedRecord, read_profiles
from sxe.models import Profile, Rejection, SourceProfile
from sxe.normalize.profile import normalize
from sxe.pii import redact_value

CHUNK_RECORDS = 500


@dataclass(frozen=True, slots=True)
class QuarantinedRecord:
    location: str
    kind: str
    reason: str


@dataclass(slots=True)
class FileResult:
    """Counts of one file; `profile_ids` are the profiles it created or changed."""

    batch_id: UUID
    file: str
    format: str | None = None
    records: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    profile_ids: set[UUID] = field(default_factory=set)
    new_profiles: int = 0
    suppressed: int = 0


def ingest_file(
    conn: psycopg.Connection[Any],
    path: Path,
    *,
    run_id: UUID,
    format_name: str | None = None,
    source_name: str = "file",
    collected_at: datetime | None = None,
    screen: IngestScreen | None = None,
) -> FileResult:
    """Ingest and normalize every record of `path`; raise UsageError when the format cannot be detected.

    A record of a person on the suppression list (`screen`, by default keyed by the
    environment's SXE_SUPPRESSION_KEY) is not stored; it is counted and audited.
    """
    screen = screen or IngestScreen.from_environment()
    collected_at = collected_at or datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    source_file = str(path)
    with transaction(conn, role="sxe_worker"):
        batch_id = conn.execute(
            sql("ingest_open_batch"),
            {
                "run_id": run_id,
                "source_name": source_name,
                "source_file": source_file,
                "format": format_name or "detecting",
                "collected_at": collected_at,
            },
        ).fetchone()["id"]

    result = FileResult(batch_id=batch_id, file=source_file)
    for chunk in _chunks(read_profiles(path, format_name), CHUNK_RECORDS):
        with transaction(conn, role="sxe_worker"):
            hits = screen.check(conn, [_profile_or_none(record) for record in chunk])
            for position, record in enumerate(chunk):
                if position in hits:
                    _suppress(conn, record, hits[position], result)
                    continue
                _store_record(conn, record, result, collected_at)

    with transaction(conn, role="sxe_worker"):
        conn.execute(
            sql("ingest_close_batch"),
            {
                "id": batch_id,
                "records": result.records,
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "quarantined": len(result.quarantined),
                "format": result.format or format_name or "unknown",
            },
        )
    return result


def _store_record(
    conn: psycopg.Connection[Any], record: ParsedRecord, result: FileResult, collected_at: datetime
) -> None:
    result.records += 1
    result.format = result.format or record.format
    if isinstance(record.result, Rejection):
        _quarantine(conn, record, record.result, result)
        return

    raw_id = _store_raw(conn, record, record.result, result.batch_id)
    if raw_id is None:
        result.duplicates += 1
        return

    result.accepted += 1
    profile = normalize(record.result)
    profile_id, inserted = _upsert_profile(conn, profile, record, result.file, collected_at)
    _observe(conn, profile_id, raw_id, profile, collected_at)
    result.profile_ids.add(profile_id)
    result.new_profiles += int(inserted)


def _profile_or_none(record: ParsedRecord) -> SourceProfile | None:
    return record.result if isinstance(record.result, SourceProfile) else None


def _suppress(conn: psycopg.Connection[Any], record: ParsedRecord, hit: SuppressionHit, result: FileResult) -> None:
    result.records += 1
    result.suppressed += 1
    result.format = result.format or record.format
    audit.append(
        conn,
        actor="sxe_worker:ingest",
        action="ingest.suppressed",
        subject=f"batch:{result.batch_id}",
        detail={
            "location": record.location.describe(),
            "format": record.format,
            "matched": hit.kind.value,
            "identifier_hmac": hit.identifier_hmac,
        },
        payload_sha256=record.content_hash,
    )


def _quarantine(conn: psycopg.Connection[Any], record: ParsedRecord, rejection: Rejection, result: FileResult) -> None:
    location = record.location.describe()
    content_hash = record.content_hash or _location_hash(location)
    payload = None if record.payload is None else Jsonb(redact_value(record.payload))
    conn.execute(
        sql("ingest_quarantine"),
        {
            "batch_id": result.batch_id,
            "source_file": result.file,
            "location": location,
            "format": record.format,
            "kind": rejection.kind,
            "reason": rejection.reason,
            "content_hash": content_hash,
            "payload": payload,
        },
    )
    result.quarantined.append(QuarantinedRecord(location, rejection.kind, rejection.reason))


def _store_raw(
    conn: psycopg.Connection[Any], record: ParsedRecord, source: SourceProfile, batch_id: UUID
) -> int | None:
    row = conn.execute(
        sql("ingest_store_raw"),
        {
            "content_hash": record.content_hash,
            "batch_id": batch_id,
            "format": record.format,
            "platform": source.platform.value,
            "location": record.location.describe(),
            "payload": Jsonb(redact_value(record.payload)),
        },
    ).fetchone()
    return None if row is None else int(row["id"])


def _upsert_profile(
    conn: psycopg.Connection[Any], profile: Profile, record: ParsedRecord, source_file: str, collected_at: datetime
) -> tuple[UUID, bool]:
    params = asdict(profile)
    params.update(
        platform=profile.platform.value,
        identity_key=profile.identity_key,
        quality_flags=list(profile.quality_flags),
        profile_url=record.result.profile_url if isinstance(record.result, SourceProfile) else None,
        source_format=record.format,
        source_file=source_file,
        collected_at=collected_at,
    )
    row = conn.execute(sql("normalize_upsert_profile"), params).fetchone()
    return row["id"], bool(row["inserted"])


def _observe(
    conn: psycopg.Connection[Any], profile_id: UUID, raw_id: int, profile: Profile, observed_at: datetime
) -> None:
    conn.execute(
        sql("normalize_observe"),
        {
            "profile_id": profile_id,
            "raw_record_id": raw_id,
            "observed_at": observed_at,
            "followers": profile.followers,
            "following": profile.following,
            "posts": profile.posts,
        },
    )


def _location_hash(location: str) -> str:
    # A record that could not be decoded has no content to hash. Its place in the
    # file identifies it, so re-running the same file does not quarantine it twice.
    return hashlib.sha256(f"location:{location}".encode()).hexdigest()


def _chunks(records: Iterable[ParsedRecord], size: int) -> Iterator[list[ParsedRecord]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk
