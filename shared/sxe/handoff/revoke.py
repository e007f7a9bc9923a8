"""Revoke the bundles that contain a card, for erasure, so `handoff/download` returns 410 for them."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from sxe import audit
from sxe.db import sql


def revoke_bundles_containing(
    conn: psycopg.Connection[Any], card_id: uuid.UUID, *, reason: str, actor: str
) -> list[uuid.UUID]:
    """Revoke every bundle that contains `card_id`, audit each, and return their ids.

    Runs in the caller's transaction, as sxe_worker, so the revocation commits with
    the erasure that caused it.
    NOTE: the stored objects are kept, so a URL issued before the revocation works
    until it expires (SXE_SIGNED_URL_SECONDS, 15 minutes by default).
    """
    rows = conn.execute(sql("handoff_revoke_bundles"), {"card_id": card_id, "reason": reason}).fetchall()
    for row in rows:
        audit.append(
            conn,
            actor=actor,
            action="handoff.bundle_revoked",
            subject=f"bundle:{row['id']}",
            detail={"reason": reason, "card_id": str(card_id)},
        )
    return [row["id"] for row in rows]
