"""The sweep: run the gate over a pool's tagged cards and turn allowed lookups into jobs.

Providers form a waterfall in the order of the pool's `allowed_providers`. For
each card the sweep runs the gate for each provider in that order and enqueues
a job for the first one it passes. A provider is passed over when the card has
nothing it can match on, when it missed the same lookup recently, when its budget
is spent or its breaker is open. Every provider asked gets a decision row; only
the last decision moves the card.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
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

# Skips after which the waterfall tries the next provider instead of settling the card.
PASS_ON_SKIPS = frozenset(
    {
        SkipReason.NO_MATCH_KEY,
        SkipReason.COOLDOWN_NO_MATCH,
        SkipReason.BUDGET_EXHAUSTED,
        SkipReason.CIRCUIT_OPEN,
        SkipReason.OVER_MAX_COST,
    }
)
DEFAULT_WANTED_FIELDS = ("email",)
# The setting that configures each paid provider; `public_bio` needs none.
PROVIDER_KEY_SETTINGS = {"apollo": "SXE_APOLLO_API_KEY", "dealmachine": "SXE_DEALMACHINE_API_KEY"}
# Detail of an allowed decision whose provider will not be asked for phones the pool wants.
PHONES_NOT_REQUESTED = (
    "phones not requested: Apollo sends phones only to a webhook, and SXE_APOLLO_WEBHOOK_TOKEN "
    "or SXE_FUNCTIONS_BASE_URL is unset"
)


@dataclass(slots=True)
class SweepResult:
    enqueued: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class SweepContext:
    """Settings shared by every decision of one sweep.

    `adapter` and `fallbacks` are every provider configured for this run; the
    pool's `allowed_providers` puts them in waterfall order (`waterfall`).
    """

    pool: str
    intent: dict[str, Any]
    adapter: ProviderAdapter
    scopes: controls.BudgetScopes
    period: str
    actor: str
    simulated: bool = False
    fallbacks: tuple[ProviderAdapter, ...] = ()

    def waterfall(self) -> list[ProviderAdapter]:
        """Return the configured providers the pool allows, in its order; empty when none is both."""
        return waterfall_order(self.intent, (self.adapter, *self.fallbacks))

    def configured(self) -> list[str]:
        return [adapter.name for adapter in (self.adapter, *self.fallbacks)]

    def scopes_for(self, provider: str) -> controls.BudgetScopes:
        return controls.BudgetScopes(provider=provider, pool=self.pool)


def waterfall_order(intent: dict[str, Any], adapters: Sequence[ProviderAdapter]) -> list[ProviderAdapter]:
    """Return the adapters named in the intent's `allowed_providers`, in that order."""
    by_name = {adapter.name: adapter for adapter in adapters}
    return [by_name[name] for name in intent.get("allowed_providers", []) if name in by_name]


def wanted_fields(intent: dict[str, Any]) -> frozenset[str]:
    """Return the contact kinds the pool wants (`wanted_fields`, by default email only)."""
    return frozenset(intent.get("wanted_fields") or DEFAULT_WANTED_FIELDS)


def sweep(conn: psycopg.Connection[Any], context: SweepContext) -> SweepResult:
    """Decide every tagged card of the pool, each in its own transaction, and enqueue allowed lookups.

    When no configured provider is allowed by the pool, every card gets a
    `provider_not_configured` (or `provider_not_allowed`) skip and stays qualified, so
    a run after the settings or the intent are fixed enriches it.
    """
    with transaction(conn, role="sxe_worker"):
        rows = conn.execute(sql("enrich_candidates"), {"pool": context.pool, "card_id": None}).fetchall()

    result = SweepResult()
    waterfall = context.waterfall()
    for row in rows:
        with transaction(conn, role="sxe_worker"):
            candidate = Candidate.from_row(row)
            if not waterfall:
                _record_mismatch(conn, candidate, context, result)
                continue
            decisions = decide_card(conn, candidate, context, waterfall)
            reused = False
            for position, (adapter, decision) in enumerate(decisions):
                final = position == len(decisions) - 1
                decision = replace(decision, readiness=candidate.readiness)
                if not final and decision.skip is SkipReason.COOLDOWN_MATCHED and not reused:
                    reused = attach_remembered_contact(conn, decision.card_id, _fingerprint(decision, adapter))
                _record(conn, decision, adapter, context, result, final=final, reused=reused)
    log(
        logging.INFO,
        Event.ENRICHMENT_DECIDED,
        "enrichment sweep finished",
        stage="enrich",
        provider=context.adapter.name,
        count=len(rows),
    )
    return result


def provider_mismatch(context: SweepContext) -> list[tuple[str, SkipReason, str]]:
    """Return (provider, reason, detail) for a pool that allows none of the run's configured providers.

    Each allowed provider that this run does not configure gets a
    `provider_not_configured` entry naming the setting to add. A pool that allows no
    provider at all gets one `provider_not_allowed` entry naming the configured ones.
    """
    configured = context.configured()
    allowed = [str(name) for name in context.intent.get("allowed_providers", [])]
    if not allowed:
        detail = f"the pool's allowed_providers is empty; this run configures {', '.join(configured)}"
        return [(context.adapter.name, SkipReason.PROVIDER_NOT_ALLOWED, detail)]
    return [
        (name, SkipReason.PROVIDER_NOT_CONFIGURED, _not_configured_detail(name, configured))
        for name in allowed
        if name not in configured
    ]


def _not_configured_detail(provider: str, configured: list[str]) -> str:
    setting = PROVIDER_KEY_SETTINGS.get(provider)
    fix = f"set {setting}" if setting else f"no provider adapter is named {provider}; fix allowed_providers"
    return (
        f"{provider} is in the pool's allowed_providers but this run configures only "
        f"{', '.join(configured)}: {fix}, or allow one of those"
    )


def _record_mismatch(
    conn: psycopg.Connection[Any], candidate: Candidate, context: SweepContext, result: SweepResult
) -> None:
    """Record a skip for each provider of the mismatch and keep the card eligible (tagged moves to qualified)."""
    mismatch = provider_mismatch(context)
    for provider, reason, detail in mismatch:
        decision = Decision(candidate.card_id, reason, detail=detail, readiness=candidate.readiness)
        record_decision(conn, decision, provider, f"{reason}; {detail}", None, None, context.actor, context.simulated)
    result.skipped[str(mismatch[-1][1])] += 1
    if candidate.readiness == Readiness.TAGGED:
        transition(conn, candidate.card_id, Readiness.QUALIFIED)


def decide_card(
    conn: psycopg.Connection[Any], candidate: Candidate, context: SweepContext, providers: Sequence[ProviderAdapter]
) -> list[tuple[ProviderAdapter, Decision]]:
    """Ask the gate about each provider in order until one is allowed or a skip settles the card; write nothing.

    A remembered match passes on to the next provider when its contact lacks a
    field the pool wants, as a bought lookup would.
    """
    wanted = wanted_fields(context.intent)
    decisions: list[tuple[ProviderAdapter, Decision]] = []
    for adapter in providers:
        decision = decide(conn, candidate, context, adapter)
        decisions.append((adapter, decision))
        if decision.skip is SkipReason.COOLDOWN_MATCHED:
            if wanted <= remembered_kinds(conn, _fingerprint(decision, adapter)):
                break
            continue
        if decision.enqueue or decision.skip not in PASS_ON_SKIPS:
            break
    return decisions


def remembered_kinds(conn: psycopg.Connection[Any], fingerprint: str | None) -> frozenset[str]:
    """Return the contact kinds of a lookup's remembered contact; empty for a miss or a forgotten lookup."""
    memory = controls.recall(conn, fingerprint) if fingerprint else None
    if memory is None or memory.contact_id is None:
        return frozenset()
    row = conn.execute(sql("enrich_contact_kinds"), {"contact_id": memory.contact_id}).fetchone()
    return frozenset(row["kinds"]) if row else frozenset()


def attach_remembered_contact(conn: psycopg.Connection[Any], card_id: UUID, fingerprint: str | None) -> bool:
    """Attach a remembered lookup's contact to the card; return False when the memory has no contact.

    NOTE: the contact is shared with the card that bought the lookup, so points a later
    provider adds for this card reach that card too. Both cards made the same request
    and so stand for the same person.
    """
    memory = controls.recall(conn, fingerprint) if fingerprint else None
    if memory is None or memory.contact_id is None:
        return False
    conn.execute(sql("cards_attach_contact"), {"card_id": card_id, "contact_id": memory.contact_id})
    return True


def _fingerprint(decision: Decision, adapter: ProviderAdapter) -> str | None:
    return decision.request.fingerprint(adapter.name, adapter.version) if decision.request else None


def decide(
    conn: psycopg.Connection[Any], candidate: Candidate, context: SweepContext, adapter: ProviderAdapter
) -> Decision:
    """Return the gate's decision for one card and provider: policy, bridge, cooldown, budget, breaker."""
    quote = quoted_credits(adapter)
    decision = check_policy(candidate, context.intent, adapter.name, quote)
    if not decision.enqueue or decision.request is None:
        return decision

    request, bridge = decision.request, decision.bridge
    fingerprint = request.fingerprint(adapter.name, adapter.version)
    memory = controls.recall(conn, fingerprint)
    if memory is not None:
        reason = SkipReason.COOLDOWN_MATCHED if memory.outcome == "matched" else SkipReason.COOLDOWN_NO_MATCH
        return Decision(candidate.card_id, reason, request, "the same lookup is inside its cooldown", bridge=bridge)

    if controls.remaining_budget(conn, context.scopes_for(adapter.name), context.period) < quote:
        detail = f"period {context.period}"
        return Decision(candidate.card_id, SkipReason.BUDGET_EXHAUSTED, request, detail, bridge=bridge)

    if controls.breaker_is_open(conn, adapter.name):
        detail = "the provider's breaker is open"
        return Decision(candidate.card_id, SkipReason.CIRCUIT_OPEN, request, detail, bridge=bridge)
    if "phone" in wanted_fields(context.intent) and not getattr(adapter, "phones_requested", True):
        return replace(decision, detail=PHONES_NOT_REQUESTED)
    return decision


def allowed_reason(decision: Decision, reason: str) -> str:
    """Return the reason of an allowed decision, followed by its detail when it has one."""
    return f"{reason}; {decision.detail}" if decision.detail else reason


def quoted_credits(adapter: ProviderAdapter) -> int:
    """Return the most one lookup can cost with this adapter's settings."""
    return adapter.quoted_cost_credits(LookupRequest())


def _record(
    conn: psycopg.Connection[Any],
    decision: Decision,
    adapter: ProviderAdapter,
    context: SweepContext,
    result: SweepResult,
    *,
    final: bool,
    reused: bool = False,
) -> None:
    """Write one decision row, audit entry and event; the final decision of a card also moves it.

    `reused` means an earlier provider's remembered contact is already attached to the card.
    """
    fingerprint = _fingerprint(decision, adapter)
    job_id = enqueue_lookup(conn, decision, context.pool, adapter, fingerprint) if decision.enqueue else None
    if not final:
        reason = str(decision.skip)
    elif decision.enqueue:
        # No id means a live job already buys this exact lookup for another card.
        # This card stays qualified, and the next sweep reuses the remembered result.
        result.enqueued += int(job_id is not None)
        reason = "allowed by intent, cooldown, budget and breaker" if job_id else "same lookup already queued"
        reason = allowed_reason(decision, reason)
    else:
        result.skipped[str(decision.skip)] += 1
        reason = str(decision.skip)

    if final:
        _move_card(conn, decision, fingerprint, job_id, reused=reused)
    record_decision(conn, decision, adapter.name, reason, fingerprint, job_id, context.actor, context.simulated)


def record_decision(
    conn: psycopg.Connection[Any],
    decision: Decision,
    provider: str,
    reason: str,
    fingerprint: str | None,
    job_id: int | None,
    actor: str,
    simulated: bool,
) -> None:
    """Write the decision row, its audit entry and its event, with the identity bridge used."""
    conn.execute(
        sql("enrich_record_decision"),
        {
            "card_id": decision.card_id,
            "provider": provider,
            "decision": "enqueue" if decision.enqueue else "skip",
            "reason": reason,
            "fingerprint": fingerprint,
            "job_id": job_id,
            "simulated": simulated,
            "bridge": None if decision.bridge is None else str(decision.bridge),
        },
    )
    audit.append(
        conn,
        actor=actor,
        action="enrichment.decided",
        subject=f"lead_card:{decision.card_id}",
        detail={
            "decision": "enqueue" if decision.enqueue else "skip",
            "reason": reason,
            "detail": decision.detail,
            "provider": provider,
            "bridge": None if decision.bridge is None else str(decision.bridge),
            "job_id": job_id,
        },
    )
    emit(conn, EventType.ENRICHMENT_DECIDED, str(decision.card_id), decision=reason, job_id=job_id)


def enqueue_lookup(
    conn: psycopg.Connection[Any], decision: Decision, pool: str, adapter: ProviderAdapter, fingerprint: str | None
) -> int | None:
    """Enqueue the lookup job of an allowed decision; None when the same lookup is already queued."""
    assert decision.request is not None
    return jobs.enqueue(
        conn,
        ENRICH_QUEUE,
        {
            "card_id": str(decision.card_id),
            "pool": pool,
            "provider": adapter.name,
            "fingerprint": fingerprint,
            "request": decision.request.normalized(),
        },
        dedupe_key=fingerprint,
    )


def _move_card(
    conn: psycopg.Connection[Any], decision: Decision, fingerprint: str | None, job_id: int | None, *, reused: bool
) -> None:
    """Move the card along the readiness state machine according to the decision.

    A card holding a reused contact ends enriched when no later provider got a job.
    """
    card_id, skip = decision.card_id, decision.skip
    if reused and job_id is None:
        if decision.readiness == Readiness.TAGGED:
            transition(conn, card_id, Readiness.QUALIFIED)
        transition(conn, card_id, Readiness.ENRICHED, str(SkipReason.COOLDOWN_MATCHED))
        return
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
    if not attach_remembered_contact(conn, card_id, fingerprint):
        transition(conn, card_id, Readiness.NO_MATCH, str(SkipReason.COOLDOWN_MATCHED))
        return
    transition(conn, card_id, Readiness.ENRICHED, str(SkipReason.COOLDOWN_MATCHED))
