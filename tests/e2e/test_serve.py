"""`sxe serve` end to end: a signed webhook in, cron triggers through the pipeline, a bundle download out.

The test project holds the repository's real functions plus `hooks/signed`, a
`web: raw` function that checks an HMAC signature over the raw body before it
imports the body, because the repository has no signed webhook function of its own yet.
The scheduler's clock runs 600 times faster than real time, so the every-minute
cron triggers fire every 0.1 s.
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from sxe.config import load_settings
from sxe.db import connect
from sxe.handoff.signing import sign_url
from sxe.handoff.store import LocalObjectStore
from sxe.pipeline import signing_secret
from sxe.runtime import pool
from sxe.runtime.project import load_project
from sxe.runtime.server import LocalServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT_ROOT / "examples" / "x-api-v1.1-users.jsonl"
WEBHOOK_SECRET = "webhook-secret-for-tests"
SPEEDUP = 600

WEBHOOK_HANDLER = """
import hashlib
import hmac
import os

from sxe.functions import import_file
from sxe.runtime.events import parse_event, problem


def main(event, context=None):
    request = parse_event(event)
    expected = hmac.new(os.environ["SXE_TEST_WEBHOOK_SECRET"].encode(), request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.header("x-signature") or ""):
        return problem(401, "unauthorized", "the x-signature header does not match the body")
    return import_file({"content": request.body.decode("utf-8"), "name": "hook.jsonl", "format": "x-api-v1.1"}, context)
"""

PROJECT = {
    "environment": {"SXE_DATABASE_URL": "${SXE_DATABASE_URL}", "SXE_TEST_WEBHOOK_SECRET": WEBHOOK_SECRET},
    "packages": [
        {
            "name": "hooks",
            "functions": [
                {"name": "signed", "runtime": "python:3.11", "web": "raw", "limits": {"timeout": 60000, "memory": 256}}
            ],
        },
        {
            "name": "ops",
            "functions": [
                {"name": "health", "runtime": "python:3.11", "web": True, "limits": {"timeout": 30000, "memory": 256}},
                {
                    "name": "tick",
                    "runtime": "python:3.11",
                    "web": False,
                    "limits": {"timeout": 600000, "memory": 512},
                    "triggers": [
                        {
                            "name": "every-minute",
                            "sourceType": "scheduler",
                            "sourceDetails": {
                                "cron": "* * * * *",
                                "withBody": {"trigger": "every-minute", "tasks": ["normalize", "enrich"]},
                            },
                        }
                    ],
                },
            ],
        },
        {
            "name": "handoff",
            "functions": [
                {
                    "name": "bundle",
                    "runtime": "python:3.11",
                    "web": False,
                    "limits": {"timeout": 300000, "memory": 512},
                    "triggers": [
                        {
                            "name": "every-2m",
                            "sourceType": "scheduler",
                            "sourceDetails": {"cron": "*/2 * * * *", "withBody": {"trigger": "every-2m"}},
                        }
                    ],
                }
            ],
        },
    ],
}


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[tuple[str, LocalServer]]:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("SXE_TEST_WEBHOOK_SECRET", raising=False)
    root = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "packages", root / "packages", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "packages" / "hooks" / "signed").mkdir(parents=True)
    (root / "packages" / "hooks" / "signed" / "__main__.py").write_text(WEBHOOK_HANDLER, encoding="utf-8")
    (root / "project.yml").write_text(yaml.safe_dump(PROJECT), encoding="utf-8")

    settings = load_settings()
    start, real_start = time.time(), time.monotonic()
    server = LocalServer(
        load_project(root),
        LocalObjectStore(settings.objects_dir),
        signing_secret(settings),
        namespace="fn-test",
        clock=lambda: start + (time.monotonic() - real_start) * SPEEDUP,
        poll_seconds=0.02,
    )
    url = server.start("127.0.0.1", 0)
    yield url, server
    server.stop()
    pool.close_pools()


def test_webhook_schedules_and_download(served: tuple[str, LocalServer], database_url: str) -> None:
    url, server = served
    body = EXAMPLE.read_bytes()
    signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    hook = f"{url}/api/v1/web/fn-test/hooks/signed"

    forged = httpx.post(hook, content=body, headers={"x-signature": "0" * 64, "content-type": "application/x-ndjson"})
    accepted = httpx.post(
        hook, content=body, headers={"x-signature": signature, "content-type": "application/x-ndjson"}
    )

    assert forged.status_code == 401
    assert accepted.status_code == 200
    assert accepted.json()["ingested"] > 0

    bundle = wait_for_bundle(database_url, timeout_seconds=30)
    firings = {firing.trigger for firing in server.scheduler.firings if firing.status == 200}
    assert {"every-minute", "every-2m"} <= firings

    settings = load_settings()
    download = httpx.get(sign_url(url, bundle["data_key"], signing_secret(settings), 60))
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/gzip"
    assert hashlib.sha256(download.content).hexdigest() == bundle["sha256"]


def test_health_endpoints_answer(served: tuple[str, LocalServer]) -> None:
    url, _ = served

    assert httpx.get(f"{url}/health/live").json() == {"status": "alive"}
    assert httpx.get(f"{url}/health/ready").json()["status"] == "ready"
    assert httpx.get(f"{url}/api/v1/web/fn-test/ops/health", params={"check": "ready"}).status_code == 200


def test_non_web_function_is_not_served(served: tuple[str, LocalServer]) -> None:
    url, _ = served

    response = httpx.post(f"{url}/api/v1/web/fn-test/ops/tick", json={"tasks": ["normalize"]})

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_wrong_namespace_is_not_found(served: tuple[str, LocalServer]) -> None:
    url, _ = served

    assert httpx.get(f"{url}/api/v1/web/other/ops/health").status_code == 404


def test_parsed_event_rejects_non_object_json(served: tuple[str, LocalServer]) -> None:
    url, _ = served

    response = httpx.post(f"{url}/api/v1/web/fn-test/ops/health", json=[1, 2])

    assert response.status_code == 400
    assert "must be an object" in response.json()["detail"]


def wait_for_bundle(database_url: str, timeout_seconds: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout_seconds
    with connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT data_key, sha256 FROM ops.bundles WHERE record_count > 0 ORDER BY created_at LIMIT 1"
            ).fetchone()
            if row is not None:
                return dict(row)
            time.sleep(0.1)
    raise AssertionError(f"no bundle with records within {timeout_seconds} s")
