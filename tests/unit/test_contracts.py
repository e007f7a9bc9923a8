"""Tests for sxe.contracts: locating the folder, loading schemas, $ref by $id, messages and masking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sxe import contracts
from sxe.contracts import (
    ContractSet,
    describe_value,
    find_contracts_dir,
    json_pointer,
    looks_like_pii,
)
from sxe.errors import ContractViolation, UsageError

NAME_ID = "https://schemas.test/common/name.v1.json"
PERSON_ID = "https://schemas.test/people/person.v1.json"


@pytest.fixture()
def contract_dir(tmp_path: Path) -> Path:
    """A contracts folder with two schemas, where person.v1 refers to name.v1 by $id."""
    (tmp_path / "common").mkdir()
    (tmp_path / "people").mkdir()
    name = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": NAME_ID,
        "type": "string",
        "minLength": 2,
    }
    person = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": PERSON_ID,
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "contact"],
        "properties": {
            "name": {"$ref": NAME_ID},
            "contact": {
                "type": "object",
                "properties": {"email": {"type": "string", "format": "email"}, "phone_number": {"type": "integer"}},
            },
            "seen_at": {"type": "string", "format": "date-time"},
            "id": {"type": "string", "format": "uuid"},
        },
    }
    (tmp_path / "common" / "name.v1.schema.json").write_text(json.dumps(name))
    (tmp_path / "people" / "person.v1.schema.json").write_text(json.dumps(person))
    return tmp_path


def test_find_contracts_dir_walks_up_to_repo() -> None:
    found = find_contracts_dir()
    assert found.name == "contracts"
    assert (found.parent / "migrations").is_dir()
    assert (found / "handoff" / "lead-card.v1.schema.json").is_file()


def test_find_contracts_dir_uses_override(contract_dir: Path) -> None:
    assert find_contracts_dir(contract_dir) == contract_dir.resolve()


def test_find_contracts_dir_rejects_missing_override(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="contracts folder not found"):
        find_contracts_dir(tmp_path / "absent")


def test_ref_between_schemas_by_id(contract_dir: Path) -> None:
    schemas = ContractSet(contract_dir)
    schemas.validate({"name": "Ada", "contact": {}}, PERSON_ID)

    with pytest.raises(ContractViolation) as caught:
        schemas.validate({"name": "A", "contact": {}}, PERSON_ID)
    assert caught.value.pointer == "/name"
    assert caught.value.rule == "minLength"
    assert caught.value.schema_id == PERSON_ID


def test_schema_lookup_by_relative_path(contract_dir: Path) -> None:
    schemas = ContractSet(contract_dir)
    assert schemas.resolve_id("people/person.v1.schema.json") == PERSON_ID
    assert schemas.schema("common/name.v1.schema.json")["$id"] == NAME_ID


@pytest.mark.parametrize("reference", ["people/missing.schema.json", "https://schemas.test/none.json"])
def test_unknown_schema_raises_usage_error(contract_dir: Path, reference: str) -> None:
    with pytest.raises(UsageError, match="unknown schema"):
        ContractSet(contract_dir).resolve_id(reference)


@pytest.mark.parametrize(
    "reference", ["../people/person.v1.schema.json", "/etc/passwd", "people\\person.v1.schema.json"]
)
def test_schema_path_outside_folder_rejected(contract_dir: Path, reference: str) -> None:
    with pytest.raises(UsageError, match="must be relative"):
        ContractSet(contract_dir).resolve_id(reference)


def test_duplicate_id_rejected(contract_dir: Path) -> None:
    (contract_dir / "common" / "copy.v1.schema.json").write_text(
        (contract_dir / "common" / "name.v1.schema.json").read_text()
    )
    with pytest.raises(UsageError, match="both declare"):
        ContractSet(contract_dir)


def test_schema_without_id_rejected(contract_dir: Path) -> None:
    (contract_dir / "common" / "anonymous.v1.schema.json").write_text('{"type": "string"}')
    with pytest.raises(UsageError, match="has no \\$id"):
        ContractSet(contract_dir)


def test_validators_are_cached(contract_dir: Path) -> None:
    schemas = ContractSet(contract_dir)
    assert schemas.validator(PERSON_ID) is schemas.validator("people/person.v1.schema.json")
    assert contracts.load_contracts(contract_dir) is contracts.load_contracts(contract_dir)


def test_email_value_is_masked(contract_dir: Path) -> None:
    document = {"name": "Ada", "contact": {"email": "ada@@example"}}
    with pytest.raises(ContractViolation) as caught:
        ContractSet(contract_dir).validate(document, PERSON_ID)
    message = str(caught.value)
    assert "ada@@example" not in message
    assert "masked string of length 12" in message
    assert "/contact/email" in message
    assert "'format'" in message
    assert PERSON_ID in message


def test_value_under_pii_key_is_masked(contract_dir: Path) -> None:
    document = {"name": "Ada", "contact": {"phone_number": "5555550123"}}
    with pytest.raises(ContractViolation) as caught:
        ContractSet(contract_dir).validate(document, PERSON_ID)
    assert "5555550123" not in str(caught.value)
    assert caught.value.pointer == "/contact/phone_number"
    assert caught.value.rule == "type"


def test_phone_in_free_text_is_masked(contract_dir: Path) -> None:
    document = {"name": "Ada", "contact": {}, "extra": 1, "id": "call +1 (555) 555-0123"}
    violations = list(ContractSet(contract_dir).iter_errors(document, PERSON_ID))
    messages = " ".join(str(violation) for violation in violations)
    assert "555-0123" not in messages
    assert [violation.pointer for violation in violations] == ["", "/id"]
    assert [violation.rule for violation in violations] == ["additionalProperties", "format"]


def test_iter_errors_empty_for_valid_document(contract_dir: Path) -> None:
    document = {"name": "Ada", "contact": {}, "seen_at": "2026-12-04T10:00:00Z"}
    assert list(ContractSet(contract_dir).iter_errors(document, PERSON_ID)) == []


@pytest.mark.parametrize("value", ["2026-12-04", "2026-12-04T10:00:00", "2026-13-04T10:00:00Z", "yesterday"])
def test_date_time_format_is_asserted(contract_dir: Path, value: str) -> None:
    document = {"name": "Ada", "contact": {}, "seen_at": value}
    with pytest.raises(ContractViolation) as caught:
        ContractSet(contract_dir).validate(document, PERSON_ID)
    assert caught.value.rule == "format"


def test_uuid_format_is_asserted(contract_dir: Path) -> None:
    with pytest.raises(ContractViolation) as caught:
        ContractSet(contract_dir).validate({"name": "Ada", "contact": {}, "id": "not-a-uuid"}, PERSON_ID)
    assert caught.value.pointer == "/id"


def test_required_message_names_missing_property(contract_dir: Path) -> None:
    violations = list(ContractSet(contract_dir).iter_errors({}, PERSON_ID))
    assert len(violations) == 1
    assert "missing required properties: 'name', 'contact'" in str(violations[0])
    assert "the document root" in str(violations[0])


def test_module_validate_uses_override(contract_dir: Path) -> None:
    contracts.validate({"name": "Ada", "contact": {}}, PERSON_ID, contracts_dir=contract_dir)
    assert list(contracts.iter_errors({"name": "Ada", "contact": {}}, PERSON_ID, contracts_dir=contract_dir)) == []


@pytest.mark.parametrize(
    ("value", "path", "expected"),
    [
        ("hello", (), '"hello"'),
        ("ada@example.com", (), "<masked string of length 15>"),
        ("+15555550123", (), "<masked string of length 12>"),
        ("plain", ("contact", "address"), "<masked string of length 5>"),
        (42, ("phones", 0, "number"), "<masked int>"),
        (42, ("followers",), "42"),
        ({"a": 1}, (), "<object with 1 keys>"),
        ([1, 2], (), "<array of 2 items>"),
        ("2026-12-04T10:00:00Z", (), '"2026-12-04T10:00:00Z"'),
        ("0b6f3c1e-8a2d-4f5b-9c7e-2d4a6b8c0e1f", (), '"0b6f3c1e-8a2d-4f5b-9c7e-2d4a6b8c0e1f"'),
    ],
)
def test_describe_value_masks_pii(value: object, path: tuple[str | int, ...], expected: str) -> None:
    assert describe_value(value, path) == expected


def test_looks_like_pii_ignores_short_numbers() -> None:
    assert not looks_like_pii("order 12345")
    assert looks_like_pii("ring 555 555 0123")


def test_json_pointer_escapes_tilde_and_slash() -> None:
    assert json_pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"
    assert json_pointer([]) == ""
