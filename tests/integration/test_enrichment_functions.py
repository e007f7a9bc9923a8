"""The enrich/sweep and enrich/worker functions, called as the Functions runtime calls them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT_ROOT / "examples" / "x-api-v1.1-users.jsonl"


def load_handler(package: str, function: str) -> ModuleType:
    path = PROJECT_ROOT / "packages" / package / function / "__main__.py"
    spec = importlib.util.spec_from_file_location(f"handler_{package}_{function}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call(package: str, function: str, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    result: dict[str, Any] = load_handler(package, function).main(event, context)
    return result


class FakeInvocation:
    """The runtime's context object: only the remaining time is read."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def tagged_pool(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    assert call("ingest", "import", {"path": str(EXAMPLE)})["statusCode"] == 200
    assert call("normalize", "batch", {})["statusCode"] == 200


@pytest.mark.usefixtures("tagged_pool")
def test_sweep_enqueues_without_buying(conn: psycopg.Connection[Any]) -> None:
    result = call("enrich", "sweep", {})

    assert result["statusCode"] == 200
    assert result["body"]["enrichment_enqueued"] > 0
    assert result["body"]["lookups"] == 0
    queued = conn.execute("SELECT count(*) AS n FROM ops.jobs WHERE state = 'queued'").fetchone()
    assert queued["n"] == result["body"]["enrichment_enqueued"]


@pytest.mark.usefixtures("tagged_pool")
def test_worker_drains_queue_within_deadline(conn: psycopg.Connection[Any]) -> None:
    enqueued = call("enrich", "sweep", {})["body"]["enrichment_enqueued"]

    result = call("enrich", "worker", {}, FakeInvocation(remaining_ms=120_000))

    assert result["statusCode"] == 200
    assert result["body"]["lookups"] == enqueued
    assert conn.execute("SELECT count(*) AS n FROM ops.jobs WHERE state <> 'succeeded'").fetchone()["n"] == 0


@pytest.mark.usefixtures("tagged_pool")
def test_worker_near_timeout_claims_nothing(conn: psycopg.Connection[Any]) -> None:
    enqueued = call("enrich", "sweep", {})["body"]["enrichment_enqueued"]

    result = call("enrich", "worker", {}, FakeInvocation(remaining_ms=5_000))

    assert result["statusCode"] == 200
    assert result["body"]["lookups"] == 0
    queued = conn.execute("SELECT count(*) AS n FROM ops.jobs WHERE state = 'queued' AND attempts = 0").fetchone()
    assert queued["n"] == enqueued


@pytest.mark.usefixtures("tagged_pool")
def test_scheduled_worker_sweeps_first(conn: psycopg.Connection[Any]) -> None:
    result = call("enrich", "worker", {"trigger": "enrich-every-5m", "sweep": True}, FakeInvocation(120_000))

    assert result["statusCode"] == 200
    assert result["body"]["enrichment_enqueued"] > 0
    assert result["body"]["lookups"] == result["body"]["enrichment_enqueued"]
