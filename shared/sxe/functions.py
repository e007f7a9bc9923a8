"""Entry points of the DigitalOcean Functions: one per function, each a stage of the pipeline or an ops task.

A handler under `packages/<package>/<function>/__main__.py` passes its event and
context here and returns the result. `sxe.runtime.handler.run_function` reads the
event in any of DigitalOcean's shapes, binds the log keys and maps errors to
problem responses; every result is `{"statusCode", "headers", "body"}`.

Stage functions record a heartbeat in `ops.worker_heartbeats` when they start and
finish, which the health report and the heartbeat alarm read.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from sxe.cards import create_pool_recorded
from sxe.compliance.functions import retention
from sxe.config import Settings
from sxe.connectors.poll import handle as poll_pulls
from sxe.db import sql, transaction
from sxe.errors import UsageError
from sxe.ingest.formats.csv_followers import parse_column_map
from sxe.models import Platform
from sxe.orchestrator.deadline import Deadline
from sxe.orchestrator.sweep import sweep
from sxe.orchestrator.worker import work
from sxe.pipeline import (
    RunSummary,
    card_stage,
    enrich_stage,
    handoff_stage,
    ingest_stage,
    prepare_enrichment,
    provider_adapters,
)
from sxe.runtime import alarms, health
from sxe.runtime.events import Request, response
from sxe.runtime.handler import Invocation, run_function

Stage = Callable[[psycopg.Connection[Any], Settings, dict[str, Any], RunSummary], None]


def import_file(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Ingest one file: `{"key": "imports/..."}`, `{"path": local path}` or `{"content": text, "name": file name}`."""
    return run_function("ingest/import", event, context, _stage(_import))


def normalize_batch(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Normalize queued webhook batches, build lead cards for new profiles and tag the cards that need it."""
    return run_function("normalize/batch", event, context, _stage(_normalize))


def enrich(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Sweep tagged cards and work their lookup jobs under the enrichment controls."""
    return run_function("enrich/run", event, context, _stage(_enrich))


def enrich_sweep(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Decide every tagged card of the pool once: enqueue allowed lookups, record every skip with its reason."""
    return run_function("enrich/sweep", event, context, _stage(_sweep))


def enrich_worker(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Claim and run lookup jobs until none is due or the invocation's deadline nears.

    With `{"sweep": true}` in the event a sweep runs first, so one scheduled trigger
    both decides and buys. The deadline is the invocation's remaining time minus a
    safety margin, read from `context.get_remaining_time_in_millis()`.
    """
    return run_function(
        "enrich/worker",
        event,
        context,
        _stage(lambda conn, settings, body, summary: _work(conn, settings, body, summary, context)),
    )


def hand_off(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Write a bundle of the pool's ready cards and return its signed URLs."""
    return run_function("handoff/bundle", event, context, _stage(_handoff))


def health_check(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Report `?check=live` (process up), `?check=ready` (database and migrations) or the full report (default).

    Readiness and the report return 503 when the service is not ready, so a load
    balancer or uptime check can use the status code alone.
    """
    return run_function("ops/health", event, context, _health)


def check_alarms(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Compare the health report with the configured thresholds; raise and clear alarms."""
    return run_function("ops/alarms", event, context, _check_alarms)


# Scheduled tasks by the name a trigger's `withBody.tasks` uses. DigitalOcean allows three
# scheduled triggers per namespace, so one trigger can run several tasks in turn.
TASKS: dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]] = {
    "poll": poll_pulls,
    "normalize": normalize_batch,
    "enrich": enrich,
    "handoff": hand_off,
    "alarms": check_alarms,
    "retention": retention,
}


def tick(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Run the tasks a shared trigger names in `tasks`, in order; return 200 only when all succeeded."""
    return run_function("ops/tick", event, context, lambda invocation: _tick(invocation, event, context))


def _stage(stage: Stage) -> Callable[[Invocation], dict[str, Any]]:
    def body(invocation: Invocation) -> dict[str, Any]:
        params = invocation.request.params
        summary = RunSummary(run_id=str(params.get("run_id") or uuid.uuid4()))
        with invocation.connection() as conn:
            _beat(conn, invocation, "heartbeat_start", None)
            try:
                stage(conn, invocation.settings, params, summary)
            except Exception as exc:
                _beat(conn, invocation, "heartbeat_finish", 400 if isinstance(exc, UsageError) else 500)
                raise
            _beat(conn, invocation, "heartbeat_finish", 200)
        return response(200, summary.to_json())

    return body


def _beat(conn: psycopg.Connection[Any], invocation: Invocation, statement: str, status: int | None) -> None:
    params = {"worker": invocation.name, "activation_id": invocation.context.activation_id, "status": status}
    with transaction(conn, role="sxe_worker"):
        conn.execute(sql(statement), params)


def _import(conn: psycopg.Connection[Any], settings: Settings, event: dict[str, Any], summary: RunSummary) -> None:
    with transaction(conn, role="sxe_worker"):
        detail = {"run_id": summary.run_id, "intent": "default"}
        summary.pool_created = create_pool_recorded(conn, settings.pool, actor="sxe_worker:import", detail=detail)
    format_name = event.get("format")
    column_map, platform = _csv_options(event)
    if "key" in event:
        from sxe.ingest.bulk import import_object

        result = import_object(
            conn,
            settings,
            str(event["key"]),
            pool=settings.pool,
            format_name=format_name,
            column_map=column_map,
            platform=platform,
        )
        summary.files.append(result)
        return
    if "path" in event:
        path = Path(str(event["path"]))
        if not path.is_file():
            raise UsageError(f"import path {path} is not a file; send an existing file or inline 'content'")
        ingest_stage(conn, [path], format_name, summary, pool=settings.pool, column_map=column_map, platform=platform)
        return
    if "content" not in event:
        raise UsageError("the import event needs a 'key', 'path' or 'content' key; send one of them")

    name = Path(str(event.get("name", "upload.json"))).name
    with tempfile.TemporaryDirectory(prefix="sxe-import-") as folder:
        path = Path(folder) / name
        path.write_text(str(event["content"]), encoding="utf-8")
        ingest_stage(conn, [path], format_name, summary, pool=settings.pool, column_map=column_map, platform=platform)


def _csv_options(event: dict[str, Any]) -> tuple[dict[str, str], Platform | None]:
    """Read the import event's `map` ({"COLUMN": "FIELD"}) and `platform`, like `sxe import --map --platform`."""
    mapping = event.get("map") or {}
    if not isinstance(mapping, dict):
        raise UsageError(f"the import event's 'map' must be an object of COLUMN: FIELD, got {type(mapping).__name__}")
    column_map = parse_column_map([f"{column}={field}" for column, field in mapping.items()])
    platform = event.get("platform")
    if platform is None:
        return column_map, None
    try:
        return column_map, Platform(str(platform))
    except ValueError:
        known = ", ".join(item.value for item in Platform)
        raise UsageError(f"the import event's 'platform' {platform!r} is invalid; use one of {known}") from None


def _normalize(conn: psycopg.Connection[Any], settings: Settings, event: dict[str, Any], summary: RunSummary) -> None:
    from sxe.webhooks.normalize import normalize_webhook_batches

    normalized = normalize_webhook_batches(conn)
    # The batches' own pools are tagged too; enrichment and handoff stay with SXE_POOL or the event's pool.
    for pool in sorted(normalized.pools | {settings.pool}):
        card_stage(conn, settings.model_copy(update={"pool": pool}), summary)


def _enrich(conn: psycopg.Connection[Any], settings: Settings, event: dict[str, Any], summary: RunSummary) -> None:
    with provider_adapters(settings, summary) as providers:
        enrich_stage(conn, settings, providers, summary)


def _handoff(conn: psycopg.Connection[Any], settings: Settings, event: dict[str, Any], summary: RunSummary) -> None:
    handoff_stage(conn, settings, summary)


def _health(invocation: Invocation) -> dict[str, Any]:
    check = _health_check_name(invocation.request)
    if check == "live":
        return response(200, health.liveness())

    with invocation.connection() as conn:
        database = _describe(conn)
        if check == "ready":
            readiness = health.readiness(conn, database)
            body = {"status": "ready" if readiness.ready else "not_ready", **_asdict(readiness)}
            return response(200 if readiness.ready else 503, body)
        report = health.report(conn, database)
    return response(200 if report.readiness.ready else 503, report.to_json())


def _health_check_name(request: Request) -> str:
    check = str(request.params.get("check") or request.query.get("check") or "full")
    if check not in ("live", "ready", "full"):
        raise UsageError(f"unknown health check {check!r}; use live, ready or full")
    return check


def _asdict(readiness: health.Readiness) -> dict[str, Any]:
    return {
        "database": readiness.database,
        "pending_migrations": readiness.pending_migrations,
        "changed_migrations": readiness.changed_migrations,
        "unknown_migrations": readiness.unknown_migrations,
    }


def _check_alarms(invocation: Invocation) -> dict[str, Any]:
    thresholds = alarms.load_thresholds()
    with invocation.connection() as conn:
        report = health.report(conn, _describe(conn))
        changes = alarms.check(conn, alarms.measure(report, thresholds))
        with transaction(conn, role="sxe_worker"):
            firing = [row["alarm"] for row in conn.execute(sql("alarms_firing"))]
    body = {
        "firing": firing,
        "changes": [{"alarm": change.alarm, "state": change.state, "value": change.value} for change in changes],
    }
    return response(200, body)


def _tick(invocation: Invocation, event: dict[str, Any], context: Any) -> dict[str, Any]:
    names = invocation.request.params.get("tasks")
    if not isinstance(names, list) or not names or not all(name in TASKS for name in names):
        raise UsageError(f"the tick event needs 'tasks', a list drawn from {sorted(TASKS)}; got {names!r}")

    results = {name: TASKS[name]({**event, "tasks": None}, context) for name in names}
    status = max(result["statusCode"] for result in results.values())
    return response(200 if status < 300 else status, {name: result["body"] for name, result in results.items()})


def _describe(conn: psycopg.Connection[Any]) -> str:
    return f"{conn.info.host}:{conn.info.port}/{conn.info.dbname}"


def _sweep(conn: psycopg.Connection[Any], settings: Settings, event: dict[str, Any], summary: RunSummary) -> None:
    with provider_adapters(settings, summary) as providers:
        enrichment = prepare_enrichment(conn, settings, providers)
        decided = sweep(conn, enrichment.sweep)
    summary.sweep.enqueued += decided.enqueued
    summary.sweep.skipped.update(decided.skipped)


def _work(
    conn: psycopg.Connection[Any], settings: Settings, event: dict[str, Any], summary: RunSummary, context: Any
) -> None:
    deadline = Deadline.from_context(context, default_seconds=settings.enrich_drain_seconds)
    with provider_adapters(settings, summary) as providers:
        enrichment = prepare_enrichment(conn, settings, providers)
        if event.get("sweep"):
            decided = sweep(conn, enrichment.sweep)
            summary.sweep.enqueued += decided.enqueued
            summary.sweep.skipped.update(decided.skipped)
        summary.work = work(conn, enrichment.worker, deadline=deadline)
