"""Hand off a pool: package its ready lead cards into a bundle, record it, and sign a download URL.

Records are built from the database at export time, contact points included, and
stream from a server-side cursor into the bundle writer, so memory stays flat
however many cards the pool holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from sxe import __version__, audit
from sxe.cards import Readiness, transition_pool
from sxe.db import sql, transaction
from sxe.events import EventType, emit
from sxe.handoff.bundle import BundleResult, write_bundle
from sxe.handoff.store import ObjectStore

LEAD_CARD_VERSION = "lead-card.v1"
V1_PLATFORMS = frozenset({"x", "threads", "tiktok"})
FETCH_ROWS = 500

_MATCHED_REASONS = frozenset({"matched", "cooldown_matched"})
_NO_MATCH_REASONS = frozenset({"no_match", "cooldown_no_match"})


@dataclass(frozen=True, slots=True)
class HandoffRequest:
    pool: str
    environment: str
    created_at: datetime
    retention_days: int
    actor: str
    # A phone goes out only while its DNC/TCPA scrub is at most this old; an unscrubbed one is withheld.
    dnc_scrub_max_days: int = 31


def hand_off(conn: psycopg.Connection[Any], store: ObjectStore, request: HandoffRequest) -> BundleResult:
    """Write one bundle of the pool's ready cards and record it in ops.bundles and the audit log."""
    bundle_id = uuid.uuid4()
    expires_at = request.created_at + timedelta(days=request.retention_days)
    prefix = f"exports/{request.environment}/{request.created_at:%Y-%m-%d}"

    # One snapshot for reading and marking: the cards marked handed off are exactly
    # the ones written. A card changed meanwhile makes the marking fail with a
    # serialization error; the bundle then stays unrecorded and its cards go out again.
    with (
        transaction(conn, role="sxe_worker", repeatable_read=True),
        conn.cursor(name=f"handoff_{bundle_id.hex}") as cursor,
    ):
        cursor.itersize = FETCH_ROWS
        cursor.execute(
            sql("handoff_ready_cards"), {"pool": request.pool, "dnc_scrub_max_days": request.dnc_scrub_max_days}
        )
        card_ids: list[str] = []
        bundle = write_bundle(
            (_note_card(lead_card_record(row), card_ids) for row in _rows(cursor) if _v1_profiles(row)),
            store=store,
            bundle_id=bundle_id,
            prefix=prefix,
            filters={"pool": request.pool, "readiness": "ready"},
            created_at=request.created_at,
            expires_at=expires_at,
        )
        cursor.close()
        transition_pool(conn, request.pool, [Readiness.READY], Readiness.HANDED_OFF, f"bundle {bundle.bundle_id}")
        _record(conn, bundle, request, expires_at)
        # The card index lets an erasure find and revoke every bundle that holds a person.
        conn.execute(sql("handoff_record_bundle_cards"), {"bundle_id": bundle.bundle_id, "card_ids": card_ids})
    return bundle


def _note_card(record: dict[str, Any], card_ids: list[str]) -> dict[str, Any]:
    card_ids.append(record["card_id"])
    return record


def _rows(cursor: psycopg.Cursor[Any]) -> Iterator[dict[str, Any]]:
    yield from cursor


def _v1_profiles(row: dict[str, Any]) -> list[dict[str, Any]]:
    # lead-card.v1 is published with platforms x, threads and tiktok only. Profiles on a
    # platform added later stay out of v1 records, and a card with none of the three is
    # left out of a v1 bundle while still being marked handed off.
    # NOTE: such cards reach no consumer until a lead-card version lists their platform.
    return [profile for profile in row["profiles"] or [] if profile["platform"] in V1_PLATFORMS]


def lead_card_record(row: dict[str, Any]) -> dict[str, Any]:
    """Build one lead-card.v1 record from a `handoff_ready_cards` row."""
    profiles = _v1_profiles(row)
    primary = profiles[0] if profiles else {}
    points = row["contact_points"]
    return {
        "schema_version": LEAD_CARD_VERSION,
        "card_id": str(row["card_id"]),
        "pool": row["pool"],
        "readiness": row["readiness"],
        "person": {
            "display_name": primary.get("display_name"),
            "primary_handle": primary.get("handle"),
            "website_domain": next((p["website_domain"] for p in profiles if p.get("website_domain")), None),
            "language": next((p["language"] for p in profiles if p.get("language")), None),
        },
        "profiles": [_profile(profile) for profile in profiles],
        "labels": row["labels"],
        "contact": {
            "emails": [_email(point) for point in points if point["kind"] == "email"],
            "phones": [_phone(point) for point in points if point["kind"] == "phone"],
        },
        "provenance": _provenance(row, profiles, points),
        "updated_at": row["updated_at"].isoformat(),
    }


def _profile(profile: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "platform",
        "platform_user_id",
        "handle",
        "profile_url",
        "display_name",
        "followers",
        "following",
        "posts",
        "verified",
        "quality_flags",
    )
    return {key: profile.get(key) for key in keys}


def _email(point: dict[str, Any]) -> dict[str, Any]:
    return {
        "address": point["value"],
        "status": point["status"],
        "source": point["source"],
        "provider_simulated": point["simulated"],
    }


def _phone(point: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": point["value"],
        "line_type": point["line_type"],
        "dnc_status": point["dnc_status"],
        "scrubbed_at": point["scrubbed_at"],
        "source": point["source"],
        "provider_simulated": point["simulated"],
    }


def _provenance(row: dict[str, Any], profiles: list[dict[str, Any]], points: list[dict[str, Any]]) -> dict[str, Any]:
    sources = [
        {"format": p["source_format"], "source_file": p["source_file"], "collected_at": p["collected_at"]}
        for p in profiles
    ]
    enrichment = [_enrichment(decision, row["readiness_reason"]) for decision in row["decisions"]]
    return {"sources": sources, "ruleset_version": row["ruleset_version"], "enrichment": enrichment}


def _enrichment(decision: dict[str, Any], readiness_reason: str | None) -> dict[str, Any]:
    if decision["decision"] == "skip":
        outcome, reason = "skipped", decision["reason"]
    elif readiness_reason in _MATCHED_REASONS:
        outcome, reason = "matched", None
    elif readiness_reason in _NO_MATCH_REASONS:
        outcome, reason = "no_match", None
    else:
        outcome, reason = "skipped", readiness_reason
    return {
        "provider": decision["provider"],
        "adapter_version": decision["adapter_version"],
        "outcome": outcome,
        "reason": reason,
        "simulated": decision["simulated"],
        "at": decision["at"],
    }


def _record(conn: psycopg.Connection[Any], bundle: BundleResult, request: HandoffRequest, expires_at: datetime) -> None:
    conn.execute(
        sql("handoff_record_bundle"),
        {
            "id": bundle.bundle_id,
            "pool": request.pool,
            "schema_version": LEAD_CARD_VERSION,
            "manifest_key": bundle.manifest_key,
            "data_key": bundle.data_key,
            "record_count": bundle.record_count,
            "sha256": bundle.sha256,
            "expires_at": expires_at,
        },
    )
    audit.append(
        conn,
        actor=request.actor,
        action="handoff.bundle_written",
        subject=f"bundle:{bundle.bundle_id}",
        detail={
            "pool": request.pool,
            "records": bundle.record_count,
            "manifest_key": bundle.manifest_key,
            "schema_version": LEAD_CARD_VERSION,
            "producer_version": __version__,
        },
        payload_sha256=bundle.sha256,
    )
    emit(conn, EventType.HANDED_OFF, bundle.bundle_id, records=bundle.record_count, pool=request.pool)
