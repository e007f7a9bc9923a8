"""The enrichment sweep and worker against the loopback provider simulator."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql as pgsql

from sxe import jobs, logs
from sxe.adapters import apollo_callback
from sxe.adapters.apollo import MATCH_PATH, ApolloPeopleMatch
from sxe.adapters.simulator import ProviderSimulator
from sxe.cards import DEFAULT_INTENT, build_cards, ensure_pool
from sxe.cards.explain import explain, render
from sxe.db import transaction
from sxe.ingest.store import ingest_file
from sxe.intelligence import load_default_ruleset
from sxe.intelligence.store import tag_pending_cards
from sxe.orchestrator import controls, status
from sxe.orchestrator.sweep import ENRICH_QUEUE, SweepContext, SweepResult, quoted_credits, sweep
from sxe.orchestrator.worker import WorkerContext, WorkResult, work
from sxe.pii import contains_pii

POOL = "default"
ACTOR = "sxe_worker:test"
PERIOD = "2030-01"
# The simulator matches these two names at these domains, with an email and a mobile number.
DANA = ("Dana Whitfield", "danawhitfield.com")
PRIYA = ("Priya Raman", "ramanstudio.com")
# Further people, used where every call fails, so their simulated outcome does not matter.
OTHERS = [
    ("Marcus Bell", "bellstudio.com"),
    ("Oliver Grant", "grantstudio.com"),
    ("Sofia Marin", "marinstudio.com"),
    ("Ethan Cole", "colestudio.com"),
    ("Ruth Adler", "adlerstudio.com"),
    ("Sam Ortiz", "ortizstudio.com"),
]

STUDIO_BIO = "Helping small studios grow. Coffee first."


def x_user(
    user_id: int, name: str, domain: str, bio: str = "Helping small studios grow. Coffee first."
) -> dict[str, Any]:
    """An X API v1.1 user object whose website link is a t.co URL expanding to `domain`."""
    handle = name.lower().replace(" ", "_") + f"_{user_id}"
    short_url = f"https://t.co/u{user_id}"
    return {
        "id": user_id,
        "id_str": str(user_id),
        "name": name,
        "screen_name": handle,
        "location": "Austin, TX",
        "description": bio,
        "url": short_url,
        "entities": {
            "url": {"urls": [{"url": short_url, "expanded_url": f"https://{domain}/", "display_url": domain}]},
            "description": {"urls": []},
        },
        "protected": False,
        "followers_count": 12_400,
        "friends_count": 310,
        "statuses_count": 2_900,
        "favourites_count": 4_100,
        "verified": False,
        "lang": "en",
        "created_at": "Tue Apr 12 09:30:00 +0000 2016",
    }


@dataclass
class Enrichment:
    """A migrated database, a running simulator and the contexts the pipeline's enrich stage builds."""

    conn: psycopg.Connection[Any]
    simulator: ProviderSimulator
    sweep_context: SweepContext
    worker_context: WorkerContext
    folder: Path
    next_user_id: int = 1000

    def add_people(self, people: list[tuple[str, str]], **fields: Any) -> list[uuid.UUID]:
        """Ingest one X profile per (name, domain), then build and tag cards for them.

        `fields` go to `x_user`, such as `bio`. Returns the new card ids in the order of `people`.
        """
        users = []
        for name, domain in people:
            self.next_user_id += 1
            users.append(x_user(self.next_user_id, name, domain, **fields))
        self.store_and_tag(users)

        rows = self.conn.execute(
            """
            SELECT link.card_id, profile.platform_user_id
              FROM execution.card_profiles AS link
              JOIN social.profiles AS profile ON profile.id = link.profile_id
             WHERE profile.platform_user_id = ANY(%s)
            """,
            ([user["id_str"] for user in users],),
        ).fetchall()
        card_by_user = {row["platform_user_id"]: row["card_id"] for row in rows}
        return [card_by_user[user["id_str"]] for user in users]

    def store_and_tag(self, users: list[dict[str, Any]]) -> None:
        """Ingest the X user objects as one file, then build and tag the pool's cards."""
        path = self.folder / f"users-{uuid.uuid4()}.jsonl"
        path.write_text("".join(json.dumps(user) + "\n" for user in users), encoding="utf-8")

        ingest_file(self.conn, path, run_id=uuid.uuid4(), format_name="x-api-v1.1")
        with transaction(self.conn, role="sxe_worker"):
            build_cards(self.conn, POOL)
            tag_pending_cards(self.conn, POOL, load_default_ruleset())

    def run(self) -> tuple[SweepResult, WorkResult]:
        decided = sweep(self.conn, self.sweep_context)
        done = work(self.conn, self.worker_context)
        return decided, done

    def card(self, card_id: uuid.UUID) -> dict[str, Any]:
        return self.conn.execute("SELECT * FROM execution.lead_cards WHERE id = %s", (card_id,)).fetchone()

    def job_for(self, card_id: uuid.UUID) -> dict[str, Any]:
        row = self.conn.execute(
            "SELECT * FROM ops.jobs WHERE queue = %s AND payload ->> 'card_id' = %s",
            (ENRICH_QUEUE, str(card_id)),
        ).fetchone()
        assert row is not None, f"no enrichment job for card {card_id}"
        return row

    def contact_point_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) AS n FROM contact.contact_points").fetchone()["n"])

    def lookup_audits(self) -> list[dict[str, Any]]:
        return self.conn.execute(
            "SELECT * FROM ops.audit_log WHERE action = 'enrichment.lookup' ORDER BY seq"
        ).fetchall()


@pytest.fixture
def enrichment(conn: psycopg.Connection[Any], tmp_path: Path) -> Iterator[Enrichment]:
    with (
        ProviderSimulator() as simulator,
        ApolloPeopleMatch(
            simulator.api_key,
            base_url=simulator.base_url,
            simulated=True,
            reveal_phone_number=True,
            read_timeout_seconds=5,
        ) as adapter,
    ):
        scopes = controls.BudgetScopes(provider=adapter.name, pool=POOL)
        with transaction(conn, role="sxe_worker"):
            intent = ensure_pool(conn, POOL)
            controls.ensure_budgets(conn, scopes, provider_limit=10_000, pool_limit=500, period=PERIOD)
            controls.ensure_bucket(conn, adapter.name, capacity=20, refill_per_second=10)
            controls.ensure_breaker(conn, adapter.name)
        yield Enrichment(
            conn=conn,
            simulator=simulator,
            sweep_context=SweepContext(POOL, intent, adapter, scopes, PERIOD, ACTOR),
            worker_context=WorkerContext(adapter, scopes, PERIOD, 90, 30, ACTOR),
            folder=tmp_path,
        )


def test_rate_limit_schedules_retry(enrichment: Enrichment) -> None:
    [card_id] = enrichment.add_people([DANA])
    enrichment.simulator.fail_next(429, retry_after=7)

    decided, done = enrichment.run()

    job = enrichment.job_for(card_id)
    conn = enrichment.conn
    with transaction(conn, role="sxe_worker"):
        wait = controls.try_acquire_token(conn, "apollo")
    budgets = conn.execute("SELECT scope, reserved_credits, spent_credits FROM ops.budgets ORDER BY scope").fetchall()
    assert decided.enqueued == 1
    assert done.outcomes["retry_scheduled"] == 1
    assert enrichment.simulator.calls[MATCH_PATH] == 1
    assert job["state"] == "queued"
    assert job["last_error"]["status_code"] == 429
    assert conn.execute("SELECT %s > now() + interval '6 seconds' AS later", (job["run_after"],)).fetchone()["later"]
    assert wait >= 6.9
    assert enrichment.contact_point_count() == 0
    assert enrichment.card(card_id)["readiness"] == "enrichment_queued"
    for row in budgets:
        assert row["reserved_credits"] == 0, row["scope"]
        assert row["spent_credits"] == 0, row["scope"]


def test_rejection_kills_job_at_once(enrichment: Enrichment) -> None:
    [card_id] = enrichment.add_people([DANA])
    enrichment.simulator.fail_next(422)

    _, done = enrichment.run()

    job = enrichment.job_for(card_id)
    card = enrichment.card(card_id)
    assert done.outcomes["dead"] == 1
    assert job["state"] == "dead"
    assert job["attempts"] == 1
    assert job["last_error"]["status_code"] == 422
    assert card["readiness"] == "enrichment_failed"
    assert card["readiness_reason"] == "provider_rejected"
    assert card["contact_id"] is None
    assert enrichment.contact_point_count() == 0


def requeue_with_card(enrichment: Enrichment, card_id: uuid.UUID, readiness: str) -> None:
    """Put the card's dead job back in the queue after the card moved to `readiness`, as a later run would."""
    enrichment.conn.execute("UPDATE execution.lead_cards SET readiness = %s WHERE id = %s", (readiness, card_id))
    with transaction(enrichment.conn, role="sxe_worker"):
        jobs.requeue_dead(enrichment.conn, queue=ENRICH_QUEUE)


def budget_rows(enrichment: Enrichment) -> list[dict[str, Any]]:
    return enrichment.conn.execute(
        "SELECT scope, reserved_credits, spent_credits FROM ops.budgets ORDER BY scope"
    ).fetchall()


def test_requeued_job_of_handed_off_card_buys_nothing(enrichment: Enrichment) -> None:
    [card_id] = enrichment.add_people([DANA])
    enrichment.simulator.fail_next(422)
    enrichment.run()
    before = budget_rows(enrichment)
    requeue_with_card(enrichment, card_id, "handed_off")

    done = work(enrichment.conn, enrichment.worker_context)

    assert done.outcomes["card_moved_on"] == 1
    assert enrichment.simulator.calls[MATCH_PATH] == 1
    assert enrichment.job_for(card_id)["state"] == "succeeded"
    assert budget_rows(enrichment) == before
    assert enrichment.card(card_id)["readiness"] == "handed_off"


def test_card_moved_during_call_is_settled_once(enrichment: Enrichment) -> None:
    [card_id] = enrichment.add_people([DANA])
    conn = enrichment.conn
    lookup = enrichment.worker_context.adapter.lookup

    def lookup_then_hand_off(request: Any) -> Any:
        found = lookup(request)
        conn.execute("UPDATE execution.lead_cards SET readiness = 'handed_off' WHERE id = %s", (card_id,))
        return found

    context = replace(
        enrichment.worker_context, adapter=_Wrapped(enrichment.worker_context.adapter, lookup_then_hand_off)
    )
    sweep(conn, enrichment.sweep_context)
    work(conn, context)
    conn.execute("UPDATE ops.jobs SET lease_expires_at = now() - interval '1 second' WHERE state = 'running'")

    again = work(conn, enrichment.worker_context)

    budgets = budget_rows(enrichment)
    assert enrichment.simulator.calls[MATCH_PATH] == 1
    assert again.outcomes["card_moved_on"] == 1
    assert all(row["reserved_credits"] == 0 for row in budgets)
    assert [row["spent_credits"] for row in budgets] == [9, 9]


def test_job_of_other_pool_waits_for_its_pool(enrichment: Enrichment) -> None:
    [card_id] = enrichment.add_people([DANA])
    sweep(enrichment.conn, enrichment.sweep_context)
    enrichment.conn.execute("UPDATE ops.jobs SET payload = jsonb_set(payload, '{pool}', '\"b2b\"')")

    done = work(enrichment.conn, enrichment.worker_context)

    assert done.outcomes["pool_not_served"] == 1
    assert enrichment.simulator.calls[MATCH_PATH] == 0
    assert enrichment.job_for(card_id)["state"] == "queued"
    assert all(row["spent_credits"] == 0 for row in budget_rows(enrichment))


COACH_BIO = "Business coach for small studios. Coffee first."
COACHES_ONLY = {**DEFAULT_INTENT, "target_personas": ["coach"]}


def queue_coach(enrichment: Enrichment) -> tuple[uuid.UUID, dict[str, Any]]:
    """Queue a lookup for a coach's card in a pool that targets coaches; return the card id and its X user."""
    enrichment.sweep_context = replace(enrichment.sweep_context, intent=COACHES_ONLY)
    enrichment.worker_context = replace(enrichment.worker_context, intent=COACHES_ONLY)
    [card_id] = enrichment.add_people([DANA], bio=COACH_BIO)
    decided = sweep(enrichment.conn, enrichment.sweep_context)
    assert decided.enqueued == 1
    assert enrichment.card(card_id)["readiness"] == "enrichment_queued"
    return card_id, x_user(enrichment.next_user_id, *DANA, bio=COACH_BIO)


def test_retagged_queued_card_is_cancelled(enrichment: Enrichment) -> None:
    card_id, user = queue_coach(enrichment)
    enrichment.store_and_tag([{**user, "description": "Studio owner. Coffee first."}])
    labels = enrichment.conn.execute(
        "SELECT value FROM execution.card_labels WHERE card_id = %s AND kind = 'persona'", (card_id,)
    ).fetchall()
    assert "coach" not in [row["value"] for row in labels]
    assert enrichment.card(card_id)["readiness"] == "enrichment_queued"

    done = work(enrichment.conn, enrichment.worker_context)

    job = enrichment.job_for(card_id)
    card = enrichment.card(card_id)
    conn = enrichment.conn
    decisions = conn.execute(
        "SELECT decision, reason, outcome FROM ops.enrichment_decisions WHERE card_id = %s ORDER BY decided_at, id",
        (card_id,),
    ).fetchall()
    [audit] = enrichment.lookup_audits()
    assert done.outcomes["cancelled_by_gate"] == 1
    assert enrichment.simulator.calls[MATCH_PATH] == 0
    assert job["state"] == "cancelled"
    assert job["attempts"] == 0
    assert job["last_error"]["class"] == "GateRejected"
    assert job["last_error"]["message"].startswith("persona_not_targeted: ")
    assert card["readiness"] == "disqualified"
    assert card["readiness_reason"] == "persona_not_targeted"
    assert card["contact_id"] is None
    assert [row["outcome"] for row in decisions] == ["cancelled", None]
    assert decisions[-1]["decision"] == "skip"
    assert decisions[-1]["reason"] == "persona_not_targeted"
    assert audit["detail"]["outcome"] == "cancelled"
    assert audit["detail"]["credits"] == 0
    assert all(row["reserved_credits"] == 0 for row in budget_rows(enrichment))
    assert all(row["spent_credits"] == 0 for row in budget_rows(enrichment))


def test_retagged_card_still_targeted_is_bought(enrichment: Enrichment) -> None:
    card_id, user = queue_coach(enrichment)
    enrichment.store_and_tag([{**user, "description": "Mindset coach for studios. Tea now."}])

    done = work(enrichment.conn, enrichment.worker_context)

    assert done.outcomes["cancelled_by_gate"] == 0
    assert enrichment.simulator.calls[MATCH_PATH] == 1
    assert enrichment.job_for(card_id)["state"] == "succeeded"
    assert enrichment.card(card_id)["readiness"] == "enriched"


@dataclass
class _Wrapped:
    """An adapter whose lookup is replaced, with every other attribute of the wrapped one."""

    inner: Any
    replacement: Any

    def lookup(self, request: Any) -> Any:
        return self.replacement(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_server_errors_open_breaker(enrichment: Enrichment) -> None:
    enrichment.add_people(OTHERS + [DANA])
    enrichment.simulator.fail_next(503, count=5)
    stream = io.StringIO()

    logs.configure("INFO")
    try:
        with logs.copy_to(stream):
            _, done = enrichment.run()
    finally:
        logs.configure("WARNING")

    opened = [json.loads(line) for line in stream.getvalue().splitlines() if '"breaker.opened"' in line]
    assert [(line["provider"], line["level"]) for line in opened] == [("apollo", "WARNING")]

    breaker = enrichment.conn.execute("SELECT state FROM ops.circuit_breakers WHERE provider = 'apollo'").fetchone()
    # The worker claims jobs in id order, so the first five reached the provider.
    jobs = enrichment.conn.execute("SELECT state, attempts FROM ops.jobs ORDER BY id").fetchall()
    assert enrichment.simulator.calls[MATCH_PATH] == 5
    assert breaker["state"] == "open"
    assert done.outcomes["retry_scheduled"] == 5
    assert done.outcomes["deferred"] == 2
    assert [job["attempts"] for job in jobs] == [1, 1, 1, 1, 1, 0, 0]
    assert all(job["state"] == "queued" for job in jobs)


def test_open_breaker_skips_sweep(enrichment: Enrichment) -> None:
    with transaction(enrichment.conn, role="sxe_worker"):
        for _ in range(5):
            controls.record_breaker_failure(enrichment.conn, "apollo")
    [card_id] = enrichment.add_people([DANA])

    decided, done = enrichment.run()

    assert decided.enqueued == 0
    assert decided.skipped["circuit_open"] == 1
    assert not done.outcomes
    assert enrichment.simulator.calls[MATCH_PATH] == 0
    # An open breaker is a transient skip, so the card waits for a later sweep.
    assert enrichment.card(card_id)["readiness"] == "qualified"


def test_deferred_probe_does_not_wedge_breaker(enrichment: Enrichment) -> None:
    conn = enrichment.conn
    [card_id] = enrichment.add_people([DANA])
    # The sweep runs while the breaker is closed, so the job is queued.
    sweep(conn, enrichment.sweep_context)
    with transaction(conn, role="sxe_worker"):
        for _ in range(5):
            controls.record_breaker_failure(conn, "apollo")
        controls.block_bucket(conn, "apollo", 7)
    conn.execute("UPDATE ops.circuit_breakers SET opened_at = now() - interval '61 seconds'")

    # The worker wins the half-open probe, then finds no rate token and defers the job.
    first = work(conn, enrichment.worker_context)
    # Later: the Retry-After and the probe's own wait have passed, and the job is due again.
    conn.execute("UPDATE ops.provider_buckets SET blocked_until = now() - interval '1 second'")
    conn.execute("UPDATE ops.circuit_breakers SET updated_at = now() - interval '61 seconds'")
    conn.execute("UPDATE ops.jobs SET run_after = now() - interval '1 second'")
    second = work(conn, enrichment.worker_context)

    breaker = conn.execute("SELECT state FROM ops.circuit_breakers WHERE provider = 'apollo'").fetchone()
    assert first.outcomes["deferred"] == 1
    assert second.lookups == 1
    assert enrichment.simulator.calls[MATCH_PATH] == 1
    assert breaker["state"] == "closed"
    assert enrichment.card(card_id)["readiness"] == "enriched"


def test_match_stores_contact_in_tier2(enrichment: Enrichment) -> None:
    [card_id] = enrichment.add_people([DANA])

    _, done = enrichment.run()

    conn = enrichment.conn
    card = enrichment.card(card_id)
    points = conn.execute(
        "SELECT kind, value, contact_id, simulated FROM contact.contact_points ORDER BY kind"
    ).fetchall()
    assert done.matched == 1
    assert card["readiness"] == "enriched"
    assert [point["kind"] for point in points] == ["email", "phone"]
    assert points[0]["value"] == "dana.whitfield@danawhitfield.com"
    assert all(point["contact_id"] == card["contact_id"] for point in points)
    assert all(point["simulated"] for point in points)

    tables = conn.execute(
        """
        SELECT table_schema, table_name FROM information_schema.tables
         WHERE table_schema IN ('social', 'execution', 'ops') AND table_type = 'BASE TABLE'
        """
    ).fetchall()
    assert len(tables) > 10
    for point in points:
        for table in tables:
            query = pgsql.SQL("SELECT count(*) AS n FROM {}.{} AS t WHERE t::text LIKE %s").format(
                pgsql.Identifier(table["table_schema"]), pgsql.Identifier(table["table_name"])
            )
            found = conn.execute(query, (f"%{point['value']}%",)).fetchone()["n"]
            assert found == 0, f"{point['kind']} found in {table['table_schema']}.{table['table_name']}"


def test_match_audited_without_contact_data(enrichment: Enrichment) -> None:
    enrichment.add_people([DANA])

    enrichment.run()

    [audit_row] = enrichment.lookup_audits()
    detail_text = json.dumps(audit_row["detail"])
    assert audit_row["actor"] == ACTOR
    assert re.fullmatch(r"[0-9a-f]{64}", audit_row["payload_sha256"])
    assert audit_row["detail"]["outcome"] == "matched"
    assert audit_row["detail"]["credits"] == 9
    assert not contains_pii(detail_text)
    assert "danawhitfield.com" not in detail_text


def test_rerun_makes_no_new_call(enrichment: Enrichment) -> None:
    enrichment.add_people([DANA])
    enrichment.run()

    decided, done = enrichment.run()

    assert enrichment.simulator.calls[MATCH_PATH] == 1
    assert decided.enqueued == 0
    assert done.lookups == 0


def test_cooldown_reuses_remembered_contact(enrichment: Enrichment) -> None:
    [first_card] = enrichment.add_people([DANA])
    enrichment.run()

    # A second account of the same person requests the same lookup inside the cooldown.
    [second_card] = enrichment.add_people([DANA])
    decided, done = enrichment.run()

    assert enrichment.simulator.calls[MATCH_PATH] == 1
    assert decided.skipped["cooldown_matched"] == 1
    assert done.lookups == 0
    assert enrichment.card(second_card)["readiness"] == "enriched"
    assert enrichment.card(second_card)["contact_id"] == enrichment.card(first_card)["contact_id"]


def test_shared_lookup_bought_once(enrichment: Enrichment) -> None:
    first_card, second_card = enrichment.add_people([PRIYA, PRIYA])

    first_round = enrichment.run()
    second_round = enrichment.run()

    assert enrichment.simulator.calls[MATCH_PATH] == 1
    assert first_round[0].enqueued == 1
    assert second_round[0].skipped["cooldown_matched"] == 1
    assert enrichment.card(first_card)["contact_id"] == enrichment.card(second_card)["contact_id"]


def test_spent_budget_finishes_jobs_without_rate_tokens(enrichment: Enrichment) -> None:
    cards = enrichment.add_people([DANA, PRIYA, *OTHERS[:2]])
    conn = enrichment.conn
    decided = sweep(conn, enrichment.sweep_context)
    with transaction(conn, role="sxe_worker"):
        conn.execute("UPDATE ops.budgets SET spent_credits = limit_credits WHERE scope = %s", (f"pool:{POOL}",))
        controls.block_bucket(conn, "apollo", 600)

    done = work(conn, enrichment.worker_context)

    assert decided.enqueued == 4
    assert done.outcomes["budget_exhausted"] == 4
    assert done.outcomes["deferred"] == 0
    assert enrichment.simulator.calls[MATCH_PATH] == 0
    assert {enrichment.card(card_id)["readiness"] for card_id in cards} == {"qualified"}
    assert {enrichment.job_for(card_id)["state"] for card_id in cards} == {"cancelled"}


def queue_then_spend_pool_budget(enrichment: Enrichment, credits_left: int) -> uuid.UUID:
    """Queue Dana's lookup, then spend the pool budget down to `credits_left`; return her card id."""
    [card_id] = enrichment.add_people([DANA])
    conn = enrichment.conn
    assert sweep(conn, enrichment.sweep_context).enqueued == 1
    with transaction(conn, role="sxe_worker"):
        conn.execute(
            "UPDATE ops.budgets SET spent_credits = limit_credits - %s WHERE scope = %s",
            (credits_left, f"pool:{POOL}"),
        )
    return card_id


def test_spent_budget_cancels_job_with_reason(enrichment: Enrichment) -> None:
    card_id = queue_then_spend_pool_budget(enrichment, credits_left=4)
    quote = quoted_credits(enrichment.worker_context.adapter)

    done = work(enrichment.conn, enrichment.worker_context)

    job = enrichment.job_for(card_id)
    card = enrichment.card(card_id)
    [audit] = enrichment.lookup_audits()
    assert quote > 4
    assert done.outcomes["budget_exhausted"] == 1
    assert enrichment.simulator.calls[MATCH_PATH] == 0
    assert job["state"] == "cancelled"
    assert job["attempts"] == 0
    assert len(job["errors"]) == 1
    assert job["last_error"]["class"] == "BudgetExhausted"
    assert job["last_error"]["scope"] == f"pool:{POOL}"
    assert job["last_error"]["period"] == PERIOD
    assert job["last_error"]["remaining_credits"] == 4
    assert job["last_error"]["quoted_credits"] == quote
    assert job["last_error"]["message"].startswith(f"budget pool:{POOL} has 4 credits left in period {PERIOD}")
    assert "SXE_POOL_BUDGET_CREDITS" in job["last_error"]["message"]
    assert card["readiness"] == "qualified"
    assert card["readiness_reason"] == "budget_exhausted"
    assert audit["detail"]["outcome"] == "budget_exhausted"
    assert audit["detail"]["credits"] == 0


def test_budget_cancel_in_status_and_explain(enrichment: Enrichment) -> None:
    card_id = queue_then_spend_pool_budget(enrichment, credits_left=4)
    work(enrichment.conn, enrichment.worker_context)

    counted = status.collect(enrichment.conn, pool=POOL, period=PERIOD)
    report = explain(enrichment.conn, str(card_id))
    text = render(report)

    [job] = report["enrichment"]["jobs"]
    assert counted["jobs"] == {"cancelled": 1}
    assert counted["queues"][ENRICH_QUEUE] == {"cancelled": 1}
    assert job["state"] == "cancelled"
    assert job["last_error_class"] == "BudgetExhausted"
    assert job["cancel_reason"].startswith(f"budget pool:{POOL} has 4 credits left in period {PERIOD}")
    assert f"cancelled  attempts 0/5, not bought, BudgetExhausted: budget pool:{POOL} has 4 credits" in text
    assert "no error" not in text
    assert not contains_pii(text)


@pytest.mark.parametrize("budget_returns", ["raised_limit", "next_period"])
def test_returned_budget_buys_lookup_once(enrichment: Enrichment, budget_returns: str) -> None:
    card_id = queue_then_spend_pool_budget(enrichment, credits_left=0)
    work(enrichment.conn, enrichment.worker_context)
    [cancelled] = enrichment.conn.execute("SELECT id, state FROM ops.jobs").fetchall()
    scopes = enrichment.worker_context.scopes
    period = PERIOD if budget_returns == "raised_limit" else "2030-02"
    with transaction(enrichment.conn, role="sxe_worker"):
        controls.ensure_budgets(enrichment.conn, scopes, provider_limit=10_000, pool_limit=1_000, period=period)
    enrichment.sweep_context = replace(enrichment.sweep_context, period=period)
    enrichment.worker_context = replace(enrichment.worker_context, period=period)

    first = enrichment.run()
    second = enrichment.run()

    quote = quoted_credits(enrichment.worker_context.adapter)
    spent = {
        row["scope"]: row["spent_credits"]
        for row in enrichment.conn.execute(
            "SELECT scope, spent_credits FROM ops.budgets WHERE period = %s", (period,)
        ).fetchall()
    }
    spent_before = 500 if budget_returns == "raised_limit" else 0
    states = enrichment.conn.execute("SELECT id, state FROM ops.jobs ORDER BY id").fetchall()
    assert cancelled["state"] == "cancelled"
    assert first[0].enqueued == 1
    assert first[1].lookups == 1
    assert second[0].enqueued == 0
    assert second[1].lookups == 0
    assert enrichment.simulator.calls[MATCH_PATH] == 1
    assert spent == {f"pool:{POOL}": spent_before + quote, "provider:apollo": quote}
    assert [row["state"] for row in states] == ["cancelled", "succeeded"]
    assert states[0]["id"] == cancelled["id"]
    assert enrichment.card(card_id)["readiness"] == "enriched"


def test_sweep_queues_the_best_cards_first(enrichment: Enrichment) -> None:
    cards = enrichment.add_people([DANA, PRIYA, OTHERS[0]])
    conn = enrichment.conn
    for card_id, followers in zip(cards, (40, 90_000, 700), strict=True):
        conn.execute(
            """UPDATE social.profiles SET followers = %s
                WHERE id IN (SELECT profile_id FROM execution.card_profiles WHERE card_id = %s)""",
            (followers, card_id),
        )

    sweep(conn, enrichment.sweep_context)

    queued = conn.execute("SELECT payload ->> 'card_id' AS card_id FROM ops.jobs ORDER BY id").fetchall()
    assert [row["card_id"] for row in queued] == [str(cards[1]), str(cards[2]), str(cards[0])]


def test_remembered_lookup_finishes_without_rate_token(enrichment: Enrichment) -> None:
    [first_card] = enrichment.add_people([DANA])
    enrichment.run()
    [second_card] = enrichment.add_people([PRIYA])
    conn = enrichment.conn
    sweep(conn, enrichment.sweep_context)
    # The lookup is remembered between the sweep and the job, as when another worker bought it.
    contact_id = enrichment.card(first_card)["contact_id"]
    fingerprint = enrichment.job_for(second_card)["payload"]["fingerprint"]
    with transaction(conn, role="sxe_worker"):
        controls.remember(conn, fingerprint, provider="apollo", outcome="matched", contact_id=contact_id, days=90)
        controls.block_bucket(conn, "apollo", 600)

    done = work(conn, enrichment.worker_context)

    assert done.outcomes["reused"] == 1
    assert done.outcomes["deferred"] == 0
    assert enrichment.simulator.calls[MATCH_PATH] == 1
    assert enrichment.card(second_card)["contact_id"] == contact_id


def test_phone_webhook_request_registered(
    enrichment: Enrichment, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    [card_id] = enrichment.add_people([DANA])
    with ApolloPeopleMatch(
        enrichment.simulator.api_key,
        base_url=enrichment.simulator.base_url,
        simulated=True,
        reveal_phone_number=True,
        webhook_url="https://functions.example.com/enrich/callback?token=t",
    ) as adapter:
        enrichment.worker_context = replace(enrichment.worker_context, adapter=adapter)
        enrichment.run()

    rows = enrichment.conn.execute(
        "SELECT card_id, adapter_version, simulated, delivered_at FROM ops.apollo_phone_requests"
    ).fetchall()
    assert len(rows) == 1
    assert rows[0]["card_id"] == card_id
    assert rows[0]["simulated"] is True
    assert rows[0]["delivered_at"] is None

    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_APOLLO_WEBHOOK_TOKEN", "t")
    request_id = enrichment.conn.execute("SELECT request_id FROM ops.apollo_phone_requests").fetchone()["request_id"]
    phone = {"sanitized_number": "+12125550177", "type": "mobile", "status": "valid_number", "dnc_status": "clear"}
    body = {"request_id": request_id, "people": [{"id": "p1", "phone_numbers": [phone]}]}
    http = {"method": "POST", "headers": {}, "body": json.dumps(body), "queryString": "token=t"}
    response = apollo_callback.handle({"http": http})

    assert response["statusCode"] == 200
    phones = enrichment.conn.execute(
        """SELECT p.value, p.simulated FROM execution.lead_cards c
             JOIN contact.contact_points p ON p.contact_id = c.contact_id
            WHERE c.id = %s AND p.kind = 'phone' AND p.value = '+12125550177'""",
        (card_id,),
    ).fetchall()
    assert [(row["value"], row["simulated"]) for row in phones] == [("+12125550177", True)]


def test_lookup_name_comes_from_a_stable_profile(enrichment: Enrichment) -> None:
    conn = enrichment.conn
    people = [("Dana Whitfield", "danawhitfield.com"), ("Priya Raman", "ramanstudio.com"), *OTHERS[:4]]
    for name, domain in people:
        # Two profiles of one person with the same website and followers: the lookup takes
        # its name from the one that comes first by platform, whatever their random ids.
        for platform, display_name in (("x", f"{name} Official"), ("threads", name)):
            handle = name.lower().replace(" ", "_")
            conn.execute(
                """INSERT INTO social.profiles (platform, identity_key, handle, display_name, website_domain,
                       followers, source_format, source_file, collected_at)
                   VALUES (%s, %s, %s, %s, %s, 500, 'test', 'test.json', '2026-01-01T00:00:00Z')""",
                (platform, f"handle:{handle}", handle, display_name, domain),
            )
    with transaction(conn, role="sxe_worker"):
        build_cards(conn, POOL)
        tag_pending_cards(conn, POOL, load_default_ruleset())

    sweep(conn, enrichment.sweep_context)

    requested = conn.execute("SELECT payload -> 'request' ->> 'name' AS name FROM ops.jobs ORDER BY id").fetchall()
    assert sorted(row["name"] for row in requested) == sorted(name.lower() for name, _ in people)
