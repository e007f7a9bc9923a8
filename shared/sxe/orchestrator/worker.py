"""The enrichment worker: claim lookup jobs, call the provider under every control, store results in Tier 2.

For one job: the breaker must let the call out, a rate token must be free, the
lookup must not be remembered or already paid for, and the budget must take the
quoted cost. Only then is the provider called, outside any transaction. The
result, the budget settlement, the cooldown memory, the card's readiness and the
audit row are written in one transaction, so a crash leaves either all or none.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg

from sxe import audit, jobs
from sxe.adapters.base import LookupRequest, LookupResult, ProviderAdapter
from sxe.cards import Readiness, transition
from sxe.db import sql, transaction
from sxe.errors import PermanentProviderError, RetryableProviderError
from sxe.events import EventType, emit
from sxe.logs import Event, log
from sxe.orchestrator import controls
from sxe.orchestrator.sweep import ENRICH_QUEUE, quoted_credits

# A wait for a rate token shorter than this is slept through; a longer one reschedules the job.
MAX_INLINE_TOKEN_WAIT_SECONDS = 2.0
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 900.0
BREAKER_RECHECK_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class WorkerContext:
    adapter: ProviderAdapter
    scopes: controls.BudgetScopes
    period: str
    cooldown_hit_days: int
    cooldown_miss_days: int
    actor: str
    lease_seconds: int = 60


@dataclass(slots=True)
class WorkResult:
    lookups: int = 0
    matched: int = 0
    credits_spent: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


def work(conn: psycopg.Connection[Any], context: WorkerContext, *, max_jobs: int | None = None) -> WorkResult:
    """Run due enrichment jobs until none is left (or `max_jobs` ran); return what happened."""
    result = WorkResult()
    done = 0
    while max_jobs is None or done < max_jobs:
        with transaction(conn, role="sxe_worker"):
            claimed = jobs.claim(conn, ENRICH_QUEUE, limit=1, lease_seconds=context.lease_seconds)
        if not claimed:
            break
        run_job(conn, claimed[0], context, result)
        done += 1
    return result


def run_job(conn: psycopg.Connection[Any], job: jobs.Job, context: WorkerContext, result: WorkResult) -> None:
    """Take one claimed job to a finished, retried, deferred or dead state."""
    card_id = UUID(job.payload["card_id"])
    fingerprint = str(job.payload["fingerprint"])
    request = LookupRequest(**job.payload["request"])

    wait_seconds = _wait_for_call(conn, context.adapter.name)
    if wait_seconds > 0:
        with transaction(conn, role="sxe_worker"):
            jobs.defer(conn, job, delay_seconds=wait_seconds)
        result.outcomes["deferred"] += 1
        return

    with transaction(conn, role="sxe_worker"):
        memory = controls.recall(conn, fingerprint)
        paid_before = memory is None and controls.start_idempotent_call(conn, fingerprint, context.adapter.name) is None
        if memory is not None or paid_before:
            _finish_without_call(conn, job, card_id, memory, context, result)
            return

    quote = quoted_credits(context.adapter)
    if not _reserve(conn, context, quote, job, card_id):
        with transaction(conn, role="sxe_worker"):
            _record_budget_short(conn, job, card_id, context, result)
        return

    try:
        lookup = context.adapter.lookup(request)
    except RetryableProviderError as exc:
        _record_retryable(conn, job, card_id, fingerprint, quote, exc, context, result)
    except PermanentProviderError as exc:
        _record_permanent(conn, job, card_id, fingerprint, quote, exc, context, result)
    else:
        _record_lookup(conn, job, card_id, fingerprint, quote, lookup, context, result)


def _wait_for_call(conn: psycopg.Connection[Any], provider: str) -> float:
    """Return 0 once the breaker lets a call out and a rate token is taken, else the seconds to defer."""
    while True:
        with transaction(conn, role="sxe_worker"):
            if not controls.breaker_allows(conn, provider):
                return BREAKER_RECHECK_SECONDS
            wait = controls.try_acquire_token(conn, provider)
        if wait == 0:
            return 0.0
        if wait > MAX_INLINE_TOKEN_WAIT_SECONDS:
            return wait
        time.sleep(wait)


class _ReservationShort(Exception):
    """Raised inside the reservation transaction to roll back a partial reservation."""


def _reserve(conn: psycopg.Connection[Any], context: WorkerContext, quote: int, job: jobs.Job, card_id: UUID) -> bool:
    """Reserve the quoted credits and audit the attempt before the call, so a crash during it leaves a trace."""
    try:
        with transaction(conn, role="sxe_worker"):
            if not controls.reserve_budget(conn, context.scopes, quote, context.period):
                raise _ReservationShort
            audit.append(
                conn,
                actor=context.actor,
                action="enrichment.attempt",
                subject=f"lead_card:{card_id}",
                detail={
                    "provider": context.adapter.name,
                    "adapter_version": context.adapter.version,
                    "job_id": job.id,
                    "attempt": job.attempts,
                    "reserved_credits": quote,
                },
            )
    except _ReservationShort:
        return False
    return True


def _finish_without_call(
    conn: psycopg.Connection[Any],
    job: jobs.Job,
    card_id: UUID,
    memory: controls.Memory | None,
    context: WorkerContext,
    result: WorkResult,
) -> None:
    """Close a job whose lookup is remembered or was already paid for, without calling the provider."""
    if memory is not None and memory.contact_id is not None:
        conn.execute(sql("cards_attach_contact"), {"card_id": card_id, "contact_id": memory.contact_id})
        _move_card(conn, card_id, Readiness.ENRICHED, "cooldown_matched")
    else:
        _move_card(conn, card_id, Readiness.NO_MATCH, "cooldown_no_match" if memory else "already_paid")
    _audit_lookup(conn, job, card_id, context, outcome="reused", credits=0)
    jobs.complete(conn, job)
    result.outcomes["reused"] += 1


def _record_budget_short(
    conn: psycopg.Connection[Any], job: jobs.Job, card_id: UUID, context: WorkerContext, result: WorkResult
) -> None:
    # The card goes back to qualified: a later period or a raised limit lets a new sweep buy it.
    _move_card(conn, card_id, Readiness.QUALIFIED, "budget_exhausted")
    _audit_lookup(conn, job, card_id, context, outcome="budget_exhausted", credits=0)
    jobs.complete(conn, job)
    result.outcomes["budget_exhausted"] += 1


def _record_lookup(
    conn: psycopg.Connection[Any],
    job: jobs.Job,
    card_id: UUID,
    fingerprint: str,
    quote: int,
    lookup: LookupResult,
    context: WorkerContext,
    result: WorkResult,
) -> None:
    provider = context.adapter.name
    with transaction(conn, role="sxe_worker"):
        controls.settle_budget(conn, context.scopes, reserved=quote, spent=lookup.credits_used, period=context.period)
        controls.finish_idempotent_call(conn, fingerprint, succeeded=True)
        controls.record_breaker_success(conn, provider)

        contact_id = _store_contact(conn, lookup) if lookup.contact_points else None
        outcome = "matched" if contact_id else "no_match"
        days = context.cooldown_hit_days if contact_id else context.cooldown_miss_days
        controls.remember(conn, fingerprint, provider=provider, outcome=outcome, contact_id=contact_id, days=days)

        if contact_id is not None:
            conn.execute(sql("cards_attach_contact"), {"card_id": card_id, "contact_id": contact_id})
            _move_card(conn, card_id, Readiness.ENRICHED, "matched")
        else:
            _move_card(conn, card_id, Readiness.NO_MATCH, "no_match")

        _audit_lookup(
            conn,
            job,
            card_id,
            context,
            outcome=outcome,
            credits=lookup.credits_used,
            payload_sha256=lookup.payload_sha256,
            simulated=lookup.simulated,
        )
        emit(conn, EventType.ENRICHED, str(card_id), provider=provider, outcome=outcome, job_id=job.id)
        jobs.complete(conn, job)

    result.lookups += 1
    result.matched += int(contact_id is not None)
    result.credits_spent += lookup.credits_used
    result.outcomes[outcome] += 1
    log(
        logging.INFO,
        Event.JOB_COMPLETED,
        f"lookup {outcome}",
        stage="enrich",
        job_id=job.id,
        provider=provider,
        attempt=job.attempts,
    )


def _record_retryable(
    conn: psycopg.Connection[Any],
    job: jobs.Job,
    card_id: UUID,
    fingerprint: str,
    quote: int,
    error: RetryableProviderError,
    context: WorkerContext,
    result: WorkResult,
) -> None:
    provider = context.adapter.name
    delay = error.retry_after_seconds or min(BACKOFF_BASE_SECONDS * 2 ** (job.attempts - 1), BACKOFF_MAX_SECONDS)
    with transaction(conn, role="sxe_worker"):
        controls.settle_budget(conn, context.scopes, reserved=quote, spent=0, period=context.period)
        controls.finish_idempotent_call(conn, fingerprint, succeeded=False)
        breaker_state = controls.record_breaker_failure(conn, provider)
        if error.retry_after_seconds:
            controls.block_bucket(conn, provider, error.retry_after_seconds)
        state = jobs.retry(conn, job, delay_seconds=delay, error=_error_detail(error))
        if state == "dead":
            _move_card(conn, card_id, Readiness.ENRICHMENT_FAILED, "retries_exhausted")
        _audit_lookup(
            conn,
            job,
            card_id,
            context,
            outcome=f"retryable_error:{state}",
            credits=0,
            status_code=error.status_code,
            breaker=breaker_state,
        )

    result.outcomes["dead" if state == "dead" else "retry_scheduled"] += 1
    level, event = (
        (logging.ERROR, Event.JOB_FAILED) if state == "dead" else (logging.WARNING, Event.JOB_RETRY_SCHEDULED)
    )
    log(
        level,
        event,
        f"lookup failed ({type(error).__name__}); job is {state}",
        stage="enrich",
        job_id=job.id,
        provider=provider,
        attempt=job.attempts,
    )


def _record_permanent(
    conn: psycopg.Connection[Any],
    job: jobs.Job,
    card_id: UUID,
    fingerprint: str,
    quote: int,
    error: PermanentProviderError,
    context: WorkerContext,
    result: WorkResult,
) -> None:
    with transaction(conn, role="sxe_worker"):
        controls.settle_budget(conn, context.scopes, reserved=quote, spent=0, period=context.period)
        controls.finish_idempotent_call(conn, fingerprint, succeeded=False)
        jobs.fail(conn, job, error=_error_detail(error))
        _move_card(conn, card_id, Readiness.ENRICHMENT_FAILED, "provider_rejected")
        _audit_lookup(conn, job, card_id, context, outcome="permanent_error", credits=0, status_code=error.status_code)

    result.outcomes["dead"] += 1
    log(
        logging.ERROR,
        Event.JOB_FAILED,
        f"lookup rejected by the provider ({type(error).__name__})",
        stage="enrich",
        job_id=job.id,
        provider=context.adapter.name,
        attempt=job.attempts,
    )


def _store_contact(conn: psycopg.Connection[Any], lookup: LookupResult) -> UUID:
    contact_id: UUID = conn.execute(sql("contact_create")).fetchone()["id"]
    for point in lookup.contact_points:
        conn.execute(
            sql("contact_upsert_point"),
            {
                "contact_id": contact_id,
                "kind": point.kind,
                "value": point.value,
                "value_sha256": hashlib.sha256(point.value.strip().lower().encode()).hexdigest(),
                "status": point.status,
                "line_type": point.line_type,
                "dnc_status": point.dnc_status,
                # The provider's DNC answer is a scrub made at lookup time; without one the phone is unscrubbed.
                "scrubbed_at": datetime.now(UTC) if point.dnc_status is not None else None,
                "source": point.source,
                "adapter_version": lookup.adapter_version,
                "simulated": lookup.simulated,
            },
        )
    return contact_id


def _move_card(conn: psycopg.Connection[Any], card_id: UUID, to_state: Readiness, reason: str) -> None:
    transition(conn, card_id, to_state, reason)


def _audit_lookup(
    conn: psycopg.Connection[Any],
    job: jobs.Job,
    card_id: UUID,
    context: WorkerContext,
    *,
    outcome: str,
    credits: int,
    payload_sha256: str | None = None,
    **detail: Any,
) -> None:
    audit.append(
        conn,
        actor=context.actor,
        action="enrichment.lookup",
        subject=f"lead_card:{card_id}",
        detail={
            "provider": context.adapter.name,
            "adapter_version": context.adapter.version,
            "job_id": job.id,
            "attempt": job.attempts,
            "outcome": outcome,
            "credits": credits,
            **detail,
        },
        payload_sha256=payload_sha256,
    )


def _error_detail(error: Exception) -> dict[str, Any]:
    """Describe a failure for the job row: its class, message and status, which never contain contact data."""
    return {"class": type(error).__name__, "message": str(error), "status_code": getattr(error, "status_code", None)}
