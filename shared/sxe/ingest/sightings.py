"""Keep the emails and phone numbers of public bios in Tier 2 before the bio is redacted.

Tier 1 stores bios with contact points replaced by placeholders. What was
replaced is a public contact point the person chose to show, so it is kept in
`contact.bio_sightings`, keyed by the profile's platform identity rather than by
lead card. Nothing reads it but the `public_bio` enrichment source, which the
gate runs only for pools whose intent allows it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import psycopg

from sxe.db import sql
from sxe.models import Profile, SourceProfile
from sxe.normalize.profile import clean_text
from sxe.pii import FoundContact, redact_text


def find_sightings(source: SourceProfile, profile: Profile) -> list[dict[str, str]]:
    """Return the emails and phone numbers normalizing removed from display name and bio, as bio_sightings rows.

    `normalize` redacts the cleaned display name and bio with `redact_text`, whose
    cache still contains the result, so the contact points come without a second scan.
    """
    found = [contact for part in (source.display_name, source.bio) for contact in _removed_contacts(part)]
    return [
        {
            "platform": profile.platform.value,
            "identity_key": profile.identity_key,
            "kind": contact.kind,
            "value": contact.value,
            "value_sha256": value_sha256(contact.value),
        }
        for contact in dict.fromkeys(found)
    ]


def _removed_contacts(text: str | None) -> tuple[FoundContact, ...]:
    cleaned = clean_text(text)
    return () if cleaned is None else redact_text(cleaned).contacts


def record_sightings(conn: psycopg.Connection[Any], sightings: list[dict[str, str]]) -> int:
    """Store rows from `find_sightings` in one statement; return how many were given.

    Runs in the caller's transaction as sxe_worker. A repeat sighting only moves `seen_at`,
    and of two rows for the same contact point the first one's value is kept.
    """
    if not sightings:
        return 0
    conn.execute(sql("contact_record_bio_sightings"), {"sightings": orjson.dumps(sightings).decode()})
    return len(sightings)


def value_sha256(value: str) -> str:
    """Return the SHA-256 hex of a contact value as Tier 2 keys it: trimmed and lowercased."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()
