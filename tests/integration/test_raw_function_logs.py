"""The functions that read their event raw log with the function name, activation id and correlation id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from handoff_support import web_event

from sxe import logs
from sxe.compliance.functions import erase
from sxe.handoff import api
from sxe.handoff.consumers import create_consumer
from sxe.webhooks import handle

SECRET = "whsec_" + "c2VjcmV0LWZvci1sb2ctdGVzdHMtb25seQ=="


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    stream = io.StringIO()
    logs.configure("INFO")
    with logs.copy_to(stream):
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logs.configure("WARNING")


def test_webhook_rejection_names_function(
    monkeypatch: pytest.MonkeyPatch, database_url: str, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_WEBHOOK_SECRETS", SECRET)

    answer = handle(web_event("POST", body={"records": []}, headers={"x-request-id": "req-42"}))

    (rejected,) = [line for line in log_lines() if line["event"] == "webhook.rejected"]
    assert answer["statusCode"] == 401
    assert rejected["function"] == "ingest/webhook"
    assert rejected["correlation_id"] == "req-42"
    assert rejected["activation_id"]


def test_pull_api_rejection_names_function(
    monkeypatch: pytest.MonkeyPatch, database_url: str, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)

    answer = api.cards(web_event("GET", key="not-a-key"))
    logs.log(logging.INFO, logs.Event.RUN_STARTED, "a line after the call")

    lines = log_lines()
    (rejected,) = [line for line in lines if line["event"] == "api.rejected"]
    assert answer["statusCode"] == 401
    assert rejected["function"] == "handoff/cards"
    assert rejected["correlation_id"] == rejected["activation_id"]
    assert "function" not in lines[-1]


def test_refused_erasure_is_logged(
    monkeypatch: pytest.MonkeyPatch, database_url: str, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_ERASE_TOKEN", "t" * 40)
    headers = {"authorization": "Bearer " + "x" * 40, "x-correlation-id": "erase-7"}

    answer = erase({"subject": "x:dana_w", "http": {"headers": headers}})

    (failed,) = [line for line in log_lines() if line["event"] == "function.failed"]
    assert answer["statusCode"] == 401
    assert failed["function"] == "compliance/erase"
    assert failed["status"] == 401
    assert failed["correlation_id"] == "erase-7"


def test_served_page_is_logged(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    conn: psycopg.Connection[Any],
    log_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    key = create_consumer(conn, "crm", ["makers"], contact_fields=["emails"], actor="test")[1]

    answer = api.cards(web_event("GET", key=key, headers={"x-request-id": "feed-1"}))

    (served,) = [line for line in log_lines() if line["event"] == "api.served"]
    assert answer["statusCode"] == 200
    assert served["consumer"] == "crm"
    assert served["status"] == 200
    assert served["correlation_id"] == "feed-1"
    assert key not in json.dumps(log_lines())
