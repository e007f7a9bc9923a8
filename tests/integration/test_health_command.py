"""`sxe health`: the health report on the command line, exit 0 when ready and 1 when not."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from conftest import scratch_database

from sxe.cli import main
from sxe.db import connect


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    return database_url


@pytest.mark.usefixtures("configured")
def test_health_json_when_ready(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", "--json"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "ready"
    assert report["liveness"] == {"status": "alive"}
    assert report["readiness"]["pending_migrations"] == []
    assert set(report) >= {"heartbeats", "queues", "queued_jobs", "dead_jobs", "providers", "budgets"}


def test_health_exits_one_when_not_ready(configured: str, capsys: pytest.CaptureFixture[str]) -> None:
    with connect(configured, autocommit=True) as conn:
        latest = conn.execute("SELECT max(version) AS version FROM sxe_meta.schema_migrations").fetchone()["version"]
        conn.execute("DELETE FROM sxe_meta.schema_migrations WHERE version = %s", (latest,))

    assert main(["health", "--json"]) == 1

    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "not_ready"
    assert len(report["readiness"]["pending_migrations"]) == 1


def test_health_text_after_run(configured: str, capsys: pytest.CaptureFixture[str]) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples" / "x-api-v1.1-users.jsonl"
    assert main(["run", str(examples), "--json"]) == 0
    capsys.readouterr()

    assert main(["health"]) == 0

    output = capsys.readouterr().out
    assert output.startswith("status      ready (process alive)")
    assert "heartbeats" in output
    assert "apollo" in output
    assert "breaker closed" in output
    assert "pool:default" in output


def test_health_text_lists_alarms(configured: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health"]) == 0
    assert "(no alarm check has run yet)" in capsys.readouterr().out
    with connect(configured, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO ops.alarm_states (alarm, state, value, threshold, changed_at)"
            " VALUES ('dead_jobs', 'firing', 2, 0, '2026-12-05T23:40:00+00:00')"
        )

    assert main(["health"]) == 0

    output = capsys.readouterr().out
    assert "dead_jobs                firing, value 2, threshold 0, since 2026-12-05 23:40 UTC" in output


def test_health_text_names_open_transaction(configured: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health"]) == 0
    assert "transaction (none open with a transaction id)" in capsys.readouterr().out

    with connect(configured) as running:
        running.execute("SELECT pg_current_xact_id()")
        assert main(["health"]) == 0
        running_pid = running.info.backend_pid
        running.rollback()

    output = capsys.readouterr().out
    assert f"transaction oldest with a transaction id: pid {running_pid}, open " in output
    assert "it holds back the pull feeds" in output


def test_health_prints_embedded_server_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SXE_DATABASE_URL", raising=False)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    assert main(["migrate"]) == 0
    capsys.readouterr()

    assert main(["health"]) == 0

    lines = capsys.readouterr().out.splitlines()
    [url] = [line.removeprefix("connect     ") for line in lines if line.startswith("connect     ")]
    assert url == f"postgresql://postgres@/sxe?host={tmp_path / 'state' / 'pgdata'}"
    assert "  the embedded server runs only while an sxe process runs; `sxe serve` keeps it up" in lines
    # This process still uses the server, so it is up and the printed URL reaches it.
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("sxe",)


@pytest.mark.usefixtures("configured")
def test_health_names_no_url_for_configured_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health"]) == 0

    assert "connect     " not in capsys.readouterr().out


@pytest.mark.parametrize("as_json", [True, False])
def test_health_on_database_never_migrated(
    server_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    with scratch_database(server_url, "never_migrated") as url:
        monkeypatch.setenv("SXE_DATABASE_URL", url)
        monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))

        assert main(["health", "--json"] if as_json else ["health"]) == 1

    out = capsys.readouterr().out
    migrations = sorted(path.stem for path in (Path(__file__).resolve().parents[2] / "migrations").glob("*.sql"))
    if as_json:
        report = json.loads(out)
        assert report["status"] == "not_ready"
        assert report["readiness"]["pending_migrations"] == migrations
        assert report["queues"] == {}
    else:
        assert "not_ready" in out
        assert migrations[-1] in out
        assert "run `sxe migrate`" in out
