"""The worker against the suppression list: erased contact points are not re-acquired, cancelled jobs are let go."""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sxe import jobs
from sxe.adapters.apollo import ApolloPeopleMatch
from sxe.adapters.base import LookupRequest, LookupResult
from sxe.adapters.simulator import ProviderSimulator, simulated_person
from sxe.cards import DEFAULT_INTENT
from sxe.cards.intent import set_intent
from sxe.compliance import suppression
from sxe.compliance.erasure import erase
from sxe.compliance.suppression import ContactScreen, Identifier, email_identifier, phone_identifier
from sxe.config import Settings, load_settings
from sxe.db import connect, transaction
from sxe.handoff.store import LocalObjectStore
from sxe.orchestrator import runner
from sxe.orchestrator.sweep import sweep
from sxe.orchestrator.worker import WorkerContext, work
from sxe.pipeline import RunSummary, card_stage, ingest_stage

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "x-api-v1.1-users.jsonl"
KEY = b"k" * 32
ACTOR = "sxe_worker:test"


@dataclasses.dataclass
class OneJob:
    job_id: int
    card_id: str
    person: dict[str, Any]
    worker: WorkerContext
    settings: Settings


@pytest.fixture
def one_job(conn: psycopg.Connection[Any], database_url: str, tmp_path: Path) -> Any:
    """Sweep the example file and keep one queued job whose person the simulator matches with an email and phone."""
    settings = load_settings(database_url=database_url, state_dir=tmp_path, suppression_key=KEY.decode())
    summary = RunSummary(run_id=str(uuid.uuid4()))
    ingest_stage(conn, [EXAMPLE], None, summary, pool=settings.pool)
    card_stage(conn, settings, summary)
    with ProviderSimulator() as simulator:
        adapter = ApolloPeopleMatch(
            simulator.api_key, base_url=simulator.base_url, simulated=True, reveal_phone_number=True
        )
        # Phones are requested only for a pool that wants them.
        with transaction(conn, role="sxe_worker"):
            set_intent(conn, settings.pool, {**DEFAULT_INTENT, "wanted_fields": ["email", "phone"]})
        enrichment = runner.prepare(conn, settings, adapter, actor=ACTOR, simulated=True)
        sweep(conn, enrichment.sweep)
        rows = conn.execute("SELECT id, payload FROM ops.jobs ORDER BY id").fetchall()
        chosen = next(row for row in rows if _with_phone(row["payload"]["request"]))
        conn.execute("UPDATE ops.jobs SET state = 'cancelled' WHERE id <> %s", (chosen["id"],))
        person = simulated_person({**chosen["payload"]["request"], "reveal_phone_number": "true"})
        assert person is not None
        worker = dataclasses.replace(enrichment.worker, screen=ContactScreen(lambda: KEY))
        yield OneJob(chosen["id"], chosen["payload"]["card_id"], person, worker, settings)


def _with_phone(request: dict[str, str]) -> bool:
    person = simulated_person({**request, "reveal_phone_number": "true"})
    return person is not None and person["contact"] is not None


def suppress(conn: psycopg.Connection[Any], *identifiers: Identifier) -> list[str]:
    with transaction(conn, role="sxe_worker"):
        return suppression.add(conn, identifiers, KEY, uuid.uuid4())


def card_points(conn: psycopg.Connection[Any], card_id: str) -> list[str]:
    rows = conn.execute(
        """
        SELECT point.kind FROM contact.contact_points AS point
          JOIN execution.lead_cards AS card ON card.contact_id = point.contact_id
         WHERE card.id = %s ORDER BY point.kind
        """,
        (card_id,),
    )
    return [row["kind"] for row in rows]


def test_suppressed_email_not_stored(conn: psycopg.Connection[Any], one_job: OneJob) -> None:
    [email_hash] = suppress(conn, email_identifier(one_job.person["email"]))

    result = work(conn, one_job.worker)

    audited = conn.execute("SELECT detail FROM ops.audit_log WHERE action = 'enrichment.suppressed'").fetchall()
    assert result.outcomes["contact_points_suppressed"] == 1
    assert result.outcomes["matched"] == 1
    assert card_points(conn, one_job.card_id) == ["phone"]
    assert [row["detail"]["identifier_hmacs"] for row in audited] == [[email_hash]]
    assert audited[0]["detail"]["kinds"] == ["email"]
    assert one_job.person["email"].lower() not in json.dumps(audited[0]["detail"]).lower()
    stored = conn.execute("SELECT count(*) AS n FROM contact.contact_points WHERE kind = 'email'").fetchone()
    assert stored["n"] == 0


def test_all_points_suppressed_is_no_match(conn: psycopg.Connection[Any], one_job: OneJob) -> None:
    phone = one_job.person["contact"]["phone_numbers"][0]["sanitized_number"]
    suppress(conn, email_identifier(one_job.person["email"]), phone_identifier(phone))

    result = work(conn, one_job.worker)

    card = conn.execute("SELECT readiness, contact_id FROM execution.lead_cards WHERE id = %s", (one_job.card_id,))
    row = card.fetchone()
    assert result.outcomes["contact_points_suppressed"] == 2
    assert result.outcomes["no_match"] == 1
    assert row["readiness"] == "no_match"
    assert row["contact_id"] is None
    assert conn.execute("SELECT count(*) AS n FROM contact.contacts").fetchone()["n"] == 0


def test_unrelated_suppression_keeps_contact(conn: psycopg.Connection[Any], one_job: OneJob) -> None:
    suppress(conn, email_identifier("somebody.else@example.org"))

    result = work(conn, one_job.worker)

    assert "contact_points_suppressed" not in result.outcomes
    assert card_points(conn, one_job.card_id) == ["email", "phone"]


class EraseDuringCall:
    """An adapter that erases the job's person while the provider call is in flight."""

    def __init__(self, inner: Any, database_url: str, settings: Settings, card_id: str) -> None:
        self.inner, self.database_url, self.settings, self.card_id = inner, database_url, settings, card_id

    @property
    def name(self) -> str:
        return str(self.inner.name)

    @property
    def version(self) -> str:
        return str(self.inner.version)

    def quoted_cost_credits(self, request: LookupRequest) -> int:
        return int(self.inner.quoted_cost_credits(request))

    def lookup(self, request: LookupRequest) -> LookupResult:
        found: LookupResult = self.inner.lookup(request)
        with connect(self.database_url, autocommit=True) as other:
            profile = other.execute(
                """
                SELECT profile.platform, profile.handle FROM social.profiles AS profile
                  JOIN execution.card_profiles AS link ON link.profile_id = profile.id
                 WHERE link.card_id = %s LIMIT 1
                """,
                (self.card_id,),
            ).fetchone()
            assert profile is not None
            identifier = suppression.handle_identifier(profile["platform"], profile["handle"])
            erase(other, LocalObjectStore(self.settings.objects_dir), identifier, key=KEY, actor=ACTOR)
        return found


def test_erasure_mid_call_discards_result(conn: psycopg.Connection[Any], database_url: str, one_job: OneJob) -> None:
    with ProviderSimulator() as simulator:
        inner = ApolloPeopleMatch(
            simulator.api_key, base_url=simulator.base_url, simulated=True, reveal_phone_number=True
        )
        adapter = EraseDuringCall(inner, database_url, one_job.settings, one_job.card_id)
        worker = dataclasses.replace(one_job.worker, adapter=adapter)

        result = work(conn, worker)

    job = jobs.get(conn, one_job.job_id)
    card = conn.execute("SELECT readiness, contact_id FROM execution.lead_cards WHERE id = %s", (one_job.card_id,))
    assert result.outcomes["lease_lost"] == 1
    assert result.lookups == 0
    assert job is not None
    assert job["state"] == "cancelled"
    assert card.fetchone()["readiness"] == "suppressed"
    assert conn.execute("SELECT count(*) AS n FROM contact.contact_points").fetchone()["n"] == 0
    budgets = conn.execute("SELECT reserved_credits, spent_credits FROM ops.budgets").fetchall()
    assert all(budget["reserved_credits"] == 0 for budget in budgets)
    assert all(budget["spent_credits"] > 0 for budget in budgets)
    # The connection is usable after the discarded transaction.
    assert conn.execute("SELECT 1 AS one").fetchone()["one"] == 1
