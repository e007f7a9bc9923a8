"""Audit export to the object store, recomputing the chain outside the database, and the audit commands."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from sxe import audit
from sxe.cli import main as cli_main
from sxe.config import Settings, load_settings
from sxe.db import transaction
from sxe.handoff.store import LocalObjectStore
from sxe.pipeline import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ACTOR = "sxe_analyst:test"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(database_url=database_url, state_dir=tmp_path / "state", suppression_key="k" * 32)


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    assert settings.database_url is not None
    monkeypatch.setenv("SXE_DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("SXE_STATE_DIR", str(settings.state_dir))
    return settings


def append_rows(conn: psycopg.Connection, details: list[dict[str, object]]) -> None:
    with transaction(conn, role="sxe_worker"):
        for number, detail in enumerate(details):
            audit.append(conn, actor="sxe_worker:test", action="test.row", subject=f"row:{number}", detail=detail)


def export_all(conn: psycopg.Connection, settings: Settings) -> audit.ExportResult:
    now = datetime.now(UTC)
    return audit.export(
        conn,
        LocalObjectStore(settings.objects_dir),
        since=now - timedelta(days=1),
        until=now + timedelta(seconds=1),
        environment="local",
        actor=ACTOR,
    )


def read_lines(settings: Settings, key: str) -> list[dict[str, object]]:
    text = LocalObjectStore(settings.objects_dir).get_bytes(key).decode()
    return [json.loads(line) for line in text.splitlines()]


def test_export_writes_rows_and_head(settings: Settings, conn: psycopg.Connection) -> None:
    append_rows(conn, [{"n": 1}, {"n": 2}])
    total = conn.execute("SELECT count(*) AS n, max(seq) AS head FROM ops.audit_log").fetchone()

    result = export_all(conn, settings)

    store = LocalObjectStore(settings.objects_dir)
    head = json.loads(store.get_bytes(result.head_key))
    assert result.data_key.startswith("audit-logs/local/")
    assert result.rows == total["n"]
    assert head["last_seq"] == head["chain_head"]["seq"] == total["head"]
    assert head["sha256"] == hashlib.sha256(store.get_bytes(result.data_key)).hexdigest()
    exported = conn.execute(
        "SELECT payload_sha256 FROM ops.audit_log WHERE action = 'audit.exported' AND subject = %s",
        (f"object:{result.data_key}",),
    ).fetchone()
    assert exported["payload_sha256"] == head["sha256"]


def test_exported_chain_recomputes_outside_database(settings: Settings, conn: psycopg.Connection) -> None:
    append_rows(
        conn,
        [
            {"text": "naïve café 陶芸", "quote": 'a "b" \\ c', "nested": {"list": [1, 2.5, None, True]}},
            {"b": 1, "aa": 2, "a": 3, "ab": {"z": [], "y": {}}},
            {"newline": "one\ntwo\ttab", "number": 12345678901234},
        ],
    )

    result = export_all(conn, settings)

    rows = read_lines(settings, result.data_key)
    assert [audit.row_hash(row) for row in rows] == [row["row_hash"] for row in rows]
    assert all(later["prev_hash"] == earlier["row_hash"] for earlier, later in zip(rows, rows[1:], strict=False))


def test_export_of_empty_period(settings: Settings, conn: psycopg.Connection) -> None:
    since = datetime(2001, 1, 1, tzinfo=UTC)

    result = audit.export(
        conn,
        LocalObjectStore(settings.objects_dir),
        since=since,
        until=since + timedelta(days=1),
        environment="local",
        actor=ACTOR,
    )

    assert result.rows == 0
    assert result.first_seq is None
    assert read_lines(settings, result.data_key) == []
    assert result.chain_head is not None


def test_cli_verify_names_broken_row(
    env: Settings, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    append_rows(conn, [{"n": 1}, {"n": 2}, {"n": 3}])
    assert cli_main(["audit", "verify"]) == 0
    assert "audit chain intact" in capsys.readouterr().out
    target = conn.execute("SELECT seq FROM ops.audit_log WHERE subject = 'row:1'").fetchone()["seq"]

    # Only a superuser can switch the append-only trigger off; the test database's user is one.
    with conn.transaction():
        conn.execute("ALTER TABLE ops.audit_log DISABLE TRIGGER audit_log_no_update_or_delete")
        conn.execute("UPDATE ops.audit_log SET detail = '{\"n\": 99}' WHERE seq = %s", (target,))
        conn.execute("ALTER TABLE ops.audit_log ENABLE TRIGGER audit_log_no_update_or_delete")

    status = cli_main(["audit", "verify"])

    assert status == 1
    assert f"audit chain broken at seq {target}: row_hash does not match" in capsys.readouterr().err


def test_cli_export_prints_keys(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    status = cli_main(["audit", "export", "--since", "2000-01-01"])

    output = json.loads(capsys.readouterr().out)
    assert status == 0
    assert output["rows"] > 0
    assert LocalObjectStore(env.objects_dir).exists(output["head_key"])


def test_cli_export_rejects_unreadable_time(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        cli_main(["audit", "export", "--since", "yesterday"])

    assert raised.value.code == 2
    assert "'yesterday' is not an ISO 8601 time" in capsys.readouterr().err


def test_cli_export_rejects_reversed_period(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    status = cli_main(["audit", "export", "--since", "2026-02-01", "--until", "2026-01-01"])

    assert status == 2
    assert "must be later than --since" in capsys.readouterr().err


def test_run_audits_every_kind_of_action(settings: Settings, conn: psycopg.Connection) -> None:
    run([EXAMPLES], settings)

    actions = {row["action"] for row in conn.execute("SELECT DISTINCT action FROM ops.audit_log")}
    assert {
        "migration.applied",
        "enrichment.decided",
        "enrichment.attempt",
        "enrichment.lookup",
        "handoff.bundle_written",
        "handoff.url_issued",
    } <= actions
    attempts = conn.execute("SELECT count(*) AS n FROM ops.audit_log WHERE action = 'enrichment.attempt'").fetchone()
    lookups = conn.execute(
        "SELECT count(*) AS n FROM ops.audit_log WHERE action = 'enrichment.lookup' "
        "AND detail ->> 'outcome' IN ('matched', 'no_match')"
    ).fetchone()
    assert attempts["n"] == lookups["n"]
    issued = conn.execute("SELECT detail FROM ops.audit_log WHERE action = 'handoff.url_issued'").fetchone()
    assert "signature" not in json.dumps(issued["detail"])
