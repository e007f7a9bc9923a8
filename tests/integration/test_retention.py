"""Retention by tier after a real pipeline run, and the DNC scrub rule at handoff."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from sxe.cards import DEFAULT_INTENT
from sxe.cards.intent import set_intent
from sxe.compliance.retention import STEPS, run_retention
from sxe.config import Settings, load_settings
from sxe.db import transaction
from sxe.errors import ConfigError
from sxe.handoff.export import HandoffRequest, hand_off
from sxe.handoff.store import LocalObjectStore
from sxe.pipeline import RunSummary, run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ACTOR = "sxe_worker:test"
TABLES = {
    "contact_points": "contact.contact_points",
    "contacts": "contact.contacts",
    "bio_sightings": "contact.bio_sightings",
    "webhook_intake": "intake.webhook_records",
    "lookup_memory": "ops.lookup_memory",
    "unchanged_deliveries": "social.unchanged_deliveries",
    "profiles": "social.profiles",
    "raw_records": "social.raw_records",
    "lead_cards": "execution.lead_cards",
    "enrichment_decisions": "ops.enrichment_decisions",
    "jobs": "ops.jobs",
    "events": "ops.events",
    "idempotency_keys": "ops.idempotency_keys",
    "quarantine": "ops.quarantine",
    "ingest_batches": "social.ingest_batches",
    "bundles": "ops.bundles",
}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=database_url,
        state_dir=tmp_path / "state",
        suppression_key="k" * 32,
        retention_tier1_days=730,
        retention_tier2_days=365,
        retention_tier3_days=180,
        retention_batch_rows=7,
    )


@pytest.fixture
def first_run(settings: Settings, conn: psycopg.Connection) -> RunSummary:
    """Run the examples for a pool that wants phones too, so every contact tier has rows to expire."""
    with transaction(conn, role="sxe_worker"):
        set_intent(conn, settings.pool, {**DEFAULT_INTENT, "wanted_fields": ["email", "phone"]})
    return run([EXAMPLES], settings)


def counts(conn: psycopg.Connection) -> dict[str, int]:
    return {
        name: int(conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]) for name, table in TABLES.items()
    }


def test_steps_cover_every_table() -> None:
    assert {step.table for step in STEPS} | {"bundles"} == set(TABLES)


def test_nothing_expires_today(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    before = counts(conn)

    report = run_retention(conn, settings, actor=ACTOR)

    assert sum(report.deleted.values()) == 0
    assert counts(conn) == before


def test_everything_expires_after_tier1(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    before = counts(conn)
    assert before["contact_points"] > settings.retention_batch_rows

    report = run_retention(conn, settings, actor=ACTOR, now=datetime.now(UTC) + timedelta(days=731))

    assert counts(conn) == dict.fromkeys(TABLES, 0)
    # Cached results naming a deleted contact go in the contacts step, the rest in their own.
    assert report.deleted.pop("lookup_memory") <= before.pop("lookup_memory")
    assert report.deleted == before


def test_tier2_and_tier3_expire_before_tier1(
    settings: Settings, first_run: RunSummary, conn: psycopg.Connection
) -> None:
    before = counts(conn)

    run_retention(conn, settings, actor=ACTOR, now=datetime.now(UTC) + timedelta(days=400))

    after = counts(conn)
    assert after["contact_points"] == after["contacts"] == 0
    assert after["lead_cards"] == after["events"] == after["enrichment_decisions"] == 0
    assert after["profiles"] == before["profiles"]
    assert after["raw_records"] == before["raw_records"]
    assert after["ingest_batches"] == before["ingest_batches"]


def test_live_jobs_survive_retention(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    with transaction(conn, role="sxe_worker"):
        conn.execute(
            "INSERT INTO ops.jobs (queue, payload, created_at, updated_at) VALUES ('enrich', '{}', "
            "now() - interval '1000 days', now() - interval '1000 days')"
        )

    run_retention(conn, settings, actor=ACTOR, now=datetime.now(UTC) + timedelta(days=731))

    assert conn.execute("SELECT state FROM ops.jobs").fetchall() == [{"state": "queued"}]


def test_retention_audits_counts(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    report = run_retention(conn, settings, actor=ACTOR, now=datetime.now(UTC) + timedelta(days=400))

    row = conn.execute(
        "SELECT actor, detail FROM ops.audit_log WHERE action = 'retention.completed' ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    assert row["actor"] == ACTOR
    assert row["detail"]["deleted"] == report.deleted
    assert row["detail"]["periods_days"] == {"tier1": 730, "tier2": 365, "bio_sightings": 365, "tier3": 180}


def _add_sightings(conn: psycopg.Connection, ages_days: dict[str, int]) -> None:
    """Record one bio sighting per identity key, last seen `ages_days[key]` days ago."""
    with transaction(conn, role="sxe_worker"):
        for key, age in ages_days.items():
            conn.execute(
                """
                INSERT INTO contact.bio_sightings (platform, identity_key, kind, value, value_sha256, seen_at)
                VALUES ('x', %s, 'email', %s, repeat('a', 64), now() - make_interval(days => %s))
                """,
                (key, f"{key}@example.com", age),
            )


def _sighting_keys(conn: psycopg.Connection) -> list[str]:
    return [row["identity_key"] for row in conn.execute("SELECT identity_key FROM contact.bio_sightings ORDER BY 1")]


def test_bio_sightings_expire_after_own_period(database_url: str, tmp_path: Path, conn: psycopg.Connection) -> None:
    settings = load_settings(database_url=database_url, state_dir=tmp_path / "state", retention_bio_sightings_days=30)
    _add_sightings(conn, {"fresh": 5, "stale": 45})

    report = run_retention(conn, settings, actor=ACTOR)

    assert report.deleted["bio_sightings"] == 1
    assert _sighting_keys(conn) == ["fresh"]
    assert report.deleted["contact_points"] == 0


def test_bio_sightings_default_to_tier2(settings: Settings, conn: psycopg.Connection) -> None:
    _add_sightings(conn, {"fresh": 300, "stale": 370})

    run_retention(conn, settings, actor=ACTOR)

    assert settings.bio_sightings_days == settings.retention_tier2_days
    assert _sighting_keys(conn) == ["fresh"]


def _add_intake(conn: psycopg.Connection, ages_days: dict[str, int]) -> None:
    """Keep one webhook delivery's records as received per webhook id, `ages_days[id]` days ago."""
    for webhook_id, age in ages_days.items():
        batch_id = uuid.uuid4()
        conn.execute(
            "INSERT INTO social.ingest_batches (id, run_id, source_name, source_file, format, collected_at)"
            " VALUES (%s, %s, 'partner', 'webhook', 'x-api-v2', now())",
            (batch_id, batch_id),
        )
        conn.execute(
            "INSERT INTO social.webhook_batches (id, source, webhook_id, format, pool, body_sha256,"
            " record_count, accepted, quarantined, sent_at) VALUES"
            " (%s, 'partner', %s, 'x-api-v2', 'default', repeat('b', 64), 1, 1, 0, now())",
            (batch_id, webhook_id),
        )
        conn.execute(
            "INSERT INTO intake.webhook_records (batch_id, records, received_at)"
            ' VALUES (%s, \'[{"bio": "mail me"}]\', now() - make_interval(days => %s))',
            (batch_id, age),
        )


def test_failed_webhook_intake_expires_after_tier2(settings: Settings, conn: psycopg.Connection) -> None:
    _add_intake(conn, {"msg_fresh": 300, "msg_stale": 370})

    report = run_retention(conn, settings, actor=ACTOR)

    left = conn.execute(
        "SELECT delivery.webhook_id FROM intake.webhook_records"
        " JOIN social.webhook_batches AS delivery ON delivery.id = batch_id"
    ).fetchall()
    assert report.deleted["webhook_intake"] == 1
    assert [row["webhook_id"] for row in left] == ["msg_fresh"]


def test_bio_sightings_period_within_tier1(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SXE_RETENTION_BIO_SIGHTINGS_DAYS \\(900\\) must be at most"):
        load_settings(state_dir=tmp_path, retention_bio_sightings_days=900)


def test_tier1_must_be_longest(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SXE_RETENTION_TIER1_DAYS \\(100\\) must be at least"):
        load_settings(state_dir=tmp_path, retention_tier1_days=100, retention_tier2_days=365)


def test_stale_scrub_withholds_phone(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    phoned = conn.execute(
        """
        SELECT card.id, point.id AS point_id FROM execution.lead_cards AS card
          JOIN contact.contact_points AS point ON point.contact_id = card.contact_id AND point.kind = 'phone'
         WHERE card.readiness = 'handed_off' ORDER BY card.id LIMIT 2
        """
    ).fetchall()
    assert len(phoned) == 2
    stale, fresh = phoned
    conn.execute(
        "UPDATE contact.contact_points SET scrubbed_at = now() - interval '32 days' WHERE id = %s", (stale["point_id"],)
    )
    conn.execute(
        "UPDATE contact.contact_points SET scrubbed_at = now() - interval '30 days' WHERE id = %s", (fresh["point_id"],)
    )
    conn.execute(
        "UPDATE execution.lead_cards SET readiness = 'ready' WHERE id = ANY(%s)", ([stale["id"], fresh["id"]],)
    )

    store = LocalObjectStore(settings.objects_dir)
    bundle = hand_off(conn, store, HandoffRequest(settings.pool, "local", datetime.now(UTC), 7, ACTOR))

    records = {
        record["card_id"]: record
        for record in map(json.loads, gzip.decompress(store.get_bytes(bundle.data_key)).decode().splitlines())
    }
    assert records[str(stale["id"])]["contact"]["phones"] == []
    assert len(records[str(fresh["id"])]["contact"]["phones"]) == 1
    assert records[str(stale["id"])]["contact"]["emails"] != []


def test_handoff_indexes_bundle_cards(first_run: RunSummary, conn: psycopg.Connection) -> None:
    indexed = conn.execute("SELECT count(*) AS n FROM ops.bundle_cards").fetchone()["n"]

    assert first_run.bundle is not None
    assert indexed == first_run.bundle.records
