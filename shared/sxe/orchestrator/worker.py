"""The enrichment worker: claim lookup jobs, call the provider under every control, store results in Tier 2.

For one job: the breaker must let the call out, a rate token must be free, the
lookup must not be remembered or already paid for, and the budget must take the
quoted cost. Only then is the provider called, outside any transaction. The
result, the budget settlement, the cooldown memory, the card's readiness and the
audit row are written in one transaction, so a crash leaves either all or none.

When a lookup ends without every field the pool wants (`wanted_fields`, by
default email), the worker runs the gate for the next providers of the pool's
waterfall and enqueues a job for the first one allowed. The card stays
enrichment_queued and the next provider's contact points join the same contact.
No later provider is asked once the wanted fields are found.

Jobs are claimed in batches and worked until a deadline. Each job's lease is
renewed just before it starts, and jobs of a batch that no longer fit before the
deadline go back to the queue without spending an attempt.
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
from sxe.adapters.apollo_bulk import MAX_BULK_DETAILS, ApolloBulkPeopleMatch
from sxe.adapters.apollo_callback import register_phone_request
from sxe.adapters.apollo_response import PROVIDER as APOLLO
from sxe.adapters.base import LookupRequest, LookupResult, ProviderAdapter
from sxe.cards import Readiness, transition
from sxe.compliance.suppression import ContactScreen
from sxe.db import sql, transaction
from sxe.errors import PermanentProviderError, RetryableProviderError, StateTransitionError
from sxe.events import EventType, emit
from sxe.logs import Event, log
from sxe.orchestrator import controls
from sxe.orchestrator.deadline import Deadline
from sxe.orchestrator.gate import (
    BUDGET_EXHAUSTED,
    GATE_REJECTED,
    Candidate,
    Decision,
    SkipReason,
    card_policy_skip,
)
from sxe.orchestrator.sweep import (
    ENRICH_QUEUE,
    SweepContext,
    allowed_reason,
    decide_card,
    enqueue_lookup,
    quoted_credits,
    record_decision,
    wanted_fields,
    waterfall_order,
)

# A wait for a rate token shorter than this is slept through; a longer one reschedules the job.
MAX_INLINE_TOKEN_WAIT_SECONDS = 2.0
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 900.0
BREAKER_RECHECK_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class WorkerContext:
    """Settings shared by every job of one worker run.

    `adapter` serves jobs for its provider. `fallbacks` are the other providers of
    the pool's waterfall, each drawing on its own `provider:<name>` budget and the
    pool budget of `scopes`. `intent` is the pool's intent policy: its
    `allowed_providers` order the waterfall and its `wanted_fields` end it.
    `job_seconds` is the longest one job may take: token wait, provider timeouts
    and the result transaction. The worker starts another job only while that much time is left before the deadline.
    """

    adapter: ProviderAdapter
    scopes: controls.BudgetScopes
    period: str
    cooldown_hit_days: int
    cooldown_miss_days: int
    actor: str
    lease_seconds: int = 60
    batch_size: int = 10
    job_seconds: float = 30.0
    backoff: jobs.Backoff = field(default_factory=lambda: jobs.Backoff(BACKOFF_BASE_SECONDS, BACKOFF_MAX_SECONDS))
    fallbacks: tuple[ProviderAdapter, ...] = ()
    # Drops returned contact points of erased people; None keys it from the environment.
    screen: ContactScreen | None = None
    intent: dict[str, Any] = field(default_factory=dict)
    simulated: bool = False
    # Apollo bulk_match, for two to ten claimed Apollo jobs per call. With None, each job calls people/match.
    bulk: ApolloBulkPeopleMatch | None = None

    def adapter_for(self, provider: str) -> ProviderAdapter | None:
        """Return the adapter serving `provider`, or None when it is not configured in this run."""
        for adapter in (self.adapter, *self.fallbacks):
            if adapter.name == provider:
                return adapter
        return None

    def scopes_for(self, provider: str) -> controls.BudgetScopes:
        return controls.BudgetScopes(provider=provider, pool=self.scopes.pool)


@dataclass(slots=True)
class WorkResult:
    lookups: int = 0
    matched: int = 0
    credits_spent: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class _Lookup:
    """One claimed job resolved to its card, request and provider controls."""

    job: jobs.Job
    card_id: UUID
    fingerprint: str
    request: LookupRequest
    adapter: ProviderAdapter
    scopes: controls.BudgetScopes


def work(
    conn: psycopg.Connection[Any],
    context: WorkerContext,
    *,
    max_jobs: int | None = None,
    deadline: Deadline | None = None,
) -> WorkResult:
    """Rescue expired leases, then run due enrichment jobs until none is left, `max_jobs` ran or the deadline nears."""
    result = WorkResult()
    rescue(conn, context, result)

    done = 0
    while max_jobs is None or done < max_jobs:
        if deadline is not None and not deadline.allows(context.job_seconds):
            result.outcomes["deadline_reached"] += 1
            break
        limit = context.batch_size if max_jobs is None else min(context.batch_size, max_jobs - done)
        with transaction(conn, role="sxe_worker"):
            claimed = jobs.claim(conn, ENRICH_QUEUE, limit=limit, lease_seconds=context.lease_seconds)
        if not claimed:
            break
        done += _work_batch(conn, claimed, context, result, deadline)
    return result


def _work_batch(
    conn: psycopg.Connection[Any],
    claimed: list[jobs.Job],
    context: WorkerContext,
    result: WorkResult,
    deadline: Deadline | None,
) -> int:
    """Run a claimed batch, bulk-eligible Apollo jobs first; return how many jobs ran.

    Jobs past the deadline are released.
    """
    grouped, single = _split_bulk(claimed, context)
    ran = 0
    for index, group in enumerate(grouped):
        if deadline is not None and not deadline.allows(context.job_seconds):
            _release(conn, [job for rest in grouped[index:] for job in rest] + single, result)
            return ran
        ran += run_bulk(conn, group, context, result)

    for index, job in enumerate(single):
        if deadline is not None and not deadline.allows(context.job_seconds):
            _release(conn, single[index:], result)
            break
        # The lease was set at claim time; renew it so this job gets its full lease from now.
        with transaction(conn, role="sxe_worker"):
            held = jobs.extend_lease(conn, job, lease_seconds=context.lease_seconds)
        if not held:
            result.outcomes["lease_lost"] += 1
            continue
        try:
            run_job(conn, job, context, result)
        except StateTransitionError:
            _note_lease_lost(job, result)
        ran += 1
    return ran


def _split_bulk(claimed: list[jobs.Job], context: WorkerContext) -> tuple[list[list[jobs.Job]], list[jobs.Job]]:
    """Return groups of at most ten jobs for Apollo bulk_match, and the jobs that go one by one.

    A job joins a bulk group when the run has a bulk adapter, the job is for Apollo's
    people/match without phone reveal and without a LinkedIn URL, and at least two
    such jobs were claimed.
    """
    if context.bulk is None:
        return [], claimed
    apollo = context.adapter_for(APOLLO)
    if apollo is None or getattr(apollo, "phones_requested", False):
        return [], claimed
    eligible = [
        job
        for job in claimed
        if str(job.payload.get("provider") or context.adapter.name) == APOLLO
        and not job.payload["request"].get("linkedin_url")
    ]
    if len(eligible) < 2:
        return [], claimed
    groups = [eligible[start : start + MAX_BULK_DETAILS] for start in range(0, len(eligible), MAX_BULK_DETAILS)]
    return groups, [job for job in claimed if job not in eligible]


def run_bulk(conn: psycopg.Connection[Any], group: list[jobs.Job], context: WorkerContext, result: WorkResult) -> int:
    """Buy the lookups of up to ten Apollo jobs with one bulk_match call; return how many jobs ran.

    Every job keeps its own lease, idempotency key, budget reservation, audit rows and
    card move, as in `run_job`. One rate token covers the call, and a failed call counts
    once against the breaker.
    """
    assert context.bulk is not None, "run_bulk needs a bulk adapter"
    lookups: list[_Lookup] = []
    for lookup in _hold_and_resolve(conn, group, context, result):
        try:
            if not _finished_before_token(conn, lookup, quoted_credits(lookup.adapter), context, result):
                lookups.append(lookup)
        except StateTransitionError:
            _note_lease_lost(lookup.job, result)
    if not lookups:
        return len(group)

    wait_seconds = _wait_for_call(conn, APOLLO)
    if wait_seconds > 0:
        with transaction(conn, role="sxe_worker"):
            for lookup in lookups:
                jobs.defer(conn, lookup.job, delay_seconds=wait_seconds)
        result.outcomes["deferred"] += len(lookups)
        return len(group)

    quote = quoted_credits(lookups[0].adapter)
    buying: list[_Lookup] = []
    for lookup in lookups:
        try:
            if _start_call(conn, lookup, quote, context, result):
                buying.append(lookup)
        except StateTransitionError:
            _note_lease_lost(lookup.job, result)
    if not buying:
        return len(group)

    try:
        matched = context.bulk.match([lookup.request for lookup in buying])
    except RetryableProviderError as exc:
        for position, lookup in enumerate(buying):
            _record_retryable(conn, lookup, quote, exc, context, result, count_failure=position == 0)
    except PermanentProviderError as exc:
        for lookup in buying:
            _record_permanent(conn, lookup, quote, exc, context, result)
    else:
        # NOTE: each card settles the credits Apollo's billing rule gives its own match.
        # The call's `credits_consumed` total is not split across the cards.
        for lookup, found in zip(buying, matched.results, strict=True):
            try:
                _record_paid_lookup(conn, lookup, quote, found, context, result)
            except StateTransitionError:
                _note_lease_lost(lookup.job, result)
    result.outcomes["bulk_calls"] += 1
    return len(group)


def _hold_and_resolve(
    conn: psycopg.Connection[Any], group: list[jobs.Job], context: WorkerContext, result: WorkResult
) -> list[_Lookup]:
    """Renew each job's lease and resolve it; jobs whose lease is gone are counted and left out."""
    lookups: list[_Lookup] = []
    for job in group:
        with transaction(conn, role="sxe_worker"):
            renewed = jobs.extend_lease(conn, job, lease_seconds=context.lease_seconds)
        if not renewed:
            result.outcomes["lease_lost"] += 1
            continue
        lookup = _resolve(conn, job, context, result)
        if lookup is not None:
            lookups.append(lookup)
    return lookups


def _note_lease_lost(job: jobs.Job, result: WorkResult) -> None:
    # An erasure cancelled the job, or its card moved on, mid-run; the guards rolled its result back.
    result.outcomes["lease_lost"] += 1
    log(
        logging.WARNING,
        Event.JOB_LEASE_LOST,
        "job lease lost or card moved on; result discarded",
        stage="enrich",
        job_id=job.id,
    )


def _release(conn: psycopg.Connection[Any], unstarted: list[jobs.Job], result: WorkResult) -> None:
    with transaction(conn, role="sxe_worker"):
        for job in unstarted:
            try:
                jobs.defer(conn, job, delay_seconds=0)
            except StateTransitionError:
                continue
            result.outcomes["released"] += 1


def rescue(conn: psycopg.Connection[Any], context: WorkerContext, result: WorkResult) -> None:
    """Return expired leases to the queue; a job that ran out of attempts leaves its card enrichment_failed."""
    with transaction(conn, role="sxe_worker"):
        rescued = jobs.rescue_expired(conn)
        for row in rescued:
            result.outcomes[f"rescued_{row['state']}"] += 1
            if row["state"] == "dead" and row["queue"] == ENRICH_QUEUE:
                _move_card(conn, UUID(row["payload"]["card_id"]), Readiness.ENRICHMENT_FAILED, "lease_expired")
    for row in rescued:
        log(
            logging.WARNING,
            Event.JOB_RETRY_SCHEDULED if row["state"] == "queued" else Event.JOB_FAILED,
            f"job lease expired; job is {row['state']}",
            stage="enrich",
            job_id=row["id"],
            attempt=row["attempts"],
        )


def run_job(conn: psycopg.Connection[Any], job: jobs.Job, context: WorkerContext, result: WorkResult) -> None:
    """Take one claimed job to a finished, retried, deferred or dead state."""
    lookup = _resolve(conn, job, context, result)
    if lookup is None:
        return
    quote = quoted_credits(lookup.adapter)
    if _finished_before_token(conn, lookup, quote, context, result):
        return

    wait_seconds = _wait_for_call(conn, lookup.adapter.name)
    if wait_seconds > 0:
        with transaction(conn, role="sxe_worker"):
            jobs.defer(conn, job, delay_seconds=wait_seconds)
        result.outcomes["deferred"] += 1
        return

    if not _start_call(conn, lookup, quote, context, result):
        return

    try:
        found = lookup.adapter.lookup(lookup.request)
    except RetryableProviderError as exc:
        _record_retryable(conn, lookup, quote, exc, context, result)
    except PermanentProviderError as exc:
        _record_permanent(conn, lookup, quote, exc, context, result)
    else:
        _record_paid_lookup(conn, lookup, quote, found, context, result)


def _finished_before_token(
    conn: psycopg.Connection[Any], lookup: _Lookup, quote: int, context: WorkerContext, result: WorkResult
) -> bool:
    """Finish a job that needs no provider call before it waits for a rate token; return True if it did.

    A job needs no call when its lookup is remembered or the budget cannot take the
    quote. Without this check, each job queued behind a spent budget would wait for
    a token at the provider's rate and then end unbought. `_start_call` checks both
    again after the token is taken, because either can change during the wait.
    """
    with transaction(conn, role="sxe_worker"):
        if _job_no_longer_needed(conn, lookup, context, result):
            return True
        memory = controls.recall(conn, lookup.fingerprint)
        if memory is not None:
            _finish_without_call(conn, lookup, memory, context, result)
            return True
        if controls.remaining_budget(conn, lookup.scopes, context.period) < quote:
            _record_budget_short(conn, lookup, quote, context, result)
            return True
    return False


def _start_call(
    conn: psycopg.Connection[Any], lookup: _Lookup, quote: int, context: WorkerContext, result: WorkResult
) -> bool:
    """Return True when the lookup must be bought: not remembered, not already paid, and its budget reserved.

    A remembered or already paid lookup finishes its job here, and so does one whose budget is short.
    """
    with transaction(conn, role="sxe_worker"):
        if _job_no_longer_needed(conn, lookup, context, result):
            return False
        memory = controls.recall(conn, lookup.fingerprint)
        started = (
            None
            if memory is not None
            else controls.start_idempotent_call(conn, lookup.fingerprint, lookup.adapter.name)
        )
        if memory is not None or started is None:
            _finish_without_call(conn, lookup, memory, context, result)
            return False
        if started is False:
            _settle_abandoned(conn, lookup, context)

    if not _reserve(conn, lookup, quote, context):
        with transaction(conn, role="sxe_worker"):
            _record_budget_short(conn, lookup, quote, context, result)
        return False
    return True


def _job_no_longer_needed(
    conn: psycopg.Connection[Any], lookup: _Lookup, context: WorkerContext, result: WorkResult
) -> bool:
    """Close the job without a call when its card moved on or no longer passes the gate; return True if it did.

    One read returns the card's readiness and the facts the intent policy checks, so a
    card re-tagged while its job waited is gated again on its current labels.
    """
    row = conn.execute(sql("enrich_job_card"), {"card_id": lookup.card_id}).fetchone()
    if row is None or row["readiness"] != Readiness.ENRICHMENT_QUEUED.value:
        _complete_moved_on(conn, lookup, row, result)
        return True
    skip = card_policy_skip(Candidate.from_row(row), context.intent, quoted_credits(lookup.adapter))
    if skip is None:
        return False
    _cancel_regated(conn, lookup, skip, context, result)
    return True


def _complete_moved_on(
    conn: psycopg.Connection[Any], lookup: _Lookup, row: dict[str, Any] | None, result: WorkResult
) -> None:
    """Complete the job of a card that no longer waits for it, without a call.

    A card leaves enrichment_queued when a run hands it off after its job died, or an
    operator requeues the dead job later. Its result could not be recorded, so the
    lookup is not bought.
    """
    jobs.complete(conn, lookup.job)
    result.outcomes["card_moved_on"] += 1
    state = row["readiness"] if row else "deleted"
    message = f"card is {state}, no longer waiting for the lookup: not bought"
    log(logging.INFO, Event.JOB_COMPLETED, message, stage="enrich", job_id=lookup.job.id)


def _cancel_regated(
    conn: psycopg.Connection[Any],
    lookup: _Lookup,
    skip: tuple[SkipReason, str],
    context: WorkerContext,
    result: WorkResult,
) -> None:
    """Cancel a job whose card the pool's intent policy no longer allows, and move the card on.

    The card's labels, or the pool's intent, changed after the sweep queued the job.
    Nothing is reserved or charged. The card moves through qualified to disqualified,
    where a sweep would have left it, and `sxe pool set` or a later re-tag sends it
    back to tagged. The new decision is recorded, and the lookup is audited with the
    outcome `cancelled`.
    """
    reason, detail = skip
    entry = jobs.error_entry(lookup.job.attempts, error_class=GATE_REJECTED, message=f"{reason}: {detail}")
    jobs.cancel(conn, lookup.job, reason=entry)

    _move_card(conn, lookup.card_id, Readiness.QUALIFIED, str(reason))
    _move_card(conn, lookup.card_id, Readiness.DISQUALIFIED, str(reason))
    decision = Decision(lookup.card_id, reason, detail=detail, readiness=Readiness.ENRICHMENT_QUEUED.value)
    record_decision(conn, decision, lookup.adapter.name, str(reason), None, None, context.actor, context.simulated)
    _audit_lookup(conn, lookup, context, outcome="cancelled", credits=0, reason=str(reason))

    result.outcomes["cancelled_by_gate"] += 1
    message = f"card no longer passes the pool's intent policy ({reason}): job cancelled, not bought"
    log(logging.INFO, Event.JOB_COMPLETED, message, stage="enrich", job_id=lookup.job.id)


def _record_paid_lookup(
    conn: psycopg.Connection[Any],
    lookup: _Lookup,
    quote: int,
    found: LookupResult,
    context: WorkerContext,
    result: WorkResult,
) -> None:
    """Record a result the provider returned; a job cancelled meanwhile still settles what the call cost."""
    try:
        _record_lookup(conn, lookup, quote, found, context, result)
    except StateTransitionError:
        # The job was cancelled or its card moved on during the call: the result is gone, but
        # the call was paid. Finishing the key keeps a later attempt from settling it again.
        with transaction(conn, role="sxe_worker"):
            controls.settle_budget(conn, lookup.scopes, reserved=quote, spent=found.credits_used, period=context.period)
            controls.finish_idempotent_call(conn, lookup.fingerprint, succeeded=True)
        raise


def _resolve(
    conn: psycopg.Connection[Any], job: jobs.Job, context: WorkerContext, result: WorkResult
) -> _Lookup | None:
    """Read the job's payload; a job for a provider or pool this run does not serve waits for a run that does.

    A run serves one pool, whose budget, intent policy and waterfall it applies, so a
    job of another pool is never charged to this one.
    """
    provider = str(job.payload.get("provider") or context.adapter.name)
    adapter = context.adapter_for(provider)
    pool = job.payload.get("pool", context.scopes.pool)
    if adapter is None or pool != context.scopes.pool:
        with transaction(conn, role="sxe_worker"):
            jobs.defer(conn, job, delay_seconds=BREAKER_RECHECK_SECONDS)
        result.outcomes["pool_not_served" if pool != context.scopes.pool else "provider_not_configured"] += 1
        return None
    return _Lookup(
        job=job,
        card_id=UUID(job.payload["card_id"]),
        fingerprint=str(job.payload["fingerprint"]),
        request=LookupRequest(**job.payload["request"]),
        adapter=adapter,
        scopes=context.scopes_for(provider),
    )


def _wait_for_call(conn: psycopg.Connection[Any], provider: str) -> float:
    """Return 0 once the breaker lets a call out and a rate token is taken, else the seconds to defer."""
    while True:
        with transaction(conn, role="sxe_worker"):
            if not controls.breaker_allows(conn, provider):
                return controls.breaker_wait_seconds(conn, provider) or BREAKER_RECHECK_SECONDS
            wait = controls.try_acquire_token(conn, provider)
        if wait == 0:
            return 0.0
        if wait > MAX_INLINE_TOKEN_WAIT_SECONDS:
            return wait
        time.sleep(wait)


class _ReservationShort(Exception):
    """Raised inside the reservation transaction to roll back a partial reservation."""


def _reserve(conn: psycopg.Connection[Any], lookup: _Lookup, quote: int, context: WorkerContext) -> bool:
    """Reserve the quoted credits and audit the attempt before the call, so a crash during it leaves a trace."""
    try:
        with transaction(conn, role="sxe_worker"):
            if not controls.reserve_budget(conn, lookup.scopes, quote, context.period):
                raise _ReservationShort
            controls.note_reservation(conn, lookup.fingerprint, lookup.scopes, quote, context.period)
            audit.append(
                conn,
                actor=context.actor,
                action="enrichment.attempt",
                subject=f"lead_card:{lookup.card_id}",
                detail={
                    "provider": lookup.adapter.name,
                    "adapter_version": lookup.adapter.version,
                    "job_id": lookup.job.id,
                    "attempt": lookup.job.attempts,
                    "reserved_credits": quote,
                    **_phone_request_detail(lookup.adapter),
                },
            )
    except _ReservationShort:
        return False
    return True


def _phone_request_detail(adapter: ProviderAdapter) -> dict[str, bool]:
    """Return whether the call requests phones, for adapters that may leave them out (Apollo without a webhook)."""
    requested = getattr(adapter, "phones_requested", None)
    return {} if requested is None else {"phones_requested": bool(requested)}


def _settle_abandoned(conn: psycopg.Connection[Any], lookup: _Lookup, context: WorkerContext) -> None:
    """Settle what an earlier attempt of this lookup reserved before it died mid-call."""
    credits = controls.settle_abandoned_reservation(conn, lookup.fingerprint)
    if credits:
        _audit_lookup(conn, lookup, context, outcome="abandoned_attempt_settled", credits=credits)


def _finish_without_call(
    conn: psycopg.Connection[Any],
    lookup: _Lookup,
    memory: controls.Memory | None,
    context: WorkerContext,
    result: WorkResult,
) -> None:
    """Close a job whose lookup is remembered or was already paid for, without calling the provider.

    The card takes the remembered contact. When the card still lacks a wanted field, the
    waterfall goes on to the next provider, as it does after a bought lookup.
    """
    card_id = lookup.card_id
    if memory is not None and memory.contact_id is not None:
        _reuse_remembered(conn, card_id, memory.contact_id)
    current = conn.execute(sql("enrich_card_contact"), {"card_id": card_id}).fetchone()
    missing = wanted_fields(context.intent) - set(current["kinds"] if current else ())
    continued = bool(missing) and _continue_waterfall(conn, lookup, context)
    # A continued waterfall leaves the card enrichment_queued for the next provider's job.
    if not continued and current is not None and current["contact_id"] is not None:
        _move_card(conn, card_id, Readiness.ENRICHED, "cooldown_matched")
    elif not continued:
        _move_card(conn, card_id, Readiness.NO_MATCH, "cooldown_no_match" if memory else "already_paid")
    if memory is None:
        step_outcome = "already_paid"
    else:
        step_outcome = "matched" if memory.contact_id else "no_match"
    _audit_lookup(
        conn, lookup, context, outcome="reused", credits=0, step_outcome=step_outcome, waterfall_continued=continued
    )
    jobs.complete(conn, lookup.job)
    result.outcomes["reused"] += 1


def _reuse_remembered(conn: psycopg.Connection[Any], card_id: UUID, remembered: UUID) -> None:
    """Give the card a remembered contact, or copy its points into the contact an earlier provider gave it."""
    current = conn.execute(sql("enrich_card_contact"), {"card_id": card_id}).fetchone()
    card_contact = current["contact_id"] if current else None
    if card_contact is None:
        conn.execute(sql("cards_attach_contact"), {"card_id": card_id, "contact_id": remembered})
    elif card_contact != remembered:
        conn.execute(sql("contact_copy_points"), {"contact_id": card_contact, "source_contact_id": remembered})


def _budget_fix(scope: str) -> str:
    """Return what an operator can do about a spent budget `scope`."""
    if scope.startswith("pool:"):
        return (
            "raise SXE_POOL_BUDGET_CREDITS or the pool's pool_budget_credits (`sxe pool set`) "
            "and run again, or wait for the next period"
        )
    return "the provider's monthly budget starts again in the next period"


def _record_budget_short(
    conn: psycopg.Connection[Any], lookup: _Lookup, quote: int, context: WorkerContext, result: WorkResult
) -> None:
    """Cancel a job whose budget cannot take the quote, and send its card back to qualified.

    The job is cancelled, not completed, because no lookup was bought. It spends no
    attempt, and its error history names the short scope, the period and the credits left
    against the quote. A later period or a raised limit lets a new sweep decide the card
    again and enqueue a new job, which the cancelled one does not block: a dedupe key
    holds only while its job is queued or running.
    """
    scope, left = controls.tightest_budget(conn, lookup.scopes, context.period)
    message = (
        f"budget {scope} has {left} credits left in period {context.period}, "
        f"below the quote of {quote}: {_budget_fix(scope)}"
    )
    entry = jobs.error_entry(
        lookup.job.attempts,
        error_class=BUDGET_EXHAUSTED,
        message=message,
        scope=scope,
        period=context.period,
        remaining_credits=left,
        quoted_credits=quote,
    )
    jobs.cancel(conn, lookup.job, reason=entry)

    _move_card(conn, lookup.card_id, Readiness.QUALIFIED, str(SkipReason.BUDGET_EXHAUSTED))
    _audit_lookup(conn, lookup, context, outcome="budget_exhausted", credits=0, scope=scope)
    result.outcomes["budget_exhausted"] += 1


def _record_lookup(
    conn: psycopg.Connection[Any],
    lookup: _Lookup,
    quote: int,
    found: LookupResult,
    context: WorkerContext,
    result: WorkResult,
) -> None:
    provider, job, card_id = lookup.adapter.name, lookup.job, lookup.card_id
    with transaction(conn, role="sxe_worker"):
        controls.settle_budget(conn, lookup.scopes, reserved=quote, spent=found.credits_used, period=context.period)
        controls.finish_idempotent_call(conn, lookup.fingerprint, succeeded=True)
        controls.record_breaker_success(conn, provider)

        found, card_contact = _keep_contact(conn, lookup, found, context, result)
        outcome = "matched" if card_contact.contact_id else "no_match"
        days = context.cooldown_hit_days if card_contact.contact_id else context.cooldown_miss_days
        controls.remember(
            conn, lookup.fingerprint, provider=provider, outcome=outcome, contact_id=card_contact.contact_id, days=days
        )
        if found.async_request_id is not None:
            register_phone_request(
                conn,
                request_id=found.async_request_id,
                card_id=card_id,
                provider_person_id=found.provider_person_id,
                adapter_version=found.adapter_version,
                simulated=found.simulated,
            )
        _advance_card(conn, lookup, found, card_contact, context)

        _audit_lookup(
            conn,
            lookup,
            context,
            outcome=outcome,
            credits=found.credits_used,
            payload_sha256=found.payload_sha256,
            simulated=found.simulated,
        )
        emit(conn, EventType.ENRICHED, str(card_id), provider=provider, outcome=outcome, job_id=job.id)
        jobs.complete(conn, job)

    result.lookups += 1
    result.matched += int(card_contact.contact_id is not None)
    result.credits_spent += found.credits_used
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


@dataclass(frozen=True)
class _CardContact:
    """The contact of a card after a lookup: the one stored now, the one it had before, and its contact kinds."""

    contact_id: UUID | None
    held_contact: UUID | None
    kinds: frozenset[str]


def _keep_contact(
    conn: psycopg.Connection[Any],
    lookup: _Lookup,
    found: LookupResult,
    context: WorkerContext,
    result: WorkResult,
) -> tuple[LookupResult, _CardContact]:
    """Drop the suppressed contact points the provider returned, then store the rest on the card's contact."""
    screen = context.screen or ContactScreen.from_environment()
    subject = f"lead_card:{lookup.card_id}"
    found, dropped = screen.drop_suppressed(conn, found, actor=context.actor, subject=subject)
    if dropped:
        result.outcomes["contact_points_suppressed"] += dropped

    current = conn.execute(sql("enrich_card_contact"), {"card_id": lookup.card_id}).fetchone()
    held_contact: UUID | None = current["contact_id"] if current else None
    contact_id = _store_contact(conn, found, held_contact) if found.contact_points else None
    if contact_id is not None and contact_id != held_contact:
        conn.execute(sql("cards_attach_contact"), {"card_id": lookup.card_id, "contact_id": contact_id})
    kinds = frozenset(current["kinds"] if current else ()) | {point.kind for point in found.contact_points}
    return found, _CardContact(contact_id, held_contact, kinds)


def _advance_card(
    conn: psycopg.Connection[Any],
    lookup: _Lookup,
    found: LookupResult,
    card_contact: _CardContact,
    context: WorkerContext,
) -> None:
    """Queue the next provider for the fields still missing, or move the card to enriched or no_match."""
    have = set(card_contact.kinds)
    if found.async_request_id is not None:
        # NOTE: phones that follow by webhook count as found, so no second provider is paid
        # for them. If the delivery brings no phone, the waterfall does not resume.
        have.add("phone")
    missing = wanted_fields(context.intent) - have
    if missing and _continue_waterfall(conn, lookup, context):
        return
    if card_contact.contact_id is not None or card_contact.held_contact is not None:
        _move_card(conn, lookup.card_id, Readiness.ENRICHED, "matched")
    else:
        _move_card(conn, lookup.card_id, Readiness.NO_MATCH, "no_match")


def _record_retryable(
    conn: psycopg.Connection[Any],
    lookup: _Lookup,
    quote: int,
    error: RetryableProviderError,
    context: WorkerContext,
    result: WorkResult,
    *,
    count_failure: bool = True,
) -> None:
    """Settle, schedule the retry and audit one failed lookup.

    `count_failure=False` leaves the breaker alone, for the other jobs of a bulk call
    that failed once.
    """
    provider, job = lookup.adapter.name, lookup.job
    delay = context.backoff.delay(job.attempts)
    if error.retry_after_seconds is not None:
        delay = max(delay, error.retry_after_seconds)
    with transaction(conn, role="sxe_worker"):
        controls.settle_budget(conn, lookup.scopes, reserved=quote, spent=0, period=context.period)
        controls.finish_idempotent_call(conn, lookup.fingerprint, succeeded=False)
        breaker_state = controls.record_breaker_failure(conn, provider) if count_failure else None
        if error.retry_after_seconds:
            controls.block_bucket(conn, provider, error.retry_after_seconds)
        entry = jobs.error_entry(
            job.attempts, error, retry_after_seconds=error.retry_after_seconds, breaker=breaker_state
        )
        state = jobs.retry(conn, job, delay_seconds=delay, error=entry)
        if state == "dead":
            _move_card(conn, lookup.card_id, Readiness.ENRICHMENT_FAILED, "retries_exhausted")
        _audit_lookup(
            conn,
            lookup,
            context,
            outcome=f"retryable_error:{state}",
            credits=0,
            status_code=error.status_code,
            error_class=type(error).__name__,
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
    if breaker_state == "open":
        log(
            logging.WARNING,
            Event.BREAKER_OPENED,
            f"circuit breaker of {provider} is open after repeated failures: its lookups wait "
            "until it lets a probe through (`sxe status` shows it)",
            stage="enrich",
            provider=provider,
            job_id=job.id,
        )


def _record_permanent(
    conn: psycopg.Connection[Any],
    lookup: _Lookup,
    quote: int,
    error: PermanentProviderError,
    context: WorkerContext,
    result: WorkResult,
) -> None:
    job = lookup.job
    with transaction(conn, role="sxe_worker"):
        controls.settle_budget(conn, lookup.scopes, reserved=quote, spent=0, period=context.period)
        controls.finish_idempotent_call(conn, lookup.fingerprint, succeeded=False)
        jobs.fail(conn, job, error=jobs.error_entry(job.attempts, error))
        _move_card(conn, lookup.card_id, Readiness.ENRICHMENT_FAILED, "provider_rejected")
        _audit_lookup(
            conn,
            lookup,
            context,
            outcome="permanent_error",
            credits=0,
            status_code=error.status_code,
            error_class=type(error).__name__,
        )

    result.outcomes["dead"] += 1
    log(
        logging.ERROR,
        Event.JOB_FAILED,
        f"lookup rejected by the provider ({type(error).__name__})",
        stage="enrich",
        job_id=job.id,
        provider=lookup.adapter.name,
        attempt=job.attempts,
    )


def _continue_waterfall(conn: psycopg.Connection[Any], lookup: _Lookup, context: WorkerContext) -> bool:
    """Ask the gate about the providers after this one; return True when a job for one of them was enqueued."""
    order = waterfall_order(context.intent, (context.adapter, *context.fallbacks))
    names = [adapter.name for adapter in order]
    if lookup.adapter.name not in names:
        return False
    following = order[names.index(lookup.adapter.name) + 1 :]
    if not following:
        return False

    pool = context.scopes.pool
    row = conn.execute(sql("enrich_candidates"), {"pool": pool, "card_id": lookup.card_id}).fetchone()
    if row is None:
        return False
    sweep_context = SweepContext(
        pool, context.intent, lookup.adapter, context.scopes, context.period, context.actor, context.simulated
    )
    decisions = decide_card(conn, Candidate.from_row(row), sweep_context, following)
    job_id = None
    for adapter, decision in decisions:
        fingerprint = decision.request.fingerprint(adapter.name, adapter.version) if decision.request else None
        reason = str(decision.skip)
        if decision.enqueue:
            job_id = enqueue_lookup(conn, decision, pool, adapter, fingerprint)
            reason = "wanted fields missing after an earlier provider" if job_id else "same lookup already queued"
            reason = allowed_reason(decision, reason)
        record_decision(conn, decision, adapter.name, reason, fingerprint, job_id, context.actor, context.simulated)
    return job_id is not None


def _store_contact(conn: psycopg.Connection[Any], found: LookupResult, contact_id: UUID | None = None) -> UUID:
    """Write the result's contact points to `contact_id`, or to a new contact when None; return the contact."""
    if contact_id is None:
        row = conn.execute(sql("contact_create")).fetchone()
        assert row is not None, "INSERT ... RETURNING always returns the new row"
        contact_id = row["id"]
    for point in found.contact_points:
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
                # The provider's DNC status is a scrub made at lookup time. Without one the phone is unscrubbed.
                "scrubbed_at": point.scrubbed_at or (datetime.now(UTC) if point.dnc_status is not None else None),
                "source": point.source,
                "adapter_version": found.adapter_version,
                "simulated": found.simulated,
            },
        )
    return contact_id


def _move_card(conn: psycopg.Connection[Any], card_id: UUID, to_state: Readiness, reason: str) -> None:
    transition(conn, card_id, to_state, reason)


def _audit_lookup(
    conn: psycopg.Connection[Any],
    lookup: _Lookup,
    context: WorkerContext,
    *,
    outcome: str,
    credits: int,
    payload_sha256: str | None = None,
    step_outcome: str | None = None,
    **detail: Any,
) -> None:
    """Audit how a lookup ended, and keep the outcome on its decision for the lead-card record.

    `step_outcome` replaces `outcome` on the decision where the audit's word is too broad,
    as "reused" is for a remembered match or miss.
    """
    conn.execute(sql("enrich_decision_outcome"), {"job_id": lookup.job.id, "outcome": step_outcome or outcome})
    audit.append(
        conn,
        actor=context.actor,
        action="enrichment.lookup",
        subject=f"lead_card:{lookup.card_id}",
        detail={
            "provider": lookup.adapter.name,
            "adapter_version": lookup.adapter.version,
            "fingerprint": lookup.fingerprint,
            "job_id": lookup.job.id,
            "attempt": lookup.job.attempts,
            "outcome": outcome,
            "credits": credits,
            **detail,
        },
        payload_sha256=payload_sha256,
    )
