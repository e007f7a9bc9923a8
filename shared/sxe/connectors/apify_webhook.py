"""The `ingest/apify` web function: an Apify run-finished webhook queues a pull of the run's dataset.

Apify sends `{"eventType": "ACTOR.RUN.SUCCEEDED", "resource": {"defaultDatasetId": ...}, ...}`
for the webhook's event types. Apify cannot sign a body with a shared secret, so the
webhook is configured with the header `Authorization: Bearer <SXE_APIFY_WEBHOOK_TOKEN>`,
which is compared in constant time. The optional query parameter `format` names the
dataset's ingest format; without it the poll function detects it.

Responses:

- 202 with the job id for a newly queued pull;
- 200 when a pull of the same dataset is already queued, or the event is not a successful run;
- 400 for a body without a dataset id, 401 for a missing or wrong token, 413 for a body over 64 KiB;
- 503 when no token is configured, the database is unreachable or it records
  an environment other than SXE_ENV.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any
from urllib.parse import parse_qs

import psycopg
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from sxe.config import load_settings
from sxe.connectors.poll import enqueue_pull
from sxe.db import transaction
from sxe.errors import DatabaseUnavailable, UsageError
from sxe.ingest.formats import JSON_FORMATS
from sxe.logs import Event, log
from sxe.runtime.environments import checked_connection
from sxe.runtime.handler import logged_as
from sxe.webhooks.handler import Problem, read_request

MAX_BYTES = 64 * 1024
SUCCEEDED = "ACTOR.RUN.SUCCEEDED"


class ApifyWebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SXE_", extra="ignore", frozen=True)

    apify_webhook_token: SecretStr | None = None


@logged_as("ingest/apify")
def handle(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Queue a pull of a finished run's dataset; see the module docstring for every status."""
    try:
        request = read_request(event, MAX_BYTES)
        _authenticate(request.headers)
        dataset_id, format_name = _dataset(request.body, _query(event))
        if dataset_id is None:
            return _response(200, {"queued": False, "reason": "the event is not a successful run"})
        job_id = _enqueue(dataset_id, format_name)
    except Problem as problem:
        log(logging.WARNING, Event.WEBHOOK_REJECTED, problem.detail, stage="pull", status=problem.status)
        return problem.response()

    if job_id is None:
        return _response(200, {"queued": False, "reason": "a pull of this dataset is already queued"})
    return _response(202, {"queued": True, "job_id": job_id})


def _authenticate(headers: dict[str, str]) -> None:
    token = ApifyWebhookSettings().apify_webhook_token
    if token is None:
        raise Problem(503, "not-configured", "Webhook not configured", "SXE_APIFY_WEBHOOK_TOKEN is not set")
    expected = f"Bearer {token.get_secret_value()}".encode()
    received = headers.get("authorization", "").strip().encode()
    if not hmac.compare_digest(expected, received):
        raise Problem(401, "invalid-token", "Invalid token", "header authorization is missing or wrong")


def _query(event: dict[str, Any]) -> dict[str, list[str]]:
    http = event.get("http")
    query = http.get("queryString", "") if isinstance(http, dict) else ""
    return parse_qs(str(query or ""))


def _dataset(body: bytes, query: dict[str, list[str]]) -> tuple[str | None, str | None]:
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Problem(400, "invalid-body", "Invalid body", "the body is not UTF-8 JSON") from None
    if not isinstance(document, dict) or document.get("eventType") != SUCCEEDED:
        return None, None

    resource = document.get("resource")
    dataset_id = resource.get("defaultDatasetId") if isinstance(resource, dict) else None
    if not isinstance(dataset_id, str) or not dataset_id.isalnum():
        raise Problem(400, "invalid-body", "Invalid body", "resource.defaultDatasetId is missing or not an id")

    format_name = query.get("format", [None])[0]
    if format_name is not None and format_name not in JSON_FORMATS:
        raise Problem(400, "invalid-format", "Invalid format", f"query parameter format {format_name!r} is unknown")
    return dataset_id, format_name


def _enqueue(dataset_id: str, format_name: str | None) -> int | None:
    try:
        settings = load_settings()
        with checked_connection(settings, role="sxe_api") as conn, transaction(conn, role="sxe_api"):
            return enqueue_pull(conn, "apify", [dataset_id], format_name=format_name, pool=settings.pool)
    except UsageError as error:
        raise Problem(503, "not-configured", "Webhook not configured", str(error)) from None
    except (DatabaseUnavailable, psycopg.OperationalError):
        raise Problem(
            503, "database-unavailable", "Database unavailable", "the database is unreachable; retry later"
        ) from None


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
