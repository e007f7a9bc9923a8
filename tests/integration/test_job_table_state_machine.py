"""A property-based model of ops.jobs: random enqueue, claim, crash, complete, retry and rescue sequences.

The model tracks what each job may be; after every step the database must agree.
A "crash" drops a worker's lease on the floor. "Time passes" moves every running
lease into the past, so rescue has expired leases to find without the test sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from sxe import jobs
from sxe.db import connect, transaction
from sxe.errors import StateTransitionError

QUEUE = "model"
MAX_ATTEMPTS = 3


@dataclass(slots=True)
class ModelJob:
    state: str = "queued"
    attempts: int = 0
    completed: bool = False


class JobTableMachine(RuleBasedStateMachine):
    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.conn: psycopg.Connection[Any] = connect(database_url, autocommit=True)
        self.conn.execute("TRUNCATE ops.jobs RESTART IDENTITY")
        self.model: dict[int, ModelJob] = {}
        self.held: dict[int, jobs.Job] = {}
        self.zombies: list[jobs.Job] = []
        self.claimed_after_completion: list[int] = []

    def teardown(self) -> None:
        self.conn.close()

    @rule(dedupe=st.one_of(st.none(), st.sampled_from(["a", "b"])))
    def enqueue(self, dedupe: str | None) -> None:
        with transaction(self.conn, role="sxe_worker"):
            job_id = jobs.enqueue(self.conn, QUEUE, {}, dedupe_key=dedupe, max_attempts=MAX_ATTEMPTS)
        live = [
            job_id_
            for job_id_, job in self.model.items()
            if job.state in ("queued", "running", "expired") and self._dedupe_of(job_id_) == dedupe
        ]
        if dedupe is not None and live:
            assert job_id is None
            return
        assert job_id is not None
        self.model[job_id] = ModelJob()

    @rule(limit=st.integers(min_value=1, max_value=4))
    def claim(self, limit: int) -> None:
        with transaction(self.conn, role="sxe_worker"):
            claimed = jobs.claim(self.conn, QUEUE, limit=limit, lease_seconds=300)
        queued = [job_id for job_id, job in self.model.items() if job.state == "queued"]
        assert len(claimed) == min(limit, len(queued))
        for job in claimed:
            model = self.model[job.id]
            if model.completed:
                self.claimed_after_completion.append(job.id)
            assert model.state == "queued"
            model.state = "running"
            model.attempts += 1
            assert job.attempts == model.attempts
            self.held[job.id] = job

    @precondition(lambda self: bool(self.held))
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        job = self.held.pop(data.draw(st.sampled_from(sorted(self.held))))
        with transaction(self.conn, role="sxe_worker"):
            jobs.complete(self.conn, job)
        self.model[job.id].state = "succeeded"
        self.model[job.id].completed = True

    @precondition(lambda self: bool(self.held))
    @rule(data=st.data())
    def fail_retryable(self, data: st.DataObject) -> None:
        job = self.held.pop(data.draw(st.sampled_from(sorted(self.held))))
        with transaction(self.conn, role="sxe_worker"):
            state = jobs.retry(self.conn, job, delay_seconds=0, error=jobs.error_entry(job.attempts, error_class="X"))
        model = self.model[job.id]
        model.state = "dead" if model.attempts >= MAX_ATTEMPTS else "queued"
        assert state == model.state

    @precondition(lambda self: bool(self.held))
    @rule(data=st.data())
    def crash(self, data: st.DataObject) -> None:
        self.zombies.append(self.held.pop(data.draw(st.sampled_from(sorted(self.held)))))

    @rule()
    def time_passes(self) -> None:
        self.conn.execute(
            "UPDATE ops.jobs SET lease_expires_at = clock_timestamp() - interval '1 second' WHERE state = 'running'"
        )
        # Every worker alive before the lease ran out is a zombie from now on.
        self.zombies.extend(self.held.values())
        self.held.clear()
        for job in self.model.values():
            if job.state == "running":
                job.state = "expired"

    @rule()
    def rescue(self) -> None:
        with transaction(self.conn, role="sxe_worker"):
            rescued = jobs.rescue_expired(self.conn)
        expired = {job_id for job_id, job in self.model.items() if job.state == "expired"}
        assert {row["id"] for row in rescued} == expired
        for row in rescued:
            model = self.model[row["id"]]
            model.state = "dead" if model.attempts >= MAX_ATTEMPTS else "queued"
            assert row["state"] == model.state

    @precondition(lambda self: bool(self.zombies))
    @rule(data=st.data())
    def zombie_completes(self, data: st.DataObject) -> None:
        zombie = self.zombies.pop(data.draw(st.integers(min_value=0, max_value=len(self.zombies) - 1)))
        model = self.model[zombie.id]
        still_valid = model.state in ("running", "expired") and self._token(zombie.id) == zombie.lease_token
        try:
            with transaction(self.conn, role="sxe_worker"):
                jobs.complete(self.conn, zombie)
        except StateTransitionError:
            assert not still_valid
            return
        # An expired lease that nobody rescued yet is still the current one, so its worker may finish.
        assert still_valid
        model.state = "succeeded"
        model.completed = True

    @invariant()
    def database_matches_model(self) -> None:
        rows = self.conn.execute("SELECT id, state, attempts, max_attempts FROM ops.jobs").fetchall()
        assert len(rows) == len(self.model)
        for row in rows:
            model = self.model[row["id"]]
            expected = "running" if model.state == "expired" else model.state
            assert row["state"] == expected
            assert row["attempts"] == model.attempts
            assert row["attempts"] <= row["max_attempts"]

    @invariant()
    def completed_jobs_never_run_again(self) -> None:
        assert self.claimed_after_completion == []
        for model in self.model.values():
            if model.completed:
                assert model.state == "succeeded"

    def _dedupe_of(self, job_id: int) -> str | None:
        row = self.conn.execute("SELECT dedupe_key FROM ops.jobs WHERE id = %s", (job_id,)).fetchone()
        return None if row is None else row["dedupe_key"]

    def _token(self, job_id: int) -> Any:
        row = self.conn.execute("SELECT lease_token FROM ops.jobs WHERE id = %s", (job_id,)).fetchone()
        return None if row is None else row["lease_token"]

    def final_check(self) -> None:
        """After time passes and a rescue, every job is terminal or scheduled to run again."""
        self.time_passes()
        self.rescue()
        states = {row["state"] for row in self.conn.execute("SELECT state FROM ops.jobs")}
        assert states <= {"succeeded", "dead", "queued"}


def test_job_table_state_machine(database_url: str) -> None:
    class Checked(JobTableMachine):
        def __init__(self) -> None:
            super().__init__(database_url)

        def teardown(self) -> None:
            try:
                self.final_check()
            finally:
                super().teardown()

    run_state_machine_as_test(
        Checked,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
