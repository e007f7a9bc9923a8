"""API consumers of the handoff: keys, pool scopes, contact-field allowlists and rate limits.

A key is `sxe_` plus 43 URL-safe characters (32 random bytes). Only its SHA-256 is
stored, so a key cannot be read back, only replaced. Because the key is random and
long, an unsalted hash is enough: nothing can be guessed from it. Each consumer
has a token bucket in its own row, refilled by elapsed time.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from sxe import audit
from sxe.db import sql, transaction
from sxe.errors import UsageError
from sxe.handoff.http import ApiError
from sxe.handoff.records import RecordFormat, check_contact_fields, check_schema_version

KEY_PREFIX = "sxe_"
KEY_BYTES = 32
DEFAULT_RATE_PER_SECOND = 5.0
DEFAULT_BURST = 20
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_KEY_RE = re.compile(r"sxe_[A-Za-z0-9_-]{43}")


@dataclass(frozen=True, slots=True)
class Consumer:
    """An authenticated consumer: what it may read and in which format."""

    id: uuid.UUID
    name: str
    pools: tuple[str, ...]
    record_format: RecordFormat

    @property
    def actor(self) -> str:
        return f"consumer:{self.name}"


def hash_key(key: str) -> str:
    """Return the SHA-256 hex digest under which `key` is stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_consumer(
    conn: psycopg.Connection[Any],
    name: str,
    pools: Iterable[str],
    *,
    contact_fields: Iterable[str] = (),
    schema_version: str = "v2",
    rate_per_second: float = DEFAULT_RATE_PER_SECOND,
    burst: int = DEFAULT_BURST,
    actor: str,
) -> tuple[Consumer, str]:
    """Create a consumer and return it with its new key, which is not stored and cannot be shown again.

    Raises UsageError for a bad name, pool, field, version or rate, or a name in use.
    """
    pool_list = _check_pools(pools)
    record_format = RecordFormat(check_schema_version(schema_version), check_contact_fields(contact_fields))
    _check_name(name)
    _check_rate(rate_per_second)
    _check_burst(burst)

    key = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
    with transaction(conn, role="sxe_worker"):
        row = conn.execute(
            sql("consumers_insert"),
            {
                "name": name,
                "key_sha256": hash_key(key),
                "pools": pool_list,
                "contact_fields": sorted(record_format.contact_fields),
                "schema_version": record_format.schema_version,
                "rate_capacity": float(burst),
                "rate_per_second": float(rate_per_second),
            },
        ).fetchone()
        if row is None:
            raise UsageError(f"consumer {name!r} already exists; pick another name or revoke it first")
        audit.append(
            conn,
            actor=actor,
            action="handoff.consumer_created",
            subject=f"consumer:{name}",
            detail={
                "pools": pool_list,
                "contact_fields": sorted(record_format.contact_fields),
                "schema_version": record_format.schema_version,
            },
        )
    return Consumer(row["id"], name, tuple(pool_list), record_format), key


def revoke_consumer(conn: psycopg.Connection[Any], name: str, *, actor: str) -> None:
    """Revoke a consumer's key at once; raise UsageError when no active consumer has that name."""
    with transaction(conn, role="sxe_worker"):
        if conn.execute(sql("consumers_revoke"), {"name": name}).fetchone() is None:
            raise UsageError(f"no active consumer named {name!r}; `sxe consumer list` shows them")
        audit.append(conn, actor=actor, action="handoff.consumer_revoked", subject=f"consumer:{name}")


def update_consumer(
    conn: psycopg.Connection[Any],
    name: str,
    *,
    pools: Iterable[str] | None = None,
    contact_fields: Iterable[str] | None = None,
    schema_version: str | None = None,
    rate_per_second: float | None = None,
    burst: int | None = None,
    actor: str,
) -> dict[str, Any]:
    """Change the given settings of an active consumer and return them before and after.

    The key and the queued messages stay. Messages render their card when pulled, so
    new fields or a new version apply to messages already queued. Raises UsageError for
    a bad value, no change requested, or no active consumer of that name.
    """
    params = {
        "name": name,
        "pools": None if pools is None else _check_pools(pools),
        "contact_fields": None if contact_fields is None else sorted(check_contact_fields(contact_fields)),
        "schema_version": None if schema_version is None else check_schema_version(schema_version),
        "rate_per_second": None if rate_per_second is None else _check_rate(rate_per_second),
        "rate_capacity": None if burst is None else float(_check_burst(burst)),
    }
    if all(value is None for key, value in params.items() if key != "name"):
        raise UsageError("nothing to change: pass --pool, --fields, --schema-version, --rate or --burst")

    with transaction(conn, role="sxe_worker"):
        row = conn.execute(sql("consumers_update"), params).fetchone()
        if row is None:
            raise UsageError(f"no active consumer named {name!r}; `sxe consumer list` shows them")
        change = {"before": row["before"], "after": row["after"]}
        audit.append(conn, actor=actor, action="handoff.consumer_updated", subject=f"consumer:{name}", detail=change)
    return change


def backfill_consumer(
    conn: psycopg.Connection[Any], name: str, *, pools: Iterable[str] | None = None, actor: str
) -> int:
    """Queue for a consumer the handed-off cards of its pools it never had a message for; return how many.

    A consumer's queue starts with the cards handed off after it was created, so this
    gives a new consumer, or one given a new pool, the cards handed off before. `pools`
    narrows the backfill to some of the consumer's pools. Raises UsageError for a pool
    the consumer cannot read or no active consumer of that name.
    """
    with transaction(conn, role="sxe_worker"):
        consumer = conn.execute(sql("consumers_by_name"), {"name": name}).fetchone()
        if consumer is None:
            raise UsageError(f"no active consumer named {name!r}; `sxe consumer list` shows them")
        chosen = _pools_of(consumer["pools"], pools, name)
        row = conn.execute(sql("consumers_backfill"), {"consumer_id": consumer["id"], "pools": chosen}).fetchone()
        queued = int(row["queued"]) if row else 0
        audit.append(
            conn,
            actor=actor,
            action="handoff.consumer_backfilled",
            subject=f"consumer:{name}",
            detail={"pools": chosen, "queued": queued},
        )
    return queued


def list_consumers(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    with transaction(conn, role="sxe_worker"):
        return list(conn.execute(sql("consumers_list")).fetchall())


def authenticate(conn: psycopg.Connection[Any], authorization: str | None) -> Consumer:
    """Return the consumer of a `Bearer` key and take one rate token for the call.

    Raises ApiError 401 for a missing, malformed, unknown or revoked key (one message
    for all, so the response reveals nothing about which keys exist) and 429 with
    Retry-After when the consumer's bucket is empty.
    """
    scheme, _, key = (authorization or "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not _KEY_RE.fullmatch(key):
        raise _unauthorized()

    with transaction(conn, role="sxe_api"):
        row = conn.execute(sql("consumers_by_key"), {"key_sha256": hash_key(key)}).fetchone()
        if row is None:
            raise _unauthorized()
        bucket = conn.execute(sql("consumers_take_token"), {"consumer_id": row["id"]}).fetchone()

    if bucket is None or not bucket["allowed"]:
        wait = math.ceil(float(bucket["retry_after_seconds"])) if bucket else 1
        raise ApiError(
            429,
            "too many requests",
            f"consumer {row['name']!r} is over its rate limit; retry after {max(wait, 1)} seconds",
            headers={"Retry-After": str(max(wait, 1))},
        )
    record_format = RecordFormat(row["schema_version"], frozenset(row["contact_fields"]))
    return Consumer(row["id"], row["name"], tuple(row["pools"]), record_format)


def _unauthorized() -> ApiError:
    return ApiError(
        401,
        "unauthorized",
        "the Authorization header must be 'Bearer <key>' with an active consumer key; "
        "ask an operator for a key (`sxe consumer add`)",
        headers={"WWW-Authenticate": 'Bearer realm="sxe-handoff"'},
    )


def _check_name(name: str) -> None:
    if not _NAME_RE.fullmatch(name):
        raise UsageError(f"consumer name {name!r} is invalid; use 1-63 lowercase letters, digits, '_' or '-'")


def _check_pools(pools: Iterable[str]) -> list[str]:
    pool_list = sorted({pool.strip() for pool in pools if pool.strip()})
    if not pool_list:
        raise UsageError("a consumer needs at least one pool; pass --pool NAME")
    for pool in pool_list:
        if not _NAME_RE.fullmatch(pool):
            raise UsageError(f"pool name {pool!r} is invalid; use lowercase letters, digits, '_' or '-'")
    return pool_list


def _pools_of(readable: list[str], requested: Iterable[str] | None, name: str) -> list[str]:
    if requested is None:
        return sorted(readable)
    chosen = _check_pools(requested)
    unreadable = [pool for pool in chosen if pool not in readable]
    if unreadable:
        raise UsageError(
            f"consumer {name!r} cannot read pool {unreadable[0]!r}; its pools are {', '.join(sorted(readable))}."
            f" Add the pool first with `sxe consumer update {name} --pool ...`"
        )
    return chosen


def _check_rate(rate_per_second: float) -> float:
    if not (rate_per_second > 0 and math.isfinite(rate_per_second)):
        raise UsageError(f"rate {rate_per_second}/s is invalid; use a number of calls per second above 0")
    return rate_per_second


def _check_burst(burst: int) -> int:
    if burst < 1:
        raise UsageError(f"burst {burst} is invalid; use a whole number of calls of 1 or more")
    return burst
