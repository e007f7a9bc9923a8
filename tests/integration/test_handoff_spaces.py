"""Bundles on an S3 API (moto in server mode on loopback), fetched through presigned URLs with httpx."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest
from handoff_support import body_of, seed_card, web_event
from moto.server import ThreadedMotoServer

from sxe import contracts
from sxe.config import load_settings
from sxe.contracts import BUNDLE_MANIFEST_V2, LEAD_CARD_V2
from sxe.handoff import api
from sxe.handoff.consumers import create_consumer
from sxe.handoff.storage import build_store, spaces_client
from sxe.handoff.store import S3ObjectStore
from sxe.pipeline import RunSummary, handoff_stage

POOL = "makers"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def spaces(monkeypatch: pytest.MonkeyPatch, moto_endpoint: str, database_url: str, tmp_path: Path) -> str:
    """Settings that point at moto; returns the name of a new, empty bucket of this test's own."""
    bucket = f"sxe-exports-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_SIGNING_KEY", "k" * 40)
    monkeypatch.setenv("SXE_POOL", POOL)
    monkeypatch.setenv("SXE_ENVIRONMENT", "staging")
    monkeypatch.setenv("SXE_SPACES_ENDPOINT", moto_endpoint)
    monkeypatch.setenv("SXE_SPACES_REGION", "us-east-1")
    monkeypatch.setenv("SXE_SPACES_BUCKET", bucket)
    monkeypatch.setenv("SXE_SPACES_KEY", "test-access-key")
    monkeypatch.setenv("SXE_SPACES_SECRET", "test-secret-key")
    spaces_client(load_settings()).create_bucket(Bucket=bucket)
    return bucket


def consumer_key(conn: psycopg.Connection[Any]) -> str:
    return create_consumer(conn, "crm", [POOL], contact_fields=["emails", "phones"], actor="test")[1]


def test_spaces_settings_select_the_s3_store(spaces: str) -> None:
    store = build_store(load_settings())

    assert isinstance(store, S3ObjectStore)
    assert store.bucket == spaces
    assert store.client.meta.config.request_checksum_calculation == "when_required"
    assert store.client.meta.config.response_checksum_validation == "when_required"


def test_presigned_bundle_matches_its_manifest(spaces: str, conn: psycopg.Connection[Any]) -> None:
    for index in range(3):
        seed_card(conn, POOL, index)
    key = consumer_key(conn)
    created = body_of(api.bundle(web_event("POST", key=key, body={"schema_version": "v2"})))
    bundle_id = created["bundle_id"]

    urls = body_of(api.download(web_event("GET", key=key, query=f"bundle_id={bundle_id}&expires_in=120")))
    manifest = httpx.get(urls["manifest_url"]).raise_for_status().json()
    data = httpx.get(urls["data_url"]).raise_for_status().content
    records = [json.loads(line) for line in gzip.decompress(data).splitlines()]

    contracts.validate(manifest, BUNDLE_MANIFEST_V2)
    assert manifest["files"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["files"][0]["bytes"] == len(data)
    assert manifest["record_count"] == len(records) == 3
    for record in records:
        contracts.validate(record, LEAD_CARD_V2)
    assert parse_qs(urlsplit(urls["data_url"]).query)["X-Amz-Expires"] == ["120"]


def test_bundle_keys_follow_the_export_layout(spaces: str, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    settings = load_settings()
    summary = RunSummary(run_id="test")

    handoff_stage(conn, settings, summary)
    assert summary.bundle is not None
    listed = spaces_client(settings).list_objects_v2(Bucket=spaces, Prefix="exports/staging/")
    keys = sorted(item["Key"] for item in listed["Contents"])
    row = conn.execute("SELECT store, manifest_key FROM ops.bundles").fetchone()

    assert [key.split("/")[-1] for key in keys] == ["manifest.json", "records.jsonl.gz"]
    assert all(key.split("/")[3] == summary.bundle.id for key in keys)
    assert row["store"] == "s3"
    assert row["manifest_key"] in keys
    assert httpx.get(summary.bundle.url).status_code == 200


def test_download_of_local_bundle_fails_on_spaces(
    spaces: str, monkeypatch: pytest.MonkeyPatch, conn: psycopg.Connection[Any]
) -> None:
    seed_card(conn, POOL, 0)
    key = consumer_key(conn)
    spaces_settings = {name: os.environ[f"SXE_SPACES_{name}"] for name in ("ENDPOINT", "BUCKET", "KEY", "SECRET")}
    for name in spaces_settings:
        monkeypatch.delenv(f"SXE_SPACES_{name}")
    bundle_id = body_of(api.bundle(web_event("POST", key=key, body={})))["bundle_id"]
    for name, value in spaces_settings.items():
        monkeypatch.setenv(f"SXE_SPACES_{name}", value)

    response = api.download(web_event("GET", key=key, query=f"bundle_id={bundle_id}"))

    assert conn.execute("SELECT store FROM ops.bundles").fetchone()["store"] == "local"
    assert response["statusCode"] == 503
    assert body_of(response)["title"] == "service misconfigured"
    assert "_url" not in response["body"]
