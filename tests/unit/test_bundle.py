"""Tests for handoff bundles: round trips, deterministic bytes, all-or-nothing writes and read checks."""

from __future__ import annotations

import copy
import gzip
import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from test_render_card_fixture import render_all

from sxe import contracts
from sxe.contracts import BUNDLE_MANIFEST_V1, LEAD_CARD_V1, LEAD_CARD_V2
from sxe.errors import ContractViolation, UsageError
from sxe.handoff.bundle import BundleResult, read_bundle, write_bundle
from sxe.handoff.store import LocalObjectStore, S3ObjectStore

BUNDLE_ID = "5f1d2c3b-4a59-4e6f-8b7a-9c0d1e2f3a4b"
PREFIX = "exports/local/2026-12-04"
CREATED_AT = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
EXPIRES_AT = CREATED_AT + timedelta(days=7)
EXAMPLE = contracts.find_contracts_dir() / "examples" / "handoff" / "lead-card.v1.example.json"


def make_cards(count: int, example: Path = EXAMPLE) -> list[dict[str, Any]]:
    """Return `count` valid lead cards with distinct card ids, based on a published example."""
    template = json.loads(example.read_text(encoding="utf-8"))
    cards = []
    for index in range(count):
        card = copy.deepcopy(template)
        card["card_id"] = str(uuid.UUID(int=index + 1))
        card["person"]["display_name"] = f"Ada Example {index} ✓"
        cards.append(card)
    return cards


def write(store: Any, records: Any, **overrides: Any) -> BundleResult:
    arguments: dict[str, Any] = {
        "store": store,
        "bundle_id": BUNDLE_ID,
        "prefix": PREFIX,
        "filters": {"pool": "indie-makers"},
        "created_at": CREATED_AT,
        "expires_at": EXPIRES_AT,
        "validate_record": None,
    }
    arguments.update(overrides)
    return write_bundle(records, **arguments)


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def test_round_trip_local(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    cards = make_cards(3)
    result = write(store, iter(cards))

    assert result.bundle_id == BUNDLE_ID
    assert result.data_key == f"{PREFIX}/{BUNDLE_ID}/records.jsonl.gz"
    assert result.manifest_key == f"{PREFIX}/{BUNDLE_ID}/manifest.json"
    assert result.record_count == 3

    manifest, records = read_bundle(store, result.manifest_key)
    assert manifest == result.manifest
    assert list(records) == cards


def test_manifest_contents(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    result = write(store, make_cards(2))
    manifest = json.loads(store.get_bytes(result.manifest_key))

    contracts.validate(manifest, BUNDLE_MANIFEST_V1)
    assert manifest["record_schema"] == LEAD_CARD_V1
    assert manifest["record_count"] == 2
    assert manifest["filters"] == {"pool": "indie-makers"}
    assert manifest["created_at"] == "2026-12-04T10:00:00Z"
    assert manifest["expires_at"] == "2026-12-11T10:00:00Z"
    assert manifest["producer"]["name"] == "sxe"


def test_manifest_hash_matches_file(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    result = write(store, make_cards(5))
    data = store.get_bytes(result.data_key)
    entry = json.loads(store.get_bytes(result.manifest_key))["files"][0]

    assert entry["sha256"] == hashlib.sha256(data).hexdigest() == result.sha256
    assert entry["bytes"] == len(data) == result.bytes
    assert entry["name"] == "records.jsonl.gz"


def test_data_file_is_canonical_jsonl(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    cards = make_cards(2)
    result = write(store, cards)
    lines = gzip.decompress(store.get_bytes(result.data_key)).split(b"\n")

    assert lines[-1] == b""
    assert len(lines) == 3
    expected = json.dumps(cards[0], separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode("utf-8")
    assert lines[0] == expected
    assert "✓".encode() in lines[0]


def test_identical_input_gives_identical_bytes(tmp_path: Path) -> None:
    first = LocalObjectStore(tmp_path / "first")
    second = LocalObjectStore(tmp_path / "second")
    one = write(first, make_cards(4))
    two = write(second, make_cards(4))

    assert first.get_bytes(one.data_key) == second.get_bytes(two.data_key)
    assert one.sha256 == two.sha256
    assert first.get_bytes(one.manifest_key) == second.get_bytes(two.manifest_key)


def test_empty_bundle(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    result = write(store, [], expires_at=None)
    manifest, records = read_bundle(store, result.manifest_key)
    assert manifest["record_count"] == 0
    assert manifest["expires_at"] is None
    assert list(records) == []


def test_invalid_record_aborts_without_objects(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    cards = make_cards(3)
    cards[2]["contact"]["emails"][0]["address"] = "ada.at.example.com"

    with pytest.raises(ContractViolation) as caught:
        write(store, cards)

    message = str(caught.value)
    assert "record 2" in message
    assert cards[2]["card_id"] in message
    assert "ada.at.example.com" not in message
    assert caught.value.pointer == "/contact/emails/0/address"
    assert caught.value.schema_id == LEAD_CARD_V1
    assert stored_files(tmp_path / "store") == []


def test_custom_validator_replaces_default(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    seen: list[str] = []

    def reject_second(record: Any) -> None:
        seen.append(record["card_id"])
        if len(seen) == 2:
            raise ContractViolation("pool not allowed", pointer="/pool", rule="enum", schema_id="custom")

    with pytest.raises(ContractViolation, match="record 1") as caught:
        write(store, make_cards(3), validate_record=reject_second)
    assert caught.value.pointer == "/pool"
    assert len(seen) == 2
    assert stored_files(tmp_path / "store") == []


def test_failing_record_source_writes_nothing(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")

    def records() -> Iterator[dict[str, Any]]:
        yield make_cards(1)[0]
        raise RuntimeError("database cursor closed")

    with pytest.raises(RuntimeError):
        write(store, records())
    assert stored_files(tmp_path / "store") == []


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"bundle_id": "bundle-1"}, "not a UUID"),
        ({"prefix": "/exports"}, "object key"),
        ({"prefix": "exports/../x"}, "object key"),
        ({"created_at": datetime(2026, 12, 4, 10, 0)}, "no time zone"),
        ({"expires_at": CREATED_AT - timedelta(seconds=1)}, "must be later"),
    ],
)
def test_bad_arguments_raise_usage_error(tmp_path: Path, overrides: dict[str, Any], match: str) -> None:
    store = LocalObjectStore(tmp_path / "store")
    with pytest.raises(UsageError, match=match):
        write(store, make_cards(1), **overrides)
    assert stored_files(tmp_path / "store") == []


def test_unserializable_filters_write_nothing(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "store")
    with pytest.raises(TypeError):
        write(store, make_cards(1), filters={"since": datetime(2026, 1, 1, tzinfo=UTC)})
    assert stored_files(tmp_path / "store") == []


def test_data_uploaded_before_manifest(tmp_path: Path) -> None:
    uploads: list[str] = []

    class RecordingStore(LocalObjectStore):
        def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
            uploads.append(key)
            super().put_bytes(key, data, content_type)

        def put_file(self, key: str, local_path: Path, content_type: str) -> None:
            uploads.append(key)
            super().put_file(key, local_path, content_type)

    result = write(RecordingStore(tmp_path), make_cards(1))
    assert uploads == [result.data_key, result.manifest_key]


def test_timestamps_converted_to_utc(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    plus_two = timezone(timedelta(hours=2))
    result = write(store, [], created_at=datetime(2026, 12, 4, 12, 0, tzinfo=plus_two), expires_at=None)
    assert result.manifest["created_at"] == "2026-12-04T10:00:00Z"


def test_uuid_bundle_id_accepted(tmp_path: Path) -> None:
    result = write(LocalObjectStore(tmp_path), [], bundle_id=uuid.UUID(BUNDLE_ID))
    assert result.bundle_id == BUNDLE_ID


def test_read_rejects_tampered_data(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    result = write(store, make_cards(2))
    other = write(LocalObjectStore(tmp_path / "other"), make_cards(3))
    store.put_bytes(result.data_key, (tmp_path / "other" / other.data_key).read_bytes(), "application/gzip")

    with pytest.raises(ContractViolation, match="SHA-256") as caught:
        read_bundle(store, result.manifest_key)
    assert caught.value.pointer == "/files/0/sha256"


def test_read_rejects_wrong_count(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    result = write(store, make_cards(2))
    manifest = dict(result.manifest, record_count=3)
    store.put_bytes(result.manifest_key, json.dumps(manifest).encode(), "application/json")

    with pytest.raises(ContractViolation, match="contains 2 records") as caught:
        read_bundle(store, result.manifest_key)
    assert caught.value.pointer == "/record_count"


def test_read_rejects_truncated_data(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    result = write(store, make_cards(2))
    data = store.get_bytes(result.data_key)[:-8]
    manifest = copy.deepcopy(result.manifest)
    manifest["files"][0].update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    store.put_bytes(result.data_key, data, "application/gzip")
    store.put_bytes(result.manifest_key, json.dumps(manifest).encode(), "application/json")

    with pytest.raises(ContractViolation, match="complete gzip stream"):
        read_bundle(store, result.manifest_key)


def test_read_rejects_invalid_manifest(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    result = write(store, make_cards(1))
    manifest = dict(result.manifest, schema_version="bundle-manifest.v9")
    store.put_bytes(result.manifest_key, json.dumps(manifest).encode(), "application/json")
    with pytest.raises(ContractViolation) as caught:
        read_bundle(store, result.manifest_key)
    assert caught.value.pointer == "/schema_version"

    store.put_bytes(result.manifest_key, b"not json", "application/json")
    with pytest.raises(ContractViolation, match="not valid UTF-8 JSON"):
        read_bundle(store, result.manifest_key)


def test_read_validates_records(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    bad = make_cards(2)
    bad[1]["readiness"] = "pending"
    result = write(store, bad, validate_record=lambda record: None)

    manifest, records = read_bundle(store, result.manifest_key)
    assert next(records)["card_id"] == bad[0]["card_id"]
    with pytest.raises(ContractViolation, match="record 1") as caught:
        next(records)
    assert caught.value.pointer == "/readiness"

    _, unchecked = read_bundle(store, result.manifest_key, validate_records=False)
    assert len(list(unchecked)) == 2


@pytest.fixture()
def s3_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3ObjectStore]:
    """An S3ObjectStore inside moto's mock_aws, with fake credentials so nothing reaches AWS."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="sxe-handoff")
        yield S3ObjectStore(client, "sxe-handoff")


def test_round_trip_s3(s3_store: S3ObjectStore) -> None:
    cards = make_cards(3)
    result = write(s3_store, cards)
    head = s3_store.client.head_object(Bucket="sxe-handoff", Key=result.data_key)
    assert head["ContentType"] == "application/gzip"

    manifest, records = read_bundle(s3_store, result.manifest_key)
    assert manifest["record_count"] == 3
    assert list(records) == cards


def test_multi_block_bundle_round_trips(tmp_path: Path) -> None:
    # About 1,500 cards exceed several 256 KiB write blocks of the background compressor.
    store = LocalObjectStore(tmp_path)
    cards = make_cards(1500)
    result = write(store, cards)

    lines = gzip.decompress(store.get_bytes(result.data_key)).splitlines()
    assert len(lines) == 1500
    assert [json.loads(line) for line in lines] == cards
    assert result.record_count == 1500
    assert hashlib.sha256(store.get_bytes(result.data_key)).hexdigest() == result.sha256


def test_multi_block_bytes_are_deterministic(tmp_path: Path) -> None:
    first = LocalObjectStore(tmp_path / "first")
    second = LocalObjectStore(tmp_path / "second")
    one = write(first, make_cards(1500))
    two = write(second, make_cards(1500))

    assert first.get_bytes(one.data_key) == second.get_bytes(two.data_key)


def test_nan_score_rejected(tmp_path: Path) -> None:
    # The encoder writes NaN as null, and null is not a valid score.
    store = LocalObjectStore(tmp_path / "store")
    cards = make_cards(2)
    cards[1]["labels"][0]["score"] = float("nan")

    with pytest.raises(ContractViolation, match="record 1") as caught:
        write(store, cards)
    assert caught.value.pointer == "/labels/0/score"
    assert stored_files(tmp_path / "store") == []


def test_integer_beyond_64_bits_written(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    cards = make_cards(2)
    cards[0]["profiles"][0]["followers"] = 2**70

    result = write(store, cards)
    _, records = read_bundle(store, result.manifest_key)
    assert [record["profiles"][0]["followers"] for record in records][0] == 2**70


def test_unserializable_valid_record_raises_type_error(tmp_path: Path) -> None:
    # `evidence` may be any object, so the schema accepts a set inside it; JSON cannot hold one.
    store = LocalObjectStore(tmp_path / "store")
    cards = make_cards(1)
    cards[0]["labels"][0]["evidence"] = {"matched_terms": {"founder"}}

    with pytest.raises(TypeError):
        write(store, cards)
    assert stored_files(tmp_path / "store") == []


def test_reference_validator_overrules_compiled_rejection(tmp_path: Path) -> None:
    # Python's `$` matches before a final newline, so jsonschema accepts this number and
    # the compiled validator does not. The bundle follows jsonschema.
    store = LocalObjectStore(tmp_path)
    cards = make_cards(1)
    cards[0]["contact"]["phones"][0]["number"] = "+15555550123\n"

    result = write(store, cards)
    _, records = read_bundle(store, result.manifest_key)
    assert [record["contact"]["phones"][0]["number"] for record in records] == ["+15555550123\n"]


# --- lead-card.v2 records and the all-Rust check ----------------------------------------

V2_EXAMPLE = contracts.find_contracts_dir() / "examples" / "handoff" / "lead-card.v2.example.json"


def make_cards_v2(count: int) -> list[dict[str, Any]]:
    return make_cards(count, V2_EXAMPLE)


def write_v2(store: Any, records: Any) -> BundleResult:
    return write(store, records, record_schema=LEAD_CARD_V2)


def canonical_gzip(records: list[dict[str, Any]]) -> bytes:
    """Return the gzip data file the writer must produce, built with json.dumps and one gzip call."""
    lines = b"".join(
        json.dumps(record, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"
        for record in records
    )
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=6, mtime=0) as compressed:
        compressed.write(lines)
    return buffer.getvalue()


def test_v2_bytes_equal_canonical_gzip(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    cards = make_cards_v2(1500)
    result = write_v2(store, cards)

    assert store.get_bytes(result.data_key) == canonical_gzip(cards)


def test_rendered_cards_bytes_equal_canonical_gzip(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    records = render_all()
    v2_records = [record for record in records if record["schema_version"] == "lead-card.v2"]
    # A card without a contract platform has no profile and is not handed off.
    v2_records = [record for record in v2_records if record["profiles"]]
    result = write_v2(store, v2_records)

    assert result.record_count == len(v2_records)
    assert store.get_bytes(result.data_key) == canonical_gzip(v2_records)


# Values that only the Rust format checks accept, and a value both reject. Each must be
# rejected with the reference validator's pointer and rule.
V2_INVALID_VALUES: list[tuple[str, tuple[str | int, ...], Any, str]] = [
    ("leap second", ("updated_at",), "2026-12-31T23:59:60Z", "format"),
    ("year zero", ("provenance", "sources", 0, "collected_at"), "0000-01-01T00:00:00Z", "format"),
    ("quoted local part", ("contact", "emails", 0, "address"), '"ada lovelace"@example.com', "format"),
    ("no dot in domain", ("contact", "emails", 0, "address"), "ada@localhost", "format"),
    ("naive timestamp", ("contact", "phones", 0, "compliance", "scrubbed_at"), "2026-12-01T00:00:00", "format"),
    ("negative followers", ("profiles", 0, "followers"), -1, "minimum"),
    ("infinite score", ("tribes", 0, "score"), float("inf"), "type"),
]


@pytest.mark.parametrize(
    ("case", "path", "value", "rule"), V2_INVALID_VALUES, ids=[entry[0] for entry in V2_INVALID_VALUES]
)
def test_v2_invalid_record_rejected(
    tmp_path: Path, case: str, path: tuple[str | int, ...], value: Any, rule: str
) -> None:
    store = LocalObjectStore(tmp_path / "store")
    cards = make_cards_v2(3)
    target: Any = cards[1]
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value

    with pytest.raises(ContractViolation) as caught:
        write_v2(store, cards)

    assert str(caught.value).startswith(f'record 1 (card_id "{cards[1]["card_id"]}") is invalid')
    assert caught.value.pointer == "/" + "/".join(str(part) for part in path)
    assert caught.value.rule == rule
    assert caught.value.schema_id == LEAD_CARD_V2
    assert stored_files(tmp_path / "store") == []


def test_v2_invalid_record_error_matches_reference(tmp_path: Path) -> None:
    # The message is the reference validator's message for the parsed line.
    cards = make_cards_v2(1)
    cards[0]["contact"]["emails"][0]["address"] = "ada.at.example.com"
    expected = pytest.raises(ContractViolation)
    with expected as reference:
        contracts.validate(cards[0], LEAD_CARD_V2)

    with pytest.raises(ContractViolation) as caught:
        write_v2(LocalObjectStore(tmp_path), cards)

    assert str(caught.value).endswith(f"so no bundle was written: {reference.value}")
    assert "ada.at.example.com" not in str(caught.value)


def test_record_with_datetime_value_written_as_text(tmp_path: Path) -> None:
    # The Rust validator cannot read a datetime, so the parsed line decides, as before.
    store = LocalObjectStore(tmp_path)
    cards = make_cards_v2(1)
    cards[0]["updated_at"] = datetime(2026, 12, 4, 9, 20, tzinfo=UTC)

    result = write_v2(store, cards)
    _, records = read_bundle(store, result.manifest_key)
    assert [record["updated_at"] for record in records] == ["2026-12-04T09:20:00+00:00"]
