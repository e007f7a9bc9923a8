"""The DigitalOcean Functions handlers, called the way the runtime calls them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

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


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))


def call(package: str, function: str, event: dict[str, Any]) -> dict[str, Any]:
    return load_handler(package, function).main(event, None)


@pytest.mark.usefixtures("environment")
def test_stages_run_one_function_at_a_time() -> None:
    imported = call("ingest", "import", {"path": str(EXAMPLE)})
    tagged = call("normalize", "batch", {"trigger": "normalize-every-5m"})
    enriched = call("enrich", "run", {"trigger": "enrich-every-15m"})
    bundled = call("handoff", "bundle", {"trigger": "handoff-hourly"})

    assert imported["statusCode"] == 200
    assert imported["body"]["ingested"] > 0
    assert tagged["body"]["tagged"] == imported["body"]["profiles"]
    assert enriched["statusCode"] == 200
    assert bundled["body"]["bundle"]["records"] > 0


@pytest.mark.usefixtures("environment")
def test_import_takes_inline_content() -> None:
    content = json.dumps({"id": 7, "id_str": "7", "screen_name": "inline_user", "name": "Inline User"})

    result = call("ingest", "import", {"content": content, "name": "inline.jsonl", "format": "x-api-v1.1"})

    assert result["statusCode"] == 200
    assert result["body"]["ingested"] == 1


@pytest.mark.usefixtures("environment")
def test_import_without_input_is_a_400() -> None:
    result = call("ingest", "import", {})

    assert result["statusCode"] == 400
    assert "'key', 'path' or 'content'" in result["body"]["detail"]


def test_unreachable_database_is_a_503(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", "postgresql://sxe:secret-pw@127.0.0.1:1/sxe")
    monkeypatch.setenv("SXE_DB_POOL_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path))

    result = call("handoff", "bundle", {})

    assert result["statusCode"] == 503
    assert "secret-pw" not in result["body"]["detail"]
