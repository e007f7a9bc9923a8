"""Hand off a pool: package its ready lead cards into a bundle, record it, and enqueue its messages.

Records are built from the database at export time, contact points included, and
stream from a server-side cursor into the bundle writer, so memory stays flat
however many cards the pool holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from sxe import __version__, audit
from sxe.db import sql, transaction
from sxe.errors import SxeError, UsageError
from sxe.events import EventType, emit
from sxe.handoff.bundle import BundleResult, write_bundle
from sxe.handoff.records import CONTRACT_PLATFORMS, RecordFormat, render_card
from sxe.handoff.store import ObjectStore, S3ObjectStore

FETCH_ROWS = 2000
# Handed-off cards may be exported again (a re-delivery), which marks nothing.
EXPORT_STATES = ("ready", "handed_off")


@dataclass(frozen=True, slots=True)
class HandoffRequest:
    """One handoff. The default format stays lead-card.v1 with every contact field,
    so bundles of `sxe run` keep the shape their consumers were written for."""

    pool: str
    environment: str
    created_at: datetime
    retention_days: int
    actor: str
    record_format: RecordFormat = field(default_factory=lambda: RecordFormat("lead-card.v1"))
    state: str = "ready"
    persona: str | None = None
    tribe: str | None = None

    @property
    def filters(self) -> dict[str, Any]:
        """The selection, as written to the manifest, ops.bundles and the audit log."""
        filters: dict[str, Any] = {"pool": self.pool, "readiness": self.state}
        if self.persona is not None:
            filters["persona"] = self.persona
        if self.tribe is not None:
            filters["tribe"] = self.tribe
        if self.record_format.schema_version == "lead-card.v1":
            # bundle-manifest.v1 has no contact_fields of its own.
            filters["contact_fields"] = sorted(self.record_format.contact_fields)
        return filters


class HandoffMismatch(SxeError):
    """The cards marked handed off differ from the cards written; the handoff was rolled back."""


def hand_off(conn: psycopg.Connection[Any], store: ObjectStore, request: HandoffRequest) -> BundleResult:
    """Write one bundle of the selected cards and record it, its members, audit row and events.

    Exporting `ready` cards also marks them handed off and enqueues one message per
    card for each consumer subscribed to the pool. Raises UsageError for a state
    outside EXPORT_STATES.
    """
    if request.state not in EXPORT_STATES:
        raise UsageError(f"state {request.state!r} cannot be exported; use one of {', '.join(EXPORT_STATES)}")
    bundle_id = uuid.uuid4()
    expires_at = request.created_at + timedelta(days=request.retention_days)
    prefix = f"exports/{request.environment}/{request.created_at:%Y-%m-%d}"
    record_format = request.record_format
    selection = _selection(request, bundle_id)

    # One snapshot for reading and marking: the cards marked handed off are exactly
    # the ones written. A card changed meanwhile makes the marking fail with a
    # serialization error; the bundle then stays unrecorded and its cards go out again.
    with (
        transaction(conn, role="sxe_worker", repeatable_read=True),
        conn.cursor(name=f"handoff_{bundle_id.hex}") as cursor,
    ):
        cursor.itersize = FETCH_ROWS
        cursor.execute(sql("handoff_select_cards"), selection)
        bundle = write_bundle(
            (render_card(row, record_format) for row in _rows(cursor)),
            store=store,
            bundle_id=bundle_id,
            prefix=prefix,
            filters=request.filters,
            created_at=request.created_at,
            expires_at=expires_at,
            record_schema=record_format.schema_id,
            contact_fields=record_format.contact_fields,
        )
        cursor.close()
        _record(conn, bundle, request, expires_at, store)
        messages = _mark_members(conn, request, selection, bundle.record_count)
        emit(conn, EventType.HANDED_OFF, bundle.bundle_id, records=bundle.record_count, pool=request.pool)
        _audit(conn, bundle, request, messages)
    return bundle


def _selection(request: HandoffRequest, bundle_id: uuid.UUID) -> dict[str, Any]:
    return {
        "pool": request.pool,
        "state": request.state,
        "persona": request.persona,
        "tribe": request.tribe,
        "bundle_id": bundle_id,
        "platforms": sorted(CONTRACT_PLATFORMS),
    }


def _rows(cursor: psycopg.Cursor[Any]) -> Iterator[dict[str, Any]]:
    yield from cursor


def _mark_members(
    conn: psycopg.Connection[Any], request: HandoffRequest, selection: dict[str, Any], written: int
) -> int:
    """Record the bundle's members; for ready cards also mark them and enqueue messages. Return the messages."""
    if request.state != "ready":
        conn.execute(sql("handoff_record_members"), selection)
        return 0

    row = conn.execute(sql("handoff_mark_cards"), selection).fetchone()
    marked = int(row["cards"]) if row else 0
    if marked != written:
        raise HandoffMismatch(
            f"handoff of pool {request.pool!r} wrote {written} cards but would mark {marked}; "
            "nothing was recorded, run the handoff again"
        )
    return int(row["messages"]) if row else 0


def store_kind(store: ObjectStore) -> str:
    """Return `s3` for an S3ObjectStore and `local` for any other store."""
    return "s3" if isinstance(store, S3ObjectStore) else "local"


def _record(
    conn: psycopg.Connection[Any],
    bundle: BundleResult,
    request: HandoffRequest,
    expires_at: datetime,
    store: ObjectStore,
) -> None:
    conn.execute(
        sql("handoff_record_bundle"),
        {
            "id": bundle.bundle_id,
            "pool": request.pool,
            "schema_version": request.record_format.schema_version,
            "manifest_key": bundle.manifest_key,
            "data_key": bundle.data_key,
            "record_count": bundle.record_count,
            "sha256": bundle.sha256,
            "expires_at": expires_at,
            "filters": Jsonb(request.filters),
            "contact_fields": sorted(request.record_format.contact_fields),
            "store": store_kind(store),
        },
    )


def _audit(conn: psycopg.Connection[Any], bundle: BundleResult, request: HandoffRequest, messages: int) -> None:
    audit.append(
        conn,
        actor=request.actor,
        action="handoff.bundle_written",
        subject=f"bundle:{bundle.bundle_id}",
        detail={
            "pool": request.pool,
            "records": bundle.record_count,
            "messages": messages,
            "manifest_key": bundle.manifest_key,
            "schema_version": request.record_format.schema_version,
            "contact_fields": sorted(request.record_format.contact_fields),
            "filters": request.filters,
            "producer_version": __version__,
        },
        payload_sha256=bundle.sha256,
    )
