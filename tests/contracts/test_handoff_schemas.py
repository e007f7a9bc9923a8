"""The published handoff schemas: examples validate, mutations fail at the right pointer, files are pinned."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sxe import contracts
from sxe.contracts import BUNDLE_MANIFEST_V1, LEAD_CARD_V1
from sxe.errors import ContractViolation, UsageError

CONTRACTS_DIR = contracts.find_contracts_dir()
EXAMPLES_DIR = CONTRACTS_DIR / "examples" / "handoff"
PUBLISHED_SCHEMAS = {
    "handoff/lead-card.v1.schema.json": LEAD_CARD_V1,
    "handoff/bundle-manifest.v1.schema.json": BUNDLE_MANIFEST_V1,
}

Mutation = Callable[[dict[str, Any]], None]


def load_example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8"))
    return document


def assert_violation(document: dict[str, Any], schema_id: str, pointer: str, rule: str) -> ContractViolation:
    with pytest.raises(ContractViolation) as caught:
        contracts.validate(document, schema_id)
    assert caught.value.pointer == pointer
    assert caught.value.rule == rule
    assert caught.value.schema_id == schema_id
    return caught.value


@pytest.mark.parametrize(
    ("example", "schema_id"),
    [("lead-card.v1.example.json", LEAD_CARD_V1), ("bundle-manifest.v1.example.json", BUNDLE_MANIFEST_V1)],
)
def test_example_validates(example: str, schema_id: str) -> None:
    contracts.validate(load_example(example), schema_id)


def _set(path: list[str | int], value: Any) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        target: Any = document
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


def _delete(path: list[str | int]) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        target: Any = document
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return mutate


LEAD_CARD_MUTATIONS = [
    ("wrong version", _set(["schema_version"], "lead-card.v2"), "/schema_version", "const"),
    ("card id not uuid", _set(["card_id"], "card-1"), "/card_id", "format"),
    ("not ready", _set(["readiness"], "pending"), "/readiness", "const"),
    ("extra top-level field", _set(["notes"], "x"), "", "additionalProperties"),
    ("missing pool", _delete(["pool"]), "", "required"),
    ("no profiles", _set(["profiles"], []), "/profiles", "minItems"),
    ("unknown platform", _set(["profiles", 0, "platform"], "myspace"), "/profiles/0/platform", "enum"),
    ("followers as string", _set(["profiles", 1, "followers"], "12.3K"), "/profiles/1/followers", "type"),
    ("verified null", _set(["profiles", 0, "verified"], None), "/profiles/0/verified", "type"),
    ("score above one", _set(["labels", 0, "score"], 1.5), "/labels/0/score", "maximum"),
    ("unknown label kind", _set(["labels", 1, "kind"], "segment"), "/labels/1/kind", "enum"),
    ("bad email", _set(["contact", "emails", 0, "address"], "ada.example.com"), "/contact/emails/0/address", "format"),
    ("phone not e164", _set(["contact", "phones", 0, "number"], "555-555-0123"), "/contact/phones/0/number", "pattern"),
    ("extra phone field", _set(["contact", "phones", 0, "carrier"], "x"), "/contact/phones/0", "additionalProperties"),
    (
        "bad outcome",
        _set(["provenance", "enrichment", 0, "outcome"], "error"),
        "/provenance/enrichment/0/outcome",
        "enum",
    ),
    ("naive timestamp", _set(["updated_at"], "2026-12-04T09:20:00"), "/updated_at", "format"),
]


@pytest.mark.parametrize(
    ("case", "mutate", "pointer", "rule"), LEAD_CARD_MUTATIONS, ids=[m[0] for m in LEAD_CARD_MUTATIONS]
)
def test_lead_card_mutation_fails(case: str, mutate: Mutation, pointer: str, rule: str) -> None:
    document = copy.deepcopy(load_example("lead-card.v1.example.json"))
    mutate(document)
    assert_violation(document, LEAD_CARD_V1, pointer, rule)


def test_lead_card_violation_masks_contact() -> None:
    document = copy.deepcopy(load_example("lead-card.v1.example.json"))
    document["contact"]["phones"][0]["number"] = "555-555-0123"
    violation = assert_violation(document, LEAD_CARD_V1, "/contact/phones/0/number", "pattern")
    assert "555-555-0123" not in str(violation)


MANIFEST_MUTATIONS = [
    (
        "wrong record schema",
        _set(["record_schema"], "https://schemas.sxe.dev/handoff/lead-card.v2.json"),
        "/record_schema",
        "const",
    ),
    ("negative count", _set(["record_count"], -1), "/record_count", "minimum"),
    ("short sha256", _set(["files", 0, "sha256"], "abc"), "/files/0/sha256", "pattern"),
    ("wrong file name", _set(["files", 0, "name"], "records.json"), "/files/0/name", "const"),
    ("two files", lambda d: d["files"].append(copy.deepcopy(d["files"][0])), "/files", "maxItems"),
    ("wrong producer", _set(["producer", "name"], "other"), "/producer/name", "const"),
    ("bad expiry", _set(["expires_at"], "next week"), "/expires_at", "format"),
]


@pytest.mark.parametrize(
    ("case", "mutate", "pointer", "rule"), MANIFEST_MUTATIONS, ids=[m[0] for m in MANIFEST_MUTATIONS]
)
def test_manifest_mutation_fails(case: str, mutate: Mutation, pointer: str, rule: str) -> None:
    document = copy.deepcopy(load_example("bundle-manifest.v1.example.json"))
    mutate(document)
    assert_violation(document, BUNDLE_MANIFEST_V1, pointer, rule)


def test_manifest_expiry_may_be_null() -> None:
    document = load_example("bundle-manifest.v1.example.json")
    document["expires_at"] = None
    contracts.validate(document, BUNDLE_MANIFEST_V1)


@pytest.mark.parametrize(("relative", "schema_id"), sorted(PUBLISHED_SCHEMAS.items()))
def test_schema_file_declares_its_id(relative: str, schema_id: str) -> None:
    schema = json.loads((CONTRACTS_DIR / relative).read_text(encoding="utf-8"))
    assert schema["$id"] == schema_id
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False


def test_published_schemas_match_pins() -> None:
    pins = json.loads((CONTRACTS_DIR / "PINNED.json").read_text(encoding="utf-8"))
    for relative in PUBLISHED_SCHEMAS:
        digest = hashlib.sha256((CONTRACTS_DIR / relative).read_bytes()).hexdigest()
        assert pins.get(relative) == digest, f"{relative} changed after it was published; add a new version instead"


def test_every_schema_file_is_pinned() -> None:
    assert contracts.check_pins(CONTRACTS_DIR) == []


def test_pin_rejects_changed_schema(tmp_path: Path) -> None:
    schema_file = tmp_path / "demo.v1.schema.json"
    schema_file.write_text('{"$id": "https://schemas.test/demo.v1.json", "type": "string"}')
    first = contracts.pin_schemas(tmp_path)
    assert list(first) == ["demo.v1.schema.json"]

    schema_file.write_text('{"$id": "https://schemas.test/demo.v1.json", "type": "integer"}')
    assert contracts.check_pins(tmp_path) != []
    with pytest.raises(UsageError, match="demo.v1.schema.json"):
        contracts.pin_schemas(tmp_path)
    assert contracts.pin_schemas(tmp_path, force=True) != first


def test_pin_command_check_exit_status(tmp_path: Path) -> None:
    (tmp_path / "demo.v1.schema.json").write_text('{"$id": "https://schemas.test/demo.v1.json"}')
    assert contracts.main(["check", "--contracts-dir", str(tmp_path)]) == 1
    assert contracts.main(["pin", "--contracts-dir", str(tmp_path)]) == 0
    assert contracts.main(["check", "--contracts-dir", str(tmp_path)]) == 0
