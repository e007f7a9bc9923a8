"""Health checks, heartbeats, alarms and the per-container pool, against a real database."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sxe import functions
from sxe.db import connect
from sxe.runtime import alarms, health, pool

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT_ROOT / "examples" / "x-api-v1.1-users.jsonl"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    yield database_url
    pool.close_pools()


def add_jobs(conn: psycopg.Connection[Any], state: str, count: int, age: str = "0 seconds") -> None:
    for _ in range(count):
        conn.execute(
            "INSERT INTO ops.jobs (queue, payload, state, run_after, attempts) "
            "VALUES ('enrich', '{}', %s, now() - %s::interval, CASE WHEN %s = 'dead' THEN 5 ELSE 0 END)",
            (state, age, state),
        )


def test_liveness_needs_no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", "postgresql://sxe:pw@127.0.0.1:1/sxe")

    result = functions.health_check({"check": "live"})

    assert result["statusCode"] == 200
    assert result["body"] == {"status": "alive"}


def test_readiness_ok_when_migrated(environment: str) -> None:
    result = functions.health_check({"check": "ready"})

    assert result["statusCode"] == 200
    assert result["body"]["status"] == "ready"
    assert result["body"]["pending_migrations"] == []


def test_readiness_names_pending_migrations(
    monkeypatch: pytest.MonkeyPatch, conn: psycopg.Connection[Any], environment: str
) -> None:
    conn.execute("DELETE FROM sxe_meta.schema_migrations WHERE version = '0050'")

    result = functions.health_check({"check": "ready"})

    assert result["statusCode"] == 503
    assert result["body"]["pending_migrations"] == ["0050_runtime_health"]


def test_unknown_health_check_is_a_400(environment: str) -> None:
    result = functions.health_check({"check": "deep"})

    assert result["statusCode"] == 400
    assert "unknown health check 'deep'" in result["body"]["detail"]


def test_report_counts_queues_and_heartbeats(conn: psycopg.Connection[Any], environment: str) -> None:
    add_jobs(conn, "queued", 2, "2 hours")
    add_jobs(conn, "dead", 1)
    functions.import_file({"path": str(EXAMPLE)})

    body = functions.health_check({})["body"]

    assert body["queues"] == {"enrich": {"queued": 2, "dead": 1}}
    assert body["queued_jobs"] == 2
    assert body["dead_jobs"] == 1
    assert body["oldest_queued_seconds"] >= 7200
    assert body["heartbeats"]["ingest/import"]["last_status"] == 200
    assert body["heartbeats"]["ingest/import"]["age_seconds"] < 60


def test_failed_stage_records_its_status(conn: psycopg.Connection[Any], environment: str) -> None:
    result = functions.import_file({"path": "/no/such/file.jsonl"})
    row = conn.execute("SELECT last_status FROM ops.worker_heartbeats WHERE worker = 'ingest/import'").fetchone()

    assert result["statusCode"] == 400
    assert row is not None
    assert row["last_status"] == 400


def test_warm_invocations_reuse_one_connection(environment: str) -> None:
    for _ in range(3):
        assert functions.health_check({"check": "ready"})["statusCode"] == 200

    stats = pool.pool_stats(environment)

    assert stats["connections_num"] == 1
    assert stats["requests_num"] == 3


def test_alarm_fires_once_per_episode(
    conn: psycopg.Connection[Any], environment: str, caplog: pytest.LogCaptureFixture
) -> None:
    thresholds = alarms.load_thresholds(dead_jobs=0, queue_depth=1)
    add_jobs(conn, "dead", 1)
    add_jobs(conn, "queued", 1)

    first = alarms.check(conn, alarms.measure(health.report(conn, "test"), thresholds))
    second = alarms.check(conn, alarms.measure(health.report(conn, "test"), thresholds))
    conn.execute("UPDATE ops.jobs SET state = 'cancelled' WHERE state = 'dead'")
    third = alarms.check(conn, alarms.measure(health.report(conn, "test"), thresholds))

    assert [(change.alarm, change.state) for change in first] == [("dead_jobs", "firing")]
    assert second == []
    assert [(change.alarm, change.state) for change in third] == [("dead_jobs", "ok")]
    events = conn.execute("SELECT type, subject_id FROM ops.events WHERE type LIKE 'alarm.%' ORDER BY id").fetchall()
    assert [(row["type"], row["subject_id"]) for row in events] == [
        ("alarm.raised", "dead_jobs"),
        ("alarm.cleared", "dead_jobs"),
    ]
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert [getattr(record, "event", None) for record in errors] == ["alarm.raised"]


def test_concurrent_checks_raise_once(server_url: str, database_url: str, conn: psycopg.Connection[Any]) -> None:
    import threading

    from sxe.db import connect

    add_jobs(conn, "dead", 2)
    thresholds = alarms.load_thresholds()
    changes: list[alarms.Change] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        with connect(database_url, autocommit=True) as own:
            measurements = alarms.measure(health.report(own, "test"), thresholds)
            barrier.wait()
            changes.extend(alarms.check(own, measurements))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [change.alarm for change in changes] == ["dead_jobs"]
    raised = conn.execute("SELECT count(*) AS n FROM ops.events WHERE type = 'alarm.raised'").fetchone()
    assert raised is not None and raised["n"] == 1


def test_heartbeat_alarm_uses_threshold(conn: psycopg.Connection[Any], environment: str) -> None:
    conn.execute(
        "INSERT INTO ops.worker_heartbeats (worker, activation_id, started_at, beat_at, last_status) "
        "VALUES ('enrich/run', 'a', now() - interval '2 hours', now() - interval '2 hours', 200)"
    )

    result = functions.check_alarms({"trigger": "every-5m"})

    assert result["statusCode"] == 200
    assert "heartbeat_age:enrich/run" in result["body"]["firing"]


def test_invalid_webhook_batch_raises_alarm(conn: psycopg.Connection[Any], environment: str) -> None:
    conn.execute(
        "INSERT INTO ops.quarantine (source_file, location, kind, reason, content_hash, created_at) VALUES"
        " ('webhook:a/1', 'webhook:a/1', 'invalid_batch', 'not JSON', repeat('a', 64), now() - interval '2 days'),"
        " ('webhook:a/2', 'webhook:a/2', 'invalid_batch', 'not JSON', repeat('b', 64), now())"
    )

    report = health.report(conn, "test")
    result = functions.check_alarms({"trigger": "every-5m"})

    assert report.invalid_webhook_batches == 1
    assert "invalid_webhook_batches" in result["body"]["firing"]


def test_open_transaction_raises_feeds_held_back(
    conn: psycopg.Connection[Any], environment: str, caplog: pytest.LogCaptureFixture
) -> None:
    thresholds = alarms.load_thresholds(feeds_held_back_seconds=0.5)
    with connect(environment) as running:
        running.execute("SELECT pg_current_xact_id()")
        time.sleep(1.1)
        during = health.report(conn, "test")
        raised = alarms.check(conn, alarms.measure(during, thresholds))
        running_pid = running.info.backend_pid
        running.commit()
    after = health.report(conn, "test")
    cleared = alarms.check(conn, alarms.measure(after, thresholds))

    assert during.open_transaction is not None
    assert during.open_transaction.pid == running_pid
    assert [(change.alarm, change.state) for change in raised] == [("feeds_held_back", "firing")]
    assert 1 <= raised[0].value < 600
    assert after.open_transaction is None
    assert [(change.alarm, change.state) for change in cleared] == [("feeds_held_back", "ok")]
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert [getattr(record, "pid", None) for record in errors] == [running_pid]
    assert f"(pid {running_pid})" in errors[0].getMessage()


def test_transaction_without_id_holds_nothing_back(conn: psycopg.Connection[Any], environment: str) -> None:
    with connect(environment) as reading:
        reading.execute("SELECT count(*) FROM ops.jobs")
        report = health.report(conn, "test")
        reading.rollback()

    assert report.open_transaction is None


def test_bad_threshold_names_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SXE_ALARM_ADAPTER_ERROR_RATE", "2")

    with pytest.raises(Exception, match="SXE_ALARM_ADAPTER_ERROR_RATE"):
        alarms.load_thresholds()


def test_tick_runs_named_tasks(environment: str) -> None:
    functions.import_file({"path": str(EXAMPLE)})

    result = functions.tick({"trigger": "every-5m", "tasks": ["normalize", "alarms"]})

    assert result["statusCode"] == 200
    assert result["body"]["normalize"]["tagged"] > 0
    assert "firing" in result["body"]["alarms"]


def test_tick_rejects_unknown_task(environment: str) -> None:
    result = functions.tick({"tasks": ["reboot"]})

    assert result["statusCode"] == 400
    assert "'reboot'" in result["body"]["detail"]
