"""`sxe jobs list` and `sxe jobs requeue` against a real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from sxe import jobs
from sxe.cli import main
from sxe.db import transaction


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))


def add_job(conn: psycopg.Connection[Any], queue: str, state: str, dedupe_key: str | None = None) -> int:
    error = {"attempt": 5, "class": "ProviderError", "message": "HTTP 500 from the provider", "status_code": 500}
    row = conn.execute(
        "INSERT INTO ops.jobs (queue, payload, state, attempts, max_attempts, dedupe_key, last_error)"
        " VALUES (%s, '{}', %s, %s, 5, %s, %s) RETURNING id",
        (queue, state, 5 if state == "dead" else 0, dedupe_key, Jsonb(error) if state == "dead" else None),
    ).fetchone()
    return int(row["id"])


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    status = main(["jobs", *args, "--json"])
    return status, json.loads(capsys.readouterr().out)


@pytest.mark.usefixtures("environment")
def test_list_shows_dead_jobs_with_error(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    dead = add_job(conn, "enrich", "dead")
    add_job(conn, "enrich", "queued")

    status, listing = run(capsys, "list", "--state", "dead")

    assert status == 0
    assert [job["id"] for job in listing["jobs"]] == [dead]
    assert listing["jobs"][0]["last_error"]["class"] == "ProviderError"
    assert "payload" not in listing["jobs"][0]


@pytest.mark.usefixtures("environment")
def test_requeue_by_id_resets_attempts(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    dead = add_job(conn, "enrich", "dead")
    other = add_job(conn, "enrich", "dead")

    status, result = run(capsys, "requeue", str(dead))

    rows = {row["id"]: row for row in conn.execute("SELECT id, state, attempts, last_error FROM ops.jobs")}
    assert status == 0
    assert result == {"requeued": [dead], "not_requeued": []}
    assert rows[dead]["state"] == "queued"
    assert rows[dead]["attempts"] == 0
    assert rows[dead]["last_error"]["class"] == "ProviderError"
    assert rows[other]["state"] == "dead"


@pytest.mark.usefixtures("environment")
def test_requeue_by_queue_moves_only_dead(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    first = add_job(conn, "normalize", "dead")
    second = add_job(conn, "normalize", "dead")
    add_job(conn, "normalize", "succeeded")
    add_job(conn, "enrich", "dead")

    _, result = run(capsys, "requeue", "--queue", "normalize")

    assert sorted(result["requeued"]) == [first, second]


@pytest.mark.usefixtures("environment")
def test_requeue_keeps_live_dedupe_key(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    blocked = add_job(conn, "enrich", "dead", dedupe_key="card:1")
    add_job(conn, "enrich", "queued", dedupe_key="card:1")
    older = add_job(conn, "enrich", "dead", dedupe_key="card:2")
    newer = add_job(conn, "enrich", "dead", dedupe_key="card:2")

    _, result = run(capsys, "requeue", "--queue", "enrich")

    assert result["requeued"] == [newer]
    states = {row["id"]: row["state"] for row in conn.execute("SELECT id, state FROM ops.jobs")}
    assert states[blocked] == "dead"
    assert states[older] == "dead"


@pytest.mark.usefixtures("environment")
def test_requeue_is_audited(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    dead = add_job(conn, "enrich", "dead")
    missing = dead + 100

    _, result = run(capsys, "requeue", str(dead), str(missing))

    row = conn.execute("SELECT actor, detail FROM ops.audit_log WHERE action = 'jobs.requeued'").fetchone()
    assert result["not_requeued"] == [missing]
    assert row["actor"] == "sxe_worker:cli"
    assert row["detail"]["requeued"] == [dead]


@pytest.mark.usefixtures("environment")
def test_requeue_needs_ids_or_queue(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["jobs", "requeue"])

    assert status == 2
    assert "give their ids, or --queue NAME" in capsys.readouterr().err


@pytest.mark.usefixtures("environment")
def test_requeued_job_is_claimed_again(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    dead = add_job(conn, "enrich", "dead")
    run(capsys, "requeue", str(dead))

    with transaction(conn, role="sxe_worker"):
        claimed = jobs.claim(conn, "enrich", limit=5)

    assert [job.id for job in claimed] == [dead]
    assert claimed[0].attempts == 1
