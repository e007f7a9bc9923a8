"""Batch completion and the claim and complete calls that commit their own transaction in one round trip."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from sxe import jobs
from sxe.db import transaction
from sxe.errors import StateTransitionError

QUEUE = "test-batches"


def enqueue_jobs(conn: psycopg.Connection[Any], count: int, **options: Any) -> list[int]:
    with transaction(conn, role="sxe_worker"):
        ids = [jobs.enqueue(conn, QUEUE, {"n": number}, **options) for number in range(count)]
    return [job_id for job_id in ids if job_id is not None]


def states(conn: psycopg.Connection[Any], ids: list[int]) -> dict[int, str]:
    rows = conn.execute("SELECT id, state FROM ops.jobs WHERE id = ANY(%s)", (ids,)).fetchall()
    return {row["id"]: row["state"] for row in rows}


def with_token(job: jobs.Job, token: uuid.UUID) -> jobs.Job:
    return jobs.Job(job.id, job.queue, job.payload, job.attempts, job.max_attempts, token)


def test_complete_many_marks_batch_succeeded(conn: psycopg.Connection[Any]) -> None:
    ids = enqueue_jobs(conn, 3)
    with transaction(conn, role="sxe_worker"):
        claimed = jobs.claim(conn, QUEUE, limit=3)
    with transaction(conn, role="sxe_worker"):
        jobs.complete_many(conn, claimed)

    assert states(conn, ids) == dict.fromkeys(ids, "succeeded")
    rows = conn.execute("SELECT lease_token, lease_expires_at FROM ops.jobs WHERE id = ANY(%s)", (ids,)).fetchall()
    assert all(row["lease_token"] is None and row["lease_expires_at"] is None for row in rows)


def test_complete_many_lost_lease_rolls_back(conn: psycopg.Connection[Any]) -> None:
    ids = enqueue_jobs(conn, 3)
    with transaction(conn, role="sxe_worker"):
        claimed = jobs.claim(conn, QUEUE, limit=3)
    stale = [claimed[0], with_token(claimed[1], uuid.uuid4()), claimed[2]]

    with pytest.raises(StateTransitionError, match=f"jobs \\[{claimed[1].id}\\]"):
        with transaction(conn, role="sxe_worker"):
            jobs.complete_many(conn, stale)

    assert states(conn, ids) == dict.fromkeys(ids, "running")


def test_claim_and_commit_leases_jobs(conn: psycopg.Connection[Any]) -> None:
    ids = enqueue_jobs(conn, 3, max_attempts=4)

    claimed = jobs.claim_and_commit(conn, QUEUE, limit=2, lease_seconds=30)

    assert [job.id for job in claimed] == ids[:2]
    assert all(job.attempts == 1 and job.max_attempts == 4 for job in claimed)
    assert all(isinstance(job.lease_token, uuid.UUID) for job in claimed)
    assert claimed[0].payload == {"n": 0}
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert states(conn, ids) == {ids[0]: "running", ids[1]: "running", ids[2]: "queued"}
    lease = conn.execute(
        "SELECT extract(epoch FROM lease_expires_at - clock_timestamp()) AS seconds FROM ops.jobs WHERE id = %s",
        (ids[0],),
    ).fetchone()
    assert 0 < lease["seconds"] <= 30


def test_claim_and_commit_empty_queue(conn: psycopg.Connection[Any]) -> None:
    assert jobs.claim_and_commit(conn, QUEUE) == []


def test_claim_and_commit_binds_quotes_safely(conn: psycopg.Connection[Any]) -> None:
    # The parameters are bound on the client, so a quote in a value must stay inside its literal.
    hostile = "it's'; DELETE FROM ops.jobs; --"
    with transaction(conn, role="sxe_worker"):
        job_id = jobs.enqueue(conn, hostile, {"n": 1})
    other = enqueue_jobs(conn, 1)

    [claimed] = jobs.claim_and_commit(conn, hostile)

    assert claimed.id == job_id
    assert claimed.queue == hostile
    assert states(conn, other) == {other[0]: "queued"}


def test_claim_and_commit_runs_as_role(conn: psycopg.Connection[Any]) -> None:
    # sxe_analyst may not update ops.jobs, so the claim fails only if the role is in effect.
    ids = enqueue_jobs(conn, 1)

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        jobs.claim_and_commit(conn, QUEUE, role="sxe_analyst")

    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert states(conn, ids) == {ids[0]: "queued"}


def test_claim_and_commit_failure_rolls_back(conn: psycopg.Connection[Any]) -> None:
    ids = enqueue_jobs(conn, 1)

    with pytest.raises(psycopg.errors.InvalidRowCountInLimitClause):
        jobs.claim_and_commit(conn, QUEUE, limit=-1)

    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert states(conn, ids) == {ids[0]: "queued"}
    assert len(jobs.claim_and_commit(conn, QUEUE)) == 1


def test_claim_and_commit_rejects_open_transaction(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(ValueError, match="no transaction open"):
        with transaction(conn):
            jobs.claim_and_commit(conn, QUEUE)


def test_claim_and_commit_rejects_unknown_role(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(ValueError, match="unknown runtime role"):
        jobs.claim_and_commit(conn, QUEUE, role="postgres")


def test_complete_and_commit_skips_lost_lease(conn: psycopg.Connection[Any]) -> None:
    ids = enqueue_jobs(conn, 3)
    claimed = jobs.claim_and_commit(conn, QUEUE, limit=3)
    stale = [claimed[0], with_token(claimed[1], uuid.uuid4()), claimed[2]]

    lost = jobs.complete_and_commit(conn, stale)

    assert lost == [claimed[1].id]
    assert states(conn, ids) == {ids[0]: "succeeded", ids[1]: "running", ids[2]: "succeeded"}
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_complete_and_commit_after_rescue(conn: psycopg.Connection[Any]) -> None:
    ids = enqueue_jobs(conn, 1)
    [zombie] = jobs.claim_and_commit(conn, QUEUE, limit=1)
    conn.execute("UPDATE ops.jobs SET lease_expires_at = clock_timestamp() - interval '1 second' WHERE id = %s", ids)
    with transaction(conn, role="sxe_worker"):
        jobs.rescue_expired(conn)
    [successor] = jobs.claim_and_commit(conn, QUEUE, limit=1)

    assert jobs.complete_and_commit(conn, [zombie]) == [zombie.id]
    assert states(conn, ids) == {ids[0]: "running"}
    assert jobs.complete_and_commit(conn, [successor]) == []
    assert states(conn, ids) == {ids[0]: "succeeded"}
    assert successor.attempts == 2


def test_claim_shares_one_new_token(conn: psycopg.Connection[Any]) -> None:
    enqueue_jobs(conn, 4)
    first = jobs.claim_and_commit(conn, QUEUE, limit=2)
    second = jobs.claim_and_commit(conn, QUEUE, limit=2)

    assert {job.lease_token for job in first} == {first[0].lease_token}
    assert {job.lease_token for job in second} == {second[0].lease_token}
    assert first[0].lease_token != second[0].lease_token


def test_stale_batch_skips_reclaimed_job(conn: psycopg.Connection[Any]) -> None:
    ids = enqueue_jobs(conn, 2)
    zombie = jobs.claim_and_commit(conn, QUEUE, limit=2)
    conn.execute(
        "UPDATE ops.jobs SET lease_expires_at = clock_timestamp() - interval '1 second' WHERE id = %s", ids[:1]
    )
    with transaction(conn, role="sxe_worker"):
        jobs.rescue_expired(conn)
    [successor] = jobs.claim_and_commit(conn, QUEUE, limit=1)

    assert jobs.complete_and_commit(conn, zombie) == [ids[0]]
    assert states(conn, ids) == {ids[0]: "running", ids[1]: "succeeded"}
    assert jobs.complete_and_commit(conn, [successor]) == []


def test_complete_and_claim_moves_on(conn: psycopg.Connection[Any]) -> None:
    ids = enqueue_jobs(conn, 5)
    first = jobs.claim_and_commit(conn, QUEUE, limit=2)

    lost, second = jobs.complete_and_claim(conn, first, QUEUE, limit=2)

    assert lost == []
    assert [job.id for job in second] == ids[2:4]
    assert states(conn, ids) == {
        ids[0]: "succeeded",
        ids[1]: "succeeded",
        ids[2]: "running",
        ids[3]: "running",
        ids[4]: "queued",
    }
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_complete_and_claim_skips_lost_lease(conn: psycopg.Connection[Any]) -> None:
    ids = enqueue_jobs(conn, 3)
    [held, other] = jobs.claim_and_commit(conn, QUEUE, limit=2)
    stale = with_token(other, uuid.uuid4())

    lost, fresh = jobs.complete_and_claim(conn, [held, stale], QUEUE, limit=5)

    assert lost == [other.id]
    assert [job.id for job in fresh] == [ids[2]]
    assert states(conn, ids) == {ids[0]: "succeeded", ids[1]: "running", ids[2]: "running"}


def test_complete_and_claim_empty_batch(conn: psycopg.Connection[Any]) -> None:
    ids = enqueue_jobs(conn, 1)

    lost, fresh = jobs.complete_and_claim(conn, [], QUEUE)

    assert lost == []
    assert [job.id for job in fresh] == ids


def test_complete_and_claim_failure_rolls_back(conn: psycopg.Connection[Any]) -> None:
    ids = enqueue_jobs(conn, 2)
    first = jobs.claim_and_commit(conn, QUEUE, limit=1)

    with pytest.raises(psycopg.errors.InvalidRowCountInLimitClause):
        jobs.complete_and_claim(conn, first, QUEUE, limit=-1)

    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert states(conn, ids) == {ids[0]: "running", ids[1]: "queued"}
