"""Store parsed records: raw records, quarantine and Tier 1 profiles, in chunked transactions.

A profile's identity is (platform, platform user id), or the handle when a source
gives no id, so a handle change keeps the same profile. A record with only a handle
joins the profile that has a user id and shows that handle, and a record with both
attaches its id to a profile stored by handle (`sxe.ingest.identities`), so a
Threads `profile_lookup` record and a `/me` record of one person make one profile. A record whose raw content
was stored before is a duplicate. Each other record is normalized and hashed, and
one whose normalized content equals the stored profile's is a duplicate too: it
stores only its content hash (`social.unchanged_deliveries`), so that a redelivery
is recognised before normalizing. A changed one updates the profile,
stores the redacted raw record and appends an observation (followers, following,
posts, likes) with its source attribution: source name, run id, collected-at and
source URL. Records that are not profiles go to quarantine with their location,
reason and the SHA-256 of their raw bytes while their neighbours go on.

Records are normalized in the same pass, because normalization needs the bio
before redaction to set `bio_has_email` and `bio_has_phone`. Only the redacted
payload is stored in Tier 1, and the contact points the redaction removes from a bio
are kept in Tier 2 (`contact.bio_sightings`, see `sxe.ingest.sightings`). A record
collected before the stored profile was collected never overwrites its values: its
raw record and observation are stored as history, and the profile stays as it is.

Each chunk is written with a handful of set-based statements, whatever its size:
parsing, normalizing and hashing run in Python for the whole chunk first, then
one query finds the raw records stored before, one statement stores the chunk's
bio sightings, one upsert per round writes the profiles, and the accepted raw
records go by COPY into a temporary staging table, from which one statement
stores them with their observations.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeVar
from uuid import UUID

import orjson
import psycopg

from sxe import audit
from sxe.compliance.suppression import IngestScreen, SuppressionHit
from sxe.db import sql, transaction
from sxe.errors import SxeError
from sxe.ingest import ParsedRecord, read_profiles
from sxe.ingest.hashing import canonical_json, content_hash
from sxe.ingest.identities import attach_ids, user_ids_for_handles
from sxe.ingest.sightings import find_sightings, record_sightings
from sxe.models import FileDamage, Platform, Profile, Rejection, SourceProfile
from sxe.normalize.profile import normalize
from sxe.pii import redact_text, redact_value

CHUNK_RECORDS = 500
# Quarantined records listed in a result; the count covers all of them.
MAX_LISTED_QUARANTINE = 1000

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class QuarantinedRecord:
    location: str
    kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class FileError:
    """A fault of a whole file, such as a damaged gzip stream, where reading it stopped.

    `offset` is the number of decompressed bytes read before the fault, and `reason`
    names the fault and the fix.
    """

    file: str
    offset: int
    reason: str


@dataclass(frozen=True, slots=True)
class Attribution:
    """The source of a batch of records, kept on every observation the batch creates.

    `pool` is the audience pool the records are for, stored once on the batch: card
    building takes a profile on no card into a pool only when the profile was ingested
    for it. None stores a batch whose profiles any pool may take, like the batches stored
    before batches recorded a pool. Every ingest route of the product names its pool.
    """

    run_id: UUID
    source_name: str
    source_file: str
    collected_at: datetime
    source_url: str | None = None
    pool: str | None = None


@dataclass(slots=True)
class FileResult:
    """Counts of one file or batch.

    `accepted` counts the records stored with an observation, and `profiles_changed`
    the accepted records that created or changed a profile. The difference is the
    records collected before the stored profile, kept as history only.
    `profile_ids` are the profiles it created or changed, kept only when the caller
    asks for them. `quarantined` lists at most MAX_LISTED_QUARANTINE records, and
    `quarantined_total` counts them all. `file_errors` are the faults that stopped
    reading the file, such as a damaged gzip stream: they are in quarantine too, but
    not counted as records or as quarantined records. `joined_pool` counts the stored
    profiles that the batch's pool ingested for the first time through a duplicate
    record, and `carded_elsewhere` the records whose profile the batch tied to its pool
    while the profile sits on a card of another pool (see `record_pools`).
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
    file_errors: list[FileError] = field(default_factory=list)
    joined_pool: int = 0
    carded_elsewhere: int = 0


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
    pool: str | None = None,
    track_profiles: bool = True,
    screen: IngestScreen | None = None,
    on_chunk: Callable[[FileResult], None] | None = None,
) -> FileResult:
    """Ingest and normalize every record of `path` for `pool`; raise UsageError when the format cannot be detected.

    A record of a person on the suppression list (`screen`, by default keyed by the
    environment's SXE_SUPPRESSION_KEY) is not stored; it is counted and audited.
    `on_chunk` is called with the result so far after each stored chunk.
    """
    collected_at = collected_at or datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    records = read_profiles(path, format_name, column_map=column_map, platform=platform)
    attribution = Attribution(run_id, source_name, str(path), collected_at, source_url, pool)
    return ingest_records(
        conn,
        records,
        attribution,
        format_name=format_name,
        track_profiles=track_profiles,
        screen=screen,
        on_chunk=on_chunk,
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
    on_chunk: Callable[[FileResult], None] | None = None,
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
    for chunk in chunks(records):
        with transaction(conn, role="sxe_worker"):
            store_chunk(conn, chunk, result, attribution, screen, track_profiles=track_profiles)
        if on_chunk is not None:
            on_chunk(result)

    close_batch(conn, result, format_name)
    return result


def close_batch(conn: psycopg.Connection[Any], result: FileResult, format_name: str | None) -> None:
    """Record the counts of `result` on its batch and mark the batch finished."""
    with transaction(conn, role="sxe_worker"):
        conn.execute(
            sql("ingest_close_batch"),
            {
                "id": result.batch_id,
                "records": result.records,
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "quarantined": result.quarantined_total,
                "format": result.format or format_name or "unknown",
            },
        )


def open_batch(conn: psycopg.Connection[Any], attribution: Attribution, format_name: str) -> UUID:
    """Open a batch for the records of `attribution`, for its pool, and return the batch id."""
    with transaction(conn, role="sxe_worker"):
        row = conn.execute(
            sql("ingest_open_batch"),
            {
                "run_id": attribution.run_id,
                "source_name": attribution.source_name,
                "source_file": attribution.source_file,
                "format": format_name,
                "collected_at": attribution.collected_at,
                "pool": attribution.pool,
            },
        ).fetchone()
    return UUID(str(_returned(row, "ingest_open_batch")["id"]))


@dataclass(slots=True)
class NormalizedRecord:
    """A parsed record with its normalized profile and the values stored for both.

    `payload_json` is the redacted payload as JSON text, or None when it was left
    for later (see `PreparedRecord`), and `sightings` the contact points of the
    unredacted bio, as `sxe.ingest.sightings.find_sightings` returns them.
    """

    position: int
    record: ParsedRecord
    source: SourceProfile
    profile: Profile
    profile_row: dict[str, Any]
    payload_json: str | None
    sightings: list[dict[str, str]]
    unredacted_json: bytes | None = field(default=None, repr=False)
    profile_id: UUID | None = None
    new_profile: bool = False

    def stored_payload(self) -> str:
        """Return the redacted payload as JSON text, redacting it now when that was left for later."""
        if self.payload_json is not None:
            return self.payload_json
        assert self.unredacted_json is not None, "a record without its redacted payload carries its canonical JSON"
        return _json(redact_value(json.loads(self.unredacted_json)))

    @property
    def key(self) -> tuple[str, str]:
        return self.profile_row["platform"], self.profile_row["identity_key"]


def store_chunk(
    conn: psycopg.Connection[Any],
    chunk: list[ParsedRecord],
    result: FileResult,
    attribution: Attribution,
    screen: IngestScreen,
    *,
    track_profiles: bool = True,
    prepared: Mapping[int, PreparedRecord] | None = None,
    joined: Sequence[UUID] = (),
) -> None:
    """Store one chunk in the current transaction and count it in `result`.

    Order within the chunk matters only between records of the same profile, and
    it is kept: their upserts run in rounds and their observations in chunk order.
    `prepared` maps chunk positions to the work `prepare_records` already did for
    them, for instance in another process. The other records are prepared here.
    `joined` lists, one per record, the profiles of duplicates that another process
    left out of `chunk` and whose pool is not recorded yet (`ingest_raw_stored`).
    """
    hits = screen.check(conn, [_profile_or_none(record) for record in chunk])
    rejected: list[tuple[ParsedRecord, Rejection]] = []
    parsed: list[tuple[int, ParsedRecord, SourceProfile]] = []
    for position, record in enumerate(chunk):
        result.format = result.format or record.format
        if isinstance(record.result, FileDamage):
            rejected.append((record, record.result))
            continue
        result.records += 1
        if position in hits:
            _suppress(conn, record, hits[position], result)
        elif isinstance(record.result, Rejection):
            rejected.append((record, record.result))
        else:
            parsed.append((position, record, record.result))

    _quarantine_chunk(conn, rejected, result)
    unseen, stored_joined = _skip_stored_raw(conn, parsed, result, attribution.pool)
    from_workers = prepared or {}
    prepared = {**from_workers, **_prepare_here(unseen, from_workers)}
    normalized = [normalize_record(position, record, source, prepared[position]) for position, record, source in unseen]
    normalized = _join_known_identities(conn, normalized)
    # The bios were unredacted when the sightings were found: they go to Tier 2 only.
    record_sightings(conn, [row for item in normalized for row in item.sightings])
    accepted, unchanged = _upsert_profiles(conn, normalized, attribution, result, track_profiles=track_profiles)
    _store_raw_and_observe(conn, accepted, attribution, result.batch_id)

    record_pools(conn, attribution.pool, _pool_records([*joined, *stored_joined], accepted, unchanged), result)


class PreparedRecord(NamedTuple):
    """The per-record work that needs no database: the Tier 1 profile, the row the profile
    upsert stores, the redacted payload as JSON text and the bio sightings.

    A record whose profile has the same content as the record of that profile before
    it in the chunk is almost always a duplicate, as a scraper's video items by one
    author are, and its payload is never stored. Its redaction, the costliest part of
    the work, is left for later: `payload_json` is None, and `unredacted_json` contains the
    payload's canonical JSON for the rare case where the record is stored after all.

    A named tuple, because worker processes send one back per record and tuples pickle
    several times faster than dataclasses.
    """

    profile: Profile
    profile_row: dict[str, Any]
    payload_json: str | None
    sightings: list[dict[str, str]]
    unredacted_json: bytes | None = None

    def __repr__(self) -> str:
        # The unredacted payload can hold contact data, which must not reach a log line.
        unredacted = "None" if self.unredacted_json is None else f"<{len(self.unredacted_json)} bytes>"
        return (
            f"PreparedRecord(profile={self.profile!r}, profile_row={self.profile_row!r}, "
            f"payload_json={self.payload_json!r}, sightings=<{len(self.sightings)}>, unredacted_json={unredacted})"
        )


class PrepareItem(NamedTuple):
    """The parts of one parsed record that `prepare_records` reads, with its position in the chunk."""

    position: int
    format: str
    payload: Any
    source: SourceProfile


def _normalized_parts(
    record_format: str, source: SourceProfile
) -> tuple[Profile, dict[str, Any], list[dict[str, str]]]:
    profile = normalize(source)
    row = _profile_row(profile, record_format, _redacted_url(source.profile_url))
    return profile, row, find_sightings(source, profile)


def normalize_record(
    position: int, record: ParsedRecord, source: SourceProfile, prepared: PreparedRecord
) -> NormalizedRecord:
    """Return the record with its `prepared` work."""
    return NormalizedRecord(position, record, source, *prepared)


def _profile_row(profile: Profile, record_format: str, profile_url: str | None) -> dict[str, Any]:
    row = profile_content(profile, profile_url)
    # Hashed before the keys below are added, so the hash covers the content only.
    row["content_sha256"] = content_hash(row)
    row["identity_key"] = profile.identity_key
    row["source_format"] = record_format
    return row


def _join_known_identities(conn: psycopg.Connection[Any], normalized: list[NormalizedRecord]) -> list[NormalizedRecord]:
    """Key each handle-only record by the user id its handle belongs to, after attaching new ids to stored profiles.

    See `sxe.ingest.identities` for the rules.
    """
    profiles = [item.profile for item in normalized]
    attach_ids(conn, profiles)
    user_ids = user_ids_for_handles(conn, profiles)
    if not user_ids:
        return normalized

    joined = []
    for item in normalized:
        profile = item.profile
        user_id = (
            None if profile.platform_user_id else user_ids.get((profile.platform.value, (profile.handle or "").lower()))
        )
        if user_id is None:
            joined.append(item)
            continue
        profile = replace(profile, platform_user_id=user_id)
        row = _profile_row(profile, item.record.format, item.profile_row["profile_url"])
        sightings = [{**sighting, "identity_key": profile.identity_key} for sighting in item.sightings]
        joined.append(replace(item, profile=profile, profile_row=row, sightings=sightings))
    return joined


def _prepare_here(
    unseen: list[tuple[int, ParsedRecord, SourceProfile]], prepared: Mapping[int, PreparedRecord]
) -> dict[int, PreparedRecord]:
    """Prepare the records that no other process prepared, with their payloads, which they still carry here."""
    items = []
    for position, record, source in unseen:
        if position in prepared:
            continue
        if record.payload is None:
            raise ValueError(
                f"{record.location.describe()} is missing both its payload and its prepared work: pass one of them"
            )
        items.append(PrepareItem(position, record.format, record.payload, source))
    return prepare_records(items)


def prepare_records(items: list[PrepareItem]) -> dict[int, PreparedRecord]:
    """Prepare the items of one chunk, in chunk order, and return the results by chunk position.

    An item whose profile repeats the content of the item of that profile before it
    keeps its payload unredacted (see `PreparedRecord`). Needs no database, so it can
    run in a worker process (see `sxe.ingest.parallel`).
    """
    prepared: dict[int, PreparedRecord] = {}
    last_content: dict[tuple[str, str], str] = {}
    for item in items:
        profile, row, sightings = _normalized_parts(item.format, item.source)
        key, content = (row["platform"], row["identity_key"]), row["content_sha256"]
        if last_content.get(key) == content:
            prepared[item.position] = PreparedRecord(profile, row, None, sightings, canonical_json(item.payload))
        else:
            prepared[item.position] = PreparedRecord(profile, row, _json(redact_value(item.payload)), sightings)
        last_content[key] = content
    return prepared


def _profile_or_none(record: ParsedRecord) -> SourceProfile | None:
    return record.result if isinstance(record.result, SourceProfile) else None


def _suppress(conn: psycopg.Connection[Any], record: ParsedRecord, hit: SuppressionHit, result: FileResult) -> None:
    result.suppressed += 1
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


def _quarantine_chunk(
    conn: psycopg.Connection[Any], rejected: list[tuple[ParsedRecord, Rejection]], result: FileResult
) -> None:
    """Quarantine rejected records with their location, reason and hashes; a repeat is stored once."""
    if not rejected:
        return
    rows = []
    for record, rejection in rejected:
        location = record.location.describe()
        _count_rejection(result, location, rejection)
        rows.append(
            {
                "location": location,
                "format": record.format,
                "kind": rejection.kind,
                "reason": rejection.reason,
                "content_hash": record.content_hash or _location_hash(location),
                "raw_sha256": record.raw_sha256 or None,
                "payload": None if record.payload is None else redact_value(record.payload),
            }
        )

    conn.execute(
        sql("ingest_quarantine_chunk"),
        {"batch_id": result.batch_id, "source_file": result.file, "records": _json(rows)},
    )


def _count_rejection(result: FileResult, location: str, rejection: Rejection) -> None:
    """Count a quarantined record, or count a file's damage as a file error instead of a record."""
    if isinstance(rejection, FileDamage):
        result.file_errors.append(FileError(result.file, rejection.offset, rejection.reason))
        return
    result.quarantined_total += 1
    if len(result.quarantined) < MAX_LISTED_QUARANTINE:
        result.quarantined.append(QuarantinedRecord(location, rejection.kind, rejection.reason))


def _skip_stored_raw(
    conn: psycopg.Connection[Any],
    parsed: list[tuple[int, ParsedRecord, SourceProfile]],
    result: FileResult,
    pool: str | None,
) -> tuple[list[tuple[int, ParsedRecord, SourceProfile]], list[UUID]]:
    """Count as duplicates the records whose raw content is stored or came earlier in the chunk; return the rest.

    Also returns, one per stored duplicate, the profiles that `pool` has not ingested yet.
    """
    if not parsed:
        return [], []
    # An exact redelivery is a duplicate even when another record of the same
    # profile was stored in between, so re-running a file stores nothing.
    hashes = [record.content_hash for _, record, _ in parsed]
    stored = find_stored(conn, hashes, pool)
    seen = set(stored)
    unseen, joined = [], []
    for position, record, source in parsed:
        if record.content_hash in seen:
            result.duplicates += 1
            unrecorded = stored.get(record.content_hash)
            if unrecorded is not None:
                joined.append(unrecorded)
            continue
        seen.add(record.content_hash)
        unseen.append((position, record, source))
    return unseen, joined


def find_stored(conn: psycopg.Connection[Any], content_hashes: list[str], pool: str | None) -> dict[str, UUID | None]:
    """Return the stored ones among `content_hashes`, each with its profile when `pool` has not ingested that yet."""
    rows = conn.execute(sql("ingest_raw_stored"), {"content_hashes": content_hashes, "pool": pool})
    stored: dict[str, UUID | None] = {}
    for row in rows:
        # A hash stored both ways, or with two observations, keeps the profile any row names.
        stored[row["content_hash"]] = stored.get(row["content_hash"]) or row["unrecorded_profile_id"]
    return stored


class PoolRecords(NamedTuple):
    """The profiles of a chunk's records, one per record, that `record_pools` ties to the batch's pool.

    `duplicates` are profiles of stored raw contents that the pool has not ingested,
    `unchanged` the profiles of records that changed nothing, and `changed` the existing
    profiles that records of the chunk updated or added history to.
    """

    duplicates: list[UUID]
    unchanged: list[UUID]
    changed: list[UUID]


def _pool_records(
    duplicates: list[UUID], accepted: list[NormalizedRecord], unchanged: list[NormalizedRecord]
) -> PoolRecords:
    # A record that repeats an earlier record of its profile in the chunk has no id of
    # its own, so it takes the id the upsert gave that profile. One that repeats an
    # accepted record is left out, because that record's observation records the pool.
    observed = {record.key for record in accepted}
    profile_of = {record.key: record.profile_id for record in unchanged if record.profile_id}
    return PoolRecords(
        duplicates=duplicates,
        unchanged=[profile_of[record.key] for record in unchanged if record.key in profile_of.keys() - observed],
        changed=[record.profile_id for record in accepted if record.profile_id and not record.new_profile],
    )


def record_pools(conn: psycopg.Connection[Any], pool: str | None, records: PoolRecords, result: FileResult) -> None:
    """Record that `pool` ingested the profiles of the chunk's duplicates, with one statement or none.

    A duplicate stores no observation, so without this a file imported again for
    another pool would give that pool none of its profiles. Nothing runs for a batch
    of no pool, or when every record is new or a duplicate the pool has ingested already.
    """
    if pool is None or not (records.duplicates or records.unchanged or records.changed):
        return
    kinds = ["duplicate"] * len(records.duplicates) + ["unchanged"] * len(records.unchanged)
    kinds += ["changed"] * len(records.changed)
    row = conn.execute(
        sql("ingest_record_pools"),
        {"pool": pool, "profile_ids": [*records.duplicates, *records.unchanged, *records.changed], "kinds": kinds},
    ).fetchone()
    counts = _returned(row, "ingest_record_pools")
    result.joined_pool += counts["joined"]
    result.carded_elsewhere += counts["carded_elsewhere"]


def _upsert_profiles(
    conn: psycopg.Connection[Any],
    normalized: list[NormalizedRecord],
    attribution: Attribution,
    result: FileResult,
    *,
    track_profiles: bool,
) -> tuple[list[NormalizedRecord], list[NormalizedRecord]]:
    """Upsert the chunk's profiles and count each record; return the accepted ones in chunk order, then the duplicates.

    A record that changes its profile is accepted and counted as a change. One
    collected before the stored profile is accepted as history with the stored
    profile's id. One whose content equals the stored profile is a duplicate.
    """
    accepted: list[NormalizedRecord] = []
    rounds, unchanged = _rounds(normalized, result)
    for upsert_round in rounds:
        rows = conn.execute(
            sql("normalize_upsert_profiles"),
            {
                "profiles": _json([record.profile_row for record in upsert_round]),
                "source_file": attribution.source_file,
                "collected_at": attribution.collected_at,
            },
        ).fetchall()
        upserted = {(row["platform"], row["identity_key"]): row for row in rows}

        left_alone = []
        for record in upsert_round:
            row = upserted.get(record.key)
            if row is None:
                left_alone.append(record)
                continue
            record.profile_id = row["id"]
            record.new_profile = bool(row["inserted"])
            accepted.append(record)
            result.profiles_changed += 1
            result.new_profiles += int(row["inserted"])
            if track_profiles:
                result.profile_ids.add(row["id"])
        history, stored_unchanged = _keep_older_as_history(conn, left_alone, result)
        accepted.extend(history)
        unchanged.extend(stored_unchanged)

    _remember_unchanged(conn, unchanged)
    result.accepted += len(accepted)
    accepted.sort(key=lambda record: record.position)
    return accepted, unchanged


def _rounds(
    normalized: list[NormalizedRecord], result: FileResult
) -> tuple[list[list[NormalizedRecord]], list[NormalizedRecord]]:
    """Split records so that each round has one record per profile, in chunk order; also return the duplicates.

    A record with the same content as the previous record of its profile in the
    chunk is a duplicate and is counted here.
    """
    rounds: list[list[NormalizedRecord]] = []
    duplicates: list[NormalizedRecord] = []
    occurrences: dict[tuple[str, str], int] = defaultdict(int)
    last_content: dict[tuple[str, str], str] = {}
    for record in normalized:
        key = record.key
        if last_content.get(key) == record.profile_row["content_sha256"]:
            result.duplicates += 1
            duplicates.append(record)
            continue
        last_content[key] = record.profile_row["content_sha256"]
        number = occurrences[key]
        occurrences[key] += 1
        if number == len(rounds):
            rounds.append([])
        rounds[number].append(record)
    return rounds, duplicates


def _keep_older_as_history(
    conn: psycopg.Connection[Any], left_alone: list[NormalizedRecord], result: FileResult
) -> tuple[list[NormalizedRecord], list[NormalizedRecord]]:
    """Pick the records the upsert left alone for being older than their profile; count the rest as duplicates.

    Returns the history records and the duplicates. The upsert locked each of these
    profiles, so what this reads stays true until commit.
    """
    if not left_alone:
        return [], []
    stored = {
        (row["platform"], row["identity_key"]): row
        for row in conn.execute(
            sql("normalize_stored_profiles"),
            {
                "platforms": [record.key[0] for record in left_alone],
                "identity_keys": [record.key[1] for record in left_alone],
            },
        )
    }
    history, unchanged = [], []
    for record in left_alone:
        row = _returned(stored.get(record.key), "normalize_stored_profiles")
        record.profile_id = row["id"]
        if row["content_sha256"] == record.profile_row["content_sha256"]:
            result.duplicates += 1
            unchanged.append(record)
            continue
        history.append(record)
    return history, unchanged


def _remember_unchanged(conn: psycopg.Connection[Any], unchanged: list[NormalizedRecord]) -> None:
    """Keep the content hashes of records that changed nothing, so a redelivery of one skips normalization."""
    if not unchanged:
        return
    deliveries = [
        {"content_hash": item.record.content_hash, "platform": item.key[0], "identity_key": item.key[1]}
        for item in unchanged
    ]
    conn.execute(sql("ingest_record_unchanged"), {"deliveries": _json(deliveries)})


def _store_raw_and_observe(
    conn: psycopg.Connection[Any], accepted: list[NormalizedRecord], attribution: Attribution, batch_id: UUID
) -> None:
    """COPY the accepted records into the session's staging table, then store them with one statement."""
    if not accepted:
        return
    conn.execute(sql("ingest_stage_create"))
    with conn.cursor().copy(sql("ingest_stage_copy")) as copy:
        for normalized in accepted:
            record, profile = normalized.record, normalized.profile
            copy.write_row(
                (
                    normalized.position,
                    record.content_hash,
                    record.format,
                    profile.platform.value,
                    record.location.describe(),
                    normalized.stored_payload(),
                    normalized.profile_id,
                    profile.followers,
                    profile.following,
                    profile.posts,
                    profile.likes,
                )
            )
    conn.execute(
        sql("ingest_store_staged_raw_observe"),
        {
            "batch_id": batch_id,
            "collected_at": attribution.collected_at,
            "source_name": attribution.source_name,
            "run_id": attribution.run_id,
            "source_url": _redacted_url(attribution.source_url),
        },
    )


def profile_content(profile: Profile, profile_url: str | None) -> dict[str, Any]:
    """Return a normalized profile's content as JSON values, the basis of change detection."""
    # Every field value is immutable, so a shallow copy is what `dataclasses.asdict` would return.
    content = {name: getattr(profile, name) for name in _PROFILE_FIELDS}
    content["platform"] = profile.platform.value
    content["quality_flags"] = list(profile.quality_flags)
    content["profile_url"] = profile_url
    return content


def profile_content_hash(profile: Profile, profile_url: str | None) -> str:
    """Return the SHA-256 of a normalized profile's content, the basis of change detection."""
    return content_hash(profile_content(profile, profile_url))


_PROFILE_FIELDS = tuple(profile_field.name for profile_field in fields(Profile))


def _json(rows: Any) -> str:
    # Sent as one text parameter and cast to jsonb in SQL, so a chunk is one value
    # however many records it has. orjson rejects integers beyond 64 bits, which
    # the json module writes.
    try:
        return orjson.dumps(rows).decode()
    except TypeError:
        return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


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


def chunks(records: Iterable[T], size: int = CHUNK_RECORDS) -> Iterator[list[T]]:
    """Split records into lists of `size`, the unit of one transaction."""
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk
