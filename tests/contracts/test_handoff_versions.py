"""Lead-card v2 beside the pinned v1: the example validates, and each version rejects the other's shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sxe import contracts
from sxe.contracts import CARDS_PAGE_V1, LEAD_CARD_V1, LEAD_CARD_V2, QUEUE_MESSAGE_V1
from sxe.errors import ContractViolation

EXAMPLES_DIR = contracts.find_contracts_dir() / "examples" / "handoff"
PUBLISHED = [
    "handoff/lead-card.v2.schema.json",
    "handoff/bundle-manifest.v2.schema.json",
    "handoff/cards-page.v1.schema.json",
    "handoff/queue-message.v1.schema.json",
    "handoff/problem.v1.schema.json",
]


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8"))
    return document


@pytest.mark.parametrize("path", PUBLISHED)
def test_new_schemas_are_pinned(path: str) -> None:
    root = contracts.find_contracts_dir()

    assert contracts.read_pins(root)[path] == contracts.schema_file_hashes(root)[path]


def test_v2_example_validates() -> None:
    contracts.validate(example("lead-card.v2.example.json"), LEAD_CARD_V2)


def test_v1_card_fails_v2() -> None:
    card = example("lead-card.v1.example.json")
    card["schema_version"] = "lead-card.v2"
    card["tribes"] = []

    with pytest.raises(ContractViolation) as caught:
        contracts.validate(card, LEAD_CARD_V2)

    assert caught.value.pointer.startswith("/contact/")


def test_v2_card_fails_v1() -> None:
    card = example("lead-card.v2.example.json")
    card["schema_version"] = "lead-card.v1"

    with pytest.raises(ContractViolation) as caught:
        contracts.validate(card, LEAD_CARD_V1)

    assert caught.value.rule in {"additionalProperties", "required"}


def test_page_items_must_match_record_schema() -> None:
    page = {
        "schema_version": "cards-page.v1",
        "record_schema": LEAD_CARD_V2,
        "pools": ["indie-makers"],
        "limit": 10,
        "items": [example("lead-card.v2.example.json")],
        "has_more": False,
        "next_cursor": "abc.def",
    }
    contracts.validate(page, CARDS_PAGE_V1)

    page["items"].append(example("lead-card.v1.example.json"))
    with pytest.raises(ContractViolation) as caught:
        contracts.validate(page, CARDS_PAGE_V1)
    assert caught.value.pointer.startswith("/items/1")


def test_queue_message_allows_null_card() -> None:
    message = {
        "schema_version": "queue-message.v1",
        "message_id": "6f1c2a4e-0000-4000-8000-000000000001",
        "event": "lead_card.handed_off",
        "consumer": "crm",
        "pool": "indie-makers",
        "card_id": "0b6f3c1e-8a2d-4f5b-9c7e-2d4a6b8c0e1f",
        "bundle_id": "6f1c2a4e-0000-4000-8000-000000000002",
        "enqueued_at": "2026-12-04T09:20:00Z",
        "delivery": 1,
        "lease_expires_at": "2026-12-04T09:21:00Z",
        "record_schema": LEAD_CARD_V2,
        "card": None,
    }

    contracts.validate(message, QUEUE_MESSAGE_V1)
