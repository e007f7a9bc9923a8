"""The Postgres job table: dedupe, concurrent claims, leases, rescue, retry and defer."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from sxe import jobs
from sxe.db import connect, transaction
from sxe.errors import StateTransitionError

QUEUE = "test-queue"


def enqueue_as_worker(conn: psycopg.Connection[Any], payload: dict[str, Any], **options: Any) -> int | None:
    with transaction(conn, role="sxe_worker"):
        return jobs.enqueue(conn, QUEUE, payload, **options)


def claim_as_worker(conn: psycopg.Connection[Any], *, limit: int = 10, lease_seconds: int = 60) -> list[jobs.Job]:
    with transaction(conn, role="sxe_worker"):
        return jobs.claim(conn, QUEUE, limit=limit, lease_seconds=lease_seconds)


def job_row(conn: psycopg.Connection[Any], job_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM ops.jobs WHERE id = %s", (job_id,)).fetchone()
    assert row is not None, f"job {job_id} not found"
    return row


def expire_lease(conn: psycopg.Connection[Any], job_id: int) -> None:
    """Move a running job's lease into the past, as if its worker stalled past the lease."""
    conn.execute(
        "UPDATE ops.jobs SET lease_expires_at = clock_timestamp() - interval '1 second' WHERE id = %s",
        (job_id,),
    )


def test_dedupe_key_absorbs_live_enqueue(conn: psycopg.Connection[Any]) -> None:
    first = enqueue_as_worker(conn, {"n": 1}, dedupe_key="lookup-a")
    while_queued = enqueue_as_worker(conn, {"n": 2}, dedupe_key="lookup-a")
    [claimed] = claim_as_worker(conn)
    while_running = enqueue_as_worker(conn, {"n": 3}, dedupe_key="lookup-a")

    assert first is not None
    assert while_queued is None
    assert claimed.id == first
    assert while_running is None
    rows = conn.execute("SELECT count(*) AS jobs FROM ops.jobs WHERE dedupe_key = 'lookup-a'").fetchone()
    assert rows["jobs"] == 1


def test_dedupe_key_reusable_after_completion(conn: psycopg.Connection[Any]) -> None:
    first = enqueue_as_worker(conn, {"n": 1}, dedupe_key="lookup-a")
    [claimed] = claim_as_worker(conn)
    with transaction(conn, role="sxe_worker"):
        jobs.complete(conn, claimed)

    second = enqueue_as_worker(conn, {"n": 2}, dedupe_key="lookup-a")

    assert second is not None
    assert second != first
    assert job_row(conn, first)["state"] == "succeeded"
    assert job_row(conn, second)["state"] == "queued"


def test_concurrent_claims_take_each_once(database_url: str, conn: psycopg.Connection[Any]) -> None:
    total_jobs = 200
    workers = 6
    with transaction(conn, role="sxe_worker"):
        expected_ids = {jobs.enqueue(conn, QUEUE, {"n": n}) for n in range(total_jobs)}

    start = threading.Barrier(workers)
    claimed_by_worker: list[list[int]] = [[] for _ in range(workers)]
    errors: list[BaseException] = []

    def claim_until_empty(index: int) -> None:
        try:
            with connect(database_url, autocommit=True) as own:
                start.wait(timeout=10)
                while True:
                    batch = claim_as_worker(own, limit=7)
                    if not batch:
                        return
                    claimed_by_worker[index].extend(job.id for job in batch)
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=claim_until_empty, args=(index,)) for index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    all_claims = [job_id for claims in claimed_by_worker for job_id in claims]
    assert errors == []
    assert not any(thread.is_alive() for thread in threads)
    assert len(all_claims) == len(set(all_claims))
    assert set(all_claims) == expected_ids
    attempts = conn.execute("SELECT DISTINCT attempts FROM ops.jobs WHERE queue = %s", (QUEUE,)).fetchall()
    assert [row["attempts"] for row in attempts] == [1]


def test_stale_lease_cannot_complete(conn: psycopg.Connection[Any]) -> None:
    enqueue_as_worker(conn, {"n": 1})
    [zombie] = claim_as_worker(conn)
    expire_lease(conn, zombie.id)
    with transaction(conn, role="sxe_worker"):
        rescued = jobs.rescue_expired(conn)
    [successor] = claim_as_worker(conn)

    with pytest.raises(StateTransitionError, match=f"job {zombie.id}"):
        with transaction(conn, role="sxe_worker"):
            jobs.complete(conn, zombie)

    assert [(row["id"], row["state"]) for row in rescued] == [(zombie.id, "queued")]
    assert successor.id == zombie.id
    assert successor.lease_token != zombie.lease_token
    assert job_row(conn, zombie.id)["state"] == "running"
    with transaction(conn, role="sxe_worker"):
        jobs.complete(conn, successor)
    assert job_row(conn, zombie.id)["state"] == "succeeded"


def test_rescue_requeues_below_max_attempts(conn: psycopg.Connection[Any]) -> None:
    job_id = enqueue_as_worker(conn, {"n": 1}, max_attempts=3)
    claim_as_worker(conn)
    expire_lease(conn, job_id)

    with transaction(conn, role="sxe_worker"):
        rescued = jobs.rescue_expired(conn)

    row = job_row(conn, job_id)
    assert [(row["id"], row["state"]) for row in rescued] == [(job_id, "queued")]
    assert row["state"] == "queued"
    assert row["attempts"] == 1
    assert row["lease_token"] is None
    assert row["last_error"]["class"] == "LeaseExpired"


def test_rescue_kills_at_max_attempts(conn: psycopg.Connection[Any]) -> None:
    job_id = enqueue_as_worker(conn, {"n": 1}, max_attempts=1)
    claim_as_worker(conn)
    expire_lease(conn, job_id)

    with transaction(conn, role="sxe_worker"):
        rescued = jobs.rescue_expired(conn)

    row = job_row(conn, job_id)
    assert [(row["id"], row["state"]) for row in rescued] == [(job_id, "dead")]
    assert row["state"] == "dead"
    assert row["last_error"]["class"] == "LeaseExpired"
    assert claim_as_worker(conn) == []


def test_rescue_leaves_live_and_finished(conn: psycopg.Connection[Any]) -> None:
    for n in range(4):
        enqueue_as_worker(conn, {"n": n}, max_attempts=1)
    done, failed, retried, live = claim_as_worker(conn, limit=4)
    with transaction(conn, role="sxe_worker"):
        jobs.complete(conn, done)
        jobs.fail(conn, failed, error={"class": "Rejected"})
        jobs.retry(conn, retried, delay_seconds=0, error={"class": "Timeout"})
    before = conn.execute("SELECT id, state, lease_token, last_error FROM ops.jobs ORDER BY id").fetchall()

    with transaction(conn, role="sxe_worker"):
        rescued = jobs.rescue_expired(conn)

    after = conn.execute("SELECT id, state, lease_token, last_error FROM ops.jobs ORDER BY id").fetchall()
    assert rescued == []
    assert after == before
    assert job_row(conn, live.id)["state"] == "running"
    assert job_row(conn, retried.id)["state"] == "dead"


def test_retry_delay_sets_future_run_after(conn: psycopg.Connection[Any]) -> None:
    job_id = enqueue_as_worker(conn, {"n": 1})
    [job] = claim_as_worker(conn)

    with transaction(conn, role="sxe_worker"):
        state = jobs.retry(conn, job, delay_seconds=30, error={"class": "Timeout", "message": "timed out"})

    row = job_row(conn, job_id)
    delay = conn.execute("SELECT extract(epoch FROM %s - now()) AS seconds", (row["run_after"],)).fetchone()
    assert state == "queued"
    assert 25 <= delay["seconds"] <= 30
    assert row["last_error"]["class"] == "Timeout"
    assert row["last_error"]["message"] == "timed out"
    assert claim_as_worker(conn) == []


def test_retried_job_claimable_after_delay(conn: psycopg.Connection[Any]) -> None:
    job_id = enqueue_as_worker(conn, {"n": 1})
    [job] = claim_as_worker(conn)
    with transaction(conn, role="sxe_worker"):
        jobs.retry(conn, job, delay_seconds=0.5, error={"class": "Timeout"})

    too_early = claim_as_worker(conn)
    time.sleep(0.6)
    [again] = claim_as_worker(conn)

    assert too_early == []
    assert again.id == job_id
    assert again.attempts == 2


def test_defer_spends_no_attempt(conn: psycopg.Connection[Any]) -> None:
    job_id = enqueue_as_worker(conn, {"n": 1}, max_attempts=1)

    for _ in range(3):
        [job] = claim_as_worker(conn)
        assert job.attempts == 1
        with transaction(conn, role="sxe_worker"):
            jobs.defer(conn, job, delay_seconds=0)

    row = job_row(conn, job_id)
    assert row["state"] == "queued"
    assert row["attempts"] == 0
    assert row["lease_token"] is None


def test_claim_returns_jobs_in_queue_order(conn: psycopg.Connection[Any]) -> None:
    ids = [enqueue_as_worker(conn, {"n": number}, priority=number % 3) for number in range(40)]
    # Rewriting every other row moves it behind the others in the table, so the
    # rows the UPDATE returns are not in queue order unless they are sorted.
    conn.execute("UPDATE ops.jobs SET payload = payload || '{}' WHERE id = ANY(%s)", (ids[::2],))
    rows = conn.execute("SELECT id FROM ops.jobs ORDER BY priority DESC, run_after, id").fetchall()

    claimed = claim_as_worker(conn, limit=40)

    assert [job.id for job in claimed] == [row["id"] for row in rows]
