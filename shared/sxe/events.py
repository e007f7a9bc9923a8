"""The structured event stream in ops.events: one row per pipeline fact.

Each event type has the same name as the `sxe.logs.Event` for the same fact, so
logs and ops.events share one vocabulary. `emit` validates every event against
contracts/events/event.v3.schema.json before it stores it; SQL that inserts events
directly (bulk readiness moves) writes the same shapes, which the pipeline tests check.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from sxe.contracts import validate
from sxe.db import sql
from sxe.logs import Event, log

EVENT_V1 = "https://schemas.sxe.dev/events/event.v1.json"
# Version 1 and `pool.created` with the id of the webhook batch that named the pool.
EVENT_V2 = "https://schemas.sxe.dev/events/event.v2.json"
# Version 2 with that batch id optional: the schema `emit` validates against. Every event
# that carries a batch id, and every event of another type, also matches version 2.
EVENT_V3 = "https://schemas.sxe.dev/events/event.v3.json"


class EventType(StrEnum):
    INGESTED = Event.FILE_INGESTED.value
    NORMALIZED = Event.PROFILES_NORMALIZED.value
    TAGGED = Event.CARDS_TAGGED.value
    ENRICHMENT_DECIDED = Event.ENRICHMENT_DECIDED.value
    ENRICHED = Event.CARD_ENRICHED.value
    READINESS_CHANGED = Event.CARD_READINESS_CHANGED.value
    HANDED_OFF = Event.BUNDLE_WRITTEN.value
    ALARM_RAISED = Event.ALARM_RAISED.value
    ALARM_CLEARED = Event.ALARM_CLEARED.value
    # A person was erased: downstream consumers delete the card and everything they hold for it.
    TOMBSTONE = Event.CARD_ERASED.value
    # A pool that did not exist was created, by a command or for a webhook batch that named it.
    POOL_CREATED = Event.POOL_CREATED.value


def emit(conn: psycopg.Connection[Any], event: EventType, subject_id: str | None, **data: Any) -> None:
    """Validate and record one event; `data` must contain ids, states and counts only, never contact data.

    Raises ContractViolation when the event does not match its schema, which is a
    programming error: the schema lists every key each event type may carry.
    """
    document = {"type": event.value, "subject_id": subject_id, "data": data}
    validate(document, EVENT_V3)
    conn.execute(sql("events_append"), {"type": event.value, "subject_id": subject_id, "data": Jsonb(data)})
    # DEBUG, because the stage that emits the event usually logs the same fact at INFO already.
    log(logging.DEBUG, Event(event.value), f"{event.value} recorded in ops.events")
