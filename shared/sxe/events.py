"""The structured event stream in ops.events: one row per pipeline fact."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from sxe.db import sql


class EventType(StrEnum):
    INGESTED = "ingested"
    NORMALIZED = "normalized"
    TAGGED = "tagged"
    ENRICHMENT_DECIDED = "enrichment_decided"
    ENRICHED = "enriched"
    READINESS_CHANGED = "readiness_changed"
    HANDED_OFF = "handed_off"
    # Same names as sxe.logs.Event.ALARM_RAISED / ALARM_CLEARED: one vocabulary for logs and ops.events.
    ALARM_RAISED = "alarm.raised"
    ALARM_CLEARED = "alarm.cleared"
    # A person was erased: downstream consumers delete the card and everything they hold for it.
    TOMBSTONE = "tombstone"


def emit(conn: psycopg.Connection[Any], event: EventType, subject_id: str | None, **data: Any) -> None:
    """Record one event; `data` must hold ids and counts only, never contact data."""
    conn.execute(sql("events_append"), {"type": event.value, "subject_id": subject_id, "data": Jsonb(data)})
