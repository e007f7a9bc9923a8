"""Health: liveness, readiness and the operational report behind health endpoints and alarms.

- Liveness needs nothing but the process.
- Readiness needs the database reachable and every migration file applied unchanged.
- The report adds each function's heartbeat age, queue depth by state, the oldest
  due job's age, dead jobs, budget consumption, and each provider's breaker state
  and error rate over a recent window.
- Alarms also read the signed webhook bodies quarantined as invalid batches over
  the last day, and the transaction with an id that has been open longest, which
  holds back the pull feeds. The health.v1 body has no field for either.

Every read runs as `sxe_api`, which may read these ops tables but no tier data, except
the read of open transactions (see `oldest_open_transaction`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

from sxe.db import sql, transaction
from sxe.db.migrate import load_migrations
from sxe.orchestrator.controls import budget_period

ERROR_RATE_WINDOW_SECONDS = 900
INVALID_BATCH_WINDOW_SECONDS = 86_400


@dataclass(slots=True)
class Readiness:
    """Whether the service can take work: database reachable and migrations current."""

    ready: bool
    database: str
    pending_migrations: list[str] = field(default_factory=list)
    changed_migrations: list[str] = field(default_factory=list)
    unknown_migrations: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ProviderHealth:
    provider: str
    breaker: str | None
    calls: int
    errors: int

    @property
    def error_rate(self) -> float | None:
        """Errors per call over the window; None without calls."""
        return self.errors / self.calls if self.calls else None


@dataclass(frozen=True, slots=True)
class OpenTransaction:
    """A transaction with a transaction id that is still open: its backend pid (None when prepared) and age."""

    pid: int | None
    age_seconds: float | None


@dataclass(slots=True)
class HealthReport:
    """The full operational picture; `to_json` is the health endpoint's body."""

    readiness: Readiness
    heartbeats: dict[str, dict[str, Any]] = field(default_factory=dict)
    queues: dict[str, dict[str, int]] = field(default_factory=dict)
    oldest_queued_seconds: float | None = None
    providers: list[ProviderHealth] = field(default_factory=list)
    budgets: dict[str, float] = field(default_factory=dict)
    window_seconds: int = ERROR_RATE_WINDOW_SECONDS
    # Not in `to_json`: health.v1 is published without them.
    invalid_webhook_batches: int = 0
    open_transaction: OpenTransaction | None = None
    schema_installed: bool = True

    @property
    def dead_jobs(self) -> int:
        return sum(states.get("dead", 0) for states in self.queues.values())

    @property
    def queued_jobs(self) -> int:
        return sum(states.get("queued", 0) for states in self.queues.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.readiness.ready else "not_ready",
            "readiness": asdict(self.readiness),
            "heartbeats": self.heartbeats,
            "queues": self.queues,
            "queued_jobs": self.queued_jobs,
            "dead_jobs": self.dead_jobs,
            "oldest_queued_seconds": self.oldest_queued_seconds,
            "providers": [
                {
                    "provider": item.provider,
                    "breaker": item.breaker,
                    "calls": item.calls,
                    "errors": item.errors,
                    "error_rate": item.error_rate,
                }
                for item in self.providers
            ],
            "budgets": self.budgets,
            "error_rate_window_seconds": self.window_seconds,
        }


def liveness() -> dict[str, Any]:
    """Return the liveness body: the process runs and can answer."""
    return {"status": "alive"}


def readiness(conn: psycopg.Connection[Any], database: str, *, installed: bool | None = None) -> Readiness:
    """Compare the applied migrations with the migration files; `database` names the server (no password).

    On a database that no migration has touched, every migration is pending. `installed`
    is `schema_installed(conn)`, when the caller has it already.
    """
    if installed is None:
        installed = schema_installed(conn)
    applied: dict[str, str] = {}
    if installed:
        with transaction(conn, role="sxe_api"):
            applied = {row["version"]: row["sha256"] for row in conn.execute(sql("health_migrations"))}

    files = {migration.version: migration for migration in load_migrations()}
    pending = [files[version].name for version in sorted(files) if version not in applied]
    changed = [
        files[version].name
        for version in sorted(files)
        if version in applied and applied[version] != files[version].sha256
    ]
    # Applied versions without a file mean the database is ahead of this deployment.
    unknown = sorted(version for version in applied if version not in files)
    ready = not pending and not changed and not unknown
    return Readiness(ready, database, pending, changed, unknown)


def report(
    conn: psycopg.Connection[Any], database: str, window_seconds: int = ERROR_RATE_WINDOW_SECONDS
) -> HealthReport:
    """Collect the full health report in one read-only pass.

    On a database that no migration has touched, the report contains only the pending
    migrations and the open transaction, because the tables of the rest do not exist yet.
    """
    installed = schema_installed(conn)
    result = HealthReport(
        readiness=readiness(conn, database, installed=installed),
        window_seconds=window_seconds,
        schema_installed=installed,
    )
    if installed:
        _collect_operations(conn, result)
    result.open_transaction = oldest_open_transaction(conn)
    return result


def schema_installed(conn: psycopg.Connection[Any]) -> bool:
    """Return whether the migrations have run on the database of `conn`."""
    with transaction(conn):
        row = conn.execute(sql("health_schema_installed")).fetchone()
    return bool(row and row["installed"])


def _collect_operations(conn: psycopg.Connection[Any], result: HealthReport) -> None:
    window_seconds = result.window_seconds
    with transaction(conn, role="sxe_api"):
        for row in conn.execute(sql("health_heartbeats")):
            result.heartbeats[row["worker"]] = {"age_seconds": row["age_seconds"], "last_status": row["last_status"]}
        for row in conn.execute(sql("health_queue_depth")):
            result.queues.setdefault(row["queue"], {})[row["state"]] = row["jobs"]
        oldest = conn.execute(sql("health_oldest_queued")).fetchone()
        result.oldest_queued_seconds = oldest["age_seconds"] if oldest else None
        result.providers = _providers(conn, window_seconds)
        for row in conn.execute(sql("health_budgets"), {"period": budget_period()}):
            limit = row["limit_credits"]
            result.budgets[row["scope"]] = row["used_credits"] / limit if limit else 1.0
        invalid = conn.execute(
            sql("health_invalid_webhook_batches"), {"window_seconds": INVALID_BATCH_WINDOW_SECONDS}
        ).fetchone()
        result.invalid_webhook_batches = invalid["batches"] if invalid else 0


def oldest_open_transaction(conn: psycopg.Connection[Any]) -> OpenTransaction | None:
    """Return the transaction with a transaction id that has been open longest on the server, or None.

    Such a transaction holds back the pull feeds until it ends. This read runs as the
    session user, because PostgreSQL shows a session's `xact_start` only to its own user
    and to members of pg_read_all_stats, and the runtime roles are neither. The age is
    None when the transaction belongs to another user whose start is hidden that way.
    """
    with transaction(conn):
        row = conn.execute(sql("health_open_transaction")).fetchone()
    if row is None:
        return None
    return OpenTransaction(row["pid"], row["age_seconds"])


def _providers(conn: psycopg.Connection[Any], window_seconds: int) -> list[ProviderHealth]:
    breakers = {row["provider"]: row["state"] for row in conn.execute(sql("health_breakers"))}
    rates = {
        row["provider"]: (row["calls"], row["errors"])
        for row in conn.execute(sql("health_provider_errors"), {"window_seconds": window_seconds})
    }
    return [
        ProviderHealth(name, breakers.get(name), *rates.get(name, (0, 0)))
        for name in sorted(set(breakers) | set(rates))
    ]
