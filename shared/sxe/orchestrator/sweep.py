"""The sweep: run the gate over a pool's tagged cards and turn allowed lookups into jobs."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

import psycopg

from sxe import audit, jobs
from sxe.adapters.base import LookupRequest, ProviderAdapter
from sxe.cards import Readiness, transition
from sxe.db import sql, transaction
from sxe.events import EventType, emit
from sxe.logs import Event, log
from sxe.orchestrator import controls
from sxe.orchestrator.gate import (
    NO_KEY_SKIPS,
    POLICY_SKIPS,
    Candidate,
    Decision,
    SkipReason,
    check_policy,
)

ENRICH_QUEUE = "enrich"


@dataclass(slots=True)
class SweepResult:
    enqueued: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class SweepContext:
    """Settings shared by every decision of one sweep."""

    pool: str
    intent: dict[str, Any]
    adapter: ProviderAdapter
    scopes: controls.BudgetScopes
    period: str
    actor: str
    simulated: bool = False


def sweep(conn: psycopg.Connection[Any], context: SweepContext) -> SweepResult:
    """Decide every tagged card of the pool, each in its own transaction, and enqueue allowed lookups."""
    with transaction(conn, role="sxe_worker"):
        rows = conn.execute(sql("enrich_candidates"), {"pool": context.pool}).fetchall()

    result = SweepResult()
    for row in rows:
        with transaction(conn, role="sxe_worker"):
            candidate = Candidate.from_row(row)
            decision = replace(_decide(conn, candidate, context), readiness=candidate.readiness)
            _record(conn, decision, context, result)
    log(
        logging.INFO,
        Event.ENRICHMENT_DECIDED,
        "enrichment sweep finished",
        stage="enrich",
        provider=context.adapter.name,
        count=len(rows),
    )
    return result


def _decide(conn: psycopg.Connection[Any], candidate: Candidate, context: SweepContext) -> Decision:
    quote = quoted_credits(context.adapter)
    decision = check_policy(candidate, context.intent, context.adapter.name, quote)
    if not decision.enqueue or decision.request is None:
        return decision

    fingerprint = decision.request.fingerprint(context.adapter.name, context.adapter.version)
    memory = controls.recall(conn, fingerprint)
    if memory is not None:
        reason = SkipReason.COOLDOWN_MATCHED if memory.outcome == "matched" else SkipReason.COOLDOWN_NO_MATCH
        return Decision(candidate.card_id, reason, decision.request, "the same lookup is inside its cooldown")

    if controls.remaining_budget(conn, context.scopes, context.period) < quote:
        return Decision(candidate.card_id, SkipReason.BUDGET_EXHAUSTED, decision.request, f"period {context.period}")

    if controls.breaker_is_open(conn, context.adapter.name):
        return Decision(candidate.card_id, SkipReason.CIRCUIT_OPEN, decision.request, "the provider's breaker is open")
    return decision


def quoted_credits(adapter: ProviderAdapter) -> int:
    """Return the most one lookup can cost with this adapter's settings."""
    return adapter.quoted_cost_credits(LookupRequest())


def _record(conn: psycopg.Connection[Any], decision: Decision, context: SweepContext, result: SweepResult) -> None:
    request = decision.request
    fingerprint = request.fingerprint(context.adapter.name, context.adapter.version) if request else None
    job_id = _enqueue(conn, decision, context, fingerprint) if decision.enqueue else None
    if decision.enqueue:
        # No id means a live job already buys this exact lookup for another card.
        # This card stays qualified, and the next sweep reuses the remembered result.
        result.enqueued += int(job_id is not None)
        reason = "allowed by intent, cooldown, budget and breaker" if job_id else "same lookup already queued"
    else:
        result.skipped[str(decision.skip)] += 1
        reason = str(decision.skip)

    _move_card(conn, decision, fingerprint, job_id)
    conn.execute(
        sql("enrich_record_decision"),
        {
            "card_id": decision.card_id,
            "provider": context.adapter.name,
            "decision": "enqueue" if decision.enqueue else "skip",
            "reason": reason,
            "fingerprint": fingerprint,
            "job_id": job_id,
            "simulated": context.simulated,
        },
    )
    audit.append(
        conn,
        actor=context.actor,
        action="enrichment.decided",
        subject=f"lead_card:{decision.card_id}",
        detail={
            "decision": "enqueue" if decision.enqueue else "skip",
            "reason": reason,
            "detail": decision.detail,
            "provider": context.adapter.name,
            "job_id": job_id,
        },
    )
    emit(conn, EventType.ENRICHMENT_DECIDED, str(decision.card_id), decision=reason, job_id=job_id)


def _enqueue(
    conn: psycopg.Connection[Any], decision: Decision, context: SweepContext, fingerprint: str | None
) -> int | None:
    assert decision.request is not None
    return jobs.enqueue(
        conn,
        ENRICH_QUEUE,
        {
            "card_id": str(decision.card_id),
            "pool": context.pool,
            "provider": context.adapter.name,
            "fingerprint": fingerprint,
            "request": decision.request.normalized(),
        },
        dedupe_key=fingerprint,
    )


def _move_card(conn: psycopg.Connection[Any], decision: Decision, fingerprint: str | None, job_id: int | None) -> None:
    """Move the card along the readiness state machine according to the decision."""
    card_id, skip = decision.card_id, decision.skip
    if skip in POLICY_SKIPS:
        transition(conn, card_id, Readiness.DISQUALIFIED, str(skip))
        return

    if decision.readiness == Readiness.TAGGED:
        transition(conn, card_id, Readiness.QUALIFIED)
    if job_id is not None:
        transition(conn, card_id, Readiness.ENRICHMENT_QUEUED)
    elif skip in NO_KEY_SKIPS:
        transition(conn, card_id, Readiness.READY, str(skip))
    elif skip is SkipReason.COOLDOWN_MATCHED:
        _reuse_contact(conn, card_id, fingerprint)
    elif skip is SkipReason.COOLDOWN_NO_MATCH:
        transition(conn, card_id, Readiness.NO_MATCH, str(skip))


def _reuse_contact(conn: psycopg.Connection[Any], card_id: UUID, fingerprint: str | None) -> None:
    memory = controls.recall(conn, fingerprint) if fingerprint else None
    if memory is None or memory.contact_id is None:
        transition(conn, card_id, Readiness.NO_MATCH, str(SkipReason.COOLDOWN_MATCHED))
        return
    conn.execute(sql("cards_attach_contact"), {"card_id": card_id, "contact_id": memory.contact_id})
    transition(conn, card_id, Readiness.ENRICHED, str(SkipReason.COOLDOWN_MATCHED))
