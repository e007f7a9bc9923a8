"""The `enrich/callback` web function: Apollo's asynchronous delivery of revealed phone numbers.

A people/match call with `reveal_phone_number=true` and a `webhook_url` returns a
`request_id` (a signed 64-bit integer), and the worker registers it with
`register_phone_request`. Apollo later POSTs the phones to the webhook URL:
`{"request_id": 1039995589705121900, "people": [{"id": ..., "phone_numbers": [...]}]}`,
each phone shaped like a people/match phone (`sanitized_number`, `type`, `status`,
`dnc_status`). Apollo documents no signature for these deliveries, so the webhook URL
carries `?token=<SXE_APOLLO_WEBHOOK_TOKEN>`, compared in constant time.

One transaction claims the request_id in `ops.apollo_callback_deliveries`, drops phones
on the erasure suppression list (all of them when the card is suppressed or merged),
writes the rest to the card's Tier 2 contact through the same `contact_upsert_point` statement
the worker uses, moves a card whose lookup ended `no_match` to `enriched`, appends an
`enrichment.callback` audit row and marks the request delivered. A card in any other
state keeps it: a queued card is finished by its worker, a ready card takes the phones
into its bundle, and a handed-off card's bundle is already written. Responses:

- 200 when the phones were written, or for a repeated delivery of the same request_id;
- 400 for a body that is not the documented shape, 401 for a missing or wrong token;
- 404 for a request_id no worker registered, so Apollo's retry can find it later;
- 413 for a body over 256 KiB; 503 when the token is not set, the database is down or
  it records an environment other than SXE_ENV.

NOTE: Apollo's reference (docs.apollo.io, Poll Webhook Result) documents the request_id
and the retries but shows no delivery body, so the `people[].phone_numbers[]` shape is
taken from the people/match response.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

import psycopg
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from sxe import audit
from sxe.adapters.apollo_response import PROVIDER, to_e164
from sxe.adapters.base import ContactPointResult
from sxe.cards import Readiness, transition
from sxe.compliance import suppression
from sxe.compliance.suppression import contact_point_identifier, suppression_key
from sxe.config import load_settings
from sxe.db import sql, transaction
from sxe.errors import DatabaseUnavailable, UsageError
from sxe.logs import Event, log
from sxe.runtime.environments import checked_connection
from sxe.runtime.handler import logged_as
from sxe.webhooks.handler import Problem, read_request

MAX_BYTES = 256 * 1024
ACTOR = "enrich/callback"
AUDIT_ACTION = "enrichment.callback"
_INT64 = (-(2**63), 2**63 - 1)
# An erased person's card is suppressed and a merged card lives on in another; a late
# delivery must not give either of them contact data again.
CLOSED_READINESS = frozenset({Readiness.SUPPRESSED.value, Readiness.MERGED.value})


class CallbackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SXE_", extra="ignore", frozen=True)

    apollo_webhook_token: SecretStr | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A validated delivery: its request_id, its phones in E.164 and the SHA-256 of its body."""

    request_id: int
    phones: tuple[ContactPointResult, ...]
    body_sha256: str


@logged_as("enrich/callback")
def handle(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Write one phone delivery to Tier 2; see the module docstring for every status."""
    try:
        request = read_request(event, MAX_BYTES)
        _authenticate(_query(event))
        delivery = parse_delivery(request.body, received_at=datetime.now(UTC))
        outcome = _store(delivery)
    except Problem as problem:
        log(logging.WARNING, Event.WEBHOOK_REJECTED, problem.detail, stage="enrich", status=problem.status)
        return problem.response()

    if outcome is None:
        log(logging.INFO, Event.WEBHOOK_DUPLICATE, "repeated Apollo phone delivery ignored", stage="enrich")
        return _response(200, {"accepted": False, "reason": "this request_id was already delivered"})
    log(logging.INFO, Event.WEBHOOK_ACCEPTED, "Apollo phone delivery written", stage="enrich", count=outcome)
    return _response(200, {"accepted": True, "phones": outcome})


def register_phone_request(
    conn: psycopg.Connection[Any],
    *,
    request_id: int,
    card_id: UUID,
    provider_person_id: str | None,
    adapter_version: str,
    simulated: bool,
) -> None:
    """Record, in the caller's transaction, that Apollo will deliver phones for this card under `request_id`."""
    conn.execute(
        sql("callback_register_request"),
        {
            "request_id": request_id,
            "card_id": card_id,
            "provider_person_id": provider_person_id,
            "adapter_version": adapter_version,
            "simulated": simulated,
        },
    )


def parse_delivery(body: bytes, *, received_at: datetime) -> Delivery:
    """Validate a delivery body, raising Problem 400 naming the first invalid field.

    Phones without a usable E.164 `sanitized_number` are skipped, as in people/match.
    Every phone is stamped `scrubbed_at=received_at` when it carries a `dnc_status`.
    """
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _invalid("the body is not UTF-8 JSON") from None
    if not isinstance(document, dict):
        raise _invalid("the body is not a JSON object")

    request_id = _request_id(document.get("request_id"))
    people = document.get("people")
    if not isinstance(people, list):
        raise _invalid("people is missing or not an array")

    phones: list[ContactPointResult] = []
    seen: set[str] = set()
    for person_index, person in enumerate(people):
        for pointer, entry in _phone_entries(person, f"people[{person_index}]"):
            point = _phone_point(entry, pointer, received_at)
            if point is not None and point.value not in seen:
                seen.add(point.value)
                phones.append(point)
    return Delivery(request_id, tuple(phones), hashlib.sha256(body).hexdigest())


def _store(delivery: Delivery) -> int | None:
    """Write the delivery in one transaction; return the phones written, or None for a repeat."""
    try:
        with checked_connection(load_settings(), role="sxe_worker") as conn, transaction(conn, role="sxe_worker"):
            return _write(conn, delivery)
    except UsageError as error:
        raise Problem(503, "not-configured", "Callback not configured", str(error)) from None
    except (DatabaseUnavailable, psycopg.OperationalError):
        raise Problem(
            503, "database-unavailable", "Database unavailable", "the database is unreachable; retry later"
        ) from None


def _write(conn: psycopg.Connection[Any], delivery: Delivery) -> int | None:
    params = {"request_id": delivery.request_id}
    claimed = conn.execute(
        sql("callback_claim_delivery"),
        {**params, "body_sha256": delivery.body_sha256, "phones": len(delivery.phones)},
    ).fetchone()
    if claimed is None:
        return None

    pending = conn.execute(sql("callback_lock_request"), params).fetchone()
    if pending is None:
        # Raising rolls back the claim, so a later retry of this request_id is not taken for a repeat.
        raise Problem(
            404, "unknown-request", "Unknown request", f"request_id {delivery.request_id} was never registered"
        )

    phones = _unsuppressed(conn, delivery.phones) if pending["readiness"] not in CLOSED_READINESS else ()
    if phones:
        contact_id = pending["contact_id"] or _new_contact(conn, pending["card_id"])
        for point in phones:
            _upsert_phone(conn, contact_id, point, pending["adapter_version"], pending["simulated"])
        if pending["readiness"] == Readiness.NO_MATCH.value:
            # The lookup found the person but no email; the phones make the card a match after all.
            transition(conn, pending["card_id"], Readiness.ENRICHED, "phones_delivered")
    conn.execute(sql("callback_mark_delivered"), params)
    audit.append(
        conn,
        actor=ACTOR,
        action=AUDIT_ACTION,
        subject=f"lead_card:{pending['card_id']}",
        detail={
            "provider": PROVIDER,
            "adapter_version": pending["adapter_version"],
            "request_id": str(delivery.request_id),
            "phones": len(phones),
            "phones_dropped": len(delivery.phones) - len(phones),
            "card_readiness": pending["readiness"],
            "simulated": pending["simulated"],
        },
        payload_sha256=delivery.body_sha256,
    )
    return len(phones)


def _unsuppressed(
    conn: psycopg.Connection[Any], phones: tuple[ContactPointResult, ...]
) -> tuple[ContactPointResult, ...]:
    """Drop phones on the erasure suppression list; the key is loaded only when the list has rows."""
    if not phones or conn.execute(sql("suppression_any")).fetchone() is None:
        return phones
    key = suppression_key(load_settings())
    hashes = {point.value: contact_point_identifier("phone", point.value).keyed_hash(key) for point in phones}
    listed = suppression.matching(conn, list(hashes.values()))
    return tuple(point for point in phones if hashes[point.value] not in listed)


def _new_contact(conn: psycopg.Connection[Any], card_id: UUID) -> UUID:
    row = conn.execute(sql("contact_create")).fetchone()
    assert row is not None, "INSERT ... RETURNING always returns the new row"
    conn.execute(sql("cards_attach_contact"), {"card_id": card_id, "contact_id": row["id"]})
    contact_id: UUID = row["id"]
    return contact_id


def _upsert_phone(
    conn: psycopg.Connection[Any], contact_id: UUID, point: ContactPointResult, adapter_version: str, simulated: bool
) -> None:
    conn.execute(
        sql("contact_upsert_point"),
        {
            "contact_id": contact_id,
            "kind": point.kind,
            "value": point.value,
            "value_sha256": hashlib.sha256(point.value.strip().lower().encode()).hexdigest(),
            "status": point.status,
            "line_type": point.line_type,
            "dnc_status": point.dnc_status,
            "scrubbed_at": point.scrubbed_at,
            "source": point.source,
            "adapter_version": adapter_version,
            "simulated": simulated,
        },
    )


def _request_id(value: Any) -> int:
    """Accept a signed 64-bit integer, or its decimal string, since JSON readers may lose its precision."""
    if isinstance(value, bool):
        raise _invalid("request_id is not an integer")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not _INT64[0] <= value <= _INT64[1]:
        raise _invalid("request_id is missing or not a signed 64-bit integer")
    return value


def _phone_entries(person: Any, pointer: str) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(person, dict):
        raise _invalid(f"{pointer} is not an object")
    numbers = person.get("phone_numbers")
    if numbers is None:
        return []
    if not isinstance(numbers, list):
        raise _invalid(f"{pointer}.phone_numbers is not an array")
    entries: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(numbers):
        if not isinstance(entry, dict):
            raise _invalid(f"{pointer}.phone_numbers[{index}] is not an object")
        entries.append((f"{pointer}.phone_numbers[{index}]", entry))
    return entries


def _phone_point(entry: dict[str, Any], pointer: str, received_at: datetime) -> ContactPointResult | None:
    fields = {}
    for key in ("sanitized_number", "type", "status", "dnc_status"):
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            raise _invalid(f"{pointer}.{key} is not a string")
        fields[key] = value.strip() if isinstance(value, str) else None

    number = to_e164(fields["sanitized_number"])
    if number is None:
        return None
    return ContactPointResult(
        kind="phone",
        value=number,
        status=fields["status"],
        source=PROVIDER,
        line_type=fields["type"].lower() if fields["type"] else None,
        dnc_status=fields["dnc_status"],
        scrubbed_at=received_at if fields["dnc_status"] else None,
    )


def _authenticate(query: dict[str, list[str]]) -> None:
    token = CallbackSettings().apollo_webhook_token
    if token is None:
        raise Problem(503, "not-configured", "Callback not configured", "SXE_APOLLO_WEBHOOK_TOKEN is not set")
    received = query.get("token", [""])[0].encode()
    if not hmac.compare_digest(token.get_secret_value().encode(), received):
        raise Problem(401, "invalid-token", "Invalid token", "query parameter token is missing or wrong")


def _query(event: dict[str, Any]) -> dict[str, list[str]]:
    http = event.get("http")
    query = http.get("queryString", "") if isinstance(http, dict) else ""
    return parse_qs(str(query or ""))


def _invalid(detail: str) -> Problem:
    return Problem(400, "invalid-body", "Invalid body", detail)


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
