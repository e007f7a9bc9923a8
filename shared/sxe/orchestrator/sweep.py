"""The sweep: run the gate over a pool's tagged cards and turn allowed lookups into jobs."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psycopg

from sxe import audit, jobs
from sxe.adapters.base import LookupRequest, ProviderAdapter
from sxe.cards import Readiness, transition
from sxe.db import sql, transaction
from sxe.events import EventType, emit
from sxe.logs import Event, log
from sxe.orchestrator import controls
from sxe.orchestrator.gate import (
    TRANSIENT_SKIPS,
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


def sweep(conn: psycopg.Connection[Any], context: SweepContext) -> SweepResult:
    """Decide every tagged card of the pool, each in its own transaction, and enqueue allowed lookups."""
    with transaction(conn, role="sxe_worker"):
        rows = conn.execute(sql("enrich_candidates"), {"pool": context.pool}).fetchall()

    result = SweepResult()
    for row in rows:
        with transaction(conn, role="sxe_worker"):
            decision = _decide(conn, Candidate.from_row(row), context)
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
    job_id = None
    if decision.enqueue and request is not None:
        job_id = jobs.enqueue(
            conn,
            ENRICH_QUEUE,
            {
                "card_id": str(decision.card_id),
                "pool": context.pool,
                "provider": context.adapter.name,
                "fingerprint": fingerprint,
                "request": request.normalized(),
            },
            dedupe_key=fingerprint,
        )
        # No id means a live job already buys this exact lookup for another card.
        # This card stays tagged, and the next sweep reuses the remembered result.
        result.enqueued += int(job_id is not None)
    else:
        result.skipped[str(decision.skip)] += 1
        _apply_skip(conn, decision, fingerprint)

    reason = str(decision.skip)
    if decision.enqueue:
        reason = "allowed by intent, cooldown, budget and breaker" if job_id else "same lookup already queued"
    conn.execute(
        sql("enrich_record_decision"),
        {
            "card_id": decision.card_id,
            "provider": context.adapter.name,
            "decision": "enqueue" if decision.enqueue else "skip",
            "reason": reason,
            "fingerprint": fingerprint,
            "job_id": job_id,
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


def _apply_skip(conn: psycopg.Connection[Any], decision: Decision, fingerprint: str | None) -> None:
    """Move a skipped card on: reuse a remembered contact, or mark it ready without one."""
    if decision.skip in TRANSIENT_SKIPS:
        return
    if decision.skip is SkipReason.COOLDOWN_MATCHED and fingerprint is not None:
        memory = controls.recall(conn, fingerprint)
        if memory is not None and memory.contact_id is not None:
            conn.execute(sql("cards_attach_contact"), {"card_id": decision.card_id, "contact_id": memory.contact_id})
            transition(
                conn,
                decision.card_id,
                from_states=[Readiness.TAGGED],
                to_state=Readiness.ENRICHED,
                reason=str(decision.skip),
            )
            return
    transition(
        conn, decision.card_id, from_states=[Readiness.TAGGED], to_state=Readiness.READY, reason=str(decision.skip)
    )
