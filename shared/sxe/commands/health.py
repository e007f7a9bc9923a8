"""`sxe health`: the health report of the configured database, as text or JSON.

Exit status 0 when the service is ready (database reachable, migrations current),
1 when it is not, and 3 when the database cannot be reached at all. Unlike
`sxe status`, this command never applies migrations, because pending ones are
part of what it reports.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC
from typing import Any
from urllib.parse import quote

import psycopg

from sxe.config import load_settings
from sxe.db import connect, database_url, sql
from sxe.runtime import health

EXIT_READY = 0
EXIT_NOT_READY = 1
# PostgreSQL's default port, which libpq uses when a URL names none.
DEFAULT_PORT = 5432


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "health", help="show liveness, readiness, heartbeat ages, queue depth, breakers and budgets"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(handler=_health)


def _health(args: argparse.Namespace) -> int:
    settings = load_settings()
    with connect(database_url(settings), autocommit=True) as conn:
        database = f"{conn.info.host}:{conn.info.port}/{conn.info.dbname}"
        embedded = None if settings.database_url is not None else embedded_url(conn)
        report = health.report(conn, database)
        alarms = [dict(row) for row in conn.execute(sql("alarms_list"))] if report.schema_installed else []

    body = {"liveness": health.liveness(), **report.to_json()}
    if args.json:
        print(json.dumps(body, indent=2, default=str))
    else:
        print(
            render(body)
            + _embedded_line(embedded)
            + _open_transaction_line(report.open_transaction)
            + _alarm_lines(alarms)
        )
    return EXIT_READY if report.readiness.ready else EXIT_NOT_READY


def embedded_url(conn: psycopg.Connection[Any]) -> str:
    """Return a URL that psql and psycopg accept for the embedded server of `conn`, without a password.

    The embedded server listens on a Unix socket in its data folder, which goes in `host`.
    """
    info = conn.info
    port = "" if info.port == DEFAULT_PORT else f"&port={info.port}"
    return f"postgresql://{quote(info.user)}@/{quote(info.dbname)}?host={quote(info.host)}{port}"


def _embedded_line(url: str | None) -> str:
    """Return the text line with the embedded server's URL, or nothing for a server set by SXE_DATABASE_URL."""
    if url is None:
        return ""
    return f"\nconnect     {url}\n  the embedded server runs only while an sxe process runs; `sxe serve` keeps it up"


def render(body: dict[str, Any]) -> str:
    """Format the JSON health report as short text sections."""
    lines = [f"status      {body['status']} (process {body['liveness']['status']})"]
    lines += _readiness_lines(body["readiness"])

    lines.append("heartbeats")
    for worker, beat in sorted(body["heartbeats"].items()):
        lines.append(f"  {worker:<24} {_seconds(beat['age_seconds'])} ago, last status {beat['last_status']}")
    if not body["heartbeats"]:
        lines.append("  (no function has run yet)")

    lines.append(f"queues      {body['queued_jobs']} queued, {body['dead_jobs']} dead")
    lines.append(f"  oldest queued job: {_seconds(body['oldest_queued_seconds'])}")
    for queue, states in sorted(body["queues"].items()):
        counts = ", ".join(f"{state} {count}" for state, count in sorted(states.items()))
        lines.append(f"  {queue:<24} {counts}")

    lines.append(f"providers   (error rate over the last {body['error_rate_window_seconds']} s)")
    for provider in body["providers"]:
        rate = "-" if provider["error_rate"] is None else f"{provider['error_rate']:.0%}"
        lines.append(
            f"  {provider['provider']:<24} breaker {provider['breaker'] or 'none'}, "
            f"{provider['calls']} calls, {provider['errors']} errors ({rate})"
        )

    lines.append("budgets     (share of the period's credits used)")
    for scope, used in sorted(body["budgets"].items()):
        lines.append(f"  {scope:<24} {used:.0%}")
    return "\n".join(lines)


def _open_transaction_line(open_transaction: health.OpenTransaction | None) -> str:
    """Return the text line of the transaction with an id that has been open longest, which holds back the feeds."""
    if open_transaction is None:
        return "\ntransaction (none open with a transaction id)"
    pid = "a prepared transaction" if open_transaction.pid is None else f"pid {open_transaction.pid}"
    age = "unknown (its start is hidden from this user)"
    if open_transaction.age_seconds is not None:
        age = _seconds(open_transaction.age_seconds)
    return f"\ntransaction oldest with a transaction id: {pid}, open {age}; it holds back the pull feeds"


def _alarm_lines(alarms: list[dict[str, Any]]) -> str:
    """Return the text section of the alarms' last checked states; the JSON report keeps its published shape."""
    lines = ["", "alarms      (as the last `alarms` check left them)"]
    for alarm in alarms:
        value = "-" if alarm["value"] is None else f"{alarm['value']:g}"
        lines.append(
            f"  {alarm['alarm']:<24} {alarm['state']}, value {value}, threshold {alarm['threshold']:g}, "
            f"since {alarm['changed_at'].astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        )
    if not alarms:
        lines.append("  (no alarm check has run yet)")
    return "\n".join(lines)


def _readiness_lines(readiness: dict[str, Any]) -> list[str]:
    lines = [f"database    {readiness['database']}"]
    problems = {
        "pending migrations": readiness["pending_migrations"],
        "changed migrations": readiness["changed_migrations"],
        "unknown migrations": readiness["unknown_migrations"],
    }
    for label, names in problems.items():
        if names:
            lines.append(f"  {label}: {', '.join(names)}")
    if readiness["pending_migrations"]:
        lines.append("  run `sxe migrate` to apply them; `sxe run` and `sxe import` apply them too")
    return lines


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"
