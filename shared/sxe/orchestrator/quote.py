"""Quote a pool's enrichment before anything is spent: credits and expected matches.

The quote runs the gate in dry-run mode: the same policy, identity bridge,
cooldown, budget and breaker checks the sweep makes, inside a transaction that
is rolled back, so no job, decision, audit row, budget or pool row is written.

Per card, the first provider the gate allows is called for sure. Each later
provider of the waterfall is called when every provider before it missed and
the gate's policy and bridge allow it, so its expected calls are weighted by
the chance that all the earlier ones missed. A provider's match rate is the
share of matches among its remembered lookups in `ops.lookup_memory` once it
has MIN_RATE_SAMPLE of them. Before that it is DEFAULT_MATCH_RATE, a cautious
figure for people-match lookups made on a person's name plus their own domain.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from sxe.adapters.base import ProviderAdapter
from sxe.config import Settings
from sxe.db import sql, transaction
from sxe.errors import UsageError
from sxe.orchestrator import controls, runner
from sxe.orchestrator.gate import Candidate, check_policy
from sxe.orchestrator.sweep import SweepContext, decide_card, provider_mismatch, quoted_credits

DEFAULT_MATCH_RATE = 0.5
MIN_RATE_SAMPLE = 20


@dataclass(slots=True)
class ProviderQuote:
    """The expected use of one provider: calls, credits and matches, and where its match rate came from."""

    provider: str
    credits_per_lookup: int
    match_rate: float
    match_rate_source: str
    remembered_lookups: int
    first_calls: int = 0
    expected_calls: float = 0.0
    expected_credits: float = 0.0
    max_credits: int = 0
    expected_matches: float = 0.0
    budget_remaining: int = 0


@dataclass(slots=True)
class Quote:
    """A pool's enrichment estimate; `skipped` counts the cards the gate would not send to any provider."""

    pool: str
    cards: int = 0
    lookups: int = 0
    expected_credits: float = 0.0
    max_credits: int = 0
    expected_matches: float = 0.0
    skipped: Counter[str] = field(default_factory=Counter)
    providers: dict[str, ProviderQuote] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "pool": self.pool,
            "cards": self.cards,
            "lookups": self.lookups,
            "expected_credits": round(self.expected_credits, 2),
            "max_credits": self.max_credits,
            "expected_matches": round(self.expected_matches, 2),
            "skipped": dict(sorted(self.skipped.items())),
            "providers": [
                {
                    "provider": item.provider,
                    "credits_per_lookup": item.credits_per_lookup,
                    "match_rate": round(item.match_rate, 4),
                    "match_rate_source": item.match_rate_source,
                    "remembered_lookups": item.remembered_lookups,
                    "first_calls": item.first_calls,
                    "expected_calls": round(item.expected_calls, 2),
                    "expected_credits": round(item.expected_credits, 2),
                    "max_credits": item.max_credits,
                    "expected_matches": round(item.expected_matches, 2),
                    "budget_remaining": item.budget_remaining,
                }
                for item in self.providers.values()
            ],
        }


def quote_pool(
    conn: psycopg.Connection[Any],
    settings: Settings,
    adapter: ProviderAdapter,
    *,
    fallbacks: Sequence[ProviderAdapter] = (),
) -> Quote:
    """Quote `settings.pool` with the controls a run would set up, all rolled back afterwards.

    Raises UsageError when the pool does not exist, rather than creating it.
    """
    with transaction(conn, role="sxe_worker"):
        if conn.execute(sql("cards_get_pool"), {"name": settings.pool}).fetchone() is None:
            raise UsageError(f"pool {settings.pool!r} does not exist; create it with `sxe pool set {settings.pool}`")
    with conn.transaction(force_rollback=True):
        enrichment = runner.prepare(
            conn, settings, adapter, actor="sxe_worker:quote", simulated=False, fallbacks=fallbacks
        )
        return quote(conn, enrichment.sweep)


def quote(conn: psycopg.Connection[Any], context: SweepContext) -> Quote:
    """Estimate enriching the pool's tagged cards with the context's waterfall; write nothing."""
    with transaction(conn, role="sxe_worker"):
        if conn.execute(sql("cards_get_pool"), {"name": context.pool}).fetchone() is None:
            raise UsageError(f"pool {context.pool!r} does not exist; create it with `sxe pool set {context.pool}`")
        rows = conn.execute(sql("enrich_candidates"), {"pool": context.pool, "card_id": None}).fetchall()
        waterfall = context.waterfall()
        result = Quote(context.pool, cards=len(rows))
        result.providers = {adapter.name: _provider_quote(conn, adapter, context) for adapter in waterfall}
        if not waterfall:
            # Every card would get the sweep's mismatch skip (`sweep.provider_mismatch`).
            reason = provider_mismatch(context)[-1][1]
            result.skipped[str(reason)] += len(rows)
            return result
        for row in rows:
            _quote_card(conn, Candidate.from_row(row), context, waterfall, result)
    return result


def _quote_card(
    conn: psycopg.Connection[Any],
    candidate: Candidate,
    context: SweepContext,
    waterfall: list[ProviderAdapter],
    result: Quote,
) -> None:
    decisions = decide_card(conn, candidate, context, waterfall)
    first, decision = decisions[-1]
    if not decision.enqueue:
        result.skipped[str(decision.skip)] += 1
        return

    result.lookups += 1
    result.providers[first.name].first_calls += 1
    reach = 1.0
    for adapter in waterfall[waterfall.index(first) :]:
        credits = quoted_credits(adapter)
        if adapter is not first and not check_policy(candidate, context.intent, adapter.name, credits).enqueue:
            continue
        item = result.providers[adapter.name]
        item.expected_calls += reach
        item.expected_credits += reach * credits
        item.max_credits += credits
        item.expected_matches += reach * item.match_rate
        result.expected_credits += reach * credits
        result.max_credits += credits
        result.expected_matches += reach * item.match_rate
        reach *= 1.0 - item.match_rate


def _provider_quote(conn: psycopg.Connection[Any], adapter: ProviderAdapter, context: SweepContext) -> ProviderQuote:
    row = conn.execute(sql("quote_match_rate"), {"provider": adapter.name}).fetchone()
    remembered = int(row["lookups"]) if row else 0
    matched = int(row["matched"]) if row else 0
    measured = remembered >= MIN_RATE_SAMPLE
    return ProviderQuote(
        provider=adapter.name,
        credits_per_lookup=quoted_credits(adapter),
        match_rate=matched / remembered if measured else DEFAULT_MATCH_RATE,
        match_rate_source="lookup_memory" if measured else "default",
        remembered_lookups=remembered,
        budget_remaining=controls.remaining_budget(conn, context.scopes_for(adapter.name), context.period),
    )
