"""The public-bio source: contact points people show in their own bios, at no cost.

Ingestion keeps a bio's emails and phone numbers in `contact.bio_sightings`
(Tier 2) and redacts them from Tier 1. This source serves them to the enrichment
worker like any provider. The gate runs it only when the pool's intent allows
`public_bio`, the cooldown memory applies, and its quote is 0 credits. Its results
reach `contact.contact_points` through the worker's Tier 2 path with source
`public_bio` and an audit row. The lookup key is the card's profile identities,
not a person's name (`sxe.orchestrator.bridge.BridgeKind.PROFILE`).
"""

from __future__ import annotations

import hashlib
from typing import Any

import psycopg

from sxe.adapters.base import ContactPointResult, LookupRequest, LookupResult
from sxe.db import sql, transaction

PROVIDER = "public_bio"
ADAPTER_VERSION = "1"


class PublicBioSource:
    """Read bio sightings over `conn`, which must be outside a transaction when `lookup` runs.

    NOTE: the source reuses the connection it was built with, so a worker run on
    another connection or thread needs its own source (`runner.prepare` builds one).
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    @property
    def name(self) -> str:
        return PROVIDER

    @property
    def version(self) -> str:
        return ADAPTER_VERSION

    def quoted_cost_credits(self, request: LookupRequest) -> int:
        """Sightings are already held, so a lookup costs nothing."""
        return 0

    def lookup(self, request: LookupRequest) -> LookupResult:
        """Return the sightings of the request's profiles (`profiles`, comma-separated) as contact points."""
        profiles = [key for key in (request.profiles or "").split(",") if key]
        with transaction(self._conn, role="sxe_worker"):
            rows = self._conn.execute(sql("enrich_bio_sightings"), {"profiles": profiles}).fetchall()
        points = tuple(
            ContactPointResult(kind=row["kind"], value=row["value"], status=None, source=PROVIDER) for row in rows
        )
        # The proof of what was served: the hashes of the values, never the values.
        digest = hashlib.sha256("\n".join(sorted(row["value_sha256"] for row in rows)).encode()).hexdigest()
        return LookupResult(
            matched=bool(points),
            provider=PROVIDER,
            adapter_version=ADAPTER_VERSION,
            provider_person_id=None,
            contact_points=points,
            organization_domain=None,
            organization_name=None,
            title=None,
            credits_used=0,
            payload_sha256=digest,
            simulated=False,
        )
