"""Tests for the object stores: key rules, atomic local writes and S3 through moto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sxe.errors import UsageError
from sxe.handoff.store import (
    LocalObjectStore,
    ObjectNotFound,
    ObjectStore,
    S3ObjectStore,
    validate_key,
)

BUCKET = "sxe-handoff"
KEY = "exports/local/2026-12-04/bundle/manifest.json"


@pytest.mark.parametrize(
    "key",
    ["../escape", "a/../b", "a/..", "/etc/passwd", "a\\b", "", "a//b", "a/./b", "a/", "a\nb", "a\x00b"],
)
def test_validate_key_rejects_unsafe_keys(key: str) -> None:
    with pytest.raises(UsageError, match="object key") as caught:
        validate_key(key)
    assert repr(key) in str(caught.value)


@pytest.mark.parametrize("key", ["a", KEY, "exports/a b/c.d.json", "exports/café/x"])
def test_validate_key_accepts_relative_keys(key: str) -> None:
    assert validate_key(key) == key


def test_local_round_trip(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    assert not store.exists(KEY)

    store.put_bytes(KEY, b"first", "application/json")
    assert store.exists(KEY)
    assert store.get_bytes(KEY) == b"first"
    assert store.local_path(KEY) == tmp_path.resolve() / KEY

    store.put_bytes(KEY, b"second", "application/json")
    assert store.get_bytes(KEY) == b"second"


def test_local_delete_removes_emptied_folders(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    store.put_bytes(KEY, b"{}", "application/json")
    store.put_bytes("exports/local/2026-12-04/bundle/records.jsonl.gz", b"data", "application/gzip")

    store.delete(KEY)
    assert (tmp_path / "store/exports/local/2026-12-04/bundle").is_dir()

    store.delete("exports/local/2026-12-04/bundle/records.jsonl.gz")
    assert not (tmp_path / "store/exports").exists()
    assert (tmp_path / "store").is_dir()


def test_local_delete_keeps_folders_with_entries(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put_bytes(KEY, b"{}", "application/json")
    store.put_bytes("exports/local/2026-12-05/other/manifest.json", b"{}", "application/json")

    store.delete(KEY)

    assert not (tmp_path / "exports/local/2026-12-04").exists()
    assert store.exists("exports/local/2026-12-05/other/manifest.json")


def test_local_delete_of_missing_key_cleans_up(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    (tmp_path / "exports/local/2026-12-04").mkdir(parents=True)

    store.delete(KEY)

    assert list(tmp_path.iterdir()) == []


def test_local_write_recreates_removed_folder(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put_bytes(KEY, b"first", "application/json")
    store.delete(KEY)

    store.put_bytes(KEY, b"second", "application/json")

    assert store.get_bytes(KEY) == b"second"


def test_local_put_file(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"\x00\x01" * 1000)
    store = LocalObjectStore(tmp_path / "store")
    store.put_file("data/records.jsonl.gz", source, "application/gzip")
    assert store.get_bytes("data/records.jsonl.gz") == source.read_bytes()


def test_local_missing_object_raises(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    with pytest.raises(ObjectNotFound, match="not found"):
        store.get_bytes("missing/object.json")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ObjectNotFound):
        store.get_bytes("folder")
    assert not store.exists("folder")


@pytest.mark.parametrize("key", ["../outside", "/abs", "a\\b"])
def test_local_store_rejects_unsafe_keys(tmp_path: Path, key: str) -> None:
    store = LocalObjectStore(tmp_path / "store")
    with pytest.raises(UsageError, match="object key"):
        store.put_bytes(key, b"x", "text/plain")
    with pytest.raises(UsageError):
        store.get_bytes(key)
    assert not (tmp_path / "outside").exists()


def test_local_store_rejects_symlink_escape(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "store"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    store = LocalObjectStore(root)
    with pytest.raises(UsageError, match="outside the store root"):
        store.put_bytes("link/file", b"x", "text/plain")
    assert list(outside.iterdir()) == []


def test_local_write_is_atomic_on_failure(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put_bytes(KEY, b"old", "application/json")

    class BrokenSource:
        """A file that fails halfway through a copy."""

        def __init__(self) -> None:
            self.calls = 0

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 1:
                raise OSError("disk went away")
            return b"partial new contents"

    def failing_write(target: Any) -> None:
        source = BrokenSource()
        while chunk := source.read():
            target.write(chunk)

    with pytest.raises(OSError, match="disk went away"):
        store._write_atomically(store.local_path(KEY), failing_write)

    assert store.get_bytes(KEY) == b"old"
    assert sorted(path.name for path in store.local_path(KEY).parent.iterdir()) == ["manifest.json"]


def test_local_put_file_missing_source_leaves_nothing(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    with pytest.raises(FileNotFoundError):
        store.put_file(KEY, tmp_path / "absent.gz", "application/gzip")
    assert not store.exists(KEY)


def test_local_store_is_an_object_store(tmp_path: Path) -> None:
    store: ObjectStore = LocalObjectStore(tmp_path)
    assert store.local_path(KEY) is not None


@pytest.fixture()
def s3_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A boto3 S3 client inside moto's mock_aws, with fake credentials so nothing reaches AWS."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_s3_round_trip(s3_client: Any) -> None:
    store = S3ObjectStore(s3_client, BUCKET)
    assert not store.exists(KEY)

    store.put_bytes(KEY, b'{"a":1}', "application/json")
    assert store.exists(KEY)
    assert store.get_bytes(KEY) == b'{"a":1}'
    assert store.local_path(KEY) is None
    head = s3_client.head_object(Bucket=BUCKET, Key=KEY)
    assert head["ContentType"] == "application/json"
    assert "ServerSideEncryption" not in head


def test_s3_put_file_with_encryption(s3_client: Any, tmp_path: Path) -> None:
    source = tmp_path / "records.jsonl.gz"
    source.write_bytes(b"\x1f\x8b" + b"x" * 100)
    store = S3ObjectStore(s3_client, BUCKET, server_side_encryption="AES256")
    store.put_file("data/records.jsonl.gz", source, "application/gzip")
    store.put_bytes("data/manifest.json", b"{}", "application/json")

    assert store.get_bytes("data/records.jsonl.gz") == source.read_bytes()
    for key, content_type in (
        ("data/records.jsonl.gz", "application/gzip"),
        ("data/manifest.json", "application/json"),
    ):
        head = s3_client.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentType"] == content_type
        assert head["ServerSideEncryption"] == "AES256"


def test_s3_missing_object_raises(s3_client: Any) -> None:
    store = S3ObjectStore(s3_client, BUCKET)
    with pytest.raises(ObjectNotFound, match="not found"):
        store.get_bytes("missing/object.json")


def test_s3_rejects_unsafe_key(s3_client: Any) -> None:
    store = S3ObjectStore(s3_client, BUCKET)
    with pytest.raises(UsageError, match="object key"):
        store.put_bytes("../x", b"x", "text/plain")
    assert s3_client.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0


def test_s3_other_errors_propagate(s3_client: Any) -> None:
    store = S3ObjectStore(s3_client, "no-such-bucket")
    with pytest.raises(ClientError):
        store.get_bytes(KEY)
