"""The Postgres job table: enqueue, claim, extend, complete, retry, defer, fail, cancel, rescue.

Every transition is guarded by the current state and the lease token, so a
worker that lost its lease cannot finish a job someone else now holds. No
statement keeps a lock or session state beyond its own short transaction, so the
table works behind PgBouncer in transaction mode.

`claim_and_commit`, `complete_and_commit` and `complete_and_claim` run their own
transaction and send it as one message (BEGIN, SET LOCAL ROLE, the statements, COMMIT),
so a claim costs one round trip instead of four. Use them when nothing else belongs in
that transaction.

Each failure is appended to the row's `errors` array as one JSON object
(`attempt`, `at`, `class`, `message`, `status_code`, `retry_after_seconds`,
`delay_seconds`), so a dead job shows every attempt that led there.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from sxe.db import sql
from sxe.db.connection import execute_committed
from sxe.errors import StateTransitionError


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    queue: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    lease_token: uuid.UUID


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with equal jitter.

    Attempt n waits between half and all of `min(cap, base * 2**(n-1))` seconds.
    The random half spreads out retries of jobs that failed together, as in a
    provider outage, so they do not return together. The fixed half keeps the wait growing.
    """

    base_seconds: float = 5.0
    cap_seconds: float = 900.0

    def __post_init__(self) -> None:
        if not 0 < self.base_seconds <= self.cap_seconds:
            raise ValueError(
                f"backoff needs 0 < base_seconds <= cap_seconds, got {self.base_seconds} and {self.cap_seconds}"
            )

    def delay(self, attempt: int, *, rng: random.Random | None = None) -> float:
        """Return the wait in seconds before the attempt after `attempt` (1-based)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0 ** max(attempt - 1, 0))
        jitter: float = (rng or random).uniform(0, ceiling / 2)
        return ceiling / 2 + jitter


def error_entry(
    attempt: int,
    error: BaseException | None = None,
    *,
    error_class: str | None = None,
    message: str | None = None,
    **detail: Any,
) -> dict[str, Any]:
    """Build one entry of a job's error history from an exception or from a class name and message.

    The message must already be free of contact data: provider errors mask it
    before they are raised.
    """
    if error_class is None:
        error_class = type(error).__name__ if error is not None else "Error"
    if message is None:
        message = str(error) if error is not None else ""
    entry: dict[str, Any] = {
        "attempt": attempt,
        "at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "class": error_class,
        "message": message,
        "status_code": getattr(error, "status_code", None),
    }
    entry.update(detail)
    return entry


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


def claim(conn: psycopg.Connection[Any], queue: str, *, limit: int = 10, lease_seconds: float = 60) -> list[Job]:
    """Lease up to `limit` due jobs of `queue`, highest priority first; spend one attempt on each.

    Run it in its own short transaction: the claimed rows stay locked until it commits.
    """
    rows = conn.execute(sql("jobs_claim"), {"queue": queue, "limit": limit, "lease_seconds": lease_seconds}).fetchall()
    return [Job(**row) for row in rows]


def claim_and_commit(
    conn: psycopg.Connection[Any],
    queue: str,
    *,
    limit: int = 10,
    lease_seconds: float = 60,
    role: str = "sxe_worker",
) -> list[Job]:
    """Claim as `claim` does, in a transaction of its own as `role`, committed in one round trip.

    `conn` must be in autocommit mode with no transaction open.
    """
    params = {"queue": queue, "limit": limit, "lease_seconds": lease_seconds}
    [rows] = execute_committed(conn, sql("jobs_claim"), params, role=role)
    return [Job(**row) for row in rows]


def extend_lease(conn: psycopg.Connection[Any], job: Job, *, lease_seconds: float) -> bool:
    """Push the lease of a held job `lease_seconds` into the future; return False when the lease is lost."""
    row = conn.execute(
        sql("jobs_extend_lease"), {"id": job.id, "lease_token": job.lease_token, "lease_seconds": lease_seconds}
    ).fetchone()
    return row is not None


def complete(conn: psycopg.Connection[Any], job: Job) -> None:
    """Mark a job succeeded; raise StateTransitionError when its lease is no longer held."""
    _guarded(conn, "jobs_complete", job, {})


def complete_many(conn: psycopg.Connection[Any], claimed: list[Job]) -> None:
    """Mark a batch of jobs succeeded in one statement; raise StateTransitionError when any lease is no longer held.

    On that error some jobs of the batch may already be marked in the current
    transaction. The caller must roll it back, which `transaction()` does when the error
    propagates, and then complete one by one the jobs whose lease is still valid.
    """
    if not claimed:
        return
    rows = conn.execute(
        sql("jobs_complete_many"),
        {"ids": [job.id for job in claimed], "lease_tokens": [job.lease_token for job in claimed]},
    ).fetchall()
    if len(rows) == len(claimed):
        return
    completed = {row["id"] for row in rows}
    lost = [job.id for job in claimed if job.id not in completed]
    raise StateTransitionError(
        f"jobs {lost} are no longer running under this worker's lease; "
        "they were rescued or finished elsewhere, so this batch's result must be rolled back"
    )


def complete_and_commit(conn: psycopg.Connection[Any], claimed: list[Job], *, role: str = "sxe_worker") -> list[int]:
    """Complete a batch in a transaction of its own as `role`, committed in one round trip; return the lost ids.

    Each job is guarded by its own lease token, as in `complete`. A job whose lease was
    lost stays as it is and its id is returned. The other jobs are completed.
    `conn` must be in autocommit mode with no transaction open.
    """
    if not claimed:
        return []
    [rows] = execute_committed(conn, sql("jobs_complete_many"), _held(claimed), role=role)
    completed = {row["id"] for row in rows}
    return [job.id for job in claimed if job.id not in completed]


def complete_and_claim(
    conn: psycopg.Connection[Any],
    claimed: list[Job],
    queue: str,
    *,
    limit: int = 10,
    lease_seconds: float = 60,
    role: str = "sxe_worker",
) -> tuple[list[int], list[Job]]:
    """Complete a finished batch and claim the next in one transaction, committed in one round trip.

    Return the ids of the jobs whose lease was lost (left unchanged, as in
    `complete_and_commit`) and the newly claimed jobs. A worker loop that has nothing
    else to commit with a job's completion spends one commit per batch this way, not two.
    `conn` must be in autocommit mode with no transaction open.
    """
    params = {
        **_held(claimed),
        "queue": queue,
        "limit": limit,
        "lease_seconds": lease_seconds,
    }
    # The claim runs second, so the jobs just completed are already succeeded and it skips them.
    completed, fresh = execute_committed(conn, [sql("jobs_complete_many"), sql("jobs_claim")], params, role=role)
    done = {row["id"] for row in completed}
    return [job.id for job in claimed if job.id not in done], [Job(**row) for row in fresh]


def retry(conn: psycopg.Connection[Any], job: Job, *, delay_seconds: float, error: dict[str, Any]) -> str:
    """Requeue a job after `delay_seconds`, or mark it dead when out of attempts; return the new state.

    `error` is appended to the job's error history with `delay_seconds` added.
    """
    entry = {**error, "delay_seconds": round(delay_seconds, 3)}
    row = _guarded(conn, "jobs_retry", job, {"delay_seconds": delay_seconds, "error": Jsonb(entry)})
    return str(row["state"])


def defer(conn: psycopg.Connection[Any], job: Job, *, delay_seconds: float) -> None:
    """Requeue a job that never reached its provider (breaker open, no rate token); no attempt is spent."""
    _guarded(conn, "jobs_defer", job, {"delay_seconds": delay_seconds})


def fail(conn: psycopg.Connection[Any], job: Job, *, error: dict[str, Any]) -> None:
    """Mark a job dead at once, for failures no retry can fix; `error` joins its error history."""
    _guarded(conn, "jobs_fail", job, {"error": Jsonb(error)})


def cancel(conn: psycopg.Connection[Any], job: Job, *, reason: dict[str, Any]) -> None:
    """Close a claimed job that must not run without spending an attempt; `reason` joins its error history."""
    _guarded(conn, "jobs_cancel", job, {"reason": Jsonb(reason)})


def rescue_expired(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Return jobs with an expired lease to the queue (or to dead); return their ids, new states and attempts."""
    return list(conn.execute(sql("jobs_rescue")).fetchall())


def next_due_seconds(conn: psycopg.Connection[Any], queue: str) -> float | None:
    """Return the seconds until the earliest queued job of `queue` is due, or None when none is queued."""
    row = conn.execute(sql("jobs_next_due"), {"queue": queue}).fetchone()
    return None if row is None else float(row["wait_seconds"])


def get(conn: psycopg.Connection[Any], job_id: int) -> dict[str, Any] | None:
    """Return one job row with its state, attempts and error history, or None for an unknown id."""
    row = conn.execute(sql("jobs_get"), {"id": job_id}).fetchone()
    return None if row is None else dict(row)


def counts(conn: psycopg.Connection[Any], queue: str) -> dict[str, int]:
    """Return the number of jobs of `queue` in each state."""
    return {row["state"]: int(row["jobs"]) for row in conn.execute(sql("jobs_counts"), {"queue": queue})}


def counts_by_queue(
    conn: psycopg.Connection[Any], *, lookup_queue: str, pool: str | None = None
) -> dict[str, dict[str, int]]:
    """Return the number of jobs in each state per queue, without other pools' lookup jobs when `pool` is given.

    A job of `lookup_queue` counts for `pool` only when its payload names that pool, so an
    erased lookup job, whose payload names none, counts only without `pool`. Jobs of every
    other queue serve every pool and are always counted.
    """
    result: dict[str, dict[str, int]] = {}
    for row in conn.execute(sql("jobs_counts_all"), {"pool": pool, "lookup_queue": lookup_queue}):
        result.setdefault(row["queue"], {})[row["state"]] = int(row["jobs"])
    return result


def list_jobs(
    conn: psycopg.Connection[Any], *, queue: str | None = None, state: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Return up to `limit` jobs, most recently changed first, with their last error but not their payload."""
    return list(conn.execute(sql("jobs_list"), {"queue": queue, "state": state, "limit": limit}).fetchall())


def requeue_dead(
    conn: psycopg.Connection[Any],
    *,
    ids: list[int] | None = None,
    queue: str | None = None,
    excluded: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Put dead jobs back in their queue with their attempts reset; return the ids and queues moved.

    `ids` and `queue` choose the jobs, None meaning any, less the ids in `excluded`. A job
    stays dead while a live job has its dedupe key, and of several dead jobs sharing a key
    only the newest moves.
    """
    params = {"ids": ids, "queue": queue, "excluded": excluded or []}
    return list(conn.execute(sql("jobs_requeue"), params).fetchall())


def _guarded(conn: psycopg.Connection[Any], name: str, job: Job, params: dict[str, Any]) -> dict[str, Any]:
    row = conn.execute(sql(name), {"id": job.id, "lease_token": job.lease_token, **params}).fetchone()
    if row is None:
        raise StateTransitionError(
            f"job {job.id} is no longer running under this worker's lease; "
            "it was rescued or finished elsewhere, so this result is discarded"
        )
    return dict(row)


def _held(claimed: list[Job]) -> dict[str, str]:
    """Return the ids and lease tokens of `claimed` as PostgreSQL array literals, for a message quoted on the client.

    Joining the values takes a few microseconds per batch, where psycopg's array dumper
    checks and quotes every element on its own, which a worker at batch 50 felt as a
    third of its CPU per job. Ids are integers and tokens UUIDs, so neither needs quoting.
    The jobs of one claim share their token, so each token is turned into text once.
    """
    text = {token: str(token) for token in {job.lease_token for job in claimed}}
    ids = ",".join(str(job.id) for job in claimed)
    tokens = ",".join(text[job.lease_token] for job in claimed)
    return {"ids": f"{{{ids}}}", "lease_tokens": f"{{{tokens}}}"}
