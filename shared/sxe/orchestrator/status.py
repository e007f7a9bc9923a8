"""The operating picture of enrichment: jobs by state, cards by readiness, and per-provider usage and controls."""

from __future__ import annotations

from typing import Any

import psycopg

from sxe import jobs
from sxe.db import sql
from sxe.orchestrator import controls
from sxe.orchestrator.sweep import ENRICH_QUEUE


def collect(conn: psycopg.Connection[Any], *, pool: str | None = None, period: str | None = None) -> dict[str, Any]:
    """Return `{"pool", "period", "jobs", "queues", "cards", "providers", "budgets"}` as plain JSON-ready values.

    Reads the audit log, so it runs as the session user (an operator), not as a runtime role.
    `jobs` counts every queue's jobs by state and `cards` the cards by readiness. With `pool`
    (None for every pool), the other pools' cards, lookup jobs, lookups and budgets are
    left out, and so are erased lookup jobs, which name no pool. The jobs of the other
    queues, which serve every pool, and each provider's breaker and budget, which every
    pool draws on, stay.
    """
    period = period or controls.budget_period()
    queues = jobs.counts_by_queue(conn, pool=pool, lookup_queue=ENRICH_QUEUE)
    job_counts: dict[str, int] = {}
    for states in queues.values():
        for state, count in states.items():
            job_counts[state] = job_counts.get(state, 0) + count

    scope = {"pool": pool, "period": period}
    cards = {row["readiness"]: int(row["cards"]) for row in conn.execute(sql("status_cards"), scope)}
    providers = {row["provider"]: _provider(row) for row in conn.execute(sql("status_providers"), scope)}
    budgets = [
        {
            "scope": row["scope"],
            "limit": row["limit_credits"],
            "reserved": row["reserved_credits"],
            "spent": row["spent_credits"],
        }
        for row in conn.execute(sql("status_budgets"), scope)
    ]
    return {
        "pool": pool,
        "period": period,
        "jobs": job_counts,
        "queues": queues,
        "cards": cards,
        "providers": providers,
        "budgets": budgets,
    }


def _provider(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "calls": int(row["calls"]),
        "billable_calls": int(row["billable_calls"]),
        "cache_hits": int(row["cache_hits"]),
        "misses": int(row["misses"]),
        "errors": int(row["errors"]),
        "breaker": row["breaker"],
        "consecutive_failures": int(row["consecutive_failures"] or 0),
        "budget": {
            "limit": row["limit_credits"],
            "reserved": row["reserved_credits"],
            "spent": row["spent_credits"],
        },
    }


def render(status: dict[str, Any]) -> str:
    """Format a status object as plain-text tables."""
    pool = f", pool {status['pool']}" if status["pool"] else ""
    lines = [f"SXE status{pool}, budget period {status['period']}", ""]
    lines += _table(["job state", "jobs"], sorted(status["jobs"].items()))
    lines.append("")
    lines += _table(["readiness", "cards"], sorted(status["cards"].items()))
    lines.append("")
    provider_rows = [
        (
            name,
            data["calls"],
            data["billable_calls"],
            data["cache_hits"],
            data["misses"],
            data["errors"],
            data["breaker"],
            _credits(data["budget"]["limit"]),
            _credits(data["budget"]["reserved"]),
            _credits(data["budget"]["spent"]),
        )
        for name, data in sorted(status["providers"].items())
    ]
    lines += _table(
        ["provider", "calls", "billable", "cache hits", "misses", "errors", "breaker", "limit", "reserved", "spent"],
        provider_rows,
    )
    lines.append("")
    budget_rows = [(item["scope"], item["limit"], item["reserved"], item["spent"]) for item in status["budgets"]]
    lines += _table(["budget scope", "limit", "reserved", "spent"], budget_rows)
    return "\n".join(lines)


def _credits(value: int | None) -> str:
    return "-" if value is None else str(value)


def _table(header: list[str], rows: list[tuple[Any, ...]]) -> list[str]:
    if not rows:
        return [f"{header[0]}: none"]
    cells = [header] + [[str(value) for value in row] for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    rendered = [
        "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return [rendered[0], "  ".join("-" * width for width in widths), *rendered[1:]]
