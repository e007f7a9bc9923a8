"""The scheduled `ingest/poll` function: work through the pull requests queued in `ops.jobs`.

A pull request is a job in the `pull` queue with the payload
`{"source": "x" | "threads" | "tiktok" | "apify", "targets": [...], "by_id": false,
"format": null, "pool": "default"}`. The records are ingested for the job's pool, or for
the pool the poll function serves (`SXE_POOL`) when the job names none. A pull stopped
by a rate limit is deferred until the limit resets and then continues from its cursor.
A rejected credential fails the job at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from sxe import jobs
from sxe.config import load_settings
from sxe.connectors.base import PullRequest
from sxe.connectors.platforms import ConnectorSettings, get_connector
from sxe.connectors.runner import run_pull
from sxe.db import transaction
from sxe.errors import ConfigError, DatabaseUnavailable, PermanentProviderError, RetryableProviderError, UsageError
from sxe.logs import Event, log
from sxe.runtime.environments import checked_connection
from sxe.runtime.handler import logged_as

PULL_QUEUE = "pull"
LEASE_SECONDS = 600
RETRY_DELAY_SECONDS = 120
TIMEOUT_SECONDS = 20.0


@dataclass(slots=True)
class PollResult:
    jobs: int = 0
    completed: int = 0
    deferred: int = 0
    failed: int = 0
    records: int = 0
    errors: list[str] = field(default_factory=list)


def enqueue_pull(
    conn: psycopg.Connection[Any],
    source: str,
    targets: list[str],
    *,
    by_id: bool = False,
    format_name: str | None = None,
    pool: str | None = None,
) -> int | None:
    """Queue a pull for the poll function; a live pull of the same targets for the same pool absorbs it.

    The records are ingested for `pool`, or for the poll function's SXE_POOL when it is None.
    Returns the job id, or None when the pull was absorbed.
    """
    connector = get_connector(source)
    request = PullRequest(tuple(targets), by_id=by_id, format_name=format_name)
    payload = {"source": source, "targets": targets, "by_id": by_id, "format": format_name, "pool": pool}
    dedupe_key = f"pull:{connector.name}:{connector.pull_key(request)}"
    if pool is not None:
        dedupe_key += f":{pool}"
    return jobs.enqueue(conn, PULL_QUEUE, payload, dedupe_key=dedupe_key)


def poll(
    conn: psycopg.Connection[Any],
    *,
    http: httpx.Client,
    pool: str,
    limit: int = 5,
    settings: ConnectorSettings | None = None,
) -> PollResult:
    """Claim up to `limit` pull jobs and run each, without waiting on rate limits inside the function.

    A job that names no pool is ingested for `pool`, the pool the function serves.
    """
    result = PollResult()
    with transaction(conn, role="sxe_worker"):
        claimed = jobs.claim(conn, PULL_QUEUE, limit=limit, lease_seconds=LEASE_SECONDS)

    for job in claimed:
        result.jobs += 1
        _run_job(conn, job, http, settings or ConnectorSettings(), result, pool)
    return result


def _run_job(
    conn: psycopg.Connection[Any],
    job: jobs.Job,
    http: httpx.Client,
    settings: ConnectorSettings,
    result: PollResult,
    default_pool: str,
) -> None:
    payload = job.payload
    try:
        connector = get_connector(str(payload["source"]), settings)
        request = PullRequest(
            tuple(str(target) for target in payload["targets"]),
            by_id=bool(payload.get("by_id")),
            format_name=payload.get("format"),
        )
        pool = str(payload.get("pool") or default_pool)
        pulled = run_pull(conn, connector, request, http=http, pool=pool, max_wait_seconds=0)
    except (PermanentProviderError, UsageError, KeyError) as error:
        result.failed += 1
        result.errors.append(str(error))
        with transaction(conn, role="sxe_worker"):
            jobs.fail(conn, job, error={"type": type(error).__name__, "message": str(error)})
        log(logging.ERROR, Event.JOB_FAILED, f"pull job failed: {error}", stage="pull", job_id=str(job.id))
        return
    except RetryableProviderError as error:
        result.errors.append(str(error))
        with transaction(conn, role="sxe_worker"):
            state = jobs.retry(conn, job, delay_seconds=RETRY_DELAY_SECONDS, error={"type": type(error).__name__})
        log(
            logging.WARNING,
            Event.JOB_RETRY_SCHEDULED,
            f"pull failed and is {state}: {error}",
            stage="pull",
            job_id=str(job.id),
            provider=error.provider,
        )
        return

    result.records += pulled.records
    with transaction(conn, role="sxe_worker"):
        if pulled.rate_limited_seconds is not None and not pulled.done:
            jobs.defer(conn, job, delay_seconds=pulled.rate_limited_seconds)
            result.deferred += 1
        else:
            jobs.complete(conn, job)
            result.completed += 1


@logged_as("ingest/poll")
def handle(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Entry point of `ingest/poll`: run queued pulls and return their counts."""
    try:
        settings = load_settings()
        with checked_connection(settings, role="sxe_worker") as conn, httpx.Client(timeout=TIMEOUT_SECONDS) as http:
            result = poll(conn, http=http, pool=settings.pool)
    except ConfigError as error:
        # The deployment is misconfigured, not the request: a server-side error.
        log(logging.ERROR, Event.JOB_FAILED, f"poll stopped: {error}", stage="pull", status=500)
        return {"statusCode": 500, "body": {"error": str(error)}}
    except DatabaseUnavailable as error:
        log(logging.ERROR, Event.JOB_FAILED, f"poll stopped: {error}", stage="pull", status=503)
        return {"statusCode": 503, "body": {"error": str(error)}}
    except UsageError as error:
        log(logging.ERROR, Event.JOB_FAILED, f"poll stopped: {error}", stage="pull", status=400)
        return {"statusCode": 400, "body": {"error": str(error)}}
    body = {
        "jobs": result.jobs,
        "completed": result.completed,
        "deferred": result.deferred,
        "failed": result.failed,
        "records": result.records,
    }
    return {"statusCode": 200, "body": body}
