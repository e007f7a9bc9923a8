"""The shared controls over paid calls: rate tokens, budgets, breaker, memory and idempotency keys."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from sxe.db import connect, transaction
from sxe.orchestrator import controls

PROVIDER = "apollo"
PERIOD = "2030-01"
SCOPES = controls.BudgetScopes(provider=PROVIDER, pool="default")


class ReservationShort(Exception):
    """Raised inside a reservation transaction to roll back a partial reservation."""


def as_worker(conn: psycopg.Connection[Any], action: Callable[[psycopg.Connection[Any]], Any]) -> Any:
    with transaction(conn, role="sxe_worker"):
        return action(conn)


def reserve_or_roll_back(conn: psycopg.Connection[Any], credits: int) -> bool:
    """Reserve the way the worker does: a short scope raises, so the other scope's reservation rolls back."""
    try:
        with transaction(conn, role="sxe_worker"):
            if not controls.reserve_budget(conn, SCOPES, credits, PERIOD):
                raise ReservationShort
    except ReservationShort:
        return False
    return True


def budget_rows(conn: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
    rows = conn.execute("SELECT * FROM ops.budgets WHERE period = %s", (PERIOD,)).fetchall()
    return {row["scope"]: row for row in rows}


def run_concurrently(database_url: str, count: int, task: Callable[[psycopg.Connection[Any]], Any]) -> list[Any]:
    """Run `task` in `count` threads, each with its own connection, started together.

    Returns the results in thread order and re-raises the first error a thread raised.
    """
    start = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            with connect(database_url, autocommit=True) as own:
                start.wait(timeout=10)
                results[index] = task(own)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    if errors:
        raise errors[0]
    return results


# Rate tokens ------------------------------------------------------------------


def test_bucket_gives_capacity_then_waits(conn: psycopg.Connection[Any]) -> None:
    as_worker(conn, lambda c: controls.ensure_bucket(c, PROVIDER, capacity=3, refill_per_second=0.1))

    immediate = [as_worker(conn, lambda c: controls.try_acquire_token(c, PROVIDER)) for _ in range(3)]
    wait = as_worker(conn, lambda c: controls.try_acquire_token(c, PROVIDER))

    assert immediate == [0.0, 0.0, 0.0]
    assert wait > 0
    # One token at 0.1 per second takes at most 10 s to refill.
    assert wait <= 10


def test_blocked_bucket_gives_no_token(conn: psycopg.Connection[Any]) -> None:
    as_worker(conn, lambda c: controls.ensure_bucket(c, PROVIDER, capacity=3, refill_per_second=1))
    as_worker(conn, lambda c: controls.block_bucket(c, PROVIDER, 7))

    wait = as_worker(conn, lambda c: controls.try_acquire_token(c, PROVIDER))

    tokens = conn.execute("SELECT tokens FROM ops.provider_buckets WHERE provider = %s", (PROVIDER,)).fetchone()
    assert wait >= 6.9
    assert tokens["tokens"] == 3


def test_bucket_unblocks_after_retry_after(conn: psycopg.Connection[Any]) -> None:
    as_worker(conn, lambda c: controls.ensure_bucket(c, PROVIDER, capacity=3, refill_per_second=1))
    as_worker(conn, lambda c: controls.block_bucket(c, PROVIDER, 7))

    conn.execute("UPDATE ops.provider_buckets SET blocked_until = now() - interval '1 second'")
    wait = as_worker(conn, lambda c: controls.try_acquire_token(c, PROVIDER))

    assert wait == 0.0


def take_committed(conn: psycopg.Connection[Any]) -> float:
    return controls.acquire_token_and_commit(conn, PROVIDER)


def take_in_transaction(conn: psycopg.Connection[Any]) -> float:
    return as_worker(conn, lambda c: controls.try_acquire_token(c, PROVIDER))


def take_in_threads(database_url: str, threads: int, attempts: int, take: Callable[..., float]) -> list[float]:
    """Call `take` `attempts` times in each of `threads` threads; return every wait."""
    per_thread = run_concurrently(database_url, threads, lambda own: [take(own) for _ in range(attempts)])
    return [wait for waits in per_thread for wait in waits]


@pytest.mark.parametrize("take", [take_committed, take_in_transaction])
def test_concurrent_takes_grant_capacity_once(
    conn: psycopg.Connection[Any], database_url: str, take: Callable[..., float]
) -> None:
    as_worker(conn, lambda c: controls.ensure_bucket(c, PROVIDER, capacity=20, refill_per_second=0.001))

    waits = take_in_threads(database_url, threads=6, attempts=8, take=take)

    assert waits.count(0.0) == 20
    assert all(wait >= 0.001 for wait in waits if wait != 0.0)
    row = conn.execute("SELECT tokens FROM ops.provider_buckets WHERE provider = %s", (PROVIDER,)).fetchone()
    assert 0 <= row["tokens"] < 1


def test_concurrent_takes_stay_within_capacity_and_rate(conn: psycopg.Connection[Any], database_url: str) -> None:
    as_worker(conn, lambda c: controls.ensure_bucket(c, PROVIDER, capacity=5, refill_per_second=20))
    started = time.monotonic()

    waits = take_in_threads(database_url, threads=4, attempts=60, take=take_committed)

    elapsed = time.monotonic() - started
    # Every grant happened within `elapsed`, so the bucket allowed at most its capacity plus the refill.
    assert waits.count(0.0) <= 5 + 20 * elapsed
    assert waits.count(0.0) >= 5


def test_take_function_needs_worker_role(conn: psycopg.Connection[Any]) -> None:
    as_worker(conn, lambda c: controls.ensure_bucket(c, PROVIDER, capacity=1, refill_per_second=1))

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with transaction(conn, role="sxe_api"):
            controls.try_acquire_token(conn, PROVIDER)


# Budgets ----------------------------------------------------------------------


def test_concurrent_reservations_respect_limit(database_url: str, conn: psycopg.Connection[Any]) -> None:
    limit, cost, threads, tries_per_thread = 20, 3, 8, 4
    as_worker(conn, lambda c: controls.ensure_budgets(c, SCOPES, provider_limit=1000, pool_limit=limit, period=PERIOD))

    def reserve_repeatedly(own: psycopg.Connection[Any]) -> int:
        return sum(reserve_or_roll_back(own, cost) for _ in range(tries_per_thread))

    successes = run_concurrently(database_url, threads, reserve_repeatedly)

    rows = budget_rows(conn)
    assert sum(successes) == limit // cost
    assert rows["pool:default"]["reserved_credits"] == (limit // cost) * cost
    assert rows["pool:default"]["reserved_credits"] + rows["pool:default"]["spent_credits"] <= limit
    assert rows["provider:apollo"]["reserved_credits"] == (limit // cost) * cost


def test_concurrent_reserve_settle_no_deadlock(database_url: str, conn: psycopg.Connection[Any]) -> None:
    threads, cycles = 8, 80
    as_worker(
        conn, lambda c: controls.ensure_budgets(c, SCOPES, provider_limit=10_000, pool_limit=10_000, period=PERIOD)
    )
    # With statistics the planner scans this small table in physical order, and that
    # order changes as rows are updated. The statements must still lock rows in one order.
    conn.execute("ANALYZE ops.budgets")

    def reserve_and_settle(own: psycopg.Connection[Any]) -> int:
        for _ in range(cycles):
            assert reserve_or_roll_back(own, 1)
            as_worker(own, lambda c: controls.settle_budget(c, SCOPES, reserved=1, spent=1, period=PERIOD))
        return cycles

    done = run_concurrently(database_url, threads, reserve_and_settle)

    rows = budget_rows(conn)
    assert sum(done) == threads * cycles
    for scope in SCOPES.names:
        assert rows[scope]["reserved_credits"] == 0, scope
        assert rows[scope]["spent_credits"] == threads * cycles, scope


def test_settle_moves_reserved_to_spent(conn: psycopg.Connection[Any]) -> None:
    as_worker(conn, lambda c: controls.ensure_budgets(c, SCOPES, provider_limit=100, pool_limit=50, period=PERIOD))
    assert reserve_or_roll_back(conn, 9)

    as_worker(conn, lambda c: controls.settle_budget(c, SCOPES, reserved=9, spent=1, period=PERIOD))

    rows = budget_rows(conn)
    for scope in SCOPES.names:
        assert rows[scope]["reserved_credits"] == 0, scope
        assert rows[scope]["spent_credits"] == 1, scope
    assert as_worker(conn, lambda c: controls.remaining_budget(c, SCOPES, PERIOD)) == 49


def test_short_scope_reserves_nothing(conn: psycopg.Connection[Any]) -> None:
    as_worker(conn, lambda c: controls.ensure_budgets(c, SCOPES, provider_limit=5, pool_limit=100, period=PERIOD))

    reserved = reserve_or_roll_back(conn, 9)

    rows = budget_rows(conn)
    assert reserved is False
    assert rows["pool:default"]["reserved_credits"] == 0
    assert rows["provider:apollo"]["reserved_credits"] == 0


def test_lowered_limit_keeps_used_credits(conn: psycopg.Connection[Any]) -> None:
    as_worker(conn, lambda c: controls.ensure_budgets(c, SCOPES, provider_limit=100, pool_limit=50, period=PERIOD))
    assert reserve_or_roll_back(conn, 30)

    as_worker(conn, lambda c: controls.ensure_budgets(c, SCOPES, provider_limit=100, pool_limit=10, period=PERIOD))

    assert budget_rows(conn)["pool:default"]["limit_credits"] == 30
    assert as_worker(conn, lambda c: controls.remaining_budget(c, SCOPES, PERIOD)) == 0


# Circuit breaker --------------------------------------------------------------


def breaker_row(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    return conn.execute("SELECT * FROM ops.circuit_breakers WHERE provider = %s", (PROVIDER,)).fetchone()


def open_breaker(conn: psycopg.Connection[Any]) -> list[str]:
    """Record failures up to the default threshold of 5 and return the state after each."""
    as_worker(conn, lambda c: controls.ensure_breaker(c, PROVIDER))
    return [as_worker(conn, lambda c: controls.record_breaker_failure(c, PROVIDER)) for _ in range(5)]


def end_open_wait(conn: psycopg.Connection[Any]) -> None:
    """Move opened_at back past open_seconds, as if the breaker's wait had passed."""
    conn.execute(
        "UPDATE ops.circuit_breakers SET opened_at = clock_timestamp() - make_interval(secs => open_seconds + 1)"
    )


def test_breaker_opens_at_threshold(conn: psycopg.Connection[Any]) -> None:
    states = open_breaker(conn)

    assert states == ["closed", "closed", "closed", "closed", "open"]
    assert as_worker(conn, lambda c: controls.breaker_allows(c, PROVIDER)) is False
    assert as_worker(conn, lambda c: controls.breaker_is_open(c, PROVIDER)) is True


def test_breaker_success_resets_failure_count(conn: psycopg.Connection[Any]) -> None:
    as_worker(conn, lambda c: controls.ensure_breaker(c, PROVIDER))
    for _ in range(4):
        as_worker(conn, lambda c: controls.record_breaker_failure(c, PROVIDER))

    as_worker(conn, lambda c: controls.record_breaker_success(c, PROVIDER))
    state = as_worker(conn, lambda c: controls.record_breaker_failure(c, PROVIDER))

    assert state == "closed"
    assert breaker_row(conn)["consecutive_failures"] == 1


def test_one_caller_wins_half_open_probe(database_url: str, conn: psycopg.Connection[Any]) -> None:
    open_breaker(conn)
    end_open_wait(conn)

    def ask(own: psycopg.Connection[Any]) -> bool:
        with transaction(own, role="sxe_worker"):
            allowed = controls.breaker_allows(own, PROVIDER)
            # Hold the row lock a moment so the other caller queues behind it.
            time.sleep(0.2)
        return allowed

    answers = run_concurrently(database_url, 2, ask)

    assert sorted(answers) == [False, True]
    assert breaker_row(conn)["state"] == "half_open"
    assert as_worker(conn, lambda c: controls.breaker_allows(c, PROVIDER)) is False


def test_probe_success_closes_breaker(conn: psycopg.Connection[Any]) -> None:
    open_breaker(conn)
    end_open_wait(conn)
    assert as_worker(conn, lambda c: controls.breaker_allows(c, PROVIDER)) is True

    as_worker(conn, lambda c: controls.record_breaker_success(c, PROVIDER))

    row = breaker_row(conn)
    assert row["state"] == "closed"
    assert row["consecutive_failures"] == 0
    assert as_worker(conn, lambda c: controls.breaker_allows(c, PROVIDER)) is True


def test_probe_failure_reopens_breaker(conn: psycopg.Connection[Any]) -> None:
    open_breaker(conn)
    end_open_wait(conn)
    assert as_worker(conn, lambda c: controls.breaker_allows(c, PROVIDER)) is True

    state = as_worker(conn, lambda c: controls.record_breaker_failure(c, PROVIDER))

    assert state == "open"
    assert as_worker(conn, lambda c: controls.breaker_is_open(c, PROVIDER)) is True
    assert as_worker(conn, lambda c: controls.breaker_allows(c, PROVIDER)) is False


def test_unreported_probe_expires(conn: psycopg.Connection[Any]) -> None:
    open_breaker(conn)
    end_open_wait(conn)
    assert as_worker(conn, lambda c: controls.breaker_allows(c, PROVIDER)) is True
    blocked_while_probing = as_worker(conn, lambda c: controls.breaker_allows(c, PROVIDER))

    # The probe never reports success or failure, and open_seconds pass.
    conn.execute(
        "UPDATE ops.circuit_breakers SET updated_at = clock_timestamp() - make_interval(secs => open_seconds + 1)"
    )
    second_probe = as_worker(conn, lambda c: controls.breaker_allows(c, PROVIDER))

    assert blocked_while_probing is False
    assert second_probe is True
    assert breaker_row(conn)["state"] == "half_open"


def test_elapsed_cool_off_probes_at_once(conn: psycopg.Connection[Any]) -> None:
    open_breaker(conn)
    conn.execute("UPDATE ops.circuit_breakers SET open_seconds = 0.001, opened_at = now() - interval '1 second'")

    assert as_worker(conn, lambda c: controls.breaker_is_open(c, PROVIDER)) is False
    assert as_worker(conn, lambda c: controls.breaker_allows(c, PROVIDER)) is True


# Lookup memory ----------------------------------------------------------------


def test_memory_recalled_within_ttl(conn: psycopg.Connection[Any]) -> None:
    contact_id = uuid.uuid4()
    as_worker(
        conn,
        lambda c: controls.remember(c, "fp-hit", provider=PROVIDER, outcome="matched", contact_id=contact_id, days=90),
    )

    memory = as_worker(conn, lambda c: controls.recall(c, "fp-hit"))

    assert memory == controls.Memory("matched", contact_id)
    assert as_worker(conn, lambda c: controls.recall(c, "fp-other")) is None


def test_expired_memory_not_recalled(conn: psycopg.Connection[Any]) -> None:
    as_worker(
        conn, lambda c: controls.remember(c, "fp-miss", provider=PROVIDER, outcome="no_match", contact_id=None, days=30)
    )
    conn.execute("UPDATE ops.lookup_memory SET remembered_until = now() - interval '1 second'")

    assert as_worker(conn, lambda c: controls.recall(c, "fp-miss")) is None


def test_remember_again_renews_memory(conn: psycopg.Connection[Any]) -> None:
    as_worker(
        conn, lambda c: controls.remember(c, "fp", provider=PROVIDER, outcome="no_match", contact_id=None, days=30)
    )
    conn.execute("UPDATE ops.lookup_memory SET remembered_until = now() - interval '1 second'")
    contact_id = uuid.uuid4()

    as_worker(
        conn, lambda c: controls.remember(c, "fp", provider=PROVIDER, outcome="matched", contact_id=contact_id, days=90)
    )

    assert as_worker(conn, lambda c: controls.recall(c, "fp")) == controls.Memory("matched", contact_id)


# Idempotency keys -------------------------------------------------------------


def test_completed_call_not_started_again(conn: psycopg.Connection[Any]) -> None:
    first = as_worker(conn, lambda c: controls.start_idempotent_call(c, "key-1", PROVIDER))
    as_worker(conn, lambda c: controls.finish_idempotent_call(c, "key-1", succeeded=True))

    second = as_worker(conn, lambda c: controls.start_idempotent_call(c, "key-1", PROVIDER))

    assert first is True
    assert second is None


def test_crashed_call_restarts_not_fresh(conn: psycopg.Connection[Any]) -> None:
    first = as_worker(conn, lambda c: controls.start_idempotent_call(c, "key-1", PROVIDER))

    second = as_worker(conn, lambda c: controls.start_idempotent_call(c, "key-1", PROVIDER))

    assert first is True
    assert second is False


def test_failed_call_may_start_again(conn: psycopg.Connection[Any]) -> None:
    as_worker(conn, lambda c: controls.start_idempotent_call(c, "key-1", PROVIDER))
    as_worker(conn, lambda c: controls.finish_idempotent_call(c, "key-1", succeeded=False))

    again = as_worker(conn, lambda c: controls.start_idempotent_call(c, "key-1", PROVIDER))

    assert again is False
    state = conn.execute("SELECT state FROM ops.idempotency_keys WHERE key = 'key-1'").fetchone()
    assert state["state"] == "started"


def test_api_role_cannot_touch_breaker(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with transaction(conn, role="sxe_api"):
            controls.ensure_breaker(conn, PROVIDER)
