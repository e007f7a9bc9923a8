"""Tests for ContractSet.is_valid_json and is_valid_native: neither may accept what jsonschema rejects."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sxe import contracts
from sxe.contracts import LEAD_CARD_V1, LEAD_CARD_V2
from sxe.errors import ContractViolation

EXAMPLES_DIR = contracts.find_contracts_dir() / "examples" / "handoff"
EXAMPLES = {LEAD_CARD_V1: "lead-card.v1.example.json", LEAD_CARD_V2: "lead-card.v2.example.json"}


def load_example(schema_id: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES_DIR / EXAMPLES[schema_id]).read_text(encoding="utf-8"))
    return document


def reference_accepts(document: Any, schema_id: str) -> bool:
    try:
        contracts.validate(document, schema_id)
    except ContractViolation:
        return False
    return True


def leaf_paths(document: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Return the path of every value in `document`, containers included, except the root."""
    paths: list[tuple[str | int, ...]] = [path] if path else []
    if isinstance(document, dict):
        for key, value in document.items():
            paths.extend(leaf_paths(value, (*path, key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            paths.extend(leaf_paths(value, (*path, index)))
    return paths


def replaced(document: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target: Any = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize("schema_id", [LEAD_CARD_V1, LEAD_CARD_V2])
def test_examples_pass(schema_id: str) -> None:
    assert contracts.load_contracts().is_valid_json(load_example(schema_id), schema_id)
    assert contracts.load_contracts().is_valid_native(load_example(schema_id), schema_id)


# Each edit breaks one rule; both validators must reject the result.
V2_EDITS: list[tuple[str, tuple[str | int, ...], Any]] = [
    ("card id not uuid", ("card_id",), "card-1"),
    ("card id without dashes", ("card_id",), "0f8fad5bd9cb469fa16570867728950e"),
    ("card id in braces", ("card_id",), "{0f8fad5b-d9cb-469f-a165-70867728950e}"),
    ("naive timestamp", ("updated_at",), "2026-12-04T09:20:00"),
    ("leap second", ("updated_at",), "2026-12-31T23:59:60Z"),
    ("month thirteen", ("updated_at",), "2026-13-04T09:20:00Z"),
    ("bad email", ("contact", "emails", 0, "address"), "ada.example.com"),
    ("email without dot in domain", ("contact", "emails", 0, "address"), "ada@localhost"),
    ("phone not e164", ("contact", "phones", 0, "number"), "555-555-0123"),
    ("score above one", ("labels", 0, "score"), 1.5),
    ("followers negative", ("profiles", 0, "followers"), -1),
    ("followers float", ("profiles", 0, "followers"), 1.5),
    ("verified as integer", ("profiles", 0, "verified"), 1),
    ("unknown dnc value", ("contact", "phones", 0, "compliance", "dnc"), "maybe"),
    ("empty tribe", ("tribes", 0, "value"), ""),
    ("extra field", ("person", "age"), 40),
]


@pytest.mark.parametrize(("case", "path", "value"), V2_EDITS, ids=[edit[0] for edit in V2_EDITS])
def test_broken_rule_rejected_by_both(case: str, path: tuple[str | int, ...], value: Any) -> None:
    document = replaced(load_example(LEAD_CARD_V2), path, value)

    assert not contracts.load_contracts().is_valid_json(document, LEAD_CARD_V2)
    assert not contracts.load_contracts().is_valid_native(document, LEAD_CARD_V2)
    assert not reference_accepts(document, LEAD_CARD_V2)


# jsonschema accepts these, the compiled validator does not: callers fall back to `validate`.
STRICTER_CASES: list[tuple[str, tuple[str | int, ...], Any]] = [
    ("phone with final newline", ("contact", "phones", 0, "number"), "+15555550123\n"),
    ("card id with full-width digit", ("card_id",), "０f8fad5b-d9cb-469f-a165-70867728950e"),
]


@pytest.mark.parametrize(("case", "path", "value"), STRICTER_CASES, ids=[edit[0] for edit in STRICTER_CASES])
def test_compiled_validator_stricter_cases(case: str, path: tuple[str | int, ...], value: Any) -> None:
    document = replaced(load_example(LEAD_CARD_V2), path, value)

    assert not contracts.load_contracts().is_valid_json(document, LEAD_CARD_V2)
    assert not contracts.load_contracts().is_valid_native(document, LEAD_CARD_V2)
    assert reference_accepts(document, LEAD_CARD_V2)


# The Rust format checks reject these and the Python ones accept them. So only
# is_valid_native returns False, and the writer then falls back to is_valid_json.
NATIVE_STRICTER_CASES: list[tuple[str, tuple[str | int, ...], Any]] = [
    ("timestamp with space separator", ("updated_at",), "2026-12-04 09:20:00Z"),
    ("email with non-ascii letters", ("contact", "emails", 0, "address"), "ädä@exämple.com"),
    ("email with dot before at", ("contact", "emails", 0, "address"), "ada.@example.com"),
    ("email with domain literal", ("contact", "emails", 0, "address"), "ada@[192.0.2.1]"),
]


@pytest.mark.parametrize(
    ("case", "path", "value"), NATIVE_STRICTER_CASES, ids=[edit[0] for edit in NATIVE_STRICTER_CASES]
)
def test_native_validator_stricter_cases(case: str, path: tuple[str | int, ...], value: Any) -> None:
    document = replaced(load_example(LEAD_CARD_V2), path, value)

    assert not contracts.load_contracts().is_valid_native(document, LEAD_CARD_V2)
    assert contracts.load_contracts().is_valid_json(document, LEAD_CARD_V2)
    assert reference_accepts(document, LEAD_CARD_V2)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "2026-12-04T09:20:00Z",
            "2026-12-04 09:20:00+01:00",
            "2026-12-04T09:20:00.5+14:00",
            "0f8fad5b-d9cb-469f-a165-70867728950e",
            "0F8FAD5B-D9CB-469F-A165-70867728950E",
            "ada@example.com",
            "+15555550123",
            "x",
            "tribe",
            "consent_required",
            "lead-card.v2",
            "ready",
        ]
    ),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


@pytest.mark.parametrize("schema_id", [LEAD_CARD_V1, LEAD_CARD_V2])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_compiled_acceptance_implies_reference_acceptance(schema_id: str, data: st.DataObject) -> None:
    example = load_example(schema_id)
    path = data.draw(st.sampled_from(leaf_paths(example)))
    document = replaced(example, path, data.draw(JSON_VALUES))

    if contracts.load_contracts().is_valid_json(document, schema_id):
        assert reference_accepts(document, schema_id)
    if contracts.load_contracts().is_valid_native(document, schema_id):
        assert reference_accepts(document, schema_id)


@pytest.mark.parametrize("schema_id", [LEAD_CARD_V1, LEAD_CARD_V2])
@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_nan_accepted_only_where_null_is(schema_id: str, number: float) -> None:
    # orjson writes NaN and infinity as null, and the writer checks the record, not the
    # line, on its fast path. So wherever the Rust validator lets such a float through,
    # null must pass too.
    example = load_example(schema_id)
    contract_set = contracts.load_contracts()
    paths = leaf_paths(example) + [("labels", 0, "evidence", "extra")]

    for path in paths:
        with_number = replaced(example, path, number)
        if contract_set.is_valid_native(with_number, schema_id):
            assert contract_set.is_valid_json(replaced(example, path, None), schema_id), path
