"""The enrich/callback web function against the real database: Apollo phone deliveries."""

from __future__ import annotations

import json
import threading
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.types.json import Jsonb

from sxe.adapters.apollo_callback import handle, register_phone_request
from sxe.compliance import suppression
from sxe.config import load_settings
from sxe.db import transaction

TOKEN = "apollo-hook-token"
REQUEST_ID = 1039995589705121900
POOL = "callback-pool"


def delivery(request_id: Any = REQUEST_ID, phones: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    numbers = (
        phones
        if phones is not None
        else [
            {"sanitized_number": "+12125550142", "type": "mobile", "status": "valid_number", "dnc_status": "clear"},
            {"sanitized_number": "+12125550199", "type": "Mobile", "status": "valid_number", "dnc_status": "dnc"},
            {"sanitized_number": "not a number", "type": "mobile"},
        ]
    )
    return {"request_id": request_id, "people": [{"id": "64a1f0c2e4b0a1b2c3d4e5f6", "phone_numbers": numbers}]}


def event(body: Any, *, token: str = TOKEN, method: str = "POST") -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    http = {"body": text, "headers": {"content-type": "application/json"}, "method": method, "path": ""}
    return {"http": {**http, "queryString": f"token={token}", "isBase64Encoded": False}}


def status_and_body(response: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def callback_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Any) -> str:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_APOLLO_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("SXE_SUPPRESSION_KEY", "callback-test-suppression-key-0123456789")
    return database_url


def make_card(conn: psycopg.Connection[Any], *, with_contact: bool = False, readiness: str = "enriched") -> UUID:
    conn.execute("INSERT INTO execution.pools (name, intent) VALUES (%s, %s) ON CONFLICT DO NOTHING", (POOL, Jsonb({})))
    contact_id = None
    if with_contact:
        contact_id = conn.execute("INSERT INTO contact.contacts DEFAULT VALUES RETURNING id").fetchone()["id"]
    row = conn.execute(
        "INSERT INTO execution.lead_cards (pool, readiness, contact_id) VALUES (%s, %s, %s) RETURNING id",
        (POOL, readiness, contact_id),
    ).fetchone()
    card_id: UUID = row["id"]
    return card_id


def register(conn: psycopg.Connection[Any], card_id: UUID, request_id: int = REQUEST_ID) -> None:
    with transaction(conn, role="sxe_worker"):
        register_phone_request(
            conn,
            request_id=request_id,
            card_id=card_id,
            provider_person_id="64a1f0c2e4b0a1b2c3d4e5f6",
            adapter_version="1",
            simulated=False,
        )


def card_phones(conn: psycopg.Connection[Any], card_id: UUID) -> list[tuple[str, str | None, str | None, bool]]:
    rows = conn.execute(
        """SELECT p.value, p.line_type, p.dnc_status, p.scrubbed_at IS NOT NULL AS scrubbed
             FROM execution.lead_cards c JOIN contact.contact_points p ON p.contact_id = c.contact_id
            WHERE c.id = %s AND p.kind = 'phone' ORDER BY p.value""",
        (card_id,),
    ).fetchall()
    return [(row["value"], row["line_type"], row["dnc_status"], row["scrubbed"]) for row in rows]


def callback_audit_rows(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT subject, detail, payload_sha256 FROM ops.audit_log WHERE action = 'enrichment.callback'"
    ).fetchall()


def test_delivery_writes_phones_to_card(callback_env: str, conn: psycopg.Connection[Any]) -> None:
    card_id = make_card(conn)
    register(conn, card_id)

    status, body = status_and_body(handle(event(delivery())))

    assert status == 200
    assert body == {"accepted": True, "phones": 2}
    assert card_phones(conn, card_id) == [
        ("+12125550142", "mobile", "clear", True),
        ("+12125550199", "mobile", "dnc", True),
    ]
    delivered = conn.execute(
        "SELECT delivered_at FROM ops.apollo_phone_requests WHERE request_id = %s", (REQUEST_ID,)
    ).fetchone()
    assert delivered["delivered_at"] is not None


def test_delivery_is_audited_without_numbers(callback_env: str, conn: psycopg.Connection[Any]) -> None:
    card_id = make_card(conn)
    register(conn, card_id)

    handle(event(delivery()))

    rows = callback_audit_rows(conn)
    assert len(rows) == 1
    assert rows[0]["subject"] == f"lead_card:{card_id}"
    assert rows[0]["detail"]["request_id"] == str(REQUEST_ID)
    assert rows[0]["detail"]["phones"] == 2
    assert "555" not in json.dumps(rows[0]["detail"])
    assert len(rows[0]["payload_sha256"]) == 64


def test_existing_contact_gets_the_phones(callback_env: str, conn: psycopg.Connection[Any]) -> None:
    card_id = make_card(conn, with_contact=True)
    contact_before = conn.execute("SELECT contact_id FROM execution.lead_cards WHERE id = %s", (card_id,)).fetchone()
    register(conn, card_id)

    handle(event(delivery()))

    contact_after = conn.execute("SELECT contact_id FROM execution.lead_cards WHERE id = %s", (card_id,)).fetchone()
    assert contact_after["contact_id"] == contact_before["contact_id"]
    assert len(card_phones(conn, card_id)) == 2


def test_repeated_delivery_writes_once(callback_env: str, conn: psycopg.Connection[Any]) -> None:
    card_id = make_card(conn)
    register(conn, card_id)

    first = status_and_body(handle(event(delivery())))
    second = status_and_body(handle(event(delivery())))

    assert first[0] == 200
    assert second == (200, {"accepted": False, "reason": "this request_id was already delivered"})
    assert len(callback_audit_rows(conn)) == 1
    assert len(card_phones(conn, card_id)) == 2


def test_concurrent_retries_write_once(callback_env: str, conn: psycopg.Connection[Any]) -> None:
    card_id = make_card(conn)
    register(conn, card_id)
    barrier = threading.Barrier(4)
    statuses: list[dict[str, Any]] = []

    def deliver() -> None:
        barrier.wait()
        statuses.append(status_and_body(handle(event(delivery())))[1])

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(1 for body in statuses if body.get("accepted")) == 1
    assert len(statuses) == 4
    assert len(callback_audit_rows(conn)) == 1


def test_suppressed_phone_is_dropped(callback_env: str, conn: psycopg.Connection[Any]) -> None:
    card_id = make_card(conn)
    register(conn, card_id)
    key = suppression.suppression_key(load_settings())
    with transaction(conn, role="sxe_worker"):
        suppression.add(conn, [suppression.phone_identifier("+12125550199")], key, uuid4())

    status, body = status_and_body(handle(event(delivery())))

    assert status == 200
    assert body == {"accepted": True, "phones": 1}
    assert [row[0] for row in card_phones(conn, card_id)] == ["+12125550142"]
    assert callback_audit_rows(conn)[0]["detail"]["phones_dropped"] == 1


@pytest.mark.parametrize("readiness", ["suppressed", "merged"])
def test_closed_card_gets_no_phones(callback_env: str, conn: psycopg.Connection[Any], readiness: str) -> None:
    card_id = make_card(conn, readiness=readiness)
    register(conn, card_id)

    status, body = status_and_body(handle(event(delivery())))

    assert status == 200
    assert body == {"accepted": True, "phones": 0}
    assert card_phones(conn, card_id) == []
    assert conn.execute("SELECT count(*) AS n FROM contact.contact_points").fetchone()["n"] == 0
    assert callback_audit_rows(conn)[0]["detail"]["card_readiness"] == readiness


def test_unknown_request_id_is_404(callback_env: str, conn: psycopg.Connection[Any]) -> None:
    response = handle(event(delivery(request_id=42)))

    assert response["statusCode"] == 404
    assert response["headers"]["content-type"] == "application/problem+json"
    assert "42" in json.loads(response["body"])["detail"]
    claimed = conn.execute("SELECT count(*) AS n FROM ops.apollo_callback_deliveries").fetchone()
    assert claimed["n"] == 0


def test_retry_after_registration_succeeds(callback_env: str, conn: psycopg.Connection[Any]) -> None:
    card_id = make_card(conn)

    early = handle(event(delivery()))
    register(conn, card_id)
    late = handle(event(delivery()))

    assert early["statusCode"] == 404
    assert status_and_body(late) == (200, {"accepted": True, "phones": 2})


def test_request_id_as_string_accepted(callback_env: str, conn: psycopg.Connection[Any]) -> None:
    card_id = make_card(conn)
    register(conn, card_id, request_id=-7)

    status, body = status_and_body(handle(event(delivery(request_id="-7"))))

    assert status == 200
    assert body["phones"] == 2


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("{not json", "not UTF-8 JSON"),
        ([1, 2], "not a JSON object"),
        ({"people": []}, "request_id"),
        ({"request_id": 2**63, "people": []}, "signed 64-bit"),
        ({"request_id": True, "people": []}, "request_id"),
        ({"request_id": 5}, "people"),
        ({"request_id": 5, "people": ["x"]}, "people[0] is not an object"),
        ({"request_id": 5, "people": [{"phone_numbers": [{"sanitized_number": 12}]}]}, "sanitized_number"),
    ],
)
def test_malformed_delivery_is_400(callback_env: str, body: Any, detail: str) -> None:
    response = handle(event(body))

    assert response["statusCode"] == 400
    assert response["headers"]["content-type"] == "application/problem+json"
    assert detail in json.loads(response["body"])["detail"]


def test_wrong_token_is_401(callback_env: str, conn: psycopg.Connection[Any]) -> None:
    card_id = make_card(conn)
    register(conn, card_id)

    response = handle(event(delivery(), token="guess"))

    assert response["statusCode"] == 401
    assert card_phones(conn, card_id) == []


def test_missing_token_setting_is_503(callback_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SXE_APOLLO_WEBHOOK_TOKEN")

    assert handle(event(delivery()))["statusCode"] == 503


def test_database_down_is_503(callback_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", "postgresql://sxe@127.0.0.1:1/sxe")

    response = handle(event(delivery()))

    assert response["statusCode"] == 503
    assert json.loads(response["body"])["title"] == "Database unavailable"


def test_get_is_405(callback_env: str) -> None:
    assert handle(event(delivery(), method="GET"))["statusCode"] == 405
