"""Leases of ops.jobs: expiry, rescue, zombie workers, error history and dead jobs."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from sxe import jobs
from sxe.db import transaction
from sxe.errors import StateTransitionError

QUEUE = "leases"


def expire_leases(conn: psycopg.Connection[Any]) -> None:
    """Move every running lease into the past, as if its worker had stopped long ago."""
    conn.execute(
        "UPDATE ops.jobs SET lease_expires_at = clock_timestamp() - interval '1 second' WHERE state = 'running'"
    )


def claim_one(conn: psycopg.Connection[Any]) -> jobs.Job:
    with transaction(conn, role="sxe_worker"):
        claimed = jobs.claim(conn, QUEUE, limit=1)
    assert len(claimed) == 1
    return claimed[0]


def enqueue(conn: psycopg.Connection[Any], **options: Any) -> int:
    with transaction(conn, role="sxe_worker"):
        job_id = jobs.enqueue(conn, QUEUE, {"card_id": "c1"}, **options)
    assert job_id is not None
    return job_id


def test_zombie_completion_after_rescue_rejected(conn: psycopg.Connection[Any]) -> None:
    job_id = enqueue(conn)
    zombie = claim_one(conn)
    expire_leases(conn)
    with transaction(conn, role="sxe_worker"):
        jobs.rescue_expired(conn)
    second = claim_one(conn)

    with pytest.raises(StateTransitionError, match="no longer running under this worker's lease"):
        with transaction(conn, role="sxe_worker"):
            jobs.complete(conn, zombie)

    row = jobs.get(conn, job_id)
    assert row is not None
    assert row["state"] == "running"
    assert row["attempts"] == 2
    with transaction(conn, role="sxe_worker"):
        jobs.complete(conn, second)
    assert jobs.get(conn, job_id)["state"] == "succeeded"  # type: ignore[index]


def test_zombie_retry_cannot_requeue_finished_job(conn: psycopg.Connection[Any]) -> None:
    enqueue(conn)
    zombie = claim_one(conn)
    expire_leases(conn)
    with transaction(conn, role="sxe_worker"):
        jobs.rescue_expired(conn)
    with transaction(conn, role="sxe_worker"):
        jobs.complete(conn, claim_one(conn))

    with pytest.raises(StateTransitionError):
        with transaction(conn, role="sxe_worker"):
            jobs.retry(conn, zombie, delay_seconds=0, error=jobs.error_entry(1, error_class="Late"))
    assert jobs.counts(conn, QUEUE) == {"succeeded": 1}


def test_rescue_records_expiry_in_errors(conn: psycopg.Connection[Any]) -> None:
    job_id = enqueue(conn)
    claim_one(conn)
    expire_leases(conn)

    with transaction(conn, role="sxe_worker"):
        rescued = jobs.rescue_expired(conn)

    assert [(row["id"], row["state"], row["attempts"]) for row in rescued] == [(job_id, "queued", 1)]
    row = jobs.get(conn, job_id)
    assert row is not None
    assert [entry["class"] for entry in row["errors"]] == ["LeaseExpired"]
    assert row["errors"][0]["attempt"] == 1
    assert row["last_error"] == row["errors"][0]


def test_rescue_out_of_attempts_is_dead(conn: psycopg.Connection[Any]) -> None:
    job_id = enqueue(conn, max_attempts=2)
    for _ in range(2):
        claim_one(conn)
        expire_leases(conn)
        with transaction(conn, role="sxe_worker"):
            jobs.rescue_expired(conn)

    row = jobs.get(conn, job_id)
    assert row is not None
    assert row["state"] == "dead"
    assert [entry["attempt"] for entry in row["errors"]] == [1, 2]


def test_rescue_leaves_live_leases_alone(conn: psycopg.Connection[Any]) -> None:
    job_id = enqueue(conn)
    claim_one(conn)

    with transaction(conn, role="sxe_worker"):
        rescued = jobs.rescue_expired(conn)

    assert rescued == []
    assert jobs.get(conn, job_id)["state"] == "running"  # type: ignore[index]


def test_retry_history_keeps_every_failure(conn: psycopg.Connection[Any]) -> None:
    job_id = enqueue(conn, max_attempts=3)
    for attempt, status in enumerate((429, 500, 503), start=1):
        job = claim_one(conn)
        entry = jobs.error_entry(job.attempts, error_class="RetryableProviderError", message=f"HTTP {status}")
        with transaction(conn, role="sxe_worker"):
            state = jobs.retry(conn, job, delay_seconds=0, error={**entry, "status_code": status})
        assert state == ("dead" if attempt == 3 else "queued")

    row = jobs.get(conn, job_id)
    assert row is not None
    assert row["state"] == "dead"
    assert [entry["status_code"] for entry in row["errors"]] == [429, 500, 503]
    assert [entry["attempt"] for entry in row["errors"]] == [1, 2, 3]
    assert all("delay_seconds" in entry for entry in row["errors"])
    assert row["last_error"]["status_code"] == 503


def test_fail_is_dead_with_one_error(conn: psycopg.Connection[Any]) -> None:
    job_id = enqueue(conn, max_attempts=5)
    job = claim_one(conn)

    with transaction(conn, role="sxe_worker"):
        jobs.fail(conn, job, error=jobs.error_entry(job.attempts, error_class="PermanentProviderError"))

    row = jobs.get(conn, job_id)
    assert row is not None
    assert row["state"] == "dead"
    assert row["attempts"] == 1
    assert len(row["errors"]) == 1


def test_retry_delay_sets_run_after(conn: psycopg.Connection[Any]) -> None:
    enqueue(conn)
    job = claim_one(conn)
    with transaction(conn, role="sxe_worker"):
        jobs.retry(conn, job, delay_seconds=3600, error=jobs.error_entry(1, error_class="Flaky"))

    with transaction(conn, role="sxe_worker"):
        assert jobs.claim(conn, QUEUE, limit=5) == []


def test_extend_lease_fails_after_rescue(conn: psycopg.Connection[Any]) -> None:
    enqueue(conn)
    job = claim_one(conn)
    with transaction(conn, role="sxe_worker"):
        assert jobs.extend_lease(conn, job, lease_seconds=60)
    expire_leases(conn)
    with transaction(conn, role="sxe_worker"):
        jobs.rescue_expired(conn)

    with transaction(conn, role="sxe_worker"):
        assert not jobs.extend_lease(conn, job, lease_seconds=60)


def test_claim_respects_priority_then_age(conn: psycopg.Connection[Any]) -> None:
    low = enqueue(conn, priority=0)
    high = enqueue(conn, priority=5)

    with transaction(conn, role="sxe_worker"):
        claimed = jobs.claim(conn, QUEUE, limit=2)

    assert [job.id for job in claimed] == [high, low]


def test_dedupe_key_absorbs_live_duplicate(conn: psycopg.Connection[Any]) -> None:
    first = enqueue(conn, dedupe_key="k1")
    with transaction(conn, role="sxe_worker"):
        duplicate = jobs.enqueue(conn, QUEUE, {"card_id": "c2"}, dedupe_key="k1")
    with transaction(conn, role="sxe_worker"):
        jobs.complete(conn, claim_one(conn))
    with transaction(conn, role="sxe_worker"):
        after_finish = jobs.enqueue(conn, QUEUE, {"card_id": "c3"}, dedupe_key="k1")

    assert duplicate is None
    assert after_finish is not None
    assert after_finish != first
