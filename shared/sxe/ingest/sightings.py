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

import psycopg

from sxe.db import sql
from sxe.models import Profile, SourceProfile
from sxe.pii import find_contacts


def record_sightings(conn: psycopg.Connection[Any], source: SourceProfile, profile: Profile) -> int:
    """Store each email and phone number of the unredacted bio and display name; return how many were found.

    Runs in the caller's transaction as sxe_worker. A repeat sighting only moves `seen_at`.
    """
    text = " \n ".join(part for part in (source.display_name, source.bio) if part)
    if not (profile.bio_has_email or profile.bio_has_phone or "@" in text):
        return 0
    found = find_contacts(text)
    for contact in found:
        conn.execute(
            sql("contact_record_bio_sighting"),
            {
                "platform": profile.platform.value,
                "identity_key": profile.identity_key,
                "kind": contact.kind,
                "value": contact.value,
                "value_sha256": value_sha256(contact.value),
            },
        )
    return len(found)


def value_sha256(value: str) -> str:
    """Return the SHA-256 hex of a contact value as Tier 2 keys it: trimmed and lowercased."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()
