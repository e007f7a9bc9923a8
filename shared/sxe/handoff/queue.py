"""The per-consumer pull queue: lease messages, acknowledge them, get the rest again after the lease.

Handing cards off enqueues one message per card for each consumer subscribed to
the card's pool (handoff_mark_cards.sql). A pull leases messages for
`lease_seconds`. An acknowledged message is never delivered again. An
unacknowledged one is delivered again once its lease has passed, with the same
message id and a higher `delivery`. Delivery is at least once, so consumers
dedupe on the message id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import psycopg

from sxe.db import sql, transaction
from sxe.handoff.bundle import format_timestamp
from sxe.handoff.consumers import Consumer
from sxe.handoff.records import render_card

DEFAULT_MAX_MESSAGES = 10
MAX_MESSAGES = 100
DEFAULT_LEASE_SECONDS = 60
MAX_LEASE_SECONDS = 43_200
MAX_ACK_IDS = 1000


def pull(
    conn: psycopg.Connection[Any],
    consumer: Consumer,
    *,
    max_messages: int = DEFAULT_MAX_MESSAGES,
    lease_seconds: int = DEFAULT_LEASE_SECONDS,
) -> list[dict[str, Any]]:
    """Lease up to `max_messages` messages and return them as queue-message.v1 documents.

    Each message carries its card rendered now, in the consumer's format, or null
    when the card is no longer released (erased, suppressed or changed since).
    """
    with transaction(conn, role="sxe_api"):
        leased = conn.execute(
            sql("queue_lease"),
            {"consumer_id": consumer.id, "max_messages": max_messages, "lease_seconds": lease_seconds},
        ).fetchall()
    if not leased:
        return []

    with transaction(conn, role="sxe_worker"):
        rows = conn.execute(sql("queue_cards"), {"card_ids": [row["card_id"] for row in leased]}).fetchall()
    cards = {row["card_id"]: render_card(row, consumer.record_format) for row in rows}
    return [_message(row, consumer, cards.get(row["card_id"])) for row in leased]


def _message(row: dict[str, Any], consumer: Consumer, card: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "schema_version": "queue-message.v1",
        "message_id": str(row["id"]),
        "event": "lead_card.handed_off",
        "consumer": consumer.name,
        "pool": row["pool"],
        "card_id": str(row["card_id"]),
        "bundle_id": str(row["bundle_id"]),
        "enqueued_at": format_timestamp(row["enqueued_at"]),
        "delivery": row["deliveries"],
        "lease_expires_at": format_timestamp(row["lease_expires_at"]),
        "record_schema": consumer.record_format.schema_id,
        "card": card,
    }


def ack(conn: psycopg.Connection[Any], consumer: Consumer, message_ids: Iterable[uuid.UUID]) -> dict[str, Any]:
    """Acknowledge messages; return the ids acknowledged now, those acknowledged before, and unknown ids.

    An id that is not one of this consumer's messages counts as unknown, so a
    consumer learns nothing about another consumer's queue.
    """
    wanted = sorted(set(message_ids))
    with transaction(conn, role="sxe_api"):
        rows = conn.execute(sql("queue_ack"), {"consumer_id": consumer.id, "message_ids": wanted}).fetchall()
    known = {row["id"]: row["already_acked"] for row in rows}
    return {
        "acked": [str(i) for i in wanted if i in known and not known[i]],
        "already_acked": [str(i) for i in wanted if known.get(i)],
        "unknown": [str(i) for i in wanted if i not in known],
    }
