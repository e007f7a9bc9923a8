"""Entry points of the DigitalOcean Functions: one per function, each a stage of the pipeline.

A handler under `packages/<package>/<function>/__main__.py` passes its event here
and returns the result. Events and results follow DO's shapes: scheduled and
internal calls get the body's keys at the top level, results are
`{"statusCode", "body"}`. Errors become a status and a one-line message; the
traceback goes to the structured log only.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from sxe.config import Settings, load_settings
from sxe.db import connect, database_url
from sxe.errors import DatabaseUnavailable, SxeError, UsageError
from sxe.orchestrator import runner
from sxe.orchestrator.deadline import Deadline
from sxe.orchestrator.sweep import sweep
from sxe.orchestrator.worker import work
from sxe.pipeline import (
    ACTOR,
    RunSummary,
    card_stage,
    enrich_stage,
    handoff_stage,
    ingest_stage,
    provider_adapter,
)

Stage = Callable[[psycopg.Connection[Any], Settings, dict[str, Any], RunSummary], None]


def import_file(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Ingest one file: `{"path": local path}` or `{"content": JSON text, "name": file name}`."""
    return _invoke(event, _import)


def normalize_batch(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Build lead cards for new profiles and tag the cards that need it."""
    return _invoke(event, lambda conn, settings, _, summary: card_stage(conn, settings, summary))


def enrich(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Sweep tagged cards and work their lookup jobs under the enrichment controls."""
    return _invoke(event, _enrich)


def enrich_sweep(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Decide every tagged card of the pool once: enqueue allowed lookups, record every skip with its reason."""
    return _invoke(event, _sweep)


def enrich_worker(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Claim and run lookup jobs until none is due or the invocation's deadline nears.

    With `{"sweep": true}` in the event a sweep runs first, so one scheduled trigger
    both decides and buys. The deadline is the invocation's remaining time minus a
    safety margin, read from `context.get_remaining_time_in_millis()`.
    """
    return _invoke(event, lambda conn, settings, body, summary: _work(conn, settings, body, summary, context))


def hand_off(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Write a bundle of the pool's ready cards and return its signed URLs."""
    return _invoke(event, lambda conn, settings, _, summary: handoff_stage(conn, settings, summary))


def _import(conn: psycopg.Connection[Any], settings: Settings, event: dict[str, Any], summary: RunSummary) -> None:
    format_name = event.get("format")
    if "path" in event:
        ingest_stage(conn, [Path(str(event["path"]))], format_name, summary)
        return
    if "content" not in event:
        raise UsageError("the import event needs a 'path' or a 'content' key; send one of them")

    name = Path(str(event.get("name", "upload.json"))).name
    with tempfile.TemporaryDirectory(prefix="sxe-import-") as folder:
        path = Path(folder) / name
        path.write_text(str(event["content"]), encoding="utf-8")
        ingest_stage(conn, [path], format_name, summary)


def _enrich(conn: psycopg.Connection[Any], settings: Settings, event: dict[str, Any], summary: RunSummary) -> None:
    with provider_adapter(settings, summary) as adapter:
        enrich_stage(conn, settings, adapter, summary)


def _sweep(conn: psycopg.Connection[Any], settings: Settings, event: dict[str, Any], summary: RunSummary) -> None:
    with provider_adapter(settings, summary) as adapter:
        enrichment = runner.prepare(conn, settings, adapter, actor=ACTOR, simulated=summary.simulated_provider)
        decided = sweep(conn, enrichment.sweep)
    summary.sweep.enqueued += decided.enqueued
    summary.sweep.skipped.update(decided.skipped)


def _work(
    conn: psycopg.Connection[Any], settings: Settings, event: dict[str, Any], summary: RunSummary, context: Any
) -> None:
    deadline = Deadline.from_context(context, default_seconds=settings.enrich_drain_seconds)
    with provider_adapter(settings, summary) as adapter:
        enrichment = runner.prepare(conn, settings, adapter, actor=ACTOR, simulated=summary.simulated_provider)
        if event.get("sweep"):
            decided = sweep(conn, enrichment.sweep)
            summary.sweep.enqueued += decided.enqueued
            summary.sweep.skipped.update(decided.skipped)
        summary.work = work(conn, enrichment.worker, deadline=deadline)


def _invoke(event: dict[str, Any], stage: Stage) -> dict[str, Any]:
    summary = RunSummary(run_id=str(event.get("run_id") or uuid.uuid4()))
    try:
        overrides = {"pool": event["pool"]} if event.get("pool") else {}
        settings = load_settings(**overrides)
        with connect(database_url(settings), autocommit=True) as conn:
            stage(conn, settings, event, summary)
    except UsageError as exc:
        return {"statusCode": 400, "body": {"error": str(exc)}}
    except DatabaseUnavailable as exc:
        return {"statusCode": 503, "body": {"error": str(exc)}}
    except SxeError as exc:
        return {"statusCode": 500, "body": {"error": str(exc)}}
    return {"statusCode": 200, "body": summary.to_json()}
