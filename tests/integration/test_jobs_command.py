"""`sxe jobs list` and `sxe jobs requeue` against a real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from handoff_support import seed_card
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
    dead = add_job(conn, "pull", "dead")
    add_job(conn, "pull", "queued")

    status, listing = run(capsys, "list", "--state", "dead")

    assert status == 0
    assert [job["id"] for job in listing["jobs"]] == [dead]
    assert listing["jobs"][0]["last_error"]["class"] == "ProviderError"
    assert "payload" not in listing["jobs"][0]


@pytest.mark.usefixtures("environment")
def test_requeue_by_id_resets_attempts(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    dead = add_job(conn, "pull", "dead")
    other = add_job(conn, "pull", "dead")

    status, result = run(capsys, "requeue", str(dead))

    rows = {row["id"]: row for row in conn.execute("SELECT id, state, attempts, last_error FROM ops.jobs")}
    assert status == 0
    assert result["requeued"] == [dead]
    assert result["not_requeued"] == {}
    assert rows[dead]["state"] == "queued"
    assert rows[dead]["attempts"] == 0
    assert rows[dead]["last_error"]["class"] == "ProviderError"
    assert rows[other]["state"] == "dead"


@pytest.mark.usefixtures("environment")
def test_requeue_by_queue_moves_only_dead(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    first = add_job(conn, "normalize", "dead")
    second = add_job(conn, "normalize", "dead")
    add_job(conn, "normalize", "succeeded")
    add_job(conn, "pull", "dead")

    _, result = run(capsys, "requeue", "--queue", "normalize")

    assert sorted(result["requeued"]) == [first, second]


@pytest.mark.usefixtures("environment")
def test_requeue_keeps_live_dedupe_key(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    blocked = add_job(conn, "pull", "dead", dedupe_key="handle:1")
    add_job(conn, "pull", "queued", dedupe_key="handle:1")
    older = add_job(conn, "pull", "dead", dedupe_key="handle:2")
    newer = add_job(conn, "pull", "dead", dedupe_key="handle:2")

    _, result = run(capsys, "requeue", "--queue", "pull")

    assert result["requeued"] == [newer]
    states = {row["id"]: row["state"] for row in conn.execute("SELECT id, state FROM ops.jobs")}
    assert states[blocked] == "dead"
    assert states[older] == "dead"


@pytest.mark.usefixtures("environment")
def test_requeue_is_audited(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    dead = add_job(conn, "pull", "dead")
    missing = dead + 100

    _, result = run(capsys, "requeue", str(dead), str(missing))

    row = conn.execute("SELECT actor, detail FROM ops.audit_log WHERE action = 'jobs.requeued'").fetchone()
    assert result["not_requeued"] == {str(missing): "no job has this id"}
    assert row["actor"] == "sxe_worker:cli"
    assert row["detail"]["requeued"] == [dead]


@pytest.mark.usefixtures("environment")
def test_requeue_needs_ids_or_queue(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["jobs", "requeue"])

    assert status == 2
    assert "give their ids, or --queue NAME" in capsys.readouterr().err


@pytest.mark.usefixtures("environment")
def test_requeued_job_is_claimed_again(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    dead = add_job(conn, "pull", "dead")
    run(capsys, "requeue", str(dead))

    with transaction(conn, role="sxe_worker"):
        claimed = jobs.claim(conn, "pull", limit=5)

    assert [job.id for job in claimed] == [dead]
    assert claimed[0].attempts == 1


def add_enrich_job(conn: psycopg.Connection[Any], readiness: str) -> tuple[int, str]:
    """Add a dead enrichment job whose card is in `readiness`; return the job id and card id."""
    seeded = seed_card(conn, "makers", 0, readiness=readiness)
    row = conn.execute(
        "INSERT INTO ops.jobs (queue, payload, state, attempts, max_attempts) VALUES ('enrich', %s, 'dead', 1, 5)"
        " RETURNING id",
        (Jsonb({"card_id": str(seeded.card_id), "pool": "makers"}),),
    ).fetchone()
    return int(row["id"]), str(seeded.card_id)


@pytest.mark.usefixtures("environment")
def test_failed_card_goes_back_to_gate(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    job_id, card_id = add_enrich_job(conn, "enrichment_failed")

    _, result = run(capsys, "requeue", "--queue", "enrich")

    card = conn.execute("SELECT readiness FROM execution.lead_cards WHERE id = %s", (card_id,)).fetchone()
    job = conn.execute("SELECT state FROM ops.jobs WHERE id = %s", (job_id,)).fetchone()
    assert result["cards_back_to_gate"] == [card_id]
    assert result["closed"] == [job_id]
    assert result["requeued"] == []
    assert card["readiness"] == "qualified"
    assert job["state"] == "cancelled"


@pytest.mark.usefixtures("environment")
def test_job_of_card_at_gate_is_closed(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    job_id, _ = add_enrich_job(conn, "qualified")

    _, result = run(capsys, "requeue", str(job_id))

    assert result["closed"] == [job_id]
    assert result["cards_back_to_gate"] == []


@pytest.mark.usefixtures("environment")
def test_requeue_names_each_refusal(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    done = add_job(conn, "pull", "succeeded")
    elsewhere = add_job(conn, "normalize", "dead")

    main(["jobs", "requeue", str(done), str(elsewhere), "999999", "--queue", "pull"])
    text = capsys.readouterr().out

    assert f"job {done} not requeued: the job is succeeded, not dead" in text
    assert f"job {elsewhere} not requeued: the job is in queue normalize, not pull" in text
    assert "job 999999 not requeued: no job has this id" in text


@pytest.mark.usefixtures("environment")
def test_handed_off_card_keeps_job_dead(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    job_id, _ = add_enrich_job(conn, "handed_off")

    main(["jobs", "requeue", str(job_id)])
    text = capsys.readouterr().out

    job = conn.execute("SELECT state FROM ops.jobs WHERE id = %s", (job_id,)).fetchone()
    assert text.startswith("0 dead jobs back in their queue")
    assert f"enrichment job {job_id} stays dead: its card is handed_off" in text
    assert job["state"] == "dead"
