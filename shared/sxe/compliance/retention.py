"""Retention: delete rows older than their tier's period, in batches, and audit the counts.

Periods come from settings: Tier 1 (`SXE_RETENTION_TIER1_DAYS`, the longest),
Tier 2 (`SXE_RETENTION_TIER2_DAYS`), emails and phones seen in public bios
(`SXE_RETENTION_BIO_SIGHTINGS_DAYS`, by default Tier 2's) and Tier 3 with the ops
tables (`SXE_RETENTION_TIER3_DAYS`). Webhook records that a failed normalization left
in `intake` hold contact data, so they go after the Tier 2 period. Each batch of at
most `SXE_RETENTION_BATCH_ROWS` rows is its own short transaction, and rows locked
by live work are skipped (SKIP LOCKED) and left for the next run. The audit log itself is never deleted.

Bundles past their `expires_at` go too: their data and manifest objects are
deleted from the store they were written to (the local store, or S3 when
SXE_SPACES_* is set), then their rows. A bundle in a store this run cannot reach
stays for a run that can.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from sxe import audit
from sxe.config import Settings
from sxe.db import sql, transaction
from sxe.handoff.storage import build_store
from sxe.handoff.store import LocalObjectStore, ObjectStore, S3ObjectStore
from sxe.logs import Event, log


@dataclass(frozen=True, slots=True)
class Step:
    """One retention statement: `retention_<table>.sql`, and the key of `cutoffs` that sets its cutoff."""

    table: str
    period: str | None  # None: the statement compares with now (expired cache entries)


# Order matters: contact points before the contacts they empty, profiles before the raw
# records they observed, raw and quarantined records before their batches.
STEPS = (
    Step("contact_points", "tier2"),
    Step("contacts", "tier2"),
    Step("bio_sightings", "bio_sightings"),
    Step("webhook_intake", "tier2"),
    Step("lookup_memory", None),
    Step("unchanged_deliveries", "tier1"),
    Step("profiles", "tier1"),
    Step("raw_records", "tier1"),
    Step("lead_cards", "tier3"),
    Step("enrichment_decisions", "tier3"),
    Step("jobs", "tier3"),
    Step("events", "tier3"),
    Step("idempotency_keys", "tier3"),
    Step("quarantine", "tier3"),
    Step("ingest_batches", "tier1"),
)


@dataclass(slots=True)
class RetentionReport:
    """Rows deleted per table, and the cutoff each tier used."""

    now: datetime
    cutoffs: dict[str, datetime]
    deleted: dict[str, int] = field(default_factory=dict)
    # Objects of expired bundles removed from the stores, and the bundles' card index rows.
    objects_deleted: int = 0
    bundle_cards_deleted: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "cutoffs": {tier: cutoff.isoformat() for tier, cutoff in self.cutoffs.items()},
            "deleted": self.deleted,
            "total": sum(self.deleted.values()),
            "objects_deleted": self.objects_deleted,
            "bundle_cards_deleted": self.bundle_cards_deleted,
        }


def cutoffs(settings: Settings, now: datetime) -> dict[str, datetime]:
    """Return the cutoff of each period (the tiers and bio sightings): rows last changed before it are expired."""
    return {
        "tier1": now - timedelta(days=settings.retention_tier1_days),
        "tier2": now - timedelta(days=settings.retention_tier2_days),
        "bio_sightings": now - timedelta(days=settings.bio_sightings_days),
        "tier3": now - timedelta(days=settings.retention_tier3_days),
    }


def run_retention(
    conn: psycopg.Connection[Any],
    settings: Settings,
    *,
    actor: str,
    now: datetime | None = None,
    stores: Mapping[str, ObjectStore] | None = None,
) -> RetentionReport:
    """Delete every expired row and bundle, batch by batch, then write one `retention.completed` audit row.

    `stores` maps a bundle's `store` column ("local", "s3") to the store holding its
    objects; by default the settings' stores (see `bundle_stores`).
    """
    now = now or datetime.now(UTC)
    report = RetentionReport(now=now, cutoffs=cutoffs(settings, now))
    for step in STEPS:
        report.deleted[step.table] = _run_step(conn, step, report, settings.retention_batch_rows)
    report.deleted["bundles"] = _expire_bundles(
        conn, stores if stores is not None else bundle_stores(settings), report, settings.retention_batch_rows
    )

    with transaction(conn, role="sxe_worker"):
        audit.append(
            conn,
            actor=actor,
            action="retention.completed",
            subject="retention",
            detail={
                **report.to_json(),
                "periods_days": {
                    "tier1": settings.retention_tier1_days,
                    "tier2": settings.retention_tier2_days,
                    "bio_sightings": settings.bio_sightings_days,
                    "tier3": settings.retention_tier3_days,
                },
            },
        )
    log(
        logging.INFO,
        Event.RETENTION_FINISHED,
        "retention run finished",
        stage="compliance",
        count=sum(report.deleted.values()),
    )
    return report


def _run_step(conn: psycopg.Connection[Any], step: Step, report: RetentionReport, batch: int) -> int:
    cutoff = report.now if step.period is None else report.cutoffs[step.period]
    params = {"cutoff": cutoff, "now": report.now, "batch": batch}
    total = 0
    while True:
        with transaction(conn, role="sxe_worker"):
            row = conn.execute(sql(f"retention_{step.table}"), params).fetchone()
        assert row is not None, "a retention statement is an aggregate and always returns one row"
        removed = int(row["removed"])
        total += removed
        if removed < batch:
            return total


def bundle_stores(settings: Settings) -> dict[str, ObjectStore]:
    """Return the stores retention can reach: always the local store, and S3 when SXE_SPACES_* is set."""
    stores: dict[str, ObjectStore] = {"local": LocalObjectStore(settings.objects_dir)}
    configured = build_store(settings)
    if isinstance(configured, S3ObjectStore):
        stores["s3"] = configured
    return stores


def _expire_bundles(
    conn: psycopg.Connection[Any], stores: Mapping[str, ObjectStore], report: RetentionReport, batch: int
) -> int:
    """Delete expired bundles batch by batch: objects first (idempotent), then rows; return the rows deleted."""
    params: dict[str, Any] = {"now": report.now, "stores": sorted(stores), "batch": batch}
    total = 0
    while True:
        with transaction(conn, role="sxe_worker"):
            bundles = conn.execute(sql("retention_bundles_expired"), params).fetchall()
        for bundle in bundles:
            store = stores[bundle["store"]]
            for key in (bundle["data_key"], bundle["manifest_key"]):
                store.delete(key)
                report.objects_deleted += 1
        with transaction(conn, role="sxe_worker"):
            row = conn.execute(
                sql("retention_bundles_delete"), {"ids": [bundle["id"] for bundle in bundles], "now": report.now}
            ).fetchone()
        assert row is not None, "the delete statement is an aggregate and always returns one row"
        total += int(row["removed"])
        report.bundle_cards_deleted += int(row["bundle_cards"])
        if len(bundles) < batch:
            return total
