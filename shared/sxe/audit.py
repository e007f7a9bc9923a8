"""The append-only, hash-chained audit log: append and verify.

An audit row records who acted, what they did to which subject, why, and the
SHA-256 of any payload involved; never the payload itself. Appends run inside
the caller's transaction, so when the audit insert fails the audited action
rolls back with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from sxe.db import sql


@dataclass(frozen=True, slots=True)
class ChainReport:
    rows_checked: int
    first_broken_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None


def append(
    conn: psycopg.Connection[Any],
    *,
    actor: str,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
    payload_sha256: str | None = None,
) -> None:
    """Append one audit row in the current transaction."""
    conn.execute(
        sql("audit_append"),
        {
            "actor": actor,
            "action": action,
            "subject": subject,
            "detail": Jsonb(detail or {}),
            "payload_sha256": payload_sha256,
        },
    )


def verify(conn: psycopg.Connection[Any]) -> ChainReport:
    """Recompute the chain and name the first broken link, if any."""
    broken = conn.execute(sql("audit_verify")).fetchone()
    if broken is not None:
        return ChainReport(int(broken["rows_checked"]), int(broken["seq"]), str(broken["problem"]))
    total = conn.execute(sql("audit_count")).fetchone()
    return ChainReport(int(total["rows_checked"]) if total else 0)
