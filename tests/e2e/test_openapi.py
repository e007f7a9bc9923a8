"""The OpenAPI document of the web functions: pinned, complete, and true of `sxe serve`."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
import yaml

from sxe.config import load_settings
from sxe.handoff import api
from sxe.handoff.store import LocalObjectStore
from sxe.pipeline import signing_secret
from sxe.runtime import pool
from sxe.runtime.project import load_project
from sxe.runtime.server import LocalServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
OPENAPI = PROJECT_ROOT / "contracts" / "openapi"
# A published document never changes: add a new version instead of editing one.
PUBLISHED = {
    "functions.v1.yaml": "93d57848e58f853a8a728145446277485f58a4700fb8542bb842ff3d8dc07bdb",
    "functions.v2.yaml": "32b49e3ccf6d12879e09bef43d75111da5bb14e5c5bebb817ce146c142c7b45d",
    "functions.v3.yaml": "779abcb7709e8479f5a5f6ad3fb845da6ea8842ba5a2da7e5a15971d22250a58",
    "functions.v4.yaml": "46d836565b265285a269ad067a33bb30335aaf293f58565441dbd6a09968569e",
    "functions.v5.yaml": "f124f39175cd9be3452c23fc258a8a36bacb15d287ddb2931a88beb3eb9d5863",
}
# The version that describes the functions as they are; the others stay for clients built from them.
DOCUMENT = OPENAPI / "functions.v5.yaml"


def load_document() -> dict[str, Any]:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("name", "digest"), sorted(PUBLISHED.items()))
def test_document_is_pinned(name: str, digest: str) -> None:
    assert hashlib.sha256((OPENAPI / name).read_bytes()).hexdigest() == digest


def test_queue_and_download_fields_match_the_functions() -> None:
    paths = load_document()["paths"]
    queue = paths["/handoff/queue"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
    download = paths["/handoff/download"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]

    assert {"max_messages", "lease_seconds", "message_ids"} <= set(queue)
    assert "expires_in" in download
    assert "201" in paths["/handoff/bundle"]["post"]["responses"]


def test_feed_pages_document_held_back_headers() -> None:
    paths = load_document()["paths"]

    for path in ("/handoff/cards", "/handoff/erasures", "/handoff/merges"):
        headers = paths[path]["get"]["responses"]["200"]["headers"]
        assert set(headers) == {api.HELD_BACK_HEADER, api.HELD_BACK_SECONDS_HEADER}, path


def test_document_covers_every_web_function() -> None:
    project = load_project(PROJECT_ROOT)
    web_paths = {f"/{function.path}" for function in project.functions if function.web is not False}

    assert set(load_document()["paths"]) == web_paths


def test_schemas_come_from_contracts() -> None:
    document = load_document()
    refs = [
        media["schema"]["$ref"]
        for operation in document["paths"]["/ops/health"].values()
        for response in operation["responses"].values()
        for media in response["content"].values()
    ]

    erase = document["paths"]["/compliance/erase"]["post"]["responses"]["200"]["content"]["application/json"]
    refs.append(erase["schema"]["$ref"])

    assert refs
    assert "../ops/erasure-receipt.v1.schema.json" in refs
    for ref in refs:
        assert (DOCUMENT.parent / ref).resolve().is_file(), ref
        assert (DOCUMENT.parent / ref).resolve().is_relative_to(PROJECT_ROOT / "contracts")


@pytest.fixture
def served_schema(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Iterator[Any]:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    # Configured as in production, so that generated requests meet the checks, not a 503.
    monkeypatch.setenv("SXE_WEBHOOK_SECRETS", "whsec_" + base64.b64encode(b"0" * 32).decode())
    monkeypatch.setenv("SXE_APIFY_WEBHOOK_TOKEN", "apify-test-token")
    monkeypatch.setenv("SXE_APOLLO_WEBHOOK_TOKEN", "apollo-test-token")
    monkeypatch.setenv("SXE_ERASE_TOKEN", "erase-test-token")
    settings = load_settings()
    server = LocalServer(
        load_project(PROJECT_ROOT), LocalObjectStore(settings.objects_dir), signing_secret(settings), namespace="local"
    )
    url = server.start("127.0.0.1", 0)
    schema = schemathesis.openapi.from_path(str(DOCUMENT))
    schema.config.update(base_url=f"{url}/api/v1/web/local")
    yield schema
    server.stop()
    pool.close_pools()


def test_local_server_keeps_to_document(served_schema: Any) -> None:
    for result in served_schema.get_all_operations():
        operation = result.ok()

        @hypothesis.settings(max_examples=15, deadline=None, database=None)
        @hypothesis.given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call()
            assert response.status_code < 500, response.text
            case.validate_response(response)

        check()
