"""ops.events and the JSON logs share one event vocabulary, and every stored event matches its schema."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from sxe.config import load_settings
from sxe.contracts import iter_errors
from sxe.db import connect
from sxe.errors import ContractViolation
from sxe.events import EVENT_V2, EVENT_V3, EventType, emit
from sxe.logs import Event
from sxe.pipeline import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "0091_dotted_event_types.sql"


def test_event_types_are_log_events() -> None:
    log_names = {event.value for event in Event}

    for event_type in EventType:
        assert event_type.value in log_names, event_type


def test_pipeline_run_writes_only_valid_events(database_url: str, tmp_path: Path) -> None:
    run([EXAMPLES], load_settings(database_url=database_url, state_dir=tmp_path / "state"))

    with connect(database_url, autocommit=True) as conn:
        rows = conn.execute("SELECT type, subject_id, data FROM ops.events ORDER BY id").fetchall()

    types = {row["type"] for row in rows}
    assert {EventType.READINESS_CHANGED, EventType.ENRICHED, EventType.HANDED_OFF} <= types
    assert types <= {event_type.value for event_type in EventType}
    for row in rows:
        errors = [str(error) for error in iter_errors(dict(row), EVENT_V3)]
        assert errors == [], (row["type"], errors)


def test_pipeline_events_still_match_v2(database_url: str, tmp_path: Path) -> None:
    run([EXAMPLES], load_settings(database_url=database_url, state_dir=tmp_path / "state"))

    with connect(database_url, autocommit=True) as conn:
        rows = conn.execute("SELECT type, subject_id, data FROM ops.events ORDER BY id").fetchall()

    # Only a pool.created event without a batch id is new in version 3.
    created = [dict(row) for row in rows if row["type"] == EventType.POOL_CREATED]
    assert created == [{"type": "pool.created", "subject_id": "default", "data": {"pool": "default"}}]
    for row in rows:
        if row["type"] == EventType.POOL_CREATED:
            continue
        errors = [str(error) for error in iter_errors(dict(row), EVENT_V2)]
        assert errors == [], (row["type"], errors)


def test_emit_rejects_undeclared_payload_key(conn: psycopg.Connection) -> None:
    with pytest.raises(ContractViolation):
        emit(conn, EventType.HANDED_OFF, str(uuid.uuid4()), records=1, pool="default", email="x@example.com")

    assert conn.execute("SELECT count(*) AS n FROM ops.events").fetchone()["n"] == 0


def test_emit_rejects_wrong_subject(conn: psycopg.Connection) -> None:
    with pytest.raises(ContractViolation):
        emit(conn, EventType.ENRICHED, "not-a-card-id", provider="apollo", outcome="matched", job_id=1)


def test_migration_renames_stored_types(conn: psycopg.Connection) -> None:
    old_names = ["ingested", "readiness_changed", "handed_off", "tombstone", "alarm.raised"]
    for name in old_names:
        conn.execute("INSERT INTO ops.events (type, subject_id, data) VALUES (%s, NULL, '{}')", (name,))

    conn.execute(MIGRATION.read_text(encoding="utf-8"))

    stored = [row["type"] for row in conn.execute("SELECT type FROM ops.events ORDER BY id")]
    assert stored == ["file.ingested", "card.readiness_changed", "bundle.written", "card.erased", "alarm.raised"]
