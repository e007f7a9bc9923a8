"""DigitalOcean Functions entry points for compliance: the authenticated erase web function and scheduled retention.

`erase` is a web function. The caller sends `Authorization: Bearer <SXE_ERASE_TOKEN>`
and a JSON body with exactly one of `subject` (PLATFORM:HANDLE or a profile URL),
`email` or `phone` (with an optional `region`), and optionally its own `request_id`
(a UUID) to tie the receipt to its ticket. The response body is the receipt.
Error bodies name the problem but never echo an email address or phone number.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from typing import Any

from sxe.compliance.erasure import erase as erase_person
from sxe.compliance.erasure import parse_subject
from sxe.compliance.retention import run_retention
from sxe.compliance.suppression import Identifier, email_identifier, phone_identifier, suppression_key
from sxe.config import Settings, load_settings
from sxe.errors import ConfigError, DatabaseUnavailable, SxeError, UsageError
from sxe.handoff.store import LocalObjectStore
from sxe.logs import Event, log
from sxe.runtime.environments import checked_connection
from sxe.runtime.events import problem
from sxe.runtime.handler import logged_as

ERASE_ACTOR = "sxe_worker:erase-function"
RETENTION_ACTOR = "sxe_worker:retention-function"


class Unauthorized(SxeError):
    """The request carries no valid bearer token."""


@logged_as("compliance/erase")
def erase(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Erase the person the request body names; 401 without the right token, 400 for a bad body."""
    try:
        settings = load_settings()
        _authenticate(event, settings)
        identifier = _identifier(event)
        request_id = _request_id(event)
        with checked_connection(settings, role="sxe_api") as conn:
            receipt = erase_person(
                conn,
                LocalObjectStore(settings.objects_dir),
                identifier,
                key=suppression_key(settings),
                actor=ERASE_ACTOR,
                request_id=request_id,
            )
    except Unauthorized as exc:
        response = _failed(401, "unauthorized", exc)
        response["headers"]["WWW-Authenticate"] = "Bearer"
        return response
    except ConfigError as exc:
        # The deployment is misconfigured, not the request: a server-side error.
        return _failed(500, "configuration error", exc)
    except UsageError as exc:
        return _failed(400, "invalid request", exc)
    except DatabaseUnavailable as exc:
        return _failed(503, "service unavailable", exc)
    except SxeError as exc:
        return _failed(500, "erasure failed", exc)
    return {"statusCode": 200, "body": {**receipt.to_json(), "objects_deleted": receipt.objects_deleted}}


def _failed(status: int, title: str, error: SxeError) -> dict[str, Any]:
    """Log an erasure request that failed, then return its problem response."""
    level = logging.WARNING if status < 500 else logging.ERROR
    log(level, Event.FUNCTION_FAILED, f"erasure request failed: {error}", stage="compliance", status=status)
    return problem(status, title, str(error))


@logged_as("compliance/retention")
def retention(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Run retention once (the scheduled trigger); return the counts deleted per table."""
    try:
        settings = load_settings()
        with checked_connection(settings, role="sxe_worker") as conn:
            report = run_retention(conn, settings, actor=RETENTION_ACTOR)
    except ConfigError as exc:
        return {"statusCode": 500, "body": {"error": str(exc)}}
    except UsageError as exc:
        return {"statusCode": 400, "body": {"error": str(exc)}}
    except DatabaseUnavailable as exc:
        return {"statusCode": 503, "body": {"error": str(exc)}}
    return {"statusCode": 200, "body": report.to_json()}


def _authenticate(event: dict[str, Any], settings: Settings) -> None:
    if settings.erase_token is None:
        raise Unauthorized("the erase function is disabled: SXE_ERASE_TOKEN is not set")
    scheme, _, token = _header(event, "authorization").partition(" ")
    expected = settings.erase_token.get_secret_value()
    # compare_digest takes the same time wherever the strings differ.
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise Unauthorized("missing or invalid bearer token; send Authorization: Bearer <SXE_ERASE_TOKEN>")


def _header(event: dict[str, Any], name: str) -> str:
    # DO web functions pass headers under `http.headers`, older runtimes under `__ow_headers`.
    headers = (event.get("http") or {}).get("headers") or event.get("__ow_headers") or {}
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return ""


def _identifier(event: dict[str, Any]) -> Identifier:
    given = [name for name in ("subject", "email", "phone") if event.get(name)]
    if len(given) != 1:
        raise UsageError(f"the body needs exactly one of 'subject', 'email' or 'phone' (got {sorted(given)})")
    if event.get("email"):
        return email_identifier(str(event["email"]))
    if event.get("phone"):
        return phone_identifier(str(event["phone"]), str(event.get("region") or "US"))
    return parse_subject(str(event["subject"]))


def _request_id(event: dict[str, Any]) -> uuid.UUID | None:
    if not event.get("request_id"):
        return None
    try:
        return uuid.UUID(str(event["request_id"]))
    except ValueError:
        raise UsageError(f"request_id {event['request_id']!r} is not a UUID; send a UUID or leave it out") from None
