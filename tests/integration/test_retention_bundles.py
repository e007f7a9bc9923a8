"""Retention of expired bundles: objects leave the local store and S3 (moto on loopback), then their rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from moto.server import ThreadedMotoServer

from sxe.compliance.retention import bundle_stores, run_retention
from sxe.config import Settings, load_settings
from sxe.handoff.storage import spaces_client
from sxe.handoff.store import LocalObjectStore, ObjectStore, S3ObjectStore

ACTOR = "sxe_worker:test"
NOW = datetime.now(UTC)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(database_url=database_url, state_dir=tmp_path / "state", retention_batch_rows=3)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def add_bundle(conn: psycopg.Connection[Any], store: ObjectStore, kind: str, expires_at: datetime | None) -> uuid.UUID:
    """Write a bundle's two objects and its row, with one card in its index."""
    bundle_id = uuid.uuid4()
    prefix = f"exports/test/{bundle_id}"
    store.put_bytes(f"{prefix}/cards.jsonl.gz", b"data", "application/gzip")
    store.put_bytes(f"{prefix}/manifest.json", b"{}", "application/json")
    conn.execute(
        """
        INSERT INTO ops.bundles (id, pool, schema_version, manifest_key, data_key, record_count, sha256,
                                 expires_at, store)
        VALUES (%s, 'default', '2', %s, %s, 1, repeat('0', 64), %s, %s)
        """,
        (bundle_id, f"{prefix}/manifest.json", f"{prefix}/cards.jsonl.gz", expires_at, kind),
    )
    conn.execute("INSERT INTO ops.bundle_cards (bundle_id, card_id) VALUES (%s, %s)", (bundle_id, uuid.uuid4()))
    return bundle_id


def remaining(conn: psycopg.Connection[Any]) -> set[uuid.UUID]:
    return {row["id"] for row in conn.execute("SELECT id FROM ops.bundles")}


def test_expired_bundles_leave_local_store(settings: Settings, conn: psycopg.Connection[Any]) -> None:
    store = LocalObjectStore(settings.objects_dir)
    expired = [add_bundle(conn, store, "local", NOW - timedelta(minutes=minute)) for minute in range(1, 8)]
    fresh = add_bundle(conn, store, "local", NOW + timedelta(days=1))
    forever = add_bundle(conn, store, "local", None)

    report = run_retention(conn, settings, actor=ACTOR, now=NOW)

    assert report.deleted["bundles"] == 7
    assert report.objects_deleted == 14
    assert report.bundle_cards_deleted == 7
    assert remaining(conn) == {fresh, forever}
    assert not any(store.exists(f"exports/test/{bundle_id}/manifest.json") for bundle_id in expired)
    assert store.exists(f"exports/test/{fresh}/cards.jsonl.gz")
    audited = conn.execute(
        "SELECT detail FROM ops.audit_log WHERE action = 'retention.completed' ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    assert audited["detail"]["deleted"]["bundles"] == 7
    assert audited["detail"]["objects_deleted"] == 14


def test_object_already_gone_still_expires(settings: Settings, conn: psycopg.Connection[Any]) -> None:
    store = LocalObjectStore(settings.objects_dir)
    bundle_id = add_bundle(conn, store, "local", NOW - timedelta(days=1))
    store.delete(f"exports/test/{bundle_id}/cards.jsonl.gz")

    report = run_retention(conn, settings, actor=ACTOR, now=NOW)

    assert report.deleted["bundles"] == 1
    assert remaining(conn) == set()


def test_s3_bundle_waits_without_spaces(settings: Settings, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    other = LocalObjectStore(tmp_path / "elsewhere")
    bundle_id = add_bundle(conn, other, "s3", NOW - timedelta(days=1))

    report = run_retention(conn, settings, actor=ACTOR, now=NOW)

    assert set(bundle_stores(settings)) == {"local"}
    assert report.deleted["bundles"] == 0
    assert remaining(conn) == {bundle_id}


def test_expired_bundles_leave_s3(
    monkeypatch: pytest.MonkeyPatch,
    moto_endpoint: str,
    database_url: str,
    tmp_path: Path,
    conn: psycopg.Connection[Any],
) -> None:
    bucket = f"sxe-exports-{uuid.uuid4().hex[:12]}"
    for name, value in {
        "SXE_SPACES_ENDPOINT": moto_endpoint,
        "SXE_SPACES_REGION": "us-east-1",
        "SXE_SPACES_BUCKET": bucket,
        "SXE_SPACES_KEY": "test-access-key",
        "SXE_SPACES_SECRET": "test-secret-key",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(database_url=database_url, state_dir=tmp_path / "state", retention_batch_rows=3)
    spaces_client(settings).create_bucket(Bucket=bucket)
    s3 = bundle_stores(settings)["s3"]
    assert isinstance(s3, S3ObjectStore)
    expired = [add_bundle(conn, s3, "s3", NOW - timedelta(hours=hour)) for hour in range(1, 5)]
    kept = add_bundle(conn, s3, "s3", NOW + timedelta(hours=1))

    report = run_retention(conn, settings, actor=ACTOR, now=NOW)

    listed = spaces_client(settings).list_objects_v2(Bucket=bucket).get("Contents", [])
    assert report.deleted["bundles"] == 4
    assert remaining(conn) == {kept}
    assert sorted(item["Key"] for item in listed) == sorted(
        [f"exports/test/{kept}/cards.jsonl.gz", f"exports/test/{kept}/manifest.json"]
    )
    assert all(not s3.exists(f"exports/test/{bundle_id}/manifest.json") for bundle_id in expired)
