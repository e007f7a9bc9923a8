"""The enrichment part of `sxe explain`: a card's gate decisions, its lookup jobs and the breakers they met.

Only ids, providers, states, reasons, counts, error classes and status codes are
read, never a job's request or a provider's error message, so the report contains no
contact data and no person's name. The one message read is the reason the worker wrote
when it cancelled a job before any call (`gate.CANCEL_CLASSES`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from sxe.db import sql
from sxe.orchestrator.gate import CANCEL_CLASSES, SKIP_DESCRIPTIONS, SkipReason
from sxe.orchestrator.sweep import ENRICH_QUEUE


def enrichment_report(conn: psycopg.Connection[Any], card_id: UUID) -> dict[str, Any]:
    """Return the card's enrichment decisions, jobs and breakers as one JSON-ready dict.

    `breaker_was_open` is True when a decision skipped a provider for its open breaker,
    a failed attempt left a breaker open, or a breaker of the card's providers is open now.
    """
    decisions = conn.execute(sql("explain_enrichment_decisions"), {"card_id": card_id}).fetchall()
    params = {"card_id": card_id, "queue": ENRICH_QUEUE, "cancel_classes": list(CANCEL_CLASSES)}
    jobs = conn.execute(sql("explain_enrichment_jobs"), params).fetchall()
    providers = sorted({row["provider"] for row in decisions} | {row["provider"] for row in jobs if row["provider"]})
    breakers = conn.execute(sql("explain_breakers"), {"providers": providers}).fetchall()

    skipped_open = sorted(
        {row["provider"] for row in decisions if _reason_code(row["reason"]) == SkipReason.CIRCUIT_OPEN}
    )
    opened_by_job = sorted({row["provider"] for row in jobs if row["opened_breaker"]})
    open_now = sorted(row["provider"] for row in breakers if row["state"] != "closed")
    return {
        "decisions": [_decision(row) for row in decisions],
        "jobs": [_job(row) for row in jobs],
        "breakers": [_breaker(row) for row in breakers],
        "breaker_was_open": bool(skipped_open or opened_by_job or open_now),
        "breaker_open_for": sorted(set(skipped_open) | set(opened_by_job) | set(open_now)),
    }


def render_enrichment(section: dict[str, Any]) -> list[str]:
    """Format the enrichment section of an `explain` report as text lines."""
    lines = ["Enrichment decisions:"]
    if not section["decisions"]:
        lines.append("  none: no sweep has decided this card")
    for decision in section["decisions"]:
        reason = decision["reason"]
        meaning = SKIP_DESCRIPTIONS.get(_reason_code(reason)) if decision["decision"] == "skip" else None
        reason = reason if meaning is None else f"{reason} ({meaning})"
        lines.append(f"  {whole_seconds(decision['at'])}  {decision['provider']}  {decision['decision']}  {reason}")

    lines += ["", "Enrichment jobs:"]
    if not section["jobs"]:
        lines.append("  none")
    for job in section["jobs"]:
        error = _job_error(job)
        next_run = f", next run {whole_seconds(job['next_run_at'])}" if job["next_run_at"] else ""
        lines.append(
            f"  job {job['job_id']}  {job['provider']}  {job['state']}  "
            f"attempts {job['attempts']}/{job['max_attempts']}, {error}{next_run}"
        )

    lines += ["", "Breakers:"]
    if section["breaker_was_open"]:
        lines.append(f"  open for this card's lookups: {', '.join(section['breaker_open_for'])}")
    else:
        lines.append("  no breaker was open for this card's lookups")
    for breaker in section["breakers"]:
        opened = f", opened {whole_seconds(breaker['opened_at'])}" if breaker["opened_at"] else ""
        lines.append(
            f"  {breaker['provider']}: {breaker['state']} now, "
            f"{breaker['consecutive_failures']} consecutive failures{opened}"
        )
    return lines


def _job_error(job: dict[str, Any]) -> str:
    """Return how a job's last error reads in the report: the cancel reason, the error class, or none."""
    if job["cancel_reason"]:
        return f"not bought, {job['last_error_class']}: {job['cancel_reason']}"
    if not job["last_error_class"]:
        return "no error"
    status = "" if job["last_error_status_code"] is None else f" (HTTP {job['last_error_status_code']})"
    return f"last error {job['last_error_class']}{status}"


def whole_seconds(moment: str) -> str:
    """Return an ISO 8601 time from the JSON report without its fraction of a second, for people."""
    return datetime.fromisoformat(moment).replace(microsecond=0).isoformat()


def _reason_code(reason: str) -> str:
    """Return the reason's code: the text before a `; detail` part."""
    return reason.split(";", 1)[0].strip()


def _decision(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "provider": row["provider"],
        "decision": row["decision"],
        "reason": row["reason"],
        "bridge": row["bridge"],
        "job_id": row["job_id"],
        "simulated": row["simulated"],
        "at": _iso(row["decided_at"]),
    }


def _job(row: dict[str, Any]) -> dict[str, Any]:
    # Only a queued job runs again; run_after of a finished job is history.
    waiting = row["state"] == "queued"
    return {
        "job_id": row["id"],
        "provider": row["provider"],
        "state": row["state"],
        "attempts": row["attempts"],
        "max_attempts": row["max_attempts"],
        "last_error_class": row["last_error_class"],
        "last_error_status_code": row["last_error_status_code"],
        "cancel_reason": row["cancel_reason"],
        "next_run_at": _iso(row["run_after"]) if waiting else None,
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def _breaker(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "provider": row["provider"],
        "state": row["state"],
        "consecutive_failures": row["consecutive_failures"],
        "opened_at": _iso(row["opened_at"]),
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
