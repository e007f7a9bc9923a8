"""The handoff web API: lead-card pages, the pull queue, bundle requests and download URLs.

Each public function is one DigitalOcean web function. It authenticates the
`Authorization: Bearer <key>` header, takes a rate token, and returns JSON, or
`application/problem+json` on error. Card contents are read as sxe_worker,
because they include Tier 2 contact points; everything else runs as sxe_api.

    GET  handoff/cards?limit=&cursor=&pool=&schema_version=   cards-page.v1
    GET  handoff/erasures?limit=&cursor=&pool=                erasures-page.v1
    GET  handoff/merges?limit=&cursor=&pool=                  merges-page.v1
    POST handoff/queue/pull {max_messages, lease_seconds}      {"messages": [queue-message.v1]}
    POST handoff/queue/ack  {message_ids}                      Idempotency-Key accepted
    POST handoff/bundle     {pool, schema_version, state, persona, tribe}   Idempotency-Key accepted
    GET  handoff/download?bundle_id=&expires_in=               fresh signed URLs, audited

A feed page that ends while the feed holds back items behind a running transaction
carries the `SXE-Held-Back` header, and `SXE-Held-Back-Seconds` when that transaction's
age is readable (see `_held_back_headers`).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from sxe import audit, functions
from sxe.config import Settings, load_settings
from sxe.contracts import CARDS_PAGE_V1, ERASURES_PAGE_V1, MERGES_PAGE_V1, QUEUE_MESSAGE_V1, load_contracts
from sxe.db import connect, database_url, sql, transaction
from sxe.errors import ConfigError, DatabaseUnavailable, UsageError
from sxe.handoff import queue as pull_queue
from sxe.handoff.consumers import Consumer, authenticate
from sxe.handoff.cursor import Position, TimePosition, decode_cursor, encode_cursor, position_before
from sxe.handoff.export import EXPORT_STATES, HandoffRequest, hand_off, store_kind
from sxe.handoff.http import (
    ApiError,
    Request,
    Response,
    invalid_field,
    invalid_parameter,
    json_response,
    parse_event,
    problem_response,
)
from sxe.handoff.idempotency import run_once
from sxe.handoff.records import RecordFormat, check_schema_version, render_card
from sxe.handoff.storage import build_store, download_url, max_expires_in, signing_secret
from sxe.logs import Event, log
from sxe.runtime.environments import check_database_environment
from sxe.runtime.handler import logged_as
from sxe.runtime.health import oldest_open_transaction

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
_INTEGER_RE = re.compile(r"-?\d{1,9}")
_BUNDLE_FIELDS = frozenset({"pool", "schema_version", "state", "persona", "tribe"})
HELD_BACK_HEADER = "SXE-Held-Back"
HELD_BACK_SECONDS_HEADER = "SXE-Held-Back-Seconds"


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated call: its connection, settings, request and consumer."""

    conn: psycopg.Connection[Any]
    settings: Settings
    request: Request
    consumer: Consumer


Handler = Callable[[Call], Response]


# --- Entry points ---------------------------------------------------------------------


@logged_as("handoff/cards")
def cards(event: dict[str, Any], context: Any = None) -> Response:
    """GET one page of lead cards of the caller's pools."""
    return _serve(event, _cards, ("GET",))


@logged_as("handoff/erasures")
def erasures(event: dict[str, Any], context: Any = None) -> Response:
    """GET one page of the erased cards of the caller's pools, which consumers must delete."""
    return _serve(event, _erasures, ("GET",))


@logged_as("handoff/merges")
def merges(event: dict[str, Any], context: Any = None) -> Response:
    """GET one page of the cards of the caller's pools that were merged into another card."""
    return _serve(event, _merges, ("GET",))


@logged_as("handoff/queue")
def queue(event: dict[str, Any], context: Any = None) -> Response:
    """POST `/pull` to lease messages or `/ack` to acknowledge them."""
    return _serve(event, _queue, ("POST",))


@logged_as("handoff/download")
def download(event: dict[str, Any], context: Any = None) -> Response:
    """Issue fresh download URLs for a bundle of one of the caller's pools."""
    return _serve(event, _download, ("GET", "POST"))


@logged_as("handoff/bundle")
def bundle(event: dict[str, Any], context: Any = None) -> Response:
    """Write a bundle for the caller's pool on request.

    An event without `http` comes from the scheduled trigger and hands off the
    configured pool, as `sxe.functions.hand_off` does.
    """
    if "http" not in event:
        return functions.hand_off(event, context)
    return _serve(event, _bundle, ("POST",))


def _serve(event: dict[str, Any], handler: Handler, methods: tuple[str, ...]) -> Response:
    path = str((event.get("http") or {}).get("path") or "")
    try:
        request = parse_event(event)
        if request.method not in methods:
            raise ApiError(
                405, "method not allowed", f"use {' or '.join(methods)}", headers={"Allow": ", ".join(methods)}
            )
        settings = load_settings()
        with connect(database_url(settings), autocommit=True) as conn:
            check_database_environment(conn, role="sxe_api")
            consumer = authenticate(conn, request.header("authorization"))
            answer = handler(Call(conn, settings, request, consumer))
        status = int(answer.get("statusCode", 200))
        message = f"{request.method} {path or '/'} returned {status}"
        log(logging.INFO, Event.API_SERVED, message, stage="handoff", status=status, consumer=consumer.name)
        return answer
    except ApiError as exc:
        log(logging.WARNING, Event.API_REJECTED, exc.detail, stage="handoff", status=exc.status)
        return problem_response(exc, path or None)
    except ConfigError as exc:
        return _failure(503, "service misconfigured", exc, path)
    except DatabaseUnavailable as exc:
        return _failure(503, "database unavailable", exc, path)
    except UsageError as exc:
        return problem_response(ApiError(400, "invalid request", str(exc)), path or None)
    except Exception as exc:  # noqa: BLE001 - a web function answers every failure with a problem body
        return _failure(500, "internal error", exc, path)


def _failure(status: int, title: str, exc: BaseException, path: str) -> Response:
    # Messages of these errors name settings or servers, never secrets; the caller gets the title only.
    log(logging.ERROR, Event.API_FAILED, f"{title}: {type(exc).__name__}: {exc}", stage="handoff", status=status)
    detail = "the request failed on the server; retry later"
    return problem_response(ApiError(status, title, detail), path or None)


# --- handoff/cards --------------------------------------------------------------------


def _cards(call: Call) -> Response:
    query = call.request.query
    limit = _int_parameter(query, "limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    pools = _pools(call.consumer, query.get("pool"))
    record_format = _record_format(call.consumer, query.get("schema_version"), parameter=True)
    rows, has_more, next_cursor = _keyset_page(call, "cards", pools, limit, "updated_xid")
    page = {
        "schema_version": "cards-page.v1",
        "record_schema": record_format.schema_id,
        "pools": list(pools),
        "limit": limit,
        "items": [render_card(row, record_format) for row in rows],
        "has_more": has_more,
        "next_cursor": next_cursor,
    }
    load_contracts().validate(page, CARDS_PAGE_V1)
    return json_response(200, page, {} if has_more else _held_back_headers(call, "cards", pools))


def _keyset_page(
    call: Call, feed: str, pools: tuple[str, ...], limit: int, xid_column: str
) -> tuple[list[dict[str, Any]], bool, str | None]:
    """Return one page of `api_<feed>_page`'s rows after the request's cursor, whether more follow, and the next cursor.

    The statement pages by (`xid_column`, card_id). Without rows, the next cursor is
    the one given, so a caller polling an empty feed keeps its place.
    """
    secret = signing_secret(call.settings)
    cursor = call.request.query.get("cursor")
    after = _decode_cursor(cursor, pools, secret, feed) if cursor else None
    with transaction(call.conn, role="sxe_worker"):
        if isinstance(after, TimePosition):
            after = _resume_position(call.conn, feed, pools, after)
            if after is None:
                return [], False, cursor
        rows = call.conn.execute(
            sql(f"api_{feed}_page"),
            {
                "pools": list(pools),
                "after_xid": str(after.xid) if after else None,
                "after_card_id": after.card_id if after else None,
                "limit": limit + 1,
            },
        ).fetchall()

    page_rows = rows[:limit]
    next_cursor = cursor or None
    if page_rows:
        last = page_rows[-1]
        next_cursor = encode_cursor(Position(int(last[xid_column]), last["card_id"]), pools, secret, feed=feed)
    return page_rows, len(rows) > limit, next_cursor


def _resume_position(
    conn: psycopg.Connection[Any], feed: str, pools: tuple[str, ...], after: TimePosition
) -> Position | None:
    """Return where a cursor issued before the feeds were ordered by transaction id resumes.

    That is just before the first item, in the new order, among those the old order
    placed after the cursor. Items between there and the old position come again, which
    consumers handle by upserting by card_id. None means no item follows the old position yet.
    """
    first = conn.execute(
        sql(f"api_{feed}_resume"),
        {"pools": list(pools), "after_time": after.time, "after_card_id": after.card_id},
    ).fetchone()
    if first is None:
        return None
    return position_before(Position(int(first["xid"]), first["card_id"]))


def _held_back_headers(call: Call, feed: str, pools: tuple[str, ...]) -> dict[str, str]:
    """Return the headers of a last page whose feed holds back committed items, or {} when it holds back none.

    A page reads only items below its snapshot's xmin, so a committed item above it
    waits for an older transaction that is still running. The pages' JSON Schemas
    forbid extra properties and are published, so the sign goes in headers. The age is
    that of the transaction with a transaction id that has been open longest. It is
    left out when PostgreSQL hides that transaction's start from the session user.
    """
    with transaction(call.conn, role="sxe_worker"):
        row = call.conn.execute(sql(f"api_{feed}_held_back"), {"pools": list(pools)}).fetchone()
    if row is None or not row["held_back"]:
        return {}

    headers = {HELD_BACK_HEADER: "true"}
    oldest = oldest_open_transaction(call.conn)
    if oldest is not None and oldest.age_seconds is not None:
        headers[HELD_BACK_SECONDS_HEADER] = str(int(oldest.age_seconds))
    return headers


def _decode_cursor(cursor: str, pools: tuple[str, ...], secret: bytes, feed: str = "cards") -> Position | TimePosition:
    try:
        return decode_cursor(cursor, pools, secret, feed=feed)
    except UsageError as exc:
        raise invalid_parameter("cursor", str(exc)) from exc


# --- handoff/erasures -----------------------------------------------------------------


def _erasures(call: Call) -> Response:
    return _event_page(call, "erasures", ERASURES_PAGE_V1, _erasure_item)


def _erasure_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "card_id": str(row["card_id"]),
        "pool": row["pool"],
        "erased_at": row["erased_at"].isoformat(),
        "event": "card.erased",
    }


# --- handoff/merges -------------------------------------------------------------------


def _merges(call: Call) -> Response:
    return _event_page(call, "merges", MERGES_PAGE_V1, _merge_item)


def _merge_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "card_id": str(row["card_id"]),
        "pool": row["pool"],
        "merged_into": str(row["merged_into"]),
        "merged_at": row["merged_at"].isoformat(),
        "event": "card.merged",
    }


def _event_page(call: Call, feed: str, schema_id: str, item: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
    """Return one validated `<feed>-page.v1` of the `api_<feed>_page` statement, paged by (created_xid, card_id)."""
    query = call.request.query
    limit = _int_parameter(query, "limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    pools = _pools(call.consumer, query.get("pool"))
    rows, has_more, next_cursor = _keyset_page(call, feed, pools, limit, "created_xid")
    page = {
        "schema_version": f"{feed}-page.v1",
        "pools": list(pools),
        "limit": limit,
        "items": [item(row) for row in rows],
        "has_more": has_more,
        "next_cursor": next_cursor,
    }
    load_contracts().validate(page, schema_id)
    return json_response(200, page, {} if has_more else _held_back_headers(call, feed, pools))


def _pools(consumer: Consumer, requested: str | None) -> tuple[str, ...]:
    if requested is None:
        return tuple(sorted(consumer.pools))
    if requested not in consumer.pools:
        raise ApiError(
            403,
            "forbidden",
            f"pool {requested!r} is not one of this consumer's pools ({', '.join(consumer.pools)})",
            errors=[{"parameter": "pool", "detail": "not in this consumer's scope"}],
        )
    return (requested,)


def _record_format(consumer: Consumer, requested: Any, *, parameter: bool) -> RecordFormat:
    if requested is None:
        return consumer.record_format
    try:
        version = check_schema_version(str(requested))
    except UsageError as exc:
        if parameter:
            raise invalid_parameter("schema_version", str(exc)) from exc
        raise invalid_field("/schema_version", str(exc)) from exc
    return RecordFormat(version, consumer.record_format.contact_fields)


def _int_parameter(values: dict[str, Any], name: str, default: int, low: int, high: int, *, body: bool = False) -> int:
    raw = values.get(name)
    if raw is None:
        return default
    number: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    elif isinstance(raw, str) and _INTEGER_RE.fullmatch(raw.strip()):
        number = int(raw)
    if number is None or not low <= number <= high:
        detail = f"{name} must be an integer from {low} to {high}"
        raise invalid_field(f"/{name}", detail) if body else invalid_parameter(name, detail)
    return number


# --- handoff/queue --------------------------------------------------------------------


def _queue(call: Call) -> Response:
    action = call.request.path.strip("/") or str(call.request.body.get("action", "pull"))
    if action == "pull":
        return _pull(call)
    if action == "ack":
        return _ack(call)
    raise ApiError(404, "not found", f"queue action {action!r} is unknown; POST to /pull or /ack")


def _pull(call: Call) -> Response:
    body = call.request.body
    max_messages = _int_parameter(
        body, "max_messages", pull_queue.DEFAULT_MAX_MESSAGES, 1, pull_queue.MAX_MESSAGES, body=True
    )
    lease_seconds = _int_parameter(
        body, "lease_seconds", pull_queue.DEFAULT_LEASE_SECONDS, 1, pull_queue.MAX_LEASE_SECONDS, body=True
    )
    messages = pull_queue.pull(call.conn, call.consumer, max_messages=max_messages, lease_seconds=lease_seconds)
    contracts = load_contracts()
    for message in messages:
        contracts.validate(message, QUEUE_MESSAGE_V1)
    return json_response(200, {"messages": messages})


def _ack(call: Call) -> Response:
    message_ids = _message_ids(call.request.body.get("message_ids"))
    return run_once(
        call.conn,
        call.consumer,
        call.request,
        lambda: json_response(200, pull_queue.ack(call.conn, call.consumer, message_ids)),
    )


def _message_ids(raw: Any) -> list[uuid.UUID]:
    if not isinstance(raw, list) or not raw or len(raw) > pull_queue.MAX_ACK_IDS:
        raise invalid_field(
            "/message_ids", f"message_ids must be an array of 1 to {pull_queue.MAX_ACK_IDS} message ids"
        )
    ids = []
    for index, value in enumerate(raw):
        parsed = _uuid(value)
        if parsed is None:
            raise invalid_field(f"/message_ids/{index}", "each message id must be a UUID string from a pulled message")
        ids.append(parsed)
    return ids


# --- handoff/bundle -------------------------------------------------------------------


def _bundle(call: Call) -> Response:
    request = _bundle_request(call)
    return run_once(call.conn, call.consumer, call.request, lambda: _write_bundle(call, request))


def _bundle_request(call: Call) -> HandoffRequest:
    body = call.request.body
    unknown = sorted(set(body) - _BUNDLE_FIELDS)
    if unknown:
        raise invalid_field(f"/{unknown[0]}", f"unknown field; the body accepts {', '.join(sorted(_BUNDLE_FIELDS))}")
    pool = body.get("pool")
    if pool is None and len(call.consumer.pools) == 1:
        pool = call.consumer.pools[0]
    if not isinstance(pool, str):
        raise invalid_field("/pool", "pool is required because this consumer reads several pools")
    if pool not in call.consumer.pools:
        raise ApiError(
            403,
            "forbidden",
            f"pool {pool!r} is not one of this consumer's pools",
            errors=[{"pointer": "/pool", "detail": "not in this consumer's scope"}],
        )
    state = body.get("state", "ready")
    if state not in EXPORT_STATES:
        raise invalid_field("/state", f"state must be one of {', '.join(EXPORT_STATES)}")
    for name in ("persona", "tribe"):
        if body.get(name) is not None and not (isinstance(body[name], str) and body[name]):
            raise invalid_field(f"/{name}", f"{name} must be a non-empty string")

    return HandoffRequest(
        pool=pool,
        environment=call.settings.environment,
        created_at=datetime.now(UTC),
        retention_days=call.settings.bundle_retention_days,
        actor=call.consumer.actor,
        record_format=_record_format(call.consumer, body.get("schema_version"), parameter=False),
        state=state,
        persona=body.get("persona"),
        tribe=body.get("tribe"),
    )


def _write_bundle(call: Call, request: HandoffRequest) -> Response:
    written = hand_off(call.conn, build_store(call.settings), request)
    body = {
        "bundle_id": written.bundle_id,
        "record_count": written.record_count,
        "schema_version": request.record_format.schema_version,
        "manifest": written.manifest,
        "download": f"GET handoff/download?bundle_id={written.bundle_id}",
    }
    return json_response(201, body)


# --- handoff/download -----------------------------------------------------------------


def _download(call: Call) -> Response:
    values = {**call.request.body, **call.request.query}
    bundle_id = _bundle_id(values.get("bundle_id"))
    store = build_store(call.settings)
    expires_in = _int_parameter(
        values, "expires_in", call.settings.signed_url_seconds, 1, max_expires_in(store), body=False
    )

    with transaction(call.conn, role="sxe_api"):
        row = call.conn.execute(sql("api_bundle_get"), {"bundle_id": bundle_id}).fetchone()
        _check_downloadable(row, call.consumer, bundle_id, store_kind(store))
        audit.append(
            call.conn,
            actor=call.consumer.actor,
            action="handoff.download_url_issued",
            subject=f"bundle:{bundle_id}",
            detail={"expires_in_seconds": expires_in, "files": 2},
        )

    assert row is not None  # _check_downloadable raised otherwise
    expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
    body = {
        "bundle_id": str(bundle_id),
        "schema_version": row["schema_version"],
        "record_count": row["record_count"],
        "expires_in": expires_in,
        "expires_at": expires_at.isoformat().replace("+00:00", "Z"),
        "manifest_url": download_url(call.settings, store, row["manifest_key"], expires_in),
        "data_url": download_url(call.settings, store, row["data_key"], expires_in),
    }
    log(
        logging.INFO,
        Event.DOWNLOAD_URL_ISSUED,
        "download URLs issued",
        stage="handoff",
        bundle_id=str(bundle_id),
        consumer=call.consumer.name,
    )
    return json_response(200, body)


def _bundle_id(raw: Any) -> uuid.UUID:
    parsed = _uuid(raw)
    if parsed is None:
        raise invalid_parameter("bundle_id", "bundle_id must be the UUID of a bundle")
    return parsed


def _uuid(raw: Any) -> uuid.UUID | None:
    if not isinstance(raw, str):
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _check_downloadable(row: dict[str, Any] | None, consumer: Consumer, bundle_id: uuid.UUID, store: str) -> None:
    """Raise ApiError unless `consumer` may download the bundle now."""
    # A bundle of another consumer's pool gets the same 404 as an unknown one, so ids cannot be probed.
    if row is None or row["pool"] not in consumer.pools:
        raise ApiError(404, "not found", f"no bundle {bundle_id} in this consumer's pools")
    if row["revoked_at"] is not None:
        raise ApiError(410, "gone", f"bundle {bundle_id} was revoked; request a new bundle")
    if row["expires_at"] is not None and row["expires_at"] <= datetime.now(UTC):
        raise ApiError(410, "gone", f"bundle {bundle_id} expired; request a new bundle")
    extra = sorted(set(row["contact_fields"]) - consumer.record_format.contact_fields)
    if extra:
        raise ApiError(
            403,
            "forbidden",
            f"bundle {bundle_id} contains contact fields this consumer may not receive: {', '.join(extra)}",
        )
    if row["store"] != store:
        raise ConfigError(f"bundle {bundle_id} is in the {row['store']} store, but this service uses the {store} store")
