"""The Postgres job table: enqueue, claim, complete, retry, fail, rescue.

Every transition is guarded by the current state and the lease token, so a
worker that lost its lease cannot finish a job someone else now holds.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from sxe.db import sql
from sxe.errors import StateTransitionError


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    queue: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    lease_token: uuid.UUID


def enqueue(
    conn: psycopg.Connection[Any],
    queue: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str | None = None,
    priority: int = 0,
    run_after: datetime | None = None,
    max_attempts: int = 5,
) -> int | None:
    """Add a job; return its id, or None when a live job with the same dedupe key exists."""
    row = conn.execute(
        sql("jobs_enqueue"),
        {
            "queue": queue,
            "payload": Jsonb(payload),
            "dedupe_key": dedupe_key,
            "priority": priority,
            "run_after": run_after,
            "max_attempts": max_attempts,
        },
    ).fetchone()
    return None if row is None else int(row["id"])


def claim(conn: psycopg.Connection[Any], queue: str, *, limit: int = 10, lease_seconds: int = 60) -> list[Job]:
    """Lease up to `limit` due jobs of `queue`; the caller must be outside a long transaction."""
    rows = conn.execute(sql("jobs_claim"), {"queue": queue, "limit": limit, "lease_seconds": lease_seconds}).fetchall()
    return [Job(**row) for row in rows]


def complete(conn: psycopg.Connection[Any], job: Job) -> None:
    """Mark a job succeeded; raise StateTransitionError when its lease is no longer held."""
    _guarded(conn, "jobs_complete", job, {})


def retry(conn: psycopg.Connection[Any], job: Job, *, delay_seconds: float, error: dict[str, Any]) -> str:
    """Requeue a job after `delay_seconds`, or mark it dead when out of attempts; return the new state."""
    row = _guarded(conn, "jobs_retry", job, {"delay_seconds": delay_seconds, "error": Jsonb(error)})
    return str(row["state"])


def defer(conn: psycopg.Connection[Any], job: Job, *, delay_seconds: float) -> None:
    """Requeue a job that never reached its provider (breaker open, no rate token); no attempt is spent."""
    _guarded(conn, "jobs_defer", job, {"delay_seconds": delay_seconds})


def fail(conn: psycopg.Connection[Any], job: Job, *, error: dict[str, Any]) -> None:
    """Mark a job dead at once, for failures no retry can fix."""
    _guarded(conn, "jobs_fail", job, {"error": Jsonb(error)})


def rescue_expired(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Return jobs with an expired lease to the queue (or to dead); return their ids and new states."""
    return list(conn.execute(sql("jobs_rescue")).fetchall())


def counts(conn: psycopg.Connection[Any], queue: str) -> dict[str, int]:
    """Return the number of jobs of `queue` in each state."""
    return {row["state"]: int(row["jobs"]) for row in conn.execute(sql("jobs_counts"), {"queue": queue})}


def _guarded(conn: psycopg.Connection[Any], name: str, job: Job, params: dict[str, Any]) -> dict[str, Any]:
    row = conn.execute(sql(name), {"id": job.id, "lease_token": job.lease_token, **params}).fetchone()
    if row is None:
        raise StateTransitionError(
            f"job {job.id} is no longer running under this worker's lease; "
            "it was rescued or finished elsewhere, so this result is discarded"
        )
    return dict(row)
