"""A worker process killed mid-call: its lease expires, the job is rescued and rerun once, nothing is doubled."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sxe import jobs
from sxe.adapters.apollo import MATCH_PATH, ApolloPeopleMatch
from sxe.adapters.simulator import ProviderSimulator, simulated_person
from sxe.cards import DEFAULT_INTENT
from sxe.cards.intent import set_intent
from sxe.config import load_settings
from sxe.db import transaction
from sxe.orchestrator import runner
from sxe.orchestrator.sweep import sweep
from sxe.orchestrator.worker import WorkResult, work
from sxe.pipeline import RunSummary, card_stage, ingest_stage

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT_ROOT / "examples" / "x-api-v1.1-users.jsonl"
LEASE_SECONDS = 2

# The doomed worker: one job, a short lease, then it blocks in the provider call until killed.
CHILD = """
import sys
from sxe.adapters.apollo import ApolloPeopleMatch
from sxe.db import connect
from sxe.orchestrator import controls
from sxe.orchestrator.worker import WorkerContext, work

url, base_url, api_key, lease = sys.argv[1:5]
with connect(url, autocommit=True) as conn, ApolloPeopleMatch(
    api_key, base_url=base_url, simulated=True, reveal_phone_number=True, read_timeout_seconds=60
) as adapter:
    context = WorkerContext(
        adapter, controls.BudgetScopes("apollo", "default"), controls.budget_period(), 90, 30,
        "sxe_worker:doomed", lease_seconds=int(lease), batch_size=1,
    )
    work(conn, context, max_jobs=1)
"""


@pytest.fixture
def simulator() -> Iterator[ProviderSimulator]:
    with ProviderSimulator() as running:
        yield running


@pytest.fixture
def one_matching_job(
    conn: psycopg.Connection[Any], database_url: str, simulator: ProviderSimulator, tmp_path: Path
) -> tuple[int, runner.Enrichment]:
    """Sweep the example file and keep one queued job whose person the simulator matches with a phone."""
    settings = load_settings(database_url=database_url, state_dir=tmp_path)
    summary = RunSummary(run_id=str(uuid.uuid4()))
    ingest_stage(conn, [EXAMPLE], None, summary, pool=settings.pool)
    card_stage(conn, settings, summary)
    adapter = ApolloPeopleMatch(
        simulator.api_key, base_url=simulator.base_url, simulated=True, reveal_phone_number=True
    )
    # Phones are requested only for a pool that wants them.
    with transaction(conn, role="sxe_worker"):
        set_intent(conn, settings.pool, {**DEFAULT_INTENT, "wanted_fields": ["email", "phone"]})
    enrichment = runner.prepare(conn, settings, adapter, actor="sxe_worker:test", simulated=True)
    sweep(conn, enrichment.sweep)

    rows = conn.execute("SELECT id, payload FROM ops.jobs ORDER BY id").fetchall()
    chosen = next(row["id"] for row in rows if _matches_with_phone(row["payload"]["request"]))
    conn.execute("UPDATE ops.jobs SET state = 'cancelled' WHERE id <> %s", (chosen,))
    return chosen, enrichment


def _matches_with_phone(request: dict[str, str]) -> bool:
    person = simulated_person({**request, "reveal_phone_number": "true"})
    return person is not None and person["contact"] is not None


def kill_worker_mid_call(database_url: str, simulator: ProviderSimulator) -> None:
    simulator.hang_next(30)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, database_url, simulator.base_url, simulator.api_key, str(LEASE_SECONDS)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while simulator.calls[MATCH_PATH] == 0:
            assert time.monotonic() < deadline, "the doomed worker never reached the provider"
            assert child.poll() is None, "the doomed worker exited before reaching the provider"
            time.sleep(0.02)
    finally:
        child.kill()
        child.wait(timeout=10)


def wait_for_lease_expiry(conn: psycopg.Connection[Any], job_id: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        row = conn.execute(
            "SELECT lease_expires_at < clock_timestamp() AS expired FROM ops.jobs WHERE id = %s", (job_id,)
        ).fetchone()
        if row["expired"]:
            return
        assert time.monotonic() < deadline, "the lease never expired"
        time.sleep(0.1)


@pytest.fixture
def rerun(
    conn: psycopg.Connection[Any],
    database_url: str,
    simulator: ProviderSimulator,
    one_matching_job: tuple[int, runner.Enrichment],
) -> tuple[int, WorkResult]:
    job_id, enrichment = one_matching_job
    kill_worker_mid_call(database_url, simulator)
    wait_for_lease_expiry(conn, job_id)
    return job_id, work(conn, enrichment.worker)


def test_killed_job_reruns_with_next_attempt(conn: psycopg.Connection[Any], rerun: tuple[int, WorkResult]) -> None:
    job_id, result = rerun
    row = jobs.get(conn, job_id)

    assert result.outcomes["rescued_queued"] == 1
    assert row is not None
    assert row["state"] == "succeeded"
    assert row["attempts"] == 2
    assert [entry["class"] for entry in row["errors"]] == ["LeaseExpired"]


def test_killed_job_stores_contact_once(conn: psycopg.Connection[Any], rerun: tuple[int, WorkResult]) -> None:
    job_id, _ = rerun
    card_id = jobs.get(conn, job_id)["payload"]["card_id"]  # type: ignore[index]

    contacts = conn.execute("SELECT count(*) AS n FROM contact.contacts").fetchone()
    points = conn.execute(
        """
        SELECT point.kind, count(*) AS n
          FROM contact.contact_points AS point
          JOIN execution.lead_cards AS card ON card.contact_id = point.contact_id
         WHERE card.id = %s
         GROUP BY point.kind ORDER BY point.kind
        """,
        (card_id,),
    ).fetchall()
    readiness = conn.execute("SELECT readiness FROM execution.lead_cards WHERE id = %s", (card_id,)).fetchone()

    assert contacts["n"] == 1
    assert [(row["kind"], row["n"]) for row in points] == [("email", 1), ("phone", 1)]
    assert readiness["readiness"] == "enriched"


def test_killed_job_reservation_settled(conn: psycopg.Connection[Any], rerun: tuple[int, WorkResult]) -> None:
    with transaction(conn, role="sxe_worker"):
        budgets = conn.execute("SELECT scope, reserved_credits, spent_credits FROM ops.budgets").fetchall()
    outcomes = [
        row["detail"]["outcome"]
        for row in conn.execute("SELECT detail FROM ops.audit_log WHERE action = 'enrichment.lookup' ORDER BY seq")
    ]

    assert outcomes == ["abandoned_attempt_settled", "matched"]
    for budget in budgets:
        assert budget["reserved_credits"] == 0
        # The lost call counts as spent at its quote (9), the rerun at its billed 9.
        assert budget["spent_credits"] == 18
