"""Idempotency-Key handling for mutating API calls.

The first call with a key claims it (committed at once) and runs. Its response
is stored when the status is below 500, and a later call with the same key and
the same request gets that response again with `Idempotent-Replayed: true`. The
same key with another request gets 422; a call while the first still runs gets
409. A server failure releases the key, so the retry runs again. Requests that
fail validation never reach this module, so they are not stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from sxe.db import sql, transaction
from sxe.handoff.consumers import Consumer
from sxe.handoff.http import ApiError, Request, Response, invalid_parameter

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# A claim older than this belongs to a call that died; a retry may take it over.
LOCK_SECONDS = 300
_KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")


def idempotency_key(request: Request) -> str | None:
    """Return the request's Idempotency-Key, or raise ApiError 400 when it is malformed."""
    key = request.header(HEADER)
    if key is None:
        return None
    if not _KEY_RE.fullmatch(key):
        raise invalid_parameter(HEADER, f"{HEADER} must be 1 to 255 printable ASCII characters without spaces")
    return key


def run_once(
    conn: psycopg.Connection[Any],
    consumer: Consumer,
    request: Request,
    operation: Callable[[], Response],
) -> Response:
    """Run `operation` under the request's Idempotency-Key, or directly when it has none."""
    key = idempotency_key(request)
    if key is None:
        return operation()

    scope = {"consumer_id": consumer.id, "key": key}
    fingerprint = request.fingerprint()
    with transaction(conn, role="sxe_api"):
        claim = {**scope, "request_sha256": fingerprint, "lock_seconds": LOCK_SECONDS}
        claimed = conn.execute(sql("api_idempotency_claim"), claim).fetchone()
        existing = None if claimed else conn.execute(sql("api_idempotency_get"), scope).fetchone()
    if existing is not None:
        return _replay(existing, fingerprint)

    try:
        response = operation()
    except BaseException:
        _release(conn, scope)
        raise
    if response["statusCode"] >= 500:
        _release(conn, scope)
        return response

    with transaction(conn, role="sxe_api"):
        stored = {**scope, "status_code": response["statusCode"], "response_body": Jsonb(_stored_body(response))}
        conn.execute(sql("api_idempotency_complete"), stored)
    return response


def _replay(existing: dict[str, Any], fingerprint: str) -> Response:
    if existing["request_sha256"] != fingerprint:
        raise ApiError(
            422,
            "idempotency key reused",
            f"this {HEADER} was used with a different request; send a new key for a new request",
            errors=[{"parameter": HEADER, "detail": "already used with a different method, path or body"}],
        )
    if existing["state"] != "completed":
        raise ApiError(
            409,
            "request in progress",
            f"a request with this {HEADER} is still running; retry after it finishes",
            headers={"Retry-After": "1"},
        )
    stored = existing["response_body"]
    response: Response = {
        "statusCode": existing["status_code"],
        "headers": {**stored["headers"], REPLAYED_HEADER: "true"},
        "body": stored["body"],
    }
    return response


def _stored_body(response: Response) -> dict[str, Any]:
    body = response["body"]
    return {"headers": dict(response.get("headers", {})), "body": body if isinstance(body, str) else json.dumps(body)}


def _release(conn: psycopg.Connection[Any], scope: dict[str, Any]) -> None:
    with transaction(conn, role="sxe_api"):
        conn.execute(sql("api_idempotency_release"), scope)
