"""`sxe pool show` and `sxe pool set`, and the audit of created pools, against a real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from test_pool_owned_profiles import environment  # noqa: F401 - a fixture, used through pytestmark

from sxe.cli import main
from sxe.contracts import iter_errors
from sxe.events import EVENT_V2, EVENT_V3

# Every test runs the CLI against its own fresh database.
pytestmark = pytest.mark.usefixtures("environment")


def intent_file(tmp_path: Path) -> Path:
    path = tmp_path / "intent.json"
    path.write_text(json.dumps({"allowed_providers": ["apollo"], "max_cost_credits_per_lead": 3}))
    return path


def pools(conn: psycopg.Connection) -> list[str]:
    return [row["name"] for row in conn.execute("SELECT name FROM execution.pools ORDER BY name")]


def creations(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("SELECT subject FROM ops.audit_log WHERE action = 'pool.created' ORDER BY id")
    return [row["subject"] for row in rows]


def test_pool_show_missing_pool_creates_nothing(
    conn: psycopg.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pool", "set", "growth", "--intent", str(intent_file(tmp_path))]) == 0
    capsys.readouterr()

    status = main(["pool", "show", "nosuchpool"])

    assert status == 2
    error = capsys.readouterr().err
    assert "pool 'nosuchpool' does not exist" in error
    assert "existing pools: growth" in error
    assert pools(conn) == ["growth"]


def test_pool_show_prints_existing_intent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pool", "set", "growth", "--intent", str(intent_file(tmp_path))]) == 0
    capsys.readouterr()

    assert main(["pool", "show", "growth"]) == 0

    assert json.loads(capsys.readouterr().out)["intent"]["max_cost_credits_per_lead"] == 3


def test_pool_set_audits_creation_once(conn: psycopg.Connection, tmp_path: Path) -> None:
    path = intent_file(tmp_path)

    assert main(["pool", "set", "growth", "--intent", str(path)]) == 0
    assert main(["pool", "set", "growth", "--intent", str(path)]) == 0

    assert creations(conn) == ["pool:growth"]


def test_run_audits_created_pool(conn: psycopg.Connection) -> None:
    assert main(["run", "--pool", "fresh"]) == 0
    assert main(["run", "--pool", "fresh"]) == 0

    assert creations(conn) == ["pool:fresh"]


def pool_events(conn: psycopg.Connection) -> list[dict[str, object]]:
    rows = conn.execute("SELECT type, subject_id, data FROM ops.events WHERE type = 'pool.created' ORDER BY id")
    return [dict(row) for row in rows]


@pytest.mark.parametrize(
    "command",
    [
        ["pool", "set", "growth", "--intent", "INTENT"],
        ["run", "--pool", "growth"],
        ["import", "USERS", "--pool", "growth", "--no-progress"],
    ],
)
def test_cli_created_pool_emits_event(conn: psycopg.Connection, tmp_path: Path, command: list[str]) -> None:
    users = tmp_path / "users.jsonl"
    users.write_text(json.dumps({"id": "4100", "username": "potter_a", "name": "Potter A"}) + "\n")
    files = {"INTENT": str(intent_file(tmp_path)), "USERS": str(users)}
    arguments = [files.get(argument, argument) for argument in command]

    assert main(arguments) == 0
    assert main(arguments) == 0

    events = pool_events(conn)
    assert events == [{"type": "pool.created", "subject_id": "growth", "data": {"pool": "growth"}}]
    assert [str(error) for error in iter_errors(events[0], EVENT_V3)] == []
    # Version 2 requires the batch id that only a webhook batch gives.
    assert [error for error in iter_errors(events[0], EVENT_V2)] != []


def test_run_names_invalid_pool_option(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["run", "--pool", "Bad Pool!"])

    assert status != 0
    error = capsys.readouterr().err
    assert "invalid --pool 'Bad Pool!'" in error
    assert "SXE_POOL" not in error


def test_run_names_invalid_pool_variable(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SXE_POOL", "Bad Pool!")

    status = main(["run"])

    assert status != 0
    assert "invalid SXE_POOL 'Bad Pool!'" in capsys.readouterr().err
