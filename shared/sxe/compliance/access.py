"""Answer an access request: everything SXE holds on one person, gathered for the operator.

The person is found as an erasure finds them (see `erasure.find_person`): by a
handle, a profile URL, an email address or a phone number, widened to the cards
that share a contact. The report lists their Tier 1 profiles with observations
and sources, their lead cards with labels, their Tier 2 contact points with the
provider each came from, the emails and phone numbers seen in their bios, the
bundles that included their cards, the webhook records about them that wait for
normalization, the ids of the audit rows about those cards and bundles, and
whether the identifier asked about is on the suppression list.

The report holds the person's own data, so it goes to the operator who answers
the request and nowhere else: it is printed, never logged or audited. Contact
data is read as sxe_worker, the only role that reads Tier 2; the audit log as
sxe_analyst, since runtime roles may only append to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from sxe.compliance import suppression
from sxe.compliance.erasure import find_person
from sxe.compliance.suppression import Identifier
from sxe.db import sql, transaction
from sxe.db.rows import json_row
from sxe.webhooks import intake


@dataclass(slots=True)
class AccessReport:
    """The data SXE holds on one person. It contains personal data, so print it for the operator and never log it."""

    requested_kind: str
    generated_at: datetime
    suppressed: bool
    profiles: list[dict[str, Any]] = field(default_factory=list)
    cards: list[dict[str, Any]] = field(default_factory=list)
    contact_points: list[dict[str, Any]] = field(default_factory=list)
    bio_sightings: list[dict[str, Any]] = field(default_factory=list)
    # Profiles outside the person whose bios showed one of their emails or phone numbers.
    profiles_sharing_values: int = 0
    bundles: list[dict[str, Any]] = field(default_factory=list)
    waiting_webhook_records: list[dict[str, Any]] = field(default_factory=list)
    audit_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def holds_data(self) -> bool:
        return bool(
            self.profiles or self.cards or self.contact_points or self.bio_sightings or self.waiting_webhook_records
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "requested": {"kind": self.requested_kind},
            "generated_at": self.generated_at.isoformat(),
            "suppressed": self.suppressed,
            "profiles": self.profiles,
            "cards": self.cards,
            "contact_points": self.contact_points,
            "bio_sightings": self.bio_sightings,
            "profiles_sharing_values": self.profiles_sharing_values,
            "bundles": self.bundles,
            "waiting_webhook_records": self.waiting_webhook_records,
            "audit_rows": self.audit_rows,
        }


def access_report(conn: psycopg.Connection[Any], identifier: Identifier, *, key: bytes) -> AccessReport:
    """Gather everything held on the person `identifier` names; an unknown person gives an empty report."""
    report = AccessReport(
        requested_kind=identifier.kind.value,
        generated_at=datetime.now(UTC),
        suppressed=False,
    )
    with transaction(conn, role="sxe_worker"):
        person = find_person(conn, identifier)
        report.suppressed = bool(suppression.matching(conn, [identifier.keyed_hash(key)]))
        report.profiles = [
            {**row["profile"], "observations": row["observations"]}
            for row in conn.execute(sql("access_profiles"), {"profile_ids": person.profile_ids})
        ]
        report.cards = [
            {**row["card"], "labels": row["labels"], "profile_ids": row["profile_ids"]}
            for row in conn.execute(sql("access_cards"), {"card_ids": person.card_ids})
        ]
        report.contact_points = [
            row["point"] for row in conn.execute(sql("access_contact_points"), {"contact_ids": person.contact_ids})
        ]
        report.bio_sightings = [json_row(_without_keys(row, "id", "own")) for row in person.sightings]
        report.profiles_sharing_values = person.profiles_sharing_values()
        report.bundles = [
            json_row(dict(row)) for row in conn.execute(sql("access_bundles"), {"card_ids": person.card_ids})
        ]
        report.waiting_webhook_records = [
            record.to_json() for record in intake.waiting_records(conn, person.identifiers)
        ]

    subjects = [f"lead_card:{card_id}" for card_id in person.card_ids]
    subjects += [f"bundle:{bundle['id']}" for bundle in report.bundles]
    with transaction(conn, role="sxe_analyst"):
        report.audit_rows = [
            json_row(dict(row)) for row in conn.execute(sql("access_audit_rows"), {"subjects": subjects})
        ]
    return report


def _without_keys(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name not in names}


def render(report: AccessReport) -> str:
    """Return the report as text for the operator, one section per kind of data."""
    lines = [
        f"Access report ({report.requested_kind}), generated {report.generated_at.isoformat()}",
        f"On the suppression list: {'yes' if report.suppressed else 'no'}",
    ]
    if report.suppressed and report.requested_kind in ("email", "phone"):
        lines.append(
            f"Ingest withholds every record whose bio shows this {report.requested_kind}, "
            "including records of other people's profiles (audited as ingest.suppressed)."
        )
    if not report.holds_data:
        lines.append("SXE holds no profile, card or contact data on this person.")

    lines.append(f"\nTier 1 profiles ({len(report.profiles)}):")
    for profile in report.profiles:
        lines.append(
            f"  {profile['platform']}:{profile.get('handle') or '-'}  id {profile['id']}  "
            f"name {profile.get('display_name') or '-'}  observations {len(profile['observations'])}"
        )
        lines.extend(f"    seen {seen.get('observed_at')} via {_source(seen)}" for seen in profile["observations"])

    lines.append(f"\nLead cards ({len(report.cards)}):")
    for card in report.cards:
        labels = ", ".join(f"{label['kind']}={label['value']}" for label in card["labels"]) or "none"
        lines.append(f"  {card['id']}  readiness {card['readiness']}  labels {labels}")

    lines.append(f"\nTier 2 contact points ({len(report.contact_points)}):")
    for point in report.contact_points:
        lines.append(
            f"  {point['kind']} {point['value']}  source {point.get('source') or '-'}  "
            f"status {point.get('status') or '-'}  last seen {point.get('last_seen_at') or '-'}"
        )

    lines.append(f"\nEmails and phone numbers seen in bios and display names ({len(report.bio_sightings)}):")
    for sighting in report.bio_sightings:
        lines.append(
            f"  {sighting['kind']} {sighting['value']}  on {sighting['platform']}:{sighting['identity_key']}  "
            f"last seen {sighting['seen_at']}"
        )
    if report.profiles_sharing_values:
        lines.append(
            f"  {report.profiles_sharing_values} other profiles showed one of these values. An erasure deletes "
            "their sightings too, and ingest then withholds each of their records whose bio shows the value."
        )

    lines.append(f"\nBundles that included them ({len(report.bundles)}):")
    for bundle in report.bundles:
        revoked = f"revoked {bundle['revoked_at']}" if bundle["revoked_at"] else "not revoked"
        lines.append(f"  {bundle['id']}  pool {bundle['pool']}  created {bundle['created_at']}  {revoked}")

    lines.append(f"\nWebhook records waiting for normalization ({len(report.waiting_webhook_records)}):")
    for waiting in report.waiting_webhook_records:
        lines.append(
            f"  batch {waiting['batch_id']} record {waiting['index']}  from {waiting['source']}  "
            f"received {waiting['received_at']}"
        )

    ids = ", ".join(str(row["id"]) for row in report.audit_rows) or "none"
    lines.append(f"\nAudit rows about their cards and bundles ({len(report.audit_rows)}): {ids}")
    return "\n".join(lines)


def _source(observation: dict[str, Any]) -> str:
    return str(observation.get("source_name") or observation.get("source_file") or "unknown source")
