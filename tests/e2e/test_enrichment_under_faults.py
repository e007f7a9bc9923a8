"""The main job on the example pool while the simulator injects 429s, 5xx and timeouts.

Done means: no job is lost, no lookup is bought twice, budgets hold, the breaker
opens and closes again, and every card has a recorded decision.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import TEMPLATE_DATABASE, scratch_database

from sxe.config import load_settings
from sxe.db import connect
from sxe.orchestrator import status
from sxe.pipeline import RunSummary, run

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = PROJECT_ROOT / "examples"
FAULTS = "429=0.2,500=0.2,503=0.05,timeout=0.1"


@pytest.fixture(scope="module")
def faulty_database(server_url: str, template_url: str) -> Iterator[str]:
    """One database for the whole module: the faulty run happens once and every test inspects it."""
    with scratch_database(server_url, "sxe_faults", TEMPLATE_DATABASE) as url:
        yield url


@pytest.fixture
def conn(faulty_database: str) -> Iterator[psycopg.Connection[Any]]:
    with connect(faulty_database, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def faulty_run(faulty_database: str, tmp_path_factory: pytest.TempPathFactory) -> RunSummary:
    settings = {
        "SXE_DATABASE_URL": faulty_database,
        "SXE_STATE_DIR": str(tmp_path_factory.mktemp("faults") / "state"),
        "SXE_SIMULATOR_FAULTS": FAULTS,
        "SXE_SIMULATOR_SEED": "11",
        "SXE_PROVIDER_TIMEOUT_SECONDS": "0.3",
        "SXE_JOB_BACKOFF_BASE_SECONDS": "0.05",
        "SXE_JOB_BACKOFF_CAP_SECONDS": "0.4",
        # One failure opens the breaker, so the run must see it open and recover.
        "SXE_BREAKER_FAILURE_THRESHOLD": "1",
        "SXE_BREAKER_OPEN_SECONDS": "0.2",
        "SXE_PROVIDER_RATE_PER_SECOND": "200",
        "SXE_PROVIDER_BURST": "50",
        "SXE_ENRICH_DRAIN_SECONDS": "60",
    }
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        return run([EXAMPLES], load_settings())


def lookup_audit(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT detail FROM ops.audit_log WHERE action = 'enrichment.lookup' ORDER BY seq")
    return [row["detail"] for row in rows]


def test_faults_were_injected(faulty_run: RunSummary) -> None:
    faults = faulty_run.simulator["faults"]

    assert faults.get("429", 0) > 0
    assert faults.get("500", 0) + faults.get("503", 0) > 0
    assert faults.get("timeout", 0) > 0


def test_no_job_lost_under_faults(faulty_run: RunSummary, conn: psycopg.Connection[Any]) -> None:
    states = Counter(row["state"] for row in conn.execute("SELECT state FROM ops.jobs"))
    stuck_cards = conn.execute(
        "SELECT count(*) AS n FROM execution.lead_cards WHERE readiness IN ('enrichment_queued', 'qualified')"
    ).fetchone()

    assert set(states) <= {"succeeded", "dead"}
    assert states["succeeded"] > 0
    assert stuck_cards["n"] == 0
    dead_without_history = conn.execute(
        "SELECT count(*) AS n FROM ops.jobs WHERE state = 'dead' AND jsonb_array_length(errors) = 0"
    ).fetchone()
    assert dead_without_history["n"] == 0


def test_no_lookup_bought_twice(faulty_run: RunSummary, conn: psycopg.Connection[Any]) -> None:
    served = faulty_run.simulator["served"]
    answered = [detail for detail in lookup_audit(conn) if detail["outcome"] in ("matched", "no_match")]
    billable = Counter(detail["fingerprint"] for detail in lookup_audit(conn) if detail["credits"] > 0)

    assert max(served.values()) == 1
    assert sum(served.values()) == len(answered)
    assert len({detail["fingerprint"] for detail in answered}) == len(answered)
    assert max(billable.values()) == 1


def test_budgets_hold_under_faults(faulty_run: RunSummary, conn: psycopg.Connection[Any]) -> None:
    credits = sum(detail["credits"] for detail in lookup_audit(conn))
    budgets = conn.execute("SELECT * FROM ops.budgets").fetchall()

    assert budgets
    for budget in budgets:
        assert budget["reserved_credits"] == 0
        assert budget["spent_credits"] <= budget["limit_credits"]
        assert budget["spent_credits"] == credits
    assert faulty_run.work.credits_spent == credits


def test_breaker_opens_then_recovers(faulty_run: RunSummary, conn: psycopg.Connection[Any]) -> None:
    details = lookup_audit(conn)
    breaker_states = [detail.get("breaker") for detail in details]

    assert "open" in breaker_states
    first_open = breaker_states.index("open")
    # A successful call after the breaker opened is the half-open probe that closed it again.
    later_outcomes = {detail["outcome"] for detail in details[first_open + 1 :]}
    assert later_outcomes & {"matched", "no_match"}
    assert faulty_run.work.outcomes["deferred"] > 0


def test_every_card_has_a_decision(faulty_run: RunSummary, conn: psycopg.Connection[Any]) -> None:
    undecided = conn.execute(
        """
        SELECT card.id, card.readiness, card.readiness_reason
          FROM execution.lead_cards AS card
         WHERE NOT EXISTS (SELECT FROM ops.enrichment_decisions AS decision WHERE decision.card_id = card.id)
        """
    ).fetchall()

    assert undecided == []


def test_status_counts_match_audit(faulty_run: RunSummary, conn: psycopg.Connection[Any]) -> None:
    report = status.collect(conn)
    apollo = report["providers"]["apollo"]

    assert apollo["calls"] == sum(faulty_run.simulator["served"].values()) + sum(
        faulty_run.simulator["faults"].values()
    )
    assert apollo["billable_calls"] == sum(1 for detail in lookup_audit(conn) if detail["credits"] > 0)
    assert apollo["errors"] == sum(faulty_run.simulator["faults"].values())
    breaker = conn.execute("SELECT state FROM ops.circuit_breakers WHERE provider = 'apollo'").fetchone()
    assert apollo["breaker"] == breaker["state"]
    assert apollo["budget"]["reserved"] == 0
    assert sum(report["jobs"].values()) == sum(report["queues"]["enrich"].values())
    cards = conn.execute("SELECT readiness, count(*) AS n FROM execution.lead_cards GROUP BY readiness").fetchall()
    assert report["cards"] == {row["readiness"]: row["n"] for row in cards if row["readiness"] != "merged"}
