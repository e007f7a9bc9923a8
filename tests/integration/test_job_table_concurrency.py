"""Four workers, each on its own connection, draining thousands of jobs from ops.jobs at once."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from sxe import jobs
from sxe.db import connect, transaction

QUEUE = "concurrency"
JOB_COUNT = 2000
WORKERS = 4
BATCH = 25


def enqueue_many(database_url: str, count: int) -> None:
    with connect(database_url, autocommit=True) as conn, transaction(conn, role="sxe_worker"):
        for number in range(count):
            jobs.enqueue(conn, QUEUE, {"n": number}, max_attempts=3)


def drain(database_url: str, claims: list[tuple[int, int]], errors: list[BaseException]) -> None:
    """Claim batches until the queue is empty; fail every job whose number ends in 7 once, then complete it."""
    try:
        with connect(database_url, autocommit=True) as conn:
            while True:
                with transaction(conn, role="sxe_worker"):
                    batch = jobs.claim(conn, QUEUE, limit=BATCH, lease_seconds=60)
                if not batch:
                    return
                with transaction(conn, role="sxe_worker"):
                    for job in batch:
                        claims.append((job.id, job.attempts))
                        if job.payload["n"] % 10 == 7 and job.attempts == 1:
                            entry = jobs.error_entry(job.attempts, error_class="Flaky", message="first attempt fails")
                            jobs.retry(conn, job, delay_seconds=0, error=entry)
                        else:
                            jobs.complete(conn, job)
    except BaseException as exc:  # reported by the test thread
        errors.append(exc)


def run_workers(database_url: str) -> tuple[list[tuple[int, int]], list[BaseException]]:
    claims: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    threads = [threading.Thread(target=drain, args=(database_url, claims, errors)) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck (deadlock or lost wake-up)"
    return claims, errors


def test_four_workers_claim_each_attempt_once(database_url: str, conn: Any) -> None:
    enqueue_many(database_url, JOB_COUNT)

    claims, errors = run_workers(database_url)

    assert errors == []
    assert len(claims) == len(set(claims)), "some (job, attempt) pair was claimed twice"
    per_job = Counter(job_id for job_id, _ in claims)
    assert len(per_job) == JOB_COUNT
    flaky = JOB_COUNT // 10
    assert sum(1 for count in per_job.values() if count == 2) == flaky
    assert sum(1 for count in per_job.values() if count == 1) == JOB_COUNT - flaky


def test_four_workers_leave_every_job_succeeded(database_url: str, conn: Any) -> None:
    enqueue_many(database_url, JOB_COUNT)

    _, errors = run_workers(database_url)

    assert errors == []
    assert jobs.counts(conn, QUEUE) == {"succeeded": JOB_COUNT}
    row = conn.execute(
        "SELECT count(*) AS n FROM ops.jobs WHERE jsonb_array_length(errors) = 1 AND attempts = 2"
    ).fetchone()
    assert row["n"] == JOB_COUNT // 10
