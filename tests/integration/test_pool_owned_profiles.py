"""Profiles become lead cards only in the pool they were ingested for, against a real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_webhook import EXAMPLE, HANDLER, NEW_SECRET, OLD_SECRET, delivery

from sxe.cli import main
from sxe.db import connect
from sxe.errors import SxeError
from sxe.webhooks import normalize as webhook_normalize


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_ENRICH_DRAIN_SECONDS", "0")
    monkeypatch.delenv("SXE_POOL", raising=False)
    return database_url


def write_users(path: Path, prefix: str, first_id: int) -> Path:
    """Write two invented X API v2 users, `{prefix}_0` and `{prefix}_1`, as JSON Lines."""
    users = [
        {
            "id": str(first_id + number),
            "username": f"{prefix}_{number}",
            "name": f"{prefix.title()} Person {number}",
            "description": "Ceramics teacher and studio owner",
            "public_metrics": {"followers_count": 1200 + number, "following_count": 80, "tweet_count": 40},
        }
        for number in range(2)
    ]
    path.write_text("".join(json.dumps(user) + "\n" for user in users), encoding="utf-8")
    return path


def sxe_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    status = main([*args, "--json"])
    output = capsys.readouterr().out
    return status, json.loads(output) if output.strip() else {}


def handles_in_pool(database_url: str, pool: str) -> set[str]:
    with connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            """
            SELECT profile.handle
              FROM execution.lead_cards AS card
              JOIN execution.card_profiles AS link ON link.card_id = card.id
              JOIN social.profiles AS profile ON profile.id = link.profile_id
             WHERE card.pool = %s
            """,
            (pool,),
        ).fetchall()
    return {row["handle"] for row in rows}


def test_import_for_one_pool_stays_out_of_another(
    environment: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    imported = write_users(tmp_path / "imp.json", "importer", 81_000_000)
    other = write_users(tmp_path / "ers.json", "eraser", 82_000_000)

    monkeypatch.setenv("SXE_POOL", "importpool")
    status, summary = sxe_json(capsys, "import", str(imported), "--no-progress")
    assert status == 0
    assert summary["pool"] == "importpool"
    assert summary["new_profiles"] == 2

    monkeypatch.delenv("SXE_POOL")
    status, run = sxe_json(capsys, "run", "--pool", "erasepool", str(other))
    assert status == 0
    assert handles_in_pool(environment, "erasepool") == {"eraser_0", "eraser_1"}
    assert run["lead_cards"] == 2
    assert handles_in_pool(environment, "importpool") == set()


def test_import_pool_option_beats_variable(
    environment: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    imported = write_users(tmp_path / "imp.json", "importer", 81_000_000)
    monkeypatch.setenv("SXE_POOL", "importpool")

    status, summary = sxe_json(capsys, "import", str(imported), "--pool", "studios", "--no-progress")

    assert status == 0
    assert summary["pool"] == "studios"
    with connect(environment, autocommit=True) as conn:
        pools = [row["pool"] for row in conn.execute("SELECT pool FROM social.ingest_batches")]
    assert pools == ["studios"]


def test_import_summary_names_pool(environment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    imported = write_users(tmp_path / "imp.json", "importer", 81_000_000)

    status = main(["import", str(imported), "--pool", "studios", "--no-progress"])

    assert status == 0
    output = capsys.readouterr().out
    assert "for pool studios: `sxe run --pool studios`" in output
    assert "pool studios was created by this import" in output


def test_import_creates_its_pool_once(environment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    imported = write_users(tmp_path / "imp.json", "importer", 81_000_000)
    assert main(["import", str(imported), "--pool", "studios", "--no-progress"]) == 0
    capsys.readouterr()

    status, run = sxe_json(capsys, "run", "--pool", "studios")

    assert status == 0
    assert run["pool_created"] is False
    with connect(environment, autocommit=True) as conn:
        audited = conn.execute("SELECT actor FROM ops.audit_log WHERE action = 'pool.created'").fetchall()
    assert [row["actor"] for row in audited] == ["sxe_worker:cli"]


def test_import_rejects_invalid_pool(environment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    imported = write_users(tmp_path / "imp.json", "importer", 81_000_000)

    status = main(["import", str(imported), "--pool", "Bad Pool!", "--no-progress"])

    assert status != 0
    error = capsys.readouterr().err
    assert "invalid --pool 'Bad Pool!'" in error
    assert "1 to 63 lowercase letters, digits, '-' and '_'" in error
    with connect(environment, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) AS n FROM social.profiles").fetchone()["n"] == 0


def test_run_without_files_builds_imported_profiles(
    environment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    imported = write_users(tmp_path / "imp.json", "importer", 81_000_000)
    assert main(["import", str(imported), "--pool", "studios", "--no-progress"]) == 0
    capsys.readouterr()

    status, run = sxe_json(capsys, "run", "--pool", "studios")

    assert status == 0
    assert run["files"] == []
    assert run["new_lead_cards"] == 2
    assert handles_in_pool(environment, "studios") == {"importer_0", "importer_1"}


def test_normalize_builds_imported_profiles(
    environment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    imported = write_users(tmp_path / "imp.json", "importer", 81_000_000)
    assert main(["import", str(imported), "--pool", "studios", "--no-progress"]) == 0
    assert main(["normalize", "--pool", "elsewhere"]) == 0
    assert handles_in_pool(environment, "elsewhere") == set()

    assert main(["normalize", "--pool", "studios"]) == 0

    assert handles_in_pool(environment, "studios") == {"importer_0", "importer_1"}


def test_first_pool_to_build_claims_shared_profile(
    environment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_users(tmp_path / "first.json", "shared", 83_000_000)
    # The same people with other counts, so the second import stores new observations.
    second = tmp_path / "second.json"
    second.write_text(first.read_text(encoding="utf-8").replace('"tweet_count": 40', '"tweet_count": 41'))
    assert main(["import", str(first), "--pool", "alpha", "--no-progress"]) == 0
    assert main(["import", str(second), "--pool", "beta", "--no-progress"]) == 0

    assert main(["run", "--pool", "beta"]) == 0
    assert main(["run", "--pool", "alpha"]) == 0

    assert handles_in_pool(environment, "beta") == {"shared_0", "shared_1"}
    assert handles_in_pool(environment, "alpha") == set()


def test_legacy_batches_build_in_any_pool(environment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    imported = write_users(tmp_path / "imp.json", "legacy", 84_000_000)
    assert main(["import", str(imported), "--pool", "studios", "--no-progress"]) == 0
    # A batch stored before batches recorded their pool.
    with connect(environment, autocommit=True) as conn:
        conn.execute("UPDATE social.ingest_batches SET pool = NULL")

    assert main(["run", "--pool", "elsewhere"]) == 0

    assert handles_in_pool(environment, "elsewhere") == {"legacy_0", "legacy_1"}


def test_webhook_batch_builds_in_its_pool_only(environment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SXE_WEBHOOK_SECRETS", f"{OLD_SECRET}, {NEW_SECRET}")
    monkeypatch.setenv("SXE_WEBHOOK_MAX_BYTES", "65536")
    response = HANDLER.main(delivery({**EXAMPLE, "pool": "hooked"}), None)
    assert response["statusCode"] == 202
    with connect(environment, autocommit=True) as conn:
        pools = [row["pool"] for row in conn.execute("SELECT pool FROM social.ingest_batches")]
    assert pools == ["hooked"]

    # The normalize job stores the records, then fails before it builds the batch's pool.
    def fail_to_build(conn: Any, pool: str) -> int:
        raise SxeError(f"test: building {pool} failed")

    with monkeypatch.context() as patched:
        patched.setattr(webhook_normalize, "build_cards", fail_to_build)
        assert main(["normalize", "--pool", "elsewhere"]) == 0
    assert handles_in_pool(environment, "elsewhere") == set()

    assert main(["run", "--pool", "hooked"]) == 0
    assert handles_in_pool(environment, "hooked") == {"verde.ceramics"}
