"""Every deployed function rejects a database recorded for another environment before it stores anything."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import pytest

from sxe.connectors.poll import enqueue_pull
from sxe.db import connect, transaction
from sxe.runtime.environments import record_environment
from sxe.webhooks import sign

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = PROJECT_ROOT / "packages"
WEBHOOK_SECRET = "whsec_" + "c2lnbmluZy1zZWNyZXQtZm9yLWVudmlyb25tZW50LXRlc3Q="
WEBHOOK_BATCH = json.loads((PROJECT_ROOT / "contracts/ingest/examples/webhook-batch.v1.json").read_text("utf-8"))
TOKEN = "environment-test-token"
MISMATCH = "belongs to environment 'staging'"
# Schemas whose rows a function invocation writes; ops.environment is written by the test itself.
DATA_SCHEMAS = ("social", "execution", "contact", "ops")


def load_main(function: str) -> Any:
    path = PACKAGES / function / "__main__.py"
    spec = importlib.util.spec_from_file_location("handler_" + function.replace("/", "_"), path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def web_event(
    method: str, body: Any = "", headers: dict[str, str] | None = None, query: str = "", path: str = ""
) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    http = {"body": text, "headers": headers or {}, "method": method, "path": path, "queryString": query}
    return {"http": {**http, "isBase64Encoded": False}}


def signed_batch() -> dict[str, Any]:
    data = json.dumps(WEBHOOK_BATCH).encode()
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": "msg_environment",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(data, "msg_environment", timestamp, WEBHOOK_SECRET),
    }
    return web_event("POST", data.decode(), headers)


BEARER = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
APIFY_RUN = {"eventType": "ACTOR.RUN.SUCCEEDED", "resource": {"id": "run1", "defaultDatasetId": "dataset123"}}

# Each function folder with an event it accepts in its own environment.
EVENTS: dict[str, dict[str, Any]] = {
    # Signed when the test runs (see `event_for`): the signature is valid for a few minutes only.
    "ingest/webhook": {},
    "ingest/apify": web_event("POST", APIFY_RUN, BEARER),
    "ingest/poll": {},
    "ingest/import": {"content": json.dumps(WEBHOOK_BATCH["records"]), "name": "records.json", "format": "x-api-v2"},
    "normalize/batch": {},
    "enrich/run": {},
    "enrich/sweep": {},
    "enrich/worker": {},
    "enrich/callback": web_event("POST", {"request_id": 1, "people": []}, query=f"token={TOKEN}"),
    "handoff/bundle": {},
    "handoff/cards": web_event("GET", headers=BEARER),
    "handoff/erasures": web_event("GET", headers=BEARER),
    "handoff/merges": web_event("GET", headers=BEARER),
    "handoff/queue": web_event("POST", {"max_messages": 1}, BEARER, path="/pull"),
    "handoff/download": web_event("GET", headers=BEARER, query="bundle_id=x"),
    # DigitalOcean passes a web function's parsed JSON body as top-level event keys.
    "compliance/erase": {"subject": "x:someone", "http": {"headers": BEARER, "method": "POST"}},
    "compliance/retention": {},
    "ops/health": {"check": "ready"},
    "ops/alarms": {},
    "ops/tick": {"tasks": ["poll"]},
}


def event_for(function: str) -> dict[str, Any]:
    return signed_batch() if function == "ingest/webhook" else EVENTS[function]


def test_every_function_has_an_event() -> None:
    folders = {f"{path.parent.parent.name}/{path.parent.name}" for path in PACKAGES.glob("*/*/__main__.py")}

    assert folders == set(EVENTS)


def snapshot(database_url: str) -> dict[str, Any]:
    """Return the row count of every data table and the states of the queued jobs."""
    with connect(database_url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables"
            " WHERE table_type = 'BASE TABLE' AND table_schema = ANY(%s) ORDER BY 1",
            (list(DATA_SCHEMAS),),
        ).fetchall()
        counts = {
            row["name"]: conn.execute(f"SELECT count(*) AS n FROM {row['name']}").fetchone()["n"] for row in tables
        }
        states = conn.execute("SELECT id, state, attempts FROM ops.jobs ORDER BY id").fetchall()
    return {"rows": counts, "jobs": states}


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    """Production settings whose SXE_DATABASE_URL points at a database recorded for staging."""
    with connect(database_url, autocommit=True) as conn:
        record_environment(conn, "staging")
        with transaction(conn, role="sxe_api"):
            enqueue_pull(conn, "apify", ["queued123"])
    monkeypatch.setenv("SXE_ENV", "production")
    monkeypatch.setenv("SXE_ENVIRONMENT", "production")
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_SIGNING_KEY", "k" * 32)
    monkeypatch.setenv("SXE_WEBHOOK_SECRETS", WEBHOOK_SECRET)
    monkeypatch.setenv("SXE_APIFY_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("SXE_APOLLO_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("SXE_ERASE_TOKEN", TOKEN)
    monkeypatch.setenv("SXE_SUPPRESSION_KEY", "environment-test-suppression-key-0123")
    # Without a token the queued pull fails before any request leaves the machine.
    monkeypatch.delenv("SXE_APIFY_TOKEN", raising=False)
    return database_url


@pytest.mark.parametrize("function", sorted(EVENTS))
def test_function_rejects_staging_database(function: str, production: str, caplog: pytest.LogCaptureFixture) -> None:
    before = snapshot(production)

    response = load_main(function)(event_for(function), None)

    body = response["body"] if isinstance(response["body"], str) else json.dumps(response["body"])
    assert response["statusCode"] in (500, 503)
    assert MISMATCH in body or MISMATCH in caplog.text
    assert snapshot(production) == before


@pytest.mark.parametrize("function", ["ingest/webhook", "ingest/apify", "ingest/poll"])
def test_ingest_function_runs_in_recorded_environment(function: str, production: str) -> None:
    with connect(production, autocommit=True) as conn:
        conn.execute("UPDATE ops.environment SET name = 'production'")

    response = load_main(function)(event_for(function), None)

    assert response["statusCode"] in (200, 202)
