"""The token acquire that commits its own transaction in one round trip."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from sxe.db import transaction
from sxe.orchestrator import controls

PROVIDER = "test-provider"


def make_bucket(
    conn: psycopg.Connection[Any], *, capacity: float, refill_per_second: float, provider: str = PROVIDER
) -> None:
    with transaction(conn, role="sxe_worker"):
        controls.ensure_bucket(conn, provider, capacity=capacity, refill_per_second=refill_per_second)


def tokens_of(conn: psycopg.Connection[Any], provider: str = PROVIDER) -> float:
    row = conn.execute("SELECT tokens FROM ops.provider_buckets WHERE provider = %s", (provider,)).fetchone()
    return row["tokens"]


def test_acquire_takes_until_empty(conn: psycopg.Connection[Any]) -> None:
    make_bucket(conn, capacity=2, refill_per_second=0.01)

    first = controls.acquire_token_and_commit(conn, PROVIDER)
    second = controls.acquire_token_and_commit(conn, PROVIDER)
    third = controls.acquire_token_and_commit(conn, PROVIDER)

    assert first == 0
    assert second == 0
    # One token at 0.01 per second takes up to 100 s to come back.
    assert 90 < third <= 100
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert tokens_of(conn) < 1


def test_acquire_honours_block(conn: psycopg.Connection[Any]) -> None:
    make_bucket(conn, capacity=5, refill_per_second=100)
    with transaction(conn, role="sxe_worker"):
        controls.block_bucket(conn, PROVIDER, 30)

    wait = controls.acquire_token_and_commit(conn, PROVIDER)

    assert 25 < wait <= 30


def test_acquire_unknown_provider_waits(conn: psycopg.Connection[Any]) -> None:
    assert controls.acquire_token_and_commit(conn, "no-such-provider") == 1.0


def test_acquire_rejects_open_transaction(conn: psycopg.Connection[Any]) -> None:
    make_bucket(conn, capacity=1, refill_per_second=1)

    with pytest.raises(ValueError, match="no transaction open"):
        with transaction(conn):
            controls.acquire_token_and_commit(conn, PROVIDER)


def test_acquire_quotes_provider_name(conn: psycopg.Connection[Any]) -> None:
    provider = "o'brien \\ 100%"
    make_bucket(conn, capacity=1, refill_per_second=0.01, provider=provider)

    first = controls.acquire_token_and_commit(conn, provider)
    second = controls.acquire_token_and_commit(conn, provider)

    assert first == 0
    assert second > 90
    assert tokens_of(conn, provider) < 1


def test_acquire_leaves_no_role(conn: psycopg.Connection[Any]) -> None:
    make_bucket(conn, capacity=1, refill_per_second=1)

    controls.acquire_token_and_commit(conn, PROVIDER)

    assert conn.execute("SHOW role").fetchone() == {"role": "none"}
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_acquire_denied_to_api_role(conn: psycopg.Connection[Any]) -> None:
    make_bucket(conn, capacity=5, refill_per_second=0.01)

    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="take_provider_token"):
        controls.acquire_token_and_commit(conn, PROVIDER, role="sxe_api")

    assert tokens_of(conn) == 5
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_acquire_keeps_message_per_role(conn: psycopg.Connection[Any]) -> None:
    make_bucket(conn, capacity=5, refill_per_second=0.01)

    assert controls.acquire_token_and_commit(conn, PROVIDER) == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        controls.acquire_token_and_commit(conn, PROVIDER, role="sxe_api")
    assert controls.acquire_token_and_commit(conn, PROVIDER) == 0

    assert 2 < tokens_of(conn) < 4
