"""Erase a person: delete their data, suppress them, revoke the bundles that hold them, and keep a receipt.

A person is found by one identifier (a handle, a profile URL, an email address
or a phone number). Their lead cards are the cards linked to their profiles or to
contacts holding that email or phone, widened once to the cards that share one of
those contacts. Then, in one transaction as sxe_worker:

- Tier 1 profiles, their raw records and observations, the quarantined records
  that name their handle or user id, the cards' labels, signals and profile links,
  the Tier 2 contacts with their contact points, and the emails and phone numbers
  seen in their bios are deleted. Every bio sighting of those values, in any profile,
  and every Tier 2 contact point holding one of them, in any contact, go too;
- webhook records that wait for normalization and show one of their identifiers
  are replaced by null in their delivery (`sxe.webhooks.intake`);
- the cached provider results (lookup memory, idempotency keys) are deleted, queued,
  running and dead jobs are cancelled, every job keeps only the card id, and gate
  decisions lose their fingerprint;
- the cards move to `suppressed`, and a `tombstone` event per card tells downstream
  consumers to delete them;
- every bundle holding a card is revoked, and other people's cards in those
  bundles go back through the pipeline into a later bundle;
- the keyed hash of every identifier the person was known by joins the suppression list;
- an `erasure.completed` audit row holds the receipt: ids, counts and keyed hashes only.

After the commit, the revoked bundles' objects are deleted from the object store,
which also ends every presigned S3 URL for them. The whole erasure is idempotent:
running it again removes what an interrupted run left behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import psycopg

from sxe import audit
from sxe.cards import Readiness, transition, transition_cards
from sxe.compliance import suppression
from sxe.compliance.suppression import Identifier, IdentifierKind
from sxe.db import sql, transaction
from sxe.errors import UsageError
from sxe.events import EventType, emit
from sxe.handoff.store import ObjectStore
from sxe.logs import Event, bound_value, log
from sxe.webhooks import intake

# The contract of the receipt's JSON form: contracts/ops/erasure-receipt.v1.schema.json.
RECEIPT_SCHEMA_VERSION = "erasure-receipt.v1"
# Hosts of profile URLs and the platform each belongs to. The handle is the first path
# segment, with an "@" on Threads and TikTok.
CONTACT_KINDS = frozenset({IdentifierKind.EMAIL, IdentifierKind.PHONE})
PROFILE_HOSTS = {
    "x.com": "x",
    "twitter.com": "x",
    "mobile.twitter.com": "x",
    "threads.net": "threads",
    "threads.com": "threads",
    "tiktok.com": "tiktok",
    "m.tiktok.com": "tiktok",
}


def parse_subject(text: str) -> Identifier:
    """Read `PLATFORM:HANDLE` or a profile URL; raise UsageError naming the value and the accepted forms."""
    text = text.strip()
    if text.lower().startswith(("http://", "https://")):
        return _parse_profile_url(text)
    platform, separator, handle = text.partition(":")
    if not separator:
        raise UsageError(
            f"subject {text!r} is invalid: expected PLATFORM:HANDLE (such as x:dana_w) or a profile URL "
            "(such as https://x.com/dana_w); for an email or phone use --email or --phone"
        )
    try:
        return suppression.handle_identifier(platform.strip().lower(), handle)
    except UsageError as exc:
        raise UsageError(f"subject {text!r} is invalid: {exc}") from exc


def _parse_profile_url(url: str) -> Identifier:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    platform = PROFILE_HOSTS.get(host)
    segments = [segment for segment in parts.path.split("/") if segment]
    if platform is None or not segments:
        known = ", ".join(sorted(PROFILE_HOSTS))
        raise UsageError(f"URL {url!r} is not a profile URL: expected https://<host>/<handle> with a host of {known}")
    return suppression.handle_identifier(platform, segments[0])


@dataclass(slots=True)
class ErasureReceipt:
    """What one erasure removed. It contains ids, counts and keyed hashes, never the identifiers themselves."""

    request_id: UUID
    requested_kind: str
    requested_hmac: str
    received_at: datetime
    completed_at: datetime | None = None
    # Rows deleted, per table or kind of record.
    removed: dict[str, int] = field(default_factory=dict)
    # Jobs of the cards closed as cancelled: queued or running ones, and dead ones.
    jobs_closed: dict[str, int] = field(default_factory=dict)
    # Rows kept with the person's values cleared from them.
    scrubbed: dict[str, int] = field(default_factory=dict)
    cards_suppressed: list[str] = field(default_factory=list)
    bundles_revoked: list[str] = field(default_factory=list)
    cards_reissued: list[str] = field(default_factory=list)
    suppressed_hmacs: list[str] = field(default_factory=list)
    # Other profiles whose bios showed one of the person's emails or phones, so ingest withholds their later records.
    profiles_sharing_values: int = 0
    # Set after the commit, when the objects are gone; audited in a row of its own.
    objects_deleted: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": RECEIPT_SCHEMA_VERSION,
            "request_id": str(self.request_id),
            "requested": {"kind": self.requested_kind, "identifier_hmac": self.requested_hmac},
            "received_at": self.received_at.isoformat(),
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "removed": dict(sorted(self.removed.items())),
            "jobs_closed": dict(sorted(self.jobs_closed.items())),
            "scrubbed": dict(sorted(self.scrubbed.items())),
            "cards_suppressed": self.cards_suppressed,
            "bundles_revoked": self.bundles_revoked,
            "cards_reissued": self.cards_reissued,
            "suppressed_identifiers": self.suppressed_hmacs,
            "profiles_sharing_values": self.profiles_sharing_values,
        }


@dataclass(slots=True)
class Person:
    """The rows of one person: their profiles, lead cards and contacts, and every identifier they are known by."""

    profile_ids: list[UUID] = field(default_factory=list)
    card_ids: list[UUID] = field(default_factory=list)
    contact_ids: list[UUID] = field(default_factory=list)
    identifiers: list[Identifier] = field(default_factory=list)
    # The emails and phone numbers seen in their bios, and every sighting of those values or of
    # their other contact values in any bio. The `own` column marks the sightings on their profiles.
    sightings: list[dict[str, Any]] = field(default_factory=list)

    def contact_hashes(self) -> list[str]:
        """Return the SHA-256 of each email and phone number the person is known by, as Tier 2 keys them."""
        return sorted(
            {identifier.content_hash() for identifier in self.identifiers if identifier.kind in CONTACT_KINDS}
        )

    def profiles_sharing_values(self) -> int:
        """Count the profiles outside this person whose bios showed one of their emails or phone numbers."""
        return len({(row["platform"], row["identity_key"]) for row in self.sightings if not row["own"]})


def erase(
    conn: psycopg.Connection[Any],
    store: ObjectStore,
    identifier: Identifier,
    *,
    key: bytes,
    actor: str,
    request_id: UUID | None = None,
) -> ErasureReceipt:
    """Erase the person `identifier` names and return the receipt, which is also in the audit log.

    Raises psycopg errors unchanged; the database part then rolls back as a whole
    and the erasure can be run again.
    """
    receipt = ErasureReceipt(
        request_id=request_id or uuid.uuid4(),
        requested_kind=identifier.kind.value,
        requested_hmac=identifier.keyed_hash(key),
        received_at=datetime.now(UTC),
    )
    with transaction(conn, role="sxe_worker"):
        person = find_person(conn, identifier)
        bundles = _erase_rows(conn, person, receipt, key)
        receipt.completed_at = datetime.now(UTC)
        _write_receipt(conn, receipt, actor)

    receipt.objects_deleted = _delete_objects(store, bundles)
    if receipt.bundles_revoked:
        with transaction(conn, role="sxe_worker"):
            audit.append(
                conn,
                actor=actor,
                action="erasure.objects_deleted",
                subject=f"erasure:{receipt.request_id}",
                detail={"bundles": receipt.bundles_revoked, "objects": receipt.objects_deleted},
            )
    # Inside a function the request's own id stays; elsewhere the erasure's id correlates.
    correlation_id = bound_value("correlation_id") or str(receipt.request_id)
    count = len(receipt.cards_suppressed)
    log(
        logging.INFO,
        Event.ERASURE_COMPLETED,
        "erasure completed",
        stage="compliance",
        correlation_id=correlation_id,
        count=count,
    )
    if receipt.profiles_sharing_values:
        log(
            logging.WARNING,
            Event.ERASURE_SHARED_VALUES,
            "other profiles showed an erased email or phone in their bios; ingest now withholds their records",
            stage="compliance",
            correlation_id=correlation_id,
            count=receipt.profiles_sharing_values,
        )
    return receipt


def find_person(conn: psycopg.Connection[Any], identifier: Identifier) -> Person:
    """Return the profiles, cards, contacts and identifiers of the person `identifier` names; locks their cards.

    An email address or phone number finds the contacts that hold it and the profiles
    whose bio or display name showed it.
    """
    person = Person(identifiers=[identifier])
    if identifier.kind in CONTACT_KINDS:
        value = {"kind": identifier.kind.value, "value_sha256": identifier.content_hash()}
        person.contact_ids = [row["contact_id"] for row in conn.execute(sql("erase_find_contacts"), value)]
        person.profile_ids = [row["id"] for row in conn.execute(sql("erase_find_sighted_profiles"), value)]
    else:
        rows = conn.execute(sql("erase_find_profiles"), {"kind": identifier.kind.value, "value": identifier.value})
        person.profile_ids = [row["id"] for row in rows]

    # Two rounds: the cards found, then every card sharing a contact with them (one
    # cached lookup result can serve several cards of the same person).
    for _ in range(2):
        cards = conn.execute(
            sql("erase_lock_cards"), {"profile_ids": person.profile_ids, "contact_ids": person.contact_ids}
        ).fetchall()
        person.card_ids = [row["id"] for row in cards]
        person.contact_ids = sorted({*person.contact_ids, *(row["contact_id"] for row in cards if row["contact_id"])})
        profiles = conn.execute(sql("erase_card_profiles"), {"card_ids": person.card_ids}).fetchall()
        person.profile_ids = sorted({*person.profile_ids, *(row["id"] for row in profiles)})

    for row in profiles:
        person.identifiers += suppression.profile_identifiers(row["platform"], row["handle"], row["platform_user_id"])
    for row in conn.execute(sql("erase_contact_points"), {"contact_ids": person.contact_ids}):
        person.identifiers.append(suppression.contact_point_identifier(row["kind"], row["value"]))
    sightings = {"value_hashes": person.contact_hashes(), "profile_ids": person.profile_ids}
    person.sightings = [dict(row) for row in conn.execute(sql("erase_bio_sightings"), sightings)]
    for row in person.sightings:
        person.identifiers.append(suppression.contact_point_identifier(row["kind"], row["value"]))
    return person


def _erase_rows(
    conn: psycopg.Connection[Any], person: Person, receipt: ErasureReceipt, key: bytes
) -> list[dict[str, Any]]:
    """Delete and scrub every row of the person, suppress them, and revoke their bundles; return the bundles."""
    card_texts = [str(card_id) for card_id in person.card_ids]
    fingerprints = [
        row["fingerprint"]
        for row in conn.execute(sql("erase_fingerprints"), {"card_ids": person.card_ids, "card_id_texts": card_texts})
    ]
    ids = {"contact_ids": person.contact_ids, "fingerprints": fingerprints}
    removed, scrubbed = receipt.removed, receipt.scrubbed
    removed["lookup_memory"] = _count(conn, "erase_delete_lookup_memory", ids)
    removed["idempotency_keys"] = _count(conn, "erase_delete_idempotency_keys", ids)
    jobs = _one(conn, "erase_cancel_jobs", {"card_id_texts": card_texts, "request_id": receipt.request_id})
    receipt.jobs_closed = {"cancelled": int(jobs["cancelled"]), "dead": int(jobs["dead_closed"])}
    scrubbed["job_payloads"] = int(jobs["scrubbed"])
    scrubbed["decision_fingerprints"] = _count(conn, "erase_clear_decisions", {"card_ids": person.card_ids})

    conn.execute(sql("erase_detach_contacts"), {"contact_ids": person.contact_ids})
    contacts = _one(conn, "erase_delete_contacts", {"contact_ids": person.contact_ids})
    shared = {"value_hashes": person.contact_hashes(), "contact_ids": person.contact_ids}
    shared_points = _count(conn, "erase_delete_shared_contact_points", shared)
    removed["contact_points"] = int(contacts["contact_points"]) + shared_points
    removed["contacts"] = int(contacts["contacts"])
    removed["labels"] = _count(conn, "erase_delete_labels", {"card_ids": person.card_ids})
    scrubbed["card_signals"] = _count(conn, "erase_clear_card_signals", {"card_ids": person.card_ids})
    raw_ids = [
        row["raw_record_id"]
        for row in conn.execute(sql("erase_raw_records_of_profiles"), {"profile_ids": person.profile_ids})
    ]
    sighting_ids = [row["id"] for row in person.sightings]
    removed["bio_sightings"] = _count(conn, "erase_delete_bio_sightings", {"sighting_ids": sighting_ids})
    receipt.profiles_sharing_values = person.profiles_sharing_values()
    removed["profiles"] = _count(conn, "erase_delete_profiles", {"profile_ids": person.profile_ids})
    removed["raw_records"] = _count(conn, "erase_delete_raw_records", {"raw_ids": raw_ids})
    removed["quarantined_records"] = _count(conn, "erase_delete_quarantine", _quarantine_params(person))
    removed["waiting_webhook_records"] = intake.drop_records(conn, intake.waiting_records(conn, person.identifiers))

    receipt.cards_suppressed = _suppress_cards(conn, person.card_ids, receipt.request_id)
    bundles = _revoke_bundles(conn, person.card_ids, receipt)
    receipt.suppressed_hmacs = suppression.add(conn, person.identifiers, key, receipt.request_id)
    return bundles


def _quarantine_params(person: Person) -> dict[str, list[str]]:
    """Return the platform and the lowercased handle or user id of each profile identifier, for the quarantine scan."""
    pairs = sorted(
        {
            tuple(identifier.value.lower().split(":", 1))
            for identifier in person.identifiers
            if identifier.kind in (IdentifierKind.HANDLE, IdentifierKind.PLATFORM_USER_ID)
        }
    )
    return {"platforms": [pair[0] for pair in pairs], "values": [pair[1] for pair in pairs]}


def _one(conn: psycopg.Connection[Any], name: str, params: dict[str, Any]) -> dict[str, Any]:
    row = conn.execute(sql(name), params).fetchone()
    assert row is not None, f"{name} is an aggregate and always returns one row"
    return dict(row)


def _count(conn: psycopg.Connection[Any], name: str, params: dict[str, Any]) -> int:
    return int(_one(conn, name, params)["removed"])


def _suppress_cards(conn: psycopg.Connection[Any], card_ids: list[UUID], request_id: UUID) -> list[str]:
    suppressed = []
    for card_id in card_ids:
        current = conn.execute(sql("cards_readiness"), {"card_id": card_id}).fetchone()
        if current is not None and current["readiness"] != Readiness.SUPPRESSED:
            transition(conn, card_id, Readiness.SUPPRESSED, "erasure")
        emit(conn, EventType.TOMBSTONE, str(card_id), request_id=str(request_id), reason="erasure")
        suppressed.append(str(card_id))
    return suppressed


def _revoke_bundles(
    conn: psycopg.Connection[Any], card_ids: list[UUID], receipt: ErasureReceipt
) -> list[dict[str, Any]]:
    bundles = conn.execute(
        sql("erase_revoke_bundles"), {"card_ids": card_ids, "reason": f"erasure {receipt.request_id}"}
    ).fetchall()
    # Bundles revoked earlier come back too, so that their objects are deleted again if an
    # earlier attempt left them, but the receipt names only what this erasure revoked.
    receipt.bundles_revoked = [str(row["id"]) for row in bundles if row["newly_revoked"]]

    # Other people's cards in a revoked bundle are sent again: back to ready, where they stay
    # in the cards feed with their contact data and the next handoff bundles them.
    neighbours = conn.execute(
        sql("erase_bundle_neighbours"), {"bundle_ids": [row["id"] for row in bundles], "card_ids": card_ids}
    ).fetchall()
    transition_cards(conn, [row["id"] for row in neighbours], Readiness.READY, "bundle revoked")
    receipt.cards_reissued = [str(row["id"]) for row in neighbours]
    return list(bundles)


def _write_receipt(conn: psycopg.Connection[Any], receipt: ErasureReceipt, actor: str) -> None:
    document = receipt.to_json()
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    audit.append(
        conn,
        actor=actor,
        action="erasure.completed",
        subject=f"erasure:{receipt.request_id}",
        detail=document,
        payload_sha256=hashlib.sha256(canonical.encode()).hexdigest(),
    )


def _delete_objects(store: ObjectStore, bundles: list[dict[str, Any]]) -> int:
    """Delete the objects of every bundle, and return how many belonged to bundles this erasure revoked."""
    deleted = 0
    for bundle in bundles:
        for object_key in (bundle["data_key"], bundle["manifest_key"]):
            store.delete(object_key)
            deleted += int(bundle["newly_revoked"])
    return deleted
