"""Record rendering, cursors and web event parsing of the handoff, without a database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from sxe import contracts
from sxe.contracts import LEAD_CARD_V1, LEAD_CARD_V2
from sxe.errors import UsageError
from sxe.handoff.cursor import Position, TimePosition, decode_cursor, encode_cursor, position_before
from sxe.handoff.http import ApiError, parse_event
from sxe.handoff.records import RecordFormat, check_contact_fields, check_schema_version, dnc_result, render_card

SECRET = b"s" * 32


def row(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "card_id": uuid.UUID(int=1),
        "pool": "makers",
        "readiness": "handed_off",
        "readiness_reason": "matched",
        "ruleset_version": "personas-v1",
        "updated_at": datetime(2026, 12, 4, 12, 0, 0, 123456, tzinfo=UTC),
        "profiles": [
            {
                "platform": "x",
                "handle": "ada",
                "display_name": "Ada",
                "verified": False,
                "quality_flags": [],
                "source_format": "x-api-v2",
                "source_file": "x.jsonl",
                "collected_at": "2026-12-03T18:00:00+00:00",
            }
        ],
        "labels": [
            {
                "kind": "tribe",
                "value": "b-tribe",
                "score": 0.4,
                "rule_id": "t.b",
                "ruleset_version": "1",
                "evidence": {},
            },
            {
                "kind": "tribe",
                "value": "a-tribe",
                "score": 0.9,
                "rule_id": "t.a",
                "ruleset_version": "1",
                "evidence": {},
            },
        ],
        "contact_points": [
            {
                "kind": "email",
                "value": "ada@example.com",
                "status": "verified",
                "source": "apollo",
                "simulated": True,
                "line_type": None,
                "dnc_status": None,
                "scrubbed_at": None,
                "suppressed": False,
            },
            {
                "kind": "phone",
                "value": "+15555550123",
                "status": None,
                "source": "apollo",
                "simulated": True,
                "line_type": "landline",
                "dnc_status": None,
                "scrubbed_at": None,
                "suppressed": True,
            },
        ],
        "decisions": [],
    }
    base.update(changes)
    return base


@pytest.mark.parametrize("version", ["lead-card.v1", "lead-card.v2"])
def test_rendered_card_matches_its_schema(version: str) -> None:
    record = render_card(row(), RecordFormat(version))

    contracts.validate(record, LEAD_CARD_V1 if version.endswith("v1") else LEAD_CARD_V2)
    assert record["readiness"] == "ready"


def test_v2_tribes_sorted_by_score() -> None:
    record = render_card(row(), RecordFormat("lead-card.v2"))

    assert [tribe["value"] for tribe in record["tribes"]] == ["a-tribe", "b-tribe"]


def test_v2_landline_has_unknown_tcpa() -> None:
    phone = render_card(row(), RecordFormat("lead-card.v2"))["contact"]["phones"][0]

    assert phone["compliance"] == {"dnc": "unknown", "tcpa": "unknown", "scrubbed_at": None, "suppressed": True}


def test_empty_allowlist_sends_no_contact() -> None:
    record = render_card(row(), RecordFormat("lead-card.v1", frozenset()))

    assert record["contact"] == {"emails": [], "phones": []}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("DNC", "listed"), ("listed", "listed"), ("clear", "clear"), (None, "unknown"), ("?", "unknown")],
)
def test_dnc_result_mapping(raw: str | None, expected: str) -> None:
    assert dnc_result(raw) == expected


def test_unknown_version_and_field_are_named() -> None:
    with pytest.raises(UsageError, match="'v3'"):
        check_schema_version("v3")
    with pytest.raises(UsageError, match="'sms'"):
        check_contact_fields(["emails", "sms"])


def test_cursor_round_trip_keeps_64_bit_xid() -> None:
    position = Position((7 << 32) + 12345, uuid.UUID(int=7))

    assert decode_cursor(encode_cursor(position, ("b", "a"), SECRET), ("a", "b"), SECRET) == position


def test_time_cursor_round_trip_keeps_microseconds() -> None:
    position = TimePosition(datetime(2026, 12, 4, 12, 0, 0, 123456, tzinfo=UTC), uuid.UUID(int=7))

    assert decode_cursor(encode_cursor(position, ("b", "a"), SECRET), ("a", "b"), SECRET) == position


def test_cursor_from_time_ordered_pages_still_decodes() -> None:
    # The exact bytes the erasures feed signed while pages were ordered by (erased_at, card_id).
    payload = b'{"u":"2026-12-04T12:00:00.123456+00:00","i":"00000000-0000-0000-0000-000000000007","p":["a"]}'
    mac = hmac.new(SECRET, b"sxe-erasures-cursor-v1\n" + payload, hashlib.sha256).digest()
    cursor = ".".join(base64.urlsafe_b64encode(part).rstrip(b"=").decode() for part in (payload, mac))

    position = decode_cursor(cursor, ("a",), SECRET, feed="erasures")

    assert position == TimePosition(datetime(2026, 12, 4, 12, 0, 0, 123456, tzinfo=UTC), uuid.UUID(int=7))


def test_position_before_is_the_previous_card_id() -> None:
    assert position_before(Position(10, uuid.UUID(int=7))) == Position(10, uuid.UUID(int=6))
    assert position_before(Position(10, uuid.UUID(int=0))) == Position(9, uuid.UUID(int=(1 << 128) - 1))


def test_cursor_rejects_other_pools_and_keys() -> None:
    cursor = encode_cursor(Position(1000, uuid.UUID(int=7)), ("a",), SECRET)

    with pytest.raises(UsageError, match="other pools"):
        decode_cursor(cursor, ("b",), SECRET)
    with pytest.raises(UsageError, match="altered"):
        decode_cursor(cursor, ("a",), b"t" * 32)
    with pytest.raises(UsageError, match="malformed"):
        decode_cursor("not a cursor", ("a",), SECRET)


def test_raw_event_with_base64_body() -> None:
    body = base64.b64encode(json.dumps({"message_ids": ["x"]}).encode()).decode()
    event = {
        "http": {
            "method": "post",
            "path": "/ack",
            "headers": {"Idempotency-Key": "k"},
            "queryString": "a=1",
            "body": body,
            "isBase64Encoded": True,
        }
    }

    request = parse_event(event)

    assert request.method == "POST"
    assert request.body == {"message_ids": ["x"]}
    assert request.query == {"a": "1"}
    assert request.header("idempotency-key") == "k"


@pytest.mark.parametrize("body", ["[1, 2]", "{bad json"])
def test_raw_event_body_must_be_json_object(body: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_event({"http": {"method": "POST", "body": body, "headers": {}}})

    assert caught.value.status == 400


def test_fingerprint_ignores_key_order() -> None:
    first = parse_event({"http": {"method": "POST", "path": "/ack", "body": '{"a": 1, "b": 2}'}})
    second = parse_event({"http": {"method": "POST", "path": "/ack", "body": '{"b": 2, "a": 1}'}})
    other = parse_event({"http": {"method": "POST", "path": "/ack", "body": '{"b": 3, "a": 1}'}})

    assert first.fingerprint() == second.fingerprint()
    assert first.fingerprint() != other.fingerprint()
