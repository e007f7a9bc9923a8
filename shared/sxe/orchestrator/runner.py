"""Wiring of the enrichment stage: provider controls from settings, then sweep and worker rounds.

The CLI run, the scheduled sweep, the scheduled worker and the drain-now HTTP call
all start here, so they share one set of budgets, buckets and breakers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from sxe import jobs
from sxe.adapters.apollo_bulk import ApolloBulkPeopleMatch
from sxe.adapters.base import ProviderAdapter
from sxe.cards import ensure_pool
from sxe.config import Settings
from sxe.db import transaction
from sxe.orchestrator import controls, public_bio
from sxe.orchestrator.deadline import Deadline
from sxe.orchestrator.sweep import ENRICH_QUEUE, SweepContext, SweepResult, sweep, wanted_fields
from sxe.orchestrator.worker import WorkerContext, WorkResult, work

PROVIDER_MONTHLY_CREDITS = 10_000


@dataclass(frozen=True, slots=True)
class Enrichment:
    """The sweep and worker settings of one pool, with every provider's controls in place."""

    sweep: SweepContext
    worker: WorkerContext


def prepare(
    conn: psycopg.Connection[Any],
    settings: Settings,
    adapter: ProviderAdapter,
    *,
    actor: str,
    simulated: bool,
    fallbacks: Sequence[ProviderAdapter] = (),
    bulk: ApolloBulkPeopleMatch | None = None,
) -> Enrichment:
    """Create the pool, this period's budgets and each provider's bucket and breaker; return the contexts.

    The zero-cost public_bio source joins the fallbacks when the pool's
    `allowed_providers` lists it, at the place it has in that list. Controls are
    created for `adapter` and for the fallbacks the pool allows, so a configured
    provider the pool never calls gets no budget row. `bulk` lets the worker buy
    several Apollo lookups with one bulk_match call.
    """
    period = controls.budget_period()
    with transaction(conn, role="sxe_worker"):
        intent = ensure_pool(conn, settings.pool)
        adapter, fallbacks = fit_phone_reveal(intent, adapter, fallbacks)
        allowed = intent.get("allowed_providers", [])
        configured = {provider.name for provider in (adapter, *fallbacks)}
        if public_bio.PROVIDER in allowed and public_bio.PROVIDER not in configured:
            fallbacks = (*fallbacks, public_bio.PublicBioSource(conn))
        pool_limit = int(intent.get("pool_budget_credits", settings.pool_budget_credits))
        for provider in (adapter, *fallbacks):
            if provider is adapter or provider.name in allowed:
                _ensure_controls(conn, settings, provider.name, period, pool_limit)

    scopes = controls.BudgetScopes(provider=adapter.name, pool=settings.pool)
    worker = WorkerContext(
        adapter,
        scopes,
        period,
        settings.cooldown_hit_days,
        settings.cooldown_miss_days,
        actor,
        lease_seconds=max(60, int(settings.provider_timeout_seconds * 3)),
        batch_size=settings.worker_batch_size,
        job_seconds=settings.provider_timeout_seconds * 2 + 5,
        backoff=jobs.Backoff(settings.job_backoff_base_seconds, settings.job_backoff_cap_seconds),
        fallbacks=tuple(fallbacks),
        intent=intent,
        simulated=simulated,
        bulk=bulk,
    )
    sweep = SweepContext(settings.pool, intent, adapter, scopes, period, actor, simulated, tuple(fallbacks))
    return Enrichment(sweep, worker)


def fit_phone_reveal(
    intent: dict[str, Any], adapter: ProviderAdapter, fallbacks: Sequence[ProviderAdapter]
) -> tuple[ProviderAdapter, tuple[ProviderAdapter, ...]]:
    """Return the adapters with phone reveal turned off unless the pool's `wanted_fields` include phone.

    A revealed Apollo phone costs 8 credits on top of the match, so a pool that wants
    only email never requests one. Adapters that cannot reveal phones come back as they are.
    """
    if "phone" in wanted_fields(intent):
        return adapter, tuple(fallbacks)
    return _without_phone_reveal(adapter), tuple(_without_phone_reveal(item) for item in fallbacks)


def _without_phone_reveal(adapter: ProviderAdapter) -> ProviderAdapter:
    if not getattr(adapter, "phones_requested", False):
        return adapter
    narrowed: ProviderAdapter = adapter.without_phone_reveal()  # type: ignore[attr-defined]
    return narrowed


def _ensure_controls(
    conn: psycopg.Connection[Any], settings: Settings, provider: str, period: str, pool_limit: int
) -> None:
    controls.ensure_budgets(
        conn,
        controls.BudgetScopes(provider=provider, pool=settings.pool),
        provider_limit=PROVIDER_MONTHLY_CREDITS,
        pool_limit=pool_limit,
        period=period,
    )
    controls.ensure_bucket(
        conn, provider, capacity=settings.provider_burst, refill_per_second=settings.provider_rate_per_second
    )
    controls.ensure_breaker(
        conn,
        provider,
        failure_threshold=settings.breaker_failure_threshold,
        open_seconds=settings.breaker_open_seconds,
    )


def drain(
    conn: psycopg.Connection[Any], enrichment: Enrichment, *, deadline: Deadline
) -> tuple[SweepResult, WorkResult]:
    """Sweep and work in rounds until a round changes nothing and no retry or breaker probe is due before the deadline.

    The first sweep always runs, and every round works all the jobs due at its start,
    however close the deadline is. The deadline only limits how long the loop sleeps
    for a scheduled retry (or the end of a breaker's cool-off), so one run can ride
    out a short provider outage. A card whose lookup waits longer stays
    enrichment_queued or qualified, and a later sweep or worker run picks it up.
    """
    swept, worked = SweepResult(), WorkResult()
    while True:
        decided = sweep(conn, enrichment.sweep)
        swept.enqueued += decided.enqueued
        swept.skipped.update(decided.skipped)
        done = work(conn, enrichment.worker)
        _add_work(worked, done)
        if decided.enqueued or done.lookups or done.outcomes.get("reused"):
            continue

        wait = _idle_wait(conn, enrichment, decided)
        if wait is None or not deadline.allows(wait):
            break
        time.sleep(wait)
    return swept, worked


def _idle_wait(conn: psycopg.Connection[Any], enrichment: Enrichment, decided: SweepResult) -> float | None:
    """Return the seconds until a queued job is due or an open breaker admits a probe, None when nothing waits."""
    with transaction(conn, role="sxe_worker"):
        waits = [jobs.next_due_seconds(conn, ENRICH_QUEUE)]
        if decided.skipped.get("circuit_open"):
            for adapter in enrichment.sweep.waterfall():
                waits.append(controls.breaker_wait_seconds(conn, adapter.name))
    known = [wait for wait in waits if wait is not None]
    return min(known) + 0.01 if known else None


def _add_work(total: WorkResult, part: WorkResult) -> None:
    total.lookups += part.lookups
    total.matched += part.matched
    total.credits_spent += part.credits_spent
    total.outcomes.update(part.outcomes)
