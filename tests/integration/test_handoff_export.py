"""Handoff exports against a real database: contract versions, allowlists, suppression, filters, messages."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from handoff_support import seed_card, suppress

from sxe.contracts import find_contracts_dir
from sxe.errors import UsageError
from sxe.handoff.bundle import read_bundle
from sxe.handoff.consumers import create_consumer
from sxe.handoff.export import HandoffRequest, hand_off
from sxe.handoff.records import RecordFormat
from sxe.handoff.store import LocalObjectStore

POOL = "makers"


def request(**changes: Any) -> HandoffRequest:
    values: dict[str, Any] = {
        "pool": POOL,
        "environment": "test",
        "created_at": datetime(2026, 12, 4, 12, 0, tzinfo=UTC),
        "retention_days": 7,
        "actor": "test",
    }
    values.update(changes)
    return HandoffRequest(**values)


def readiness_of(conn: psycopg.Connection[Any], pool: str = POOL) -> dict[str, int]:
    rows = conn.execute(
        "SELECT readiness, count(*) AS n FROM execution.lead_cards WHERE pool = %s GROUP BY readiness", (pool,)
    )
    return {row["readiness"]: row["n"] for row in rows}


@pytest.fixture
def v1_only_contracts(tmp_path: Path) -> Path:
    """A contracts folder as a consumer written before v2 would hold: the v1 schemas only."""
    folder = tmp_path / "v1-contracts" / "handoff"
    folder.mkdir(parents=True)
    for name in ("lead-card.v1.schema.json", "bundle-manifest.v1.schema.json"):
        shutil.copy(find_contracts_dir() / "handoff" / name, folder / name)
    return folder.parent


def test_v1_consumer_reads_v1_export(conn: psycopg.Connection[Any], tmp_path: Path, v1_only_contracts: Path) -> None:
    for index in range(3):
        seed_card(conn, POOL, index)
    store = LocalObjectStore(tmp_path / "objects")

    bundle = hand_off(conn, store, request(record_format=RecordFormat("lead-card.v1")))
    manifest, records = read_bundle(store, bundle.manifest_key, contracts_dir=v1_only_contracts)
    cards = list(records)

    assert manifest["schema_version"] == "bundle-manifest.v1"
    assert len(cards) == 3
    assert {card["schema_version"] for card in cards} == {"lead-card.v1"}
    assert all("dnc_status" in phone for card in cards for phone in card["contact"]["phones"])


def test_v2_export_fails_for_v1_only_consumer(
    conn: psycopg.Connection[Any], tmp_path: Path, v1_only_contracts: Path
) -> None:
    seed_card(conn, POOL, 0)
    store = LocalObjectStore(tmp_path / "objects")

    bundle = hand_off(conn, store, request(record_format=RecordFormat("lead-card.v2")))

    with pytest.raises(UsageError, match="unknown schema .*bundle-manifest.v2"):
        read_bundle(store, bundle.manifest_key, contracts_dir=v1_only_contracts)


def test_v2_export_has_tribes_and_compliance(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    seed_card(conn, POOL, 0, dnc_status="dnc")
    store = LocalObjectStore(tmp_path / "objects")

    bundle = hand_off(conn, store, request(record_format=RecordFormat("lead-card.v2")))
    manifest, records = read_bundle(store, bundle.manifest_key)
    (card,) = list(records)

    assert manifest["schema_version"] == "bundle-manifest.v2"
    assert manifest["contact_fields"] == ["emails", "phones"]
    assert card["tribes"] == [{"value": "indie-hackers", "score": pytest.approx(0.6)}]
    compliance = card["contact"]["phones"][0]["compliance"]
    assert compliance["dnc"] == "listed"
    assert compliance["tcpa"] == "consent_required"
    assert compliance["suppressed"] is False
    assert "dnc_status" not in card["contact"]["phones"][0]


def test_suppressed_points_are_marked_not_omitted(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    seeded = seed_card(conn, POOL, 0)
    suppress(conn, "phone", seeded.phone)
    suppress(conn, "email", seeded.email)
    store = LocalObjectStore(tmp_path / "objects")

    v2 = hand_off(conn, store, request(record_format=RecordFormat("lead-card.v2")))
    v1 = hand_off(conn, store, request(record_format=RecordFormat("lead-card.v1"), state="handed_off"))
    (card_v2,) = list(read_bundle(store, v2.manifest_key)[1])
    (card_v1,) = list(read_bundle(store, v1.manifest_key)[1])

    assert card_v2["contact"]["phones"][0]["compliance"]["suppressed"] is True
    assert card_v2["contact"]["emails"][0]["suppressed"] is True
    assert card_v1["contact"]["phones"][0]["dnc_status"] == "suppressed"
    assert card_v1["contact"]["emails"][0]["status"] == "suppressed"


def test_allowlist_without_phones_sends_none(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    seed_card(conn, POOL, 0)
    store = LocalObjectStore(tmp_path / "objects")
    record_format = RecordFormat("lead-card.v2", frozenset({"emails"}))

    bundle = hand_off(conn, store, request(record_format=record_format))
    manifest, records = read_bundle(store, bundle.manifest_key)
    (card,) = list(records)

    assert card["contact"]["phones"] == []
    assert len(card["contact"]["emails"]) == 1
    assert manifest["contact_fields"] == ["emails"]
    assert b"+1555555" not in (tmp_path / "objects" / bundle.data_key).read_bytes()


def test_persona_filter_marks_only_matching_cards(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    founder = seed_card(conn, POOL, 0, persona="founder")
    seed_card(conn, POOL, 1, persona="coach")
    store = LocalObjectStore(tmp_path / "objects")

    bundle = hand_off(conn, store, request(persona="founder"))
    (card,) = list(read_bundle(store, bundle.manifest_key)[1])

    assert card["card_id"] == str(founder.card_id)
    assert readiness_of(conn) == {"handed_off": 1, "ready": 1}
    assert bundle.manifest["filters"]["persona"] == "founder"


def test_reexport_of_handed_off_marks_nothing(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    seed_card(conn, POOL, 0)
    store = LocalObjectStore(tmp_path / "objects")
    first = hand_off(conn, store, request())

    again = hand_off(conn, store, request(state="handed_off"))
    members = conn.execute("SELECT count(*) AS n FROM ops.bundle_cards WHERE bundle_id = %s", (again.bundle_id,))

    assert first.record_count == again.record_count == 1
    assert readiness_of(conn) == {"handed_off": 1}
    assert members.fetchone()["n"] == 1
    assert conn.execute("SELECT count(*) AS n FROM ops.handoff_messages").fetchone()["n"] == 0


def test_handoff_enqueues_for_subscribed_consumers(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    for index in range(2):
        seed_card(conn, POOL, index)
    create_consumer(conn, "crm", [POOL], contact_fields=["emails"], actor="test")
    create_consumer(conn, "dialer", [POOL, "other"], contact_fields=["phones"], actor="test")
    create_consumer(conn, "elsewhere", ["other"], actor="test")

    hand_off(conn, LocalObjectStore(tmp_path / "objects"), request())
    rows = conn.execute(
        """SELECT consumer.name, count(*) AS n FROM ops.handoff_messages AS message
             JOIN ops.api_consumers AS consumer ON consumer.id = message.consumer_id GROUP BY consumer.name"""
    ).fetchall()

    assert {row["name"]: row["n"] for row in rows} == {"crm": 2, "dialer": 2}


def test_bundle_row_records_format_and_store(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    seed_card(conn, POOL, 0)
    record_format = RecordFormat("lead-card.v2", frozenset({"emails"}))

    bundle = hand_off(conn, LocalObjectStore(tmp_path / "objects"), request(record_format=record_format))
    row = conn.execute("SELECT * FROM ops.bundles WHERE id = %s", (bundle.bundle_id,)).fetchone()
    audit = conn.execute("SELECT detail FROM ops.audit_log WHERE action = 'handoff.bundle_written'").fetchone()

    assert row["schema_version"] == "lead-card.v2"
    assert row["contact_fields"] == ["emails"]
    assert row["store"] == "local"
    assert audit["detail"]["contact_fields"] == ["emails"]
    assert "@" not in str(audit["detail"])
