"""Store parsed records: raw records, quarantine and Tier 1 profiles, in chunked transactions.

A profile's identity is (platform, platform user id), or the handle when a source
gives no id, so a handle change keeps the same profile. A record whose raw content
was stored before is a duplicate. Each other record is normalized and hashed, and
one whose normalized content equals the stored profile's is a duplicate too and
stores nothing. A changed one updates the profile,
stores the redacted raw record and appends an observation (followers, following,
posts, likes) with its source attribution: source name, run id, collected-at and
source URL. Records that are not profiles go to quarantine with their location,
reason and the SHA-256 of their raw bytes while their neighbours go on.

Records are normalized in the same pass, because normalization needs the bio
before redaction to set `bio_has_email` and `bio_has_phone`. Only the redacted
payload is stored in Tier 1, and the contact points the redaction removes from a bio
are kept in Tier 2 (`contact.bio_sightings`, see `sxe.ingest.sightings`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from sxe import audit
from sxe.compliance.suppression import IngestScreen, SuppressionHit
from sxe.db import sql, transaction
from sxe.errors import SxeError
from sxe.ingest import ParsedRecord, read_profiles
from sxe.ingest.hashing import content_hash
from sxe.ingest.sightings import record_sightings
from sxe.models import Platform, Profile, Rejection, SourceProfile
from sxe.normalize.profile import normalize
from sxe.pii import redact_text, redact_value

CHUNK_RECORDS = 500
# Quarantined records listed in a result; the count covers all of them.
MAX_LISTED_QUARANTINE = 1000


@dataclass(frozen=True, slots=True)
class QuarantinedRecord:
    location: str
    kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class Attribution:
    """The source of a batch of records, kept on every observation the batch creates."""

    run_id: UUID
    source_name: str
    source_file: str
    collected_at: datetime
    source_url: str | None = None


@dataclass(slots=True)
class FileResult:
    """Counts of one file or batch.

    `profile_ids` are the profiles it created or changed, kept only when the caller
    asks for them. `quarantined` lists at most MAX_LISTED_QUARANTINE records, and
    `quarantined_total` counts them all.
    """

    batch_id: UUID
    file: str
    format: str | None = None
    records: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    quarantined_total: int = 0
    profile_ids: set[UUID] = field(default_factory=set)
    profiles_changed: int = 0
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
    column_map: dict[str, str] | None = None,
    platform: Platform | None = None,
    source_url: str | None = None,
    track_profiles: bool = True,
    screen: IngestScreen | None = None,
) -> FileResult:
    """Ingest and normalize every record of `path`; raise UsageError when the format cannot be detected.

    A record of a person on the suppression list (`screen`, by default keyed by the
    environment's SXE_SUPPRESSION_KEY) is not stored; it is counted and audited.
    """
    collected_at = collected_at or datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    records = read_profiles(path, format_name, column_map=column_map, platform=platform)
    attribution = Attribution(run_id, source_name, str(path), collected_at, source_url)
    return ingest_records(
        conn, records, attribution, format_name=format_name, track_profiles=track_profiles, screen=screen
    )


def ingest_stream(
    conn: psycopg.Connection[Any],
    stream: IO[bytes],
    attribution: Attribution,
    *,
    format_name: str | None = None,
    column_map: dict[str, str] | None = None,
    platform: Platform | None = None,
    track_profiles: bool = True,
) -> FileResult:
    """Ingest a binary stream read once, front to back, in constant memory; `attribution.source_file` names it."""
    records = read_profiles(stream, format_name, name=attribution.source_file, column_map=column_map, platform=platform)
    return ingest_records(conn, records, attribution, format_name=format_name, track_profiles=track_profiles)


def ingest_records(
    conn: psycopg.Connection[Any],
    records: Iterable[ParsedRecord],
    attribution: Attribution,
    *,
    format_name: str | None = None,
    batch_id: UUID | None = None,
    track_profiles: bool = True,
    screen: IngestScreen | None = None,
) -> FileResult:
    """Store parsed records in transactions of CHUNK_RECORDS, under a new batch or the open batch `batch_id`.

    A crash keeps the chunks already committed. Running the same input again
    stores nothing twice, because stored records, unchanged profiles and
    quarantined records are recognised by their hashes. A record of a person on
    the suppression list (`screen`, by default keyed by the environment's
    SXE_SUPPRESSION_KEY) is not stored; it is counted and audited.
    """
    screen = screen or IngestScreen.from_environment()
    if batch_id is None:
        batch_id = open_batch(conn, attribution, format_name or "detecting")

    result = FileResult(batch_id=batch_id, file=attribution.source_file)
    for chunk in _chunks(records, CHUNK_RECORDS):
        with transaction(conn, role="sxe_worker"):
            hits = screen.check(conn, [_profile_or_none(record) for record in chunk])
            for position, record in enumerate(chunk):
                if position in hits:
                    _suppress(conn, record, hits[position], result)
                    continue
                store_record(conn, record, result, attribution, track_profiles=track_profiles)

    with transaction(conn, role="sxe_worker"):
        conn.execute(
            sql("ingest_close_batch"),
            {
                "id": batch_id,
                "records": result.records,
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "quarantined": result.quarantined_total,
                "format": result.format or format_name or "unknown",
            },
        )
    return result


def open_batch(conn: psycopg.Connection[Any], attribution: Attribution, format_name: str) -> UUID:
    with transaction(conn, role="sxe_worker"):
        row = conn.execute(
            sql("ingest_open_batch"),
            {
                "run_id": attribution.run_id,
                "source_name": attribution.source_name,
                "source_file": attribution.source_file,
                "format": format_name,
                "collected_at": attribution.collected_at,
            },
        ).fetchone()
    return UUID(str(_returned(row, "ingest_open_batch")["id"]))


def store_record(
    conn: psycopg.Connection[Any],
    record: ParsedRecord,
    result: FileResult,
    attribution: Attribution,
    *,
    track_profiles: bool = True,
) -> None:
    """Store one record in the current transaction and count it in `result`."""
    result.records += 1
    result.format = result.format or record.format
    if isinstance(record.result, Rejection):
        quarantine(conn, record, record.result, result)
        return

    if _raw_stored(conn, record.content_hash):
        result.duplicates += 1
        return

    profile = normalize(record.result)
    profile_url = _redacted_url(record.result.profile_url)
    upserted = _upsert_profile(conn, profile, profile_url, record.format, attribution)
    if upserted is None:
        result.duplicates += 1
        return

    profile_id, inserted = upserted
    # The bio is still unredacted here: its public contact points go to Tier 2 only.
    record_sightings(conn, record.result, profile)
    raw_id = _store_raw(conn, record, record.result, result.batch_id)
    _observe(conn, profile_id, raw_id, profile, attribution)
    result.accepted += 1
    result.profiles_changed += 1
    result.new_profiles += int(inserted)
    if track_profiles:
        result.profile_ids.add(profile_id)


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


def quarantine(conn: psycopg.Connection[Any], record: ParsedRecord, rejection: Rejection, result: FileResult) -> None:
    """Quarantine one record with its location, reason and hashes; a repeat of the same record is stored once."""
    location = record.location.describe()
    stored_hash = record.content_hash or _location_hash(location)
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
            "content_hash": stored_hash,
            "raw_sha256": record.raw_sha256 or None,
            "payload": payload,
        },
    )
    result.quarantined_total += 1
    if len(result.quarantined) < MAX_LISTED_QUARANTINE:
        result.quarantined.append(QuarantinedRecord(location, rejection.kind, rejection.reason))


def profile_content_hash(profile: Profile, profile_url: str | None) -> str:
    """Return the SHA-256 of a normalized profile's content, the basis of change detection."""
    content = asdict(profile)
    content["platform"] = profile.platform.value
    content["quality_flags"] = list(profile.quality_flags)
    content["profile_url"] = profile_url
    return content_hash(content)


def _upsert_profile(
    conn: psycopg.Connection[Any], profile: Profile, profile_url: str | None, format_name: str, attribution: Attribution
) -> tuple[UUID, bool] | None:
    params = asdict(profile)
    params.update(
        platform=profile.platform.value,
        identity_key=profile.identity_key,
        quality_flags=list(profile.quality_flags),
        profile_url=profile_url,
        source_format=format_name,
        source_file=attribution.source_file,
        collected_at=attribution.collected_at,
        content_sha256=profile_content_hash(profile, profile_url),
    )
    row = conn.execute(sql("normalize_upsert_profile"), params).fetchone()
    if row is None:
        return None
    return row["id"], bool(row["inserted"])


def _raw_stored(conn: psycopg.Connection[Any], record_hash: str) -> bool:
    # An exact redelivery is a duplicate even when another record of the same
    # profile was stored in between, so re-running a file stores nothing.
    row = conn.execute(sql("ingest_raw_exists"), {"content_hash": record_hash}).fetchone()
    return bool(_returned(row, "ingest_raw_exists")["stored"])


def _store_raw(conn: psycopg.Connection[Any], record: ParsedRecord, source: SourceProfile, batch_id: UUID) -> int:
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
    return int(_returned(row, "ingest_store_raw")["id"])


def _observe(
    conn: psycopg.Connection[Any], profile_id: UUID, raw_id: int, profile: Profile, attribution: Attribution
) -> None:
    conn.execute(
        sql("normalize_observe"),
        {
            "profile_id": profile_id,
            "raw_record_id": raw_id,
            "observed_at": attribution.collected_at,
            "followers": profile.followers,
            "following": profile.following,
            "posts": profile.posts,
            "likes": profile.likes,
            "source_name": attribution.source_name,
            "run_id": attribution.run_id,
            "collected_at": attribution.collected_at,
            "source_url": _redacted_url(attribution.source_url),
        },
    )


def _returned(row: dict[str, Any] | None, statement: str) -> dict[str, Any]:
    """Return a row that the statement always returns; a missing one is a bug, not bad input."""
    if row is None:
        raise SxeError(f"statement {statement} returned no row; its RETURNING or SELECT must always give one")
    return row


def _redacted_url(url: str | None) -> str | None:
    # A profile or source URL can carry a phone number (wa.me links) or an email in its query.
    return None if url is None else redact_text(url).text


def _location_hash(location: str) -> str:
    # A record that could not be decoded has no content to hash. Its place in the
    # file identifies it, so re-running the same file does not quarantine it twice.
    return hashlib.sha256(f"location:{location}".encode()).hexdigest()


def _chunks(records: Iterable[ParsedRecord], size: int) -> Iterator[list[ParsedRecord]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk
