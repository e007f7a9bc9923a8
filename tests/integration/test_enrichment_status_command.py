"""`sxe status`: tables for people, one JSON object with --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sxe.cli import main

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT_ROOT / "examples" / "x-api-v1.1-users.jsonl"


@pytest.fixture
def enriched_pool(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    assert main(["run", str(EXAMPLE), "--json"]) == 0


@pytest.mark.usefixtures("enriched_pool")
def test_status_json_has_required_keys(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()

    assert main(["status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)

    assert set(report) >= {"jobs", "cards", "providers"}
    assert report["jobs"] == {"succeeded": sum(report["jobs"].values())}
    assert sum(report["cards"].values()) > 0
    apollo = report["providers"]["apollo"]
    assert set(apollo) >= {"calls", "billable_calls", "cache_hits", "misses", "errors", "breaker", "budget"}
    assert set(apollo["budget"]) == {"limit", "reserved", "spent"}
    assert apollo["calls"] == report["jobs"]["succeeded"]
    assert apollo["breaker"] == "closed"
    assert apollo["errors"] == 0


@pytest.mark.usefixtures("enriched_pool")
def test_status_tables_name_each_section(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()

    assert main(["status"]) == 0
    output = capsys.readouterr().out

    assert "job state" in output
    assert "errors" in output
    assert "readiness" in output
    assert "apollo" in output
    assert "pool:default" in output


def test_status_on_empty_database(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))

    assert main(["status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)

    assert report["jobs"] == {}
    assert report["providers"] == {}
