"""The `ingest/webhook` web function: verify a signed batch, store it, enqueue its normalization.

The function is a raw DigitalOcean web function. The event is
`{"http": {"body", "headers", "method", "path", "queryString", "isBase64Encoded"}}`
with lowercase header names, and the result is `{"statusCode", "headers", "body"}`.

Responses:

- 202 with the batch id and per-record counts for a new batch. Records that fail
  their format's schema are quarantined and counted, and the batch is still
  accepted, because senders retry every non-2xx response.
- 200 with the stored batch's id and counts for a redelivery of a webhook id the
  source already delivered, including a delivery that raced the first one.
- 409 for a webhook id the source already delivered with another body. A retry
  resends the same body, so the sender reused an id for a new batch, which would
  otherwise be lost; nothing is written.
- 401 for a missing, malformed, stale, future or non-matching signature. The
  rejection is audited (`webhook.rejected`) with its reason, the claimed webhook
  id and the body's SHA-256, never the body. When the database cannot take the
  audit row, the response is still 401.
- 413 for a body over `SXE_WEBHOOK_MAX_BYTES`, decided before the body is decoded,
  hashed or parsed.
- 202 also for a correctly signed body that is not UTF-8 JSON or not a
  `webhook-batch.v1`, because senders retry every non-2xx response and a retry
  cannot fix the body. The body is quarantined whole as `invalid_batch`, audited as
  `webhook.batch_invalid`, and the receipt's `invalid` names the violation. A UTF-8
  byte order mark before the JSON is ignored.
- 400 when the event's `isBase64Encoded` is set and its body is not base64.
- 405 for a method other than POST.
- 503 when no secret is configured or SXE_WEBHOOK_SECRETS is malformed, the
  database is unreachable, or the database
  records an environment other than SXE_ENV. The delivery is written in one
  transaction, so a failure leaves nothing behind.

Every error body is `application/problem+json` (RFC 9457). Only the batch row,
its records as received (in `intake.webhook_records`, which this role cannot read),
its quarantined records, one normalize job and one audit row are written here;
normalization runs later in the `normalize` queue.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from sxe import audit, jobs
from sxe.config import load_settings
from sxe.contracts import iter_errors
from sxe.db import sql, transaction
from sxe.errors import ConfigError, DatabaseUnavailable
from sxe.ingest.formats import get_format
from sxe.ingest.formats.base import SourceFormat
from sxe.ingest.hashing import content_hash
from sxe.logs import Event, log
from sxe.pii import redact_text, redact_value
from sxe.runtime.environments import checked_connection
from sxe.runtime.handler import logged_as
from sxe.webhooks.signature import (
    SignatureRejected,
    VerifiedDelivery,
    claimed_webhook_id,
    parse_secrets,
    verify,
)

WEBHOOK_BATCH_V1 = "https://schemas.sxe.dev/ingest/webhook-batch.v1.json"
NORMALIZE_QUEUE = "normalize"
ACTOR = "sxe_api:webhook"
PROBLEM_BASE = "https://schemas.sxe.dev/problems/"
DEFAULT_MAX_BYTES = 1_048_576
# The source of an invalid batch without a valid source name; no valid name has parentheses.
INVALID_SOURCE = "(invalid)"
MAX_REASON_CHARS = 1000
_SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")


class WebhookSettings(BaseSettings):
    """Settings of the webhook function, read from `SXE_WEBHOOK_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="SXE_WEBHOOK_", extra="ignore", frozen=True)

    secrets: SecretStr | None = Field(default=None, description="Comma-separated whsec_ secrets, all accepted.")
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024, le=64 * 1024 * 1024)


class Problem(Exception):
    """A response other than success, rendered as `application/problem+json`."""

    def __init__(self, status: int, slug: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail

    def response(self) -> dict[str, Any]:
        body = {"type": PROBLEM_BASE + self.slug, "title": self.title, "status": self.status, "detail": self.detail}
        return {
            "statusCode": self.status,
            "headers": {"content-type": "application/problem+json"},
            "body": json.dumps(body),
        }


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class InvalidBatch:
    """A signed body that is not a usable `webhook-batch.v1`, quarantined whole.

    `source` is the body's source when it is a valid source name, else INVALID_SOURCE,
    and `document` is the decoded body, or None when it is not UTF-8 JSON.
    """

    source: str
    reason: str
    document: Any


@dataclass(frozen=True, slots=True)
class Batch:
    """A parsed `webhook-batch.v1` body, with each record checked against its format's schema."""

    source: str
    format: str
    pool: str
    collected_at: datetime
    source_url: str | None
    valid: list[tuple[int, Any]]
    invalid: list[tuple[int, Any, str]]


@logged_as("ingest/webhook")
def handle(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Handle one raw web request and return the response. The module docstring lists every status."""
    try:
        settings = _load_webhook_settings()
        request = read_request(event, settings.max_bytes)
        signers = _signers(settings)
        delivery = _verify(request, signers)
        body_sha256 = hashlib.sha256(request.body).hexdigest()
        batch = parse_batch(request.body, delivery)
        return _store(batch, delivery, body_sha256)
    except Problem as problem:
        log(logging.WARNING, Event.WEBHOOK_REJECTED, problem.detail, stage="webhook", status=problem.status)
        return problem.response()


def read_request(event: dict[str, Any], max_bytes: int) -> Request:
    """Extract method, lowercase headers and body bytes; raise Problem 405 or 413 before touching the body."""
    http: dict[str, Any] = event["http"] if isinstance(event.get("http"), dict) else {}
    method = str(http.get("method", "")).upper()
    if method != "POST":
        raise Problem(405, "method-not-allowed", "Method not allowed", f"use POST, not {method or 'no method'}")

    raw_headers: dict[str, Any] = http["headers"] if isinstance(http.get("headers"), dict) else {}
    headers = {str(name).lower(): str(value) for name, value in raw_headers.items()}
    _check_declared_length(headers, max_bytes)

    body = http.get("body") or ""
    if not isinstance(body, str):
        body = json.dumps(body)
    encoded = bool(http.get("isBase64Encoded"))
    # A base64 body is 4/3 the size of its bytes, so its length bounds the decoded size.
    limit = (max_bytes * 4) // 3 + 4 if encoded else max_bytes
    if len(body) > limit:
        raise _too_large(max_bytes)

    data = _decode_body(body) if encoded else body.encode("utf-8")
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    return Request(method=method, headers=headers, body=data)


def parse_batch(body: bytes, delivery: VerifiedDelivery) -> Batch | InvalidBatch:
    """Parse and validate a signed body; return an InvalidBatch naming the first violation of the batch contract."""
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        reason = f"the body is not UTF-8 JSON ({type(error).__name__}); send a webhook-batch.v1 document"
        return InvalidBatch(INVALID_SOURCE, reason, None)

    for batch_violation in iter_errors(document, WEBHOOK_BATCH_V1):
        reason = f"the body is not a webhook-batch.v1: {batch_violation}"
        return InvalidBatch(_source_name(document), reason, document)

    source_format = get_format(document["format"])
    valid: list[tuple[int, Any]] = []
    invalid: list[tuple[int, Any, str]] = []
    for index, record in enumerate(document["records"]):
        violation = _shape_violation(record, source_format)
        if violation is None:
            valid.append((index, record))
        else:
            invalid.append((index, record, f"record {index} does not match its format: {violation}"))

    collected_at = document.get("collected_at")
    return Batch(
        source=document["source"],
        format=document["format"],
        pool=document["pool"],
        collected_at=datetime.fromisoformat(collected_at) if collected_at else delivery.sent_at,
        source_url=document.get("source_url"),
        valid=valid,
        invalid=invalid,
    )


def _source_name(document: Any) -> str:
    source = document.get("source") if isinstance(document, dict) else None
    return source if isinstance(source, str) and _SOURCE_NAME.fullmatch(source) else INVALID_SOURCE


def _shape_violation(record: Any, source_format: SourceFormat) -> str | None:
    """Return the first way `record` breaks its format's item schema, or None for an item or a container of items.

    A container, such as an API response with several users or an API error body, is
    split into its items when the batch is normalized, and each item is parsed then.
    """
    violation = next(iter(iter_errors(record, source_format.schema_id)), None)
    if violation is None or any(envelope is not None for _, envelope in source_format.expand(record)):
        return None
    return str(violation)


def _load_webhook_settings() -> WebhookSettings:
    try:
        return WebhookSettings()
    except ValueError:
        raise Problem(
            503, "not-configured", "Webhook not configured", "SXE_WEBHOOK_MAX_BYTES must be an integer number of bytes"
        ) from None


def _signers(settings: WebhookSettings) -> list[Any]:
    try:
        signers = parse_secrets(settings.secrets.get_secret_value() if settings.secrets else None)
    except ConfigError as error:
        raise Problem(503, "not-configured", "Webhook not configured", str(error)) from None
    if not signers:
        detail = "no signing secret is configured: set SXE_WEBHOOK_SECRETS to comma-separated whsec_<base64> values"
        raise Problem(503, "not-configured", "Webhook not configured", detail)
    return signers


def _check_declared_length(headers: dict[str, str], max_bytes: int) -> None:
    declared = headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)


def _too_large(max_bytes: int) -> Problem:
    return Problem(413, "body-too-large", "Body too large", f"the body exceeds the limit of {max_bytes} bytes")


def _decode_body(body: str) -> bytes:
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise Problem(
            400, "invalid-body", "Invalid body", "isBase64Encoded is set but the body is not base64"
        ) from None


def _verify(request: Request, signers: list[Any]) -> VerifiedDelivery:
    try:
        return verify(request.body, request.headers, signers)
    except SignatureRejected as rejected:
        _audit_rejection(request, rejected)
        raise Problem(401, "invalid-signature", "Invalid signature", str(rejected)) from None


def _audit_rejection(request: Request, rejected: SignatureRejected) -> None:
    """Append a `webhook.rejected` audit row: the reason, the claimed webhook id and the body's SHA-256.

    NOTE: every rejected request costs a connection and an audit append, which takes the
    audit chain's lock. A flood of unsigned requests therefore also slows audited work;
    an endpoint open to untrusted traffic wants a rate limit in front of it.
    """
    detail = {"reason": rejected.reason, "webhook_id": claimed_webhook_id(request.headers)}
    try:
        with checked_connection(load_settings(), role="sxe_api") as conn, transaction(conn, role="sxe_api"):
            audit.append(
                conn,
                actor=ACTOR,
                action="webhook.rejected",
                subject="webhook",
                detail=detail,
                payload_sha256=hashlib.sha256(request.body).hexdigest(),
            )
    except (ConfigError, DatabaseUnavailable, psycopg.Error) as error:
        log(
            logging.WARNING,
            Event.WEBHOOK_REJECTED,
            f"the rejected delivery was not audited: {type(error).__name__}",
            stage="webhook",
            status=401,
        )


def _store(batch: Batch | InvalidBatch, delivery: VerifiedDelivery, body_sha256: str) -> dict[str, Any]:
    try:
        with checked_connection(load_settings(), role="sxe_api") as conn:
            if isinstance(batch, InvalidBatch):
                receipt = store_invalid(conn, batch, delivery, body_sha256)
            else:
                receipt = store_delivery(conn, batch, delivery, body_sha256)
    except ConfigError as error:
        raise Problem(503, "not-configured", "Webhook not configured", str(error)) from None
    except (DatabaseUnavailable, psycopg.OperationalError, psycopg.InterfaceError):
        raise Problem(
            503, "database-unavailable", "Database unavailable", "the database is unreachable; retry later"
        ) from None

    status = 200 if receipt["duplicate"] else 202
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(receipt)}


def store_delivery(
    conn: psycopg.Connection[Any], batch: Batch, delivery: VerifiedDelivery, body_sha256: str
) -> dict[str, Any]:
    """Store a verified batch in one transaction and return the receipt sent to the sender.

    The receipt is `{"batch_id", "duplicate", "records", "accepted", "quarantined"}`.
    Raises Problem 409, and writes nothing, when the webhook id came before with another body.
    """
    batch_id = uuid.uuid4()
    with transaction(conn, role="sxe_api"):
        claimed = conn.execute(
            sql("webhook_claim_delivery"),
            {
                "id": batch_id,
                "source": batch.source,
                "webhook_id": delivery.webhook_id,
                "format": batch.format,
                "pool": batch.pool,
                "body_sha256": body_sha256,
                "record_count": len(batch.valid) + len(batch.invalid),
                "accepted": len(batch.valid),
                "quarantined": len(batch.invalid),
                "sent_at": delivery.sent_at,
            },
        ).fetchone()
        if claimed is None:
            return _duplicate(conn, batch.source, delivery, body_sha256)

        source_file = f"webhook:{batch.source}/{delivery.webhook_id}"
        conn.execute(sql("webhook_keep_records"), {"id": batch_id, "records": Jsonb(_kept_records(batch))})
        conn.execute(
            sql("webhook_open_batch"),
            {
                "id": batch_id,
                "source_name": batch.source,
                "source_file": source_file,
                "format": batch.format,
                "collected_at": batch.collected_at,
                "pool": batch.pool,
            },
        )
        _quarantine_invalid(conn, batch, batch_id, source_file)
        jobs.enqueue(
            conn,
            NORMALIZE_QUEUE,
            {"webhook_batch_id": str(batch_id), "source_url": _redacted(batch.source_url)},
            dedupe_key=f"webhook-batch:{batch_id}",
        )
        audit.append(
            conn,
            actor=ACTOR,
            action="webhook.accepted",
            subject=str(batch_id),
            detail={"source": batch.source, "accepted": len(batch.valid), "quarantined": len(batch.invalid)},
            payload_sha256=body_sha256,
        )

    log(logging.INFO, Event.WEBHOOK_ACCEPTED, "webhook batch accepted", stage="webhook", batch_id=str(batch_id))
    return {
        "batch_id": str(batch_id),
        "duplicate": False,
        "records": len(batch.valid) + len(batch.invalid),
        "accepted": len(batch.valid),
        "quarantined": len(batch.invalid),
    }


def store_invalid(
    conn: psycopg.Connection[Any], batch: InvalidBatch, delivery: VerifiedDelivery, body_sha256: str
) -> dict[str, Any]:
    """Quarantine a signed body that is not a usable batch, in one transaction, and return the receipt.

    The receipt is that of `store_delivery` with `invalid`, the violation. A redelivery
    of the same body is a duplicate, as for a valid batch.
    """
    batch_id = uuid.uuid4()
    reason = redact_text(batch.reason[:MAX_REASON_CHARS]).text
    with transaction(conn, role="sxe_api"):
        claimed = conn.execute(
            sql("webhook_claim_delivery"),
            {
                "id": batch_id,
                "source": batch.source,
                "webhook_id": delivery.webhook_id,
                "format": INVALID_SOURCE,
                "pool": INVALID_SOURCE,
                "body_sha256": body_sha256,
                "record_count": 0,
                "accepted": 0,
                "quarantined": 1,
                "sent_at": delivery.sent_at,
            },
        ).fetchone()
        if claimed is None:
            return _duplicate(conn, batch.source, delivery, body_sha256)

        source_file = f"webhook:{batch.source}/{delivery.webhook_id}"
        conn.execute(
            sql("webhook_open_batch"),
            {
                "id": batch_id,
                "source_name": batch.source,
                "source_file": source_file,
                "format": INVALID_SOURCE,
                "collected_at": delivery.sent_at,
                "pool": None,
            },
        )
        conn.execute(
            sql("ingest_quarantine"),
            {
                "batch_id": batch_id,
                "source_file": source_file,
                "location": source_file,
                "format": None,
                "kind": "invalid_batch",
                "reason": reason,
                "content_hash": body_sha256,
                "raw_sha256": body_sha256,
                "payload": None if batch.document is None else Jsonb(redact_value(batch.document)),
            },
        )
        audit.append(
            conn,
            actor=ACTOR,
            action="webhook.batch_invalid",
            subject=str(batch_id),
            detail={"source": batch.source, "reason": reason},
            payload_sha256=body_sha256,
        )

    log(logging.WARNING, Event.WEBHOOK_BATCH_INVALID, reason, stage="webhook", batch_id=str(batch_id))
    return {
        "batch_id": str(batch_id),
        "duplicate": False,
        "records": 0,
        "accepted": 0,
        "quarantined": 1,
        "invalid": reason,
    }


def _duplicate(
    conn: psycopg.Connection[Any], source: str, delivery: VerifiedDelivery, body_sha256: str
) -> dict[str, Any]:
    row = conn.execute(sql("webhook_find_delivery"), {"source": source, "webhook_id": delivery.webhook_id}).fetchone()
    if row is None:
        # The claim met a committed row with this key, and delivery rows are never deleted.
        raise psycopg.OperationalError("the delivery that blocked the claim is gone; retry the delivery")
    if row["body_sha256"] != body_sha256:
        detail = (
            f"webhook-id {delivery.webhook_id!r} of source {source!r} was delivered before with another body"
            f" (batch {row['id']}); give each new batch its own webhook-id, and reuse one only to retry a delivery"
        )
        raise Problem(409, "webhook-id-reused", "Webhook id reused", detail)

    audit.append(
        conn,
        actor=ACTOR,
        action="webhook.duplicate",
        subject=str(row["id"]),
        detail={"source": source},
        payload_sha256=body_sha256,
    )
    log(
        logging.INFO,
        Event.WEBHOOK_DUPLICATE,
        "webhook redelivery acknowledged",
        stage="webhook",
        batch_id=str(row["id"]),
    )
    return {
        "batch_id": str(row["id"]),
        "duplicate": True,
        "records": row["record_count"],
        "accepted": row["accepted"],
        "quarantined": row["quarantined"],
    }


def _kept_records(batch: Batch) -> list[Any]:
    """Return the valid records as received, at their positions in the delivery, with null where a record was invalid.

    The nulls keep each record's index in the delivery, which quarantine locations name.
    A valid record is never null, because null matches no item schema and contains no items.
    The records keep their bios whole: normalization redacts them, keeps their emails and
    phone numbers as bio sightings, and checks those against the suppression list.
    """
    records: list[Any] = [None] * (len(batch.valid) + len(batch.invalid))
    for index, record in batch.valid:
        records[index] = record
    return records


def _quarantine_invalid(conn: psycopg.Connection[Any], batch: Batch, batch_id: uuid.UUID, source_file: str) -> None:
    for index, record, reason in batch.invalid:
        record_hash = content_hash(record)
        conn.execute(
            sql("ingest_quarantine"),
            {
                "batch_id": batch_id,
                "source_file": source_file,
                "location": f"{source_file}[{index}]",
                "format": batch.format,
                "kind": "invalid_shape",
                "reason": redact_text(reason).text,
                "content_hash": record_hash,
                "raw_sha256": record_hash,
                "payload": Jsonb(redact_value(record)),
            },
        )


def _redacted(url: str | None) -> str | None:
    return None if url is None else redact_text(url).text
