"""`sxe serve` end to end on the repository's own project.yml.

A Standard Webhooks delivery goes into `ingest/webhook`. The cron triggers that
project.yml declares carry it to a bundle: `ops/tick` runs poll, normalize and
alarms every 5 minutes, `enrich/worker` sweeps and buys every 5 minutes, and
`ops/tick` runs handoff hourly. A consumer then downloads the bundle through the
signed URL that `handoff/download` issues. The scheduler's clock runs 600 times faster than real
time, so the 5-minute triggers fire every 0.5 s and the hourly one every 6 s.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
import pytest

from sxe import logs
from sxe.config import load_settings
from sxe.db import connect, transaction
from sxe.handoff.consumers import create_consumer
from sxe.handoff.store import LocalObjectStore
from sxe.pipeline import signing_secret
from sxe.runtime import pool
from sxe.runtime.project import load_project
from sxe.runtime.server import LocalServer
from sxe.webhooks import sign

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT_ROOT / "examples" / "x-api-v1.1-users.jsonl"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"end-to-end-webhook-secret-012345").decode()
SPEEDUP = 600


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[tuple[str, LocalServer]]:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_WEBHOOK_SECRETS", WEBHOOK_SECRET)

    settings = load_settings()
    start, real_start = time.time(), time.monotonic()
    server = LocalServer(
        load_project(PROJECT_ROOT),
        LocalObjectStore(settings.objects_dir),
        signing_secret(settings),
        namespace="fn-test",
        clock=lambda: start + (time.monotonic() - real_start) * SPEEDUP,
        poll_seconds=0.02,
    )
    url = server.start("127.0.0.1", 0)
    # Settings are read per invocation, so download URLs point at this server from here on.
    monkeypatch.setenv("SXE_PUBLIC_BASE_URL", url)
    yield url, server
    server.stop()
    pool.close_pools()


def test_webhook_schedules_and_download(served: tuple[str, LocalServer], database_url: str) -> None:
    url, server = served
    body = webhook_batch()
    hook = f"{url}/api/v1/web/fn-test/ingest/webhook"

    forged = httpx.post(hook, content=body, headers=signed_headers(body, "msg_forged", secret=forged_secret()))
    accepted = httpx.post(hook, content=body, headers=signed_headers(body, "msg_e2e_1"))

    assert forged.status_code == 401
    assert accepted.status_code == 202
    assert accepted.json()["accepted"] > 0

    bundle_id = wait_for_bundle(database_url, timeout_seconds=90)
    # The hourly tick records its firing only after retention, its second task, finished.
    fired = wait_for_firings(server, {("ops/tick", "hourly")}, timeout_seconds=30)
    assert ("ops/tick", "every-5m") in fired
    assert ("enrich/worker", "enrich-every-5m") in fired
    assert ("ops/tick", "hourly") in fired
    assert not [firing for firing in server.scheduler.firings if firing.status >= 500]

    key = add_consumer(database_url)
    issued = httpx.get(
        f"{url}/api/v1/web/fn-test/handoff/download",
        params={"bundle_id": bundle_id},
        headers={"authorization": f"Bearer {key}"},
    )
    assert issued.status_code == 200
    data_url = issued.json()["data_url"]
    assert data_url.startswith(f"{url}/download/")

    download = httpx.get(data_url)
    manifest = httpx.get(issued.json()["manifest_url"]).json()
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/gzip"
    assert hashlib.sha256(download.content).hexdigest() == manifest_sha256(manifest)


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


def webhook_batch() -> bytes:
    """Return a `webhook-batch.v1` body with the X example profiles, because bundles export X but not Instagram."""
    records = [record for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if (record := parse_line(line))]
    batch = {
        "source": "end-to-end-test",
        "format": "x-api-v1.1",
        "pool": "default",
        "collected_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "records": records,
    }
    return json.dumps(batch).encode()


def parse_line(line: str) -> dict[str, object] | None:
    # The example file contains one truncated line on purpose, to exercise quarantine on import.
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def signed_headers(body: bytes, webhook_id: str, *, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(body, webhook_id, timestamp, secret),
    }


def forged_secret() -> str:
    return "whsec_" + base64.b64encode(b"a-key-the-server-does-not-hold!!").decode()


def add_consumer(database_url: str) -> str:
    with connect(database_url, autocommit=True) as conn, transaction(conn):
        return create_consumer(conn, "e2e-crm", ["default"], contact_fields=["emails", "phones"], actor="test")[1]


def manifest_sha256(manifest: dict[str, object]) -> str:
    text = json.dumps(manifest)
    files = manifest.get("files")
    assert isinstance(files, list), text
    return str(files[0]["sha256"])


def wait_for_firings(
    server: LocalServer, expected: set[tuple[str, str]], timeout_seconds: float
) -> set[tuple[str, str]]:
    """Return the (function, trigger) pairs that finished with 200, once they include `expected`."""
    deadline = time.monotonic() + timeout_seconds
    fired: set[tuple[str, str]] = set()
    while time.monotonic() < deadline:
        fired = {(firing.function, firing.trigger) for firing in server.scheduler.firings if firing.status == 200}
        if expected <= fired:
            break
        time.sleep(0.1)
    return fired


def wait_for_bundle(database_url: str, timeout_seconds: float) -> str:
    deadline = time.monotonic() + timeout_seconds
    with connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT id FROM ops.bundles WHERE record_count > 0 ORDER BY created_at LIMIT 1"
            ).fetchone()
            if row is not None:
                return str(row["id"])
            time.sleep(0.1)
    raise AssertionError(f"no bundle with records within {timeout_seconds} s")


def test_sigterm_stops_serve_and_its_database(tmp_path: Path) -> None:
    state = tmp_path / "state"
    command = [sys.executable, "-m", "sxe.cli", "serve", "--port", "0"]
    environment = {**os.environ, "SXE_STATE_DIR": str(state)}
    environment.pop("SXE_DATABASE_URL", None)
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("serving on ")
        postmaster = int((state / "pgdata" / "postmaster.pid").read_text().split()[0])

        process.send_signal(signal.SIGTERM)

        assert process.wait(timeout=60) == 128 + signal.SIGTERM
        assert wait_until_gone(postmaster, timeout_seconds=30)
    finally:
        process.kill()


def wait_until_gone(pid: int, timeout_seconds: float) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_stop_is_logged(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    settings = load_settings()
    server = LocalServer(
        load_project(PROJECT_ROOT), LocalObjectStore(settings.objects_dir), signing_secret(settings), namespace="fn"
    )
    stream = io.StringIO()

    logs.configure("INFO")
    try:
        with logs.copy_to(stream):
            server.start("127.0.0.1", 0)
            server.stop()
    finally:
        logs.configure("WARNING")

    events = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
    assert events.index("server.started") < events.index("server.stopped")
