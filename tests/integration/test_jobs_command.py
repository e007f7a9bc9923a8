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
def test_list_names_each_lookup_card(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    card_id = "4f0c6f4e-1d2b-4c55-9a43-0f2b1e7d9a10"
    conn.execute(
        "INSERT INTO ops.jobs (queue, payload, state) VALUES ('enrich', %s, 'cancelled')",
        (Jsonb({"card_id": card_id, "request": {"name": "Ana Example"}}),),
    )
    add_job(conn, "pull", "cancelled")

    status, listing = run(capsys, "list", "--state", "cancelled")
    assert main(["jobs", "list", "--state", "cancelled"]) == 0
    text = capsys.readouterr().out

    assert status == 0
    assert [job["card_id"] for job in listing["jobs"]] == [None, card_id]
    assert f"card {card_id}" in text
    assert "Ana Example" not in text


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


def add_enrich_job(conn: psycopg.Connection[Any], readiness: str, index: int = 0) -> tuple[int, str]:
    """Add a dead enrichment job whose card (seed number `index`) is in `readiness`; return the job and card ids."""
    seeded = seed_card(conn, "makers", index, readiness=readiness)
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


def readiness_moves(conn: psycopg.Connection[Any], card_id: str) -> list[tuple[str, str, str | None]]:
    """Return the card's readiness events as (previous, readiness, reason), oldest first."""
    rows = conn.execute(
        "SELECT data FROM ops.events WHERE type = 'card.readiness_changed' AND subject_id = %s ORDER BY id",
        (card_id,),
    ).fetchall()
    return [(row["data"]["previous"], row["data"]["readiness"], row["data"].get("reason")) for row in rows]


@pytest.mark.parametrize("readiness", ["ready", "handed_off"])
@pytest.mark.usefixtures("environment")
def test_passed_on_card_goes_back_to_tagged(
    conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str], readiness: str
) -> None:
    job_id, card_id = add_enrich_job(conn, readiness)

    status, result = run(capsys, "requeue", str(job_id))

    card = conn.execute("SELECT readiness FROM execution.lead_cards WHERE id = %s", (card_id,)).fetchone()
    job = conn.execute("SELECT state FROM ops.jobs WHERE id = %s", (job_id,)).fetchone()
    assert status == 0
    assert result["cards_back_to_gate"] == [card_id]
    assert result["closed"] == [job_id]
    assert result["still_dead"] == {}
    assert card["readiness"] == "tagged"
    assert job["state"] == "cancelled"
    assert readiness_moves(conn, card_id) == [
        (readiness, "stale", "dead job requeued"),
        ("stale", "tagged", "dead job requeued"),
    ]


@pytest.mark.usefixtures("environment")
def test_card_decided_since_stays_put(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    job_id, card_id = add_enrich_job(conn, "handed_off")
    conn.execute(
        "INSERT INTO ops.enrichment_decisions (card_id, provider, decision, reason, simulated)"
        " VALUES (%s, 'apollo', 'skip', 'cooldown_matched', false)",
        (card_id,),
    )

    status, result = run(capsys, "requeue", str(job_id))

    card = conn.execute("SELECT readiness FROM execution.lead_cards WHERE id = %s", (card_id,)).fetchone()
    assert status == 0
    assert result["closed"] == [job_id]
    assert result["cards_back_to_gate"] == []
    assert card["readiness"] == "handed_off"


@pytest.mark.usefixtures("environment")
def test_two_dead_jobs_move_card_once(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    first, card_id = add_enrich_job(conn, "handed_off")
    second = conn.execute(
        "INSERT INTO ops.jobs (queue, payload, state, attempts, max_attempts) VALUES ('enrich', %s, 'dead', 1, 5)"
        " RETURNING id",
        (Jsonb({"card_id": card_id, "pool": "makers"}),),
    ).fetchone()["id"]

    status, result = run(capsys, "requeue", str(first), str(second))

    assert status == 0
    assert result["closed"] == [first, second]
    assert result["cards_back_to_gate"] == [card_id]
    assert [move[1] for move in readiness_moves(conn, card_id)] == ["stale", "tagged"]


@pytest.mark.parametrize("readiness", ["suppressed", "merged"])
@pytest.mark.usefixtures("environment")
def test_finished_card_job_is_closed(
    conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str], readiness: str
) -> None:
    job_id, card_id = add_enrich_job(conn, readiness)
    conn.execute("UPDATE ops.jobs SET last_error = %s WHERE id = %s", (Jsonb({"class": "ProviderError"}), job_id))

    status = main(["jobs", "requeue", str(job_id)])
    text = capsys.readouterr().out

    job = conn.execute("SELECT state, last_error FROM ops.jobs WHERE id = %s", (job_id,)).fetchone()
    assert status == 0
    assert text.startswith("0 dead jobs back in their queue")
    assert f"1 dead enrichment jobs closed: {job_id}" in text
    assert f"enrichment job {job_id} closed: its card is {readiness}, so no lookup can be recorded" in text
    assert "back at the gate" not in text
    assert job["state"] == "cancelled"
    assert job["last_error"] == {"class": "ProviderError"}
    assert readiness_moves(conn, card_id) == []


@pytest.mark.usefixtures("environment")
def test_job_of_missing_card_is_closed(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    job_id = conn.execute(
        "INSERT INTO ops.jobs (queue, payload, state, attempts, max_attempts) VALUES ('enrich', %s, 'dead', 1, 5)"
        " RETURNING id",
        (Jsonb({"card_id": "00000000-0000-4000-8000-000000000001", "erased_by": "an erasure"}),),
    ).fetchone()["id"]

    status, result = run(capsys, "requeue", "--queue", "enrich")

    job = conn.execute("SELECT state FROM ops.jobs WHERE id = %s", (job_id,)).fetchone()
    assert status == 0
    assert result["closed"] == [job_id]
    assert result["close_reasons"] == {str(job_id): "its card no longer exists, so no lookup can be recorded for it"}
    assert result["still_dead"] == {}
    assert job["state"] == "cancelled"


@pytest.mark.usefixtures("environment")
def test_requeue_exits_1_for_left_id(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    dead = add_job(conn, "pull", "dead")
    done = add_job(conn, "pull", "succeeded")

    status, result = run(capsys, "requeue", str(dead), str(done))
    text_status = main(["jobs", "requeue", str(done)])
    text = capsys.readouterr().out

    assert status == 1
    assert result["requeued"] == [dead]
    assert result["not_requeued"] == {str(done): "the job is succeeded, not dead"}
    assert text_status == 1
    assert f"job {done} not requeued: the job is succeeded, not dead" in text


@pytest.mark.usefixtures("environment")
def test_requeue_exits_1_for_dead_left(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    job_id, _ = add_enrich_job(conn, "enriched")

    status, result = run(capsys, "requeue", str(job_id))

    assert status == 1
    assert result["still_dead"] == {str(job_id): "enriched"}


@pytest.mark.usefixtures("environment")
def test_queue_requeue_exit_status(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    add_job(conn, "normalize", "dead")

    empty_status, empty = run(capsys, "requeue", "--queue", "enrich")
    text_status = main(["jobs", "requeue", "--queue", "enrich"])
    text = capsys.readouterr().out
    moved, _ = add_enrich_job(conn, "enrichment_failed")
    suppressed, _ = add_enrich_job(conn, "suppressed", index=1)
    enriched, _ = add_enrich_job(conn, "enriched", index=2)
    status, result = run(capsys, "requeue", "--queue", "enrich")

    assert empty_status == 1
    assert (empty["requeued"], empty["closed"]) == ([], [])
    assert empty["queue_reason"] == "no dead job in queue enrich"
    assert text_status == 1
    assert text.splitlines() == ["0 dead jobs back in their queue", "  no dead job in queue enrich"]
    assert status == 0
    assert result["closed"] == [moved, suppressed]
    assert result["still_dead"] == {str(enriched): "enriched"}
    assert result["queue_reason"] is None


@pytest.mark.usefixtures("environment")
def test_queue_requeue_names_blocked_jobs(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    add_job(conn, "pull", "dead", dedupe_key="handle:1")
    add_job(conn, "pull", "queued", dedupe_key="handle:1")

    status, result = run(capsys, "requeue", "--queue", "pull")

    assert status == 1
    assert result["requeued"] == []
    assert result["queue_reason"] == (
        "dead jobs left in queue pull: 1, because a queued or running job has the dedupe key of each"
    )


@pytest.mark.usefixtures("environment")
def test_requeue_rejects_unknown_queue(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    reports = add_job(conn, "reports", "dead")
    dead = add_job(conn, "pull", "dead")

    status = main(["jobs", "requeue", "--queue", "enrichment"])
    error = capsys.readouterr().err
    json_status = main(["jobs", "requeue", "--queue", "enrichment", "--json"])
    report = json.loads(capsys.readouterr().out)
    found_status, found = run(capsys, "requeue", "--queue", "reports")

    assert status == 2
    assert "queue 'enrichment' is unknown: use one of enrich, normalize, pull, reports" in error
    assert json_status == 2
    assert "'enrichment'" in report["error"]["message"]
    assert conn.execute("SELECT state FROM ops.jobs WHERE id = %s", (dead,)).fetchone()["state"] == "dead"
    assert found_status == 0
    assert found["requeued"] == [reports]


def test_requeue_help_names_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["jobs", "requeue", "--help"])
    text = " ".join(capsys.readouterr().out.split())

    assert "Exit status: 0 when every id given was requeued or closed" in text
    assert "1 when an id given was left alone" in text
    assert "from ready or handed_off back to tagged" in text
    assert "card no longer exists, is suppressed (erased) or is merged is closed as well" in text
    assert "2 for an unusable argument such as an unknown --queue" in text
