"""The shared controls over paid calls, each kept in Postgres so every instance reads the same state.

Rate tokens per provider, budgets per provider and pool, a circuit breaker per
provider, the cooldown and miss memory per request fingerprint, and idempotency
keys per billable request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg

from sxe.db import sql
from sxe.db.connection import committed_message, fetch_committed_value

# Acquire messages by (provider, role, client encoding). Providers are a few configured
# names, so the bound only stops the cache from growing with arbitrary provider names.
MAX_ACQUIRE_MESSAGES = 1024
_ACQUIRE_MESSAGES: dict[tuple[str, str, str], bytes] = {}


def budget_period(now: datetime | None = None) -> str:
    """Return the monthly budget period, such as "2026-12", in UTC."""
    return (now or datetime.now(UTC)).strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class BudgetScopes:
    """The budget rows one lookup draws on: its provider's and its pool's."""

    provider: str
    pool: str

    @property
    def names(self) -> list[str]:
        return [f"provider:{self.provider}", f"pool:{self.pool}"]


def ensure_budgets(
    conn: psycopg.Connection[Any], scopes: BudgetScopes, *, provider_limit: int, pool_limit: int, period: str
) -> None:
    """Create this period's budget rows; a raised limit applies, a lowered one never drops below what is used."""
    # Scope order, as in budgets_reserve and budgets_settle, so these row locks cannot deadlock with theirs.
    for scope, limit in sorted(zip(scopes.names, (provider_limit, pool_limit), strict=True)):
        conn.execute(sql("budgets_ensure"), {"scope": scope, "period": period, "limit_credits": limit})


def reserve_budget(conn: psycopg.Connection[Any], scopes: BudgetScopes, credits: int, period: str) -> bool:
    """Reserve `credits` on every scope in the current transaction; return False (reserving nothing) if any is short.

    The caller must roll back the transaction when this returns False, because a
    partial reservation may have been made on the scopes that had room.
    """
    rows = conn.execute(
        sql("budgets_reserve"), {"scopes": scopes.names, "period": period, "credits": credits}
    ).fetchall()
    return len(rows) == len(scopes.names)


def settle_budget(
    conn: psycopg.Connection[Any], scopes: BudgetScopes, *, reserved: int, spent: int, period: str
) -> None:
    """Release a reservation and record what the provider actually charged."""
    conn.execute(
        sql("budgets_settle"), {"scopes": scopes.names, "period": period, "reserved": reserved, "spent": spent}
    )


def remaining_budget(conn: psycopg.Connection[Any], scopes: BudgetScopes, period: str) -> int:
    """Return the credits still available on the tightest scope (0 when a scope row is missing)."""
    return tightest_budget(conn, scopes, period)[1]


def tightest_budget(conn: psycopg.Connection[Any], scopes: BudgetScopes, period: str) -> tuple[str, int]:
    """Return the scope with the fewest credits left this period, and those credits.

    A scope without a row for the period has 0 credits left. Of scopes with equal credits
    left, the first in `scopes.names` (the provider's) is returned.
    """
    rows = conn.execute(sql("budgets_remaining"), {"scopes": scopes.names, "period": period}).fetchall()
    left = {row["scope"]: int(row["remaining"]) for row in rows}
    return min(((scope, left.get(scope, 0)) for scope in scopes.names), key=lambda item: item[1])


def ensure_bucket(conn: psycopg.Connection[Any], provider: str, *, capacity: float, refill_per_second: float) -> None:
    conn.execute(
        sql("tokens_ensure"), {"provider": provider, "capacity": capacity, "refill_per_second": refill_per_second}
    )


def try_acquire_token(conn: psycopg.Connection[Any], provider: str) -> float:
    """Take one rate token, and return 0 on success or else the seconds to wait before trying again.

    One statement for either outcome: the refill, the Retry-After check, the take and
    the wait are computed by ops.take_provider_token on the server.
    """
    row = conn.execute(sql("tokens_acquire"), {"provider": provider}).fetchone()
    return _token_wait(row)


def acquire_token_and_commit(conn: psycopg.Connection[Any], provider: str, *, role: str = "sxe_worker") -> float:
    """Take one rate token as `try_acquire_token` does, in a transaction of its own committed in one round trip.

    The row lock on the bucket is held only while the server runs the message, so
    competing processes queue behind one commit, not behind a commit and a round trip.
    The message (SET LOCAL ROLE and tokens_acquire.sql with the provider quoted in) is
    built once per provider, role and client encoding and then reused as it is, so a call
    does no quoting and reads no result through a cursor.
    `conn` must be in autocommit mode with no transaction open.
    """
    wait = fetch_committed_value(conn, _acquire_message(conn, provider, role))
    return 1.0 if wait is None else float(wait)


def _acquire_message(conn: psycopg.Connection[Any], provider: str, role: str) -> bytes:
    key = (provider, role, conn.info.encoding)
    message = _ACQUIRE_MESSAGES.get(key)
    if message is None:
        message = committed_message(conn, sql("tokens_acquire"), {"provider": provider}, role=role)
        if len(_ACQUIRE_MESSAGES) >= MAX_ACQUIRE_MESSAGES:
            _ACQUIRE_MESSAGES.clear()
        _ACQUIRE_MESSAGES[key] = message
    return message


def _token_wait(row: dict[str, Any] | None) -> float:
    """Return the wait of a tokens_acquire row: 0 for a token taken, 1 s when the provider has no bucket."""
    wait = None if row is None else row["wait_seconds"]
    return 1.0 if wait is None else float(wait)


def block_bucket(conn: psycopg.Connection[Any], provider: str, seconds: float) -> None:
    """Hand out no token for `provider` for `seconds` (a Retry-After)."""
    conn.execute(sql("tokens_block"), {"provider": provider, "seconds": seconds})


def ensure_breaker(
    conn: psycopg.Connection[Any],
    provider: str,
    *,
    failure_threshold: int | None = None,
    open_seconds: float | None = None,
) -> None:
    """Create the provider's breaker when missing, and apply the threshold and cool-off when given."""
    conn.execute(sql("breaker_ensure"), {"provider": provider})
    if failure_threshold is not None or open_seconds is not None:
        conn.execute(
            sql("breaker_configure"),
            {"provider": provider, "failure_threshold": failure_threshold, "open_seconds": open_seconds},
        )


def breaker_wait_seconds(conn: psycopg.Connection[Any], provider: str) -> float:
    """Return the seconds until an open breaker admits its half-open probe, 0 when it would admit one now."""
    row = conn.execute(sql("breaker_wait_seconds"), {"provider": provider}).fetchone()
    return float(row["wait_seconds"]) if row else 0.0


def breaker_allows(conn: psycopg.Connection[Any], provider: str) -> bool:
    """Return True when a call may go out: the breaker is closed, or this caller won the half-open probe."""
    if conn.execute(sql("breaker_allow"), {"provider": provider}).fetchone() is not None:
        return True
    row = conn.execute(sql("breaker_state"), {"provider": provider}).fetchone()
    return row is not None and row["state"] == "closed"


def record_breaker_success(conn: psycopg.Connection[Any], provider: str) -> None:
    conn.execute(sql("breaker_success"), {"provider": provider})


def record_breaker_failure(conn: psycopg.Connection[Any], provider: str) -> str:
    """Count one retryable failure; return the breaker's new state."""
    row = conn.execute(sql("breaker_failure"), {"provider": provider}).fetchone()
    return str(row["state"]) if row else "closed"


@dataclass(frozen=True, slots=True)
class Memory:
    outcome: str
    contact_id: UUID | None


def recall(conn: psycopg.Connection[Any], fingerprint: str) -> Memory | None:
    """Return the remembered outcome of a lookup still inside its cooldown, or None."""
    row = conn.execute(sql("memory_recall"), {"fingerprint": fingerprint}).fetchone()
    return None if row is None else Memory(row["outcome"], row["contact_id"])


def remember(
    conn: psycopg.Connection[Any], fingerprint: str, *, provider: str, outcome: str, contact_id: UUID | None, days: int
) -> None:
    conn.execute(
        sql("memory_remember"),
        {"fingerprint": fingerprint, "provider": provider, "outcome": outcome, "contact_id": contact_id, "days": days},
    )


def start_idempotent_call(conn: psycopg.Connection[Any], key: str, provider: str) -> bool | None:
    """Record a billable call before it is made.

    Returns True for a first attempt, False when an earlier attempt started the
    same call and died before finishing, and None when the call already completed.
    """
    row = conn.execute(sql("idempotency_start"), {"key": key, "provider": provider}).fetchone()
    return None if row is None else bool(row["fresh"])


def finish_idempotent_call(conn: psycopg.Connection[Any], key: str, *, succeeded: bool) -> None:
    conn.execute(sql("idempotency_finish"), {"key": key, "state": "completed" if succeeded else "failed"})


def note_reservation(conn: psycopg.Connection[Any], key: str, scopes: BudgetScopes, credits: int, period: str) -> None:
    """Record on the idempotency key the credits reserved for its call, in the reservation's transaction."""
    conn.execute(
        sql("idempotency_note_reservation"),
        {"key": key, "credits": credits, "scopes": scopes.names, "period": period},
    )


def settle_abandoned_reservation(conn: psycopg.Connection[Any], key: str) -> int:
    """Settle, as spent, the reservation an earlier attempt of `key` left when it died; return the credits.

    The lost call may have reached the provider and been billed, so the credits
    count as spent: the books may overstate spend, never understate it.
    """
    row = conn.execute(sql("idempotency_take_reservation"), {"key": key}).fetchone()
    if row is None:
        return 0
    credits = int(row["reserved_credits"])
    conn.execute(
        sql("budgets_settle"),
        {"scopes": row["budget_scopes"], "period": row["budget_period"], "reserved": credits, "spent": credits},
    )
    return credits


def breaker_is_open(conn: psycopg.Connection[Any], provider: str) -> bool:
    """Return True while the breaker is open and its wait has not passed; changes nothing."""
    return conn.execute(sql("breaker_is_open"), {"provider": provider}).fetchone() is not None
