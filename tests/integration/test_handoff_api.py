"""The handoff web functions, called with DigitalOcean web events against a real database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from handoff_support import body_of, seed_card, web_event

from sxe import contracts
from sxe.config import load_settings
from sxe.contracts import CARDS_PAGE_V1, LEAD_CARD_V1, PROBLEM_V1, QUEUE_MESSAGE_V1
from sxe.db import connect
from sxe.handoff import api
from sxe.handoff.consumers import Consumer, create_consumer, hash_key
from sxe.handoff.download_server import DownloadServer
from sxe.handoff.export import HandoffRequest, hand_off
from sxe.handoff.http import ApiError, Request, json_response
from sxe.handoff.idempotency import run_once
from sxe.handoff.records import RecordFormat
from sxe.handoff.storage import signing_secret
from sxe.handoff.store import LocalObjectStore

POOL = "makers"
SIGNING_KEY = "k" * 40


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_SIGNING_KEY", SIGNING_KEY)
    return tmp_path / "state"


def add_consumer(conn: psycopg.Connection[Any], name: str = "crm", **options: Any) -> str:
    options.setdefault("contact_fields", ["emails", "phones"])
    return create_consumer(conn, name, options.pop("pools", [POOL]), actor="test", **options)[1]


def hand_off_pool(conn: psycopg.Connection[Any], state_dir: Path, **changes: Any) -> str:
    values: dict[str, Any] = {
        "pool": POOL,
        "environment": "local",
        "created_at": datetime.now(UTC),
        "retention_days": 7,
        "actor": "test",
    }
    values.update(changes)
    return hand_off(conn, LocalObjectStore(state_dir / "objects"), HandoffRequest(**values)).bundle_id


def assert_problem(response: dict[str, Any], status: int) -> dict[str, Any]:
    assert response["statusCode"] == status
    assert response["headers"]["Content-Type"] == "application/problem+json"
    problem: dict[str, Any] = body_of(response)
    contracts.validate(problem, PROBLEM_V1)
    return problem


# --- keys and rate limits -------------------------------------------------------------


def test_consumer_key_is_stored_hashed(conn: psycopg.Connection[Any]) -> None:
    key = add_consumer(conn)

    row = conn.execute("SELECT key_sha256 FROM ops.api_consumers WHERE name = 'crm'").fetchone()
    stored = conn.execute("SELECT count(*) AS n FROM ops.api_consumers WHERE key_sha256 = %s", (key,)).fetchone()

    assert key.startswith("sxe_")
    assert row["key_sha256"] == hash_key(key)
    assert stored["n"] == 0


@pytest.mark.parametrize("authorization", [None, "Bearer sxe_" + "a" * 43, "Basic abc", "Bearer"])
def test_cards_reject_bad_keys(environment: Path, conn: psycopg.Connection[Any], authorization: str | None) -> None:
    add_consumer(conn)
    headers = {"authorization": authorization} if authorization else {}

    response = api.cards(web_event("GET", headers=headers))

    problem = assert_problem(response, 401)
    assert "Bearer" in response["headers"]["WWW-Authenticate"]
    assert "sxe consumer add" in problem["detail"]


def test_revoked_key_is_rejected(environment: Path, conn: psycopg.Connection[Any]) -> None:
    key = add_consumer(conn)
    conn.execute("UPDATE ops.api_consumers SET revoked_at = now()")

    assert_problem(api.cards(web_event("GET", key=key)), 401)


def test_rate_limit_answers_429(environment: Path, conn: psycopg.Connection[Any]) -> None:
    key = add_consumer(conn, burst=2, rate_per_second=0.01)

    statuses = [api.cards(web_event("GET", key=key))["statusCode"] for _ in range(3)]
    limited = api.cards(web_event("GET", key=key))

    assert statuses == [200, 200, 429]
    assert_problem(limited, 429)
    assert int(limited["headers"]["Retry-After"]) >= 1


def test_rate_limit_holds_across_threads(environment: Path, database_url: str, conn: psycopg.Connection[Any]) -> None:
    key = add_consumer(conn, burst=5, rate_per_second=0.01)
    statuses: list[int] = []

    def call() -> None:
        statuses.append(api.cards(web_event("GET", key=key))["statusCode"])

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 5 + [429] * 3


# --- handoff/cards --------------------------------------------------------------------


def test_cards_pages_cover_every_card_once(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seeded = {str(seed_card(conn, POOL, index).card_id) for index in range(5)}
    seed_card(conn, "other", 99)
    key = add_consumer(conn)

    seen: list[str] = []
    cursor = ""
    for _ in range(4):
        page = body_of(api.cards(web_event("GET", key=key, query=f"limit=2&cursor={cursor}")))
        contracts.validate(page, CARDS_PAGE_V1)
        seen += [item["card_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break

    assert len(seen) == 5
    assert set(seen) == seeded
    assert page["next_cursor"] is not None


def test_cards_cursor_returns_changed_cards(environment: Path, conn: psycopg.Connection[Any]) -> None:
    first = seed_card(conn, POOL, 0)
    seed_card(conn, POOL, 1)
    key = add_consumer(conn)
    page = body_of(api.cards(web_event("GET", key=key)))

    conn.execute("UPDATE execution.lead_cards SET updated_at = clock_timestamp() WHERE id = %s", (first.card_id,))
    later = body_of(api.cards(web_event("GET", key=key, query=f"cursor={page['next_cursor']}")))

    assert [item["card_id"] for item in later["items"]] == [str(first.card_id)]


def test_tampered_cursor_is_a_400(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    key = add_consumer(conn)
    cursor = body_of(api.cards(web_event("GET", key=key)))["next_cursor"]
    payload, _, mac = cursor.partition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + mac

    problem = assert_problem(api.cards(web_event("GET", key=key, query=f"cursor={forged}")), 400)

    assert problem["errors"][0]["parameter"] == "cursor"
    assert "altered" in problem["detail"] or "malformed" in problem["detail"]


def test_cards_in_requested_version(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    key = add_consumer(conn, schema_version="v2")

    page = body_of(api.cards(web_event("GET", key=key, query="schema_version=v1")))

    assert page["record_schema"] == LEAD_CARD_V1
    contracts.validate(page["items"][0], LEAD_CARD_V1)


def test_emails_only_consumer_gets_no_phones(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    key = add_consumer(conn, contact_fields=["emails"])

    response = api.cards(web_event("GET", key=key))
    (card,) = body_of(response)["items"]

    assert card["contact"]["phones"] == []
    assert card["contact"]["emails"][0]["address"] == "maker0@example.com"
    assert "+1555555" not in response["body"]


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ("limit=0", 400, "limit"),
        ("limit=abc", 400, "limit"),
        ("schema_version=v9", 400, "schema_version"),
        ("pool=other", 403, "pool"),
    ],
)
def test_cards_bad_parameters(
    environment: Path, conn: psycopg.Connection[Any], query: str, status: int, parameter: str
) -> None:
    key = add_consumer(conn)

    problem = assert_problem(api.cards(web_event("GET", key=key, query=query)), status)

    assert problem["errors"][0]["parameter"] == parameter


def test_cards_reject_post(environment: Path) -> None:
    response = api.cards(web_event("POST", key="sxe_x"))

    assert_problem(response, 405)
    assert response["headers"]["Allow"] == "GET"


def test_cards_accept_web_true_event(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    key = add_consumer(conn)
    event = {"limit": "1", "http": {"method": "GET", "path": "", "headers": {"authorization": f"Bearer {key}"}}}

    page = body_of(api.cards(event))

    assert page["limit"] == 1
    assert len(page["items"]) == 1


# --- handoff/queue --------------------------------------------------------------------


def pull(key: str, **body: Any) -> list[dict[str, Any]]:
    response = api.queue(web_event("POST", key=key, path="/pull", body=body))
    assert response["statusCode"] == 200, response["body"]
    messages: list[dict[str, Any]] = body_of(response)["messages"]
    for message in messages:
        contracts.validate(message, QUEUE_MESSAGE_V1)
    return messages


def ack(key: str, message_ids: list[str], idempotency_key: str | None = None) -> dict[str, Any]:
    headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
    return api.queue(web_event("POST", key=key, path="/ack", body={"message_ids": message_ids}, headers=headers))


def test_queue_leases_then_redelivers(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    key = add_consumer(conn)
    hand_off_pool(conn, environment)

    (first,) = pull(key, lease_seconds=1)
    during_lease = pull(key)
    time.sleep(1.1)
    (again,) = pull(key, lease_seconds=30)

    assert first["delivery"] == 1
    assert during_lease == []
    assert again["message_id"] == first["message_id"]
    assert again["delivery"] == 2
    assert again["card"]["card_id"] == first["card_id"]


def test_acked_message_is_not_redelivered(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    key = add_consumer(conn)
    hand_off_pool(conn, environment)
    (message,) = pull(key, lease_seconds=1)

    result = body_of(ack(key, [message["message_id"]]))
    time.sleep(1.1)

    assert result["acked"] == [message["message_id"]]
    assert pull(key) == []


def test_concurrent_pulls_take_different_messages(
    environment: Path, database_url: str, conn: psycopg.Connection[Any]
) -> None:
    for index in range(6):
        seed_card(conn, POOL, index)
    key = add_consumer(conn, burst=50)
    hand_off_pool(conn, environment)
    leased_ids: list[str] = []

    def worker() -> None:
        leased_ids.extend(message["message_id"] for message in pull(key, max_messages=2))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(leased_ids) == 6
    assert len(set(leased_ids)) == 6


def test_ack_of_other_consumers_message_is_unknown(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    crm = add_consumer(conn, "crm")
    dialer = add_consumer(conn, "dialer")
    hand_off_pool(conn, environment)
    (message,) = pull(crm)

    result = body_of(ack(dialer, [message["message_id"]]))

    assert result["unknown"] == [message["message_id"]]
    assert result["acked"] == []


def test_ack_replays_same_key_and_body(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    key = add_consumer(conn)
    hand_off_pool(conn, environment)
    (message,) = pull(key)

    first = ack(key, [message["message_id"]], "ack-1")
    replay = ack(key, [message["message_id"]], "ack-1")

    assert first["statusCode"] == replay["statusCode"] == 200
    assert replay["body"] == first["body"]
    assert replay["headers"]["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first["headers"]


def test_same_key_other_body_is_422(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    seed_card(conn, POOL, 1)
    key = add_consumer(conn)
    hand_off_pool(conn, environment)
    first, second = pull(key)

    ack(key, [first["message_id"]], "ack-1")
    problem = assert_problem(ack(key, [second["message_id"]], "ack-1"), 422)

    assert problem["errors"][0]["parameter"] == "Idempotency-Key"


def test_rejected_request_does_not_store_key(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    key = add_consumer(conn)
    hand_off_pool(conn, environment)
    (message,) = pull(key)

    rejected = assert_problem(ack(key, ["not-a-uuid"], "ack-1"), 422)
    accepted = ack(key, [message["message_id"]], "ack-1")

    assert rejected["errors"][0]["pointer"] == "/message_ids/0"
    assert accepted["statusCode"] == 200
    assert body_of(accepted)["acked"] == [message["message_id"]]


def test_concurrent_duplicate_is_409(environment: Path, database_url: str, conn: psycopg.Connection[Any]) -> None:
    add_consumer(conn)
    consumer_row = conn.execute("SELECT id FROM ops.api_consumers").fetchone()
    consumer = Consumer(consumer_row["id"], "crm", (POOL,), RecordFormat())
    request = Request("POST", "/ack", {"idempotency-key": "dup-1"}, {}, {"message_ids": ["x"]})
    started, release = threading.Event(), threading.Event()
    results: list[dict[str, Any]] = []

    def slow_operation() -> dict[str, Any]:
        started.set()
        release.wait(10)
        return json_response(200, {"done": True})

    def first_call() -> None:
        with connect(database_url, autocommit=True) as own:
            results.append(run_once(own, consumer, request, slow_operation))

    thread = threading.Thread(target=first_call)
    thread.start()
    started.wait(10)
    with pytest.raises(ApiError) as caught:
        run_once(conn, consumer, request, lambda: json_response(200, {"done": False}))
    release.set()
    thread.join()

    assert caught.value.status == 409
    assert body_of(results[0]) == {"done": True}
    assert body_of(run_once(conn, consumer, request, lambda: json_response(200, {"done": False}))) == {"done": True}


def test_server_failure_releases_the_key(environment: Path, conn: psycopg.Connection[Any]) -> None:
    add_consumer(conn)
    consumer_row = conn.execute("SELECT id FROM ops.api_consumers").fetchone()
    consumer = Consumer(consumer_row["id"], "crm", (POOL,), RecordFormat())
    request = Request("POST", "/ack", {"idempotency-key": "retry-1"}, {}, {"message_ids": ["x"]})

    def failing() -> dict[str, Any]:
        raise RuntimeError("crashed mid-call")

    with pytest.raises(RuntimeError):
        run_once(conn, consumer, request, failing)
    retried = run_once(conn, consumer, request, lambda: json_response(200, {"done": True}))

    assert body_of(retried) == {"done": True}


# --- handoff/bundle and handoff/download ----------------------------------------------


def test_bundle_request_replays_without_second_bundle(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    key = add_consumer(conn, contact_fields=["emails"])
    event = web_event("POST", key=key, body={"schema_version": "v2"}, headers={"idempotency-key": "bundle-1"})

    first = api.bundle(event)
    replay = api.bundle(event)
    bundles = conn.execute("SELECT count(*) AS n, min(contact_fields::text) AS fields FROM ops.bundles").fetchone()

    assert first["statusCode"] == 201
    assert body_of(first)["record_count"] == 1
    assert body_of(replay)["bundle_id"] == body_of(first)["bundle_id"]
    assert bundles["n"] == 1
    assert bundles["fields"] == "{emails}"


def test_bundle_request_rejects_unknown_field(environment: Path, conn: psycopg.Connection[Any]) -> None:
    key = add_consumer(conn)

    problem = assert_problem(api.bundle(web_event("POST", key=key, body={"pools": "x"})), 422)

    assert problem["errors"][0]["pointer"] == "/pools"


def test_scheduled_bundle_event_still_hands_off(environment: Path, conn: psycopg.Connection[Any]) -> None:
    result = api.bundle({"trigger": "handoff-hourly"})

    assert result["statusCode"] == 200
    assert result["body"]["bundle"]["records"] == 0


@pytest.fixture
def download_server(environment: Path) -> Iterator[str]:
    settings = load_settings()
    httpd = DownloadServer(("127.0.0.1", 0), LocalObjectStore(settings.objects_dir), signing_secret(settings))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_download_issues_working_urls(
    monkeypatch: pytest.MonkeyPatch, download_server: str, environment: Path, conn: psycopg.Connection[Any]
) -> None:
    monkeypatch.setenv("SXE_PUBLIC_BASE_URL", download_server)
    seed_card(conn, POOL, 0)
    key = add_consumer(conn)
    bundle_id = hand_off_pool(conn, environment)

    response = api.download(web_event("GET", key=key, query=f"bundle_id={bundle_id}&expires_in=60"))
    body = body_of(response)
    manifest = httpx.get(body["manifest_url"]).json()
    audit = conn.execute(
        "SELECT actor, detail::text AS detail FROM ops.audit_log WHERE action = %s", ("handoff.download_url_issued",)
    ).fetchone()

    assert response["statusCode"] == 200
    assert body["expires_in"] == 60
    assert manifest["bundle_id"] == bundle_id
    assert httpx.get(body["data_url"]).status_code == 200
    assert audit["actor"] == "consumer:crm"
    assert "signature" not in audit["detail"]


def test_download_checks_the_caller(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    seed_card(conn, "other", 1)
    emails_only = add_consumer(conn, "crm", contact_fields=["emails"])
    outsider = add_consumer(conn, "outsider", pools=["other"])
    bundle_id = hand_off_pool(conn, environment)

    no_phones = api.download(web_event("GET", key=emails_only, query=f"bundle_id={bundle_id}"))
    other_pool = api.download(web_event("GET", key=outsider, query=f"bundle_id={bundle_id}"))
    too_long = api.download(web_event("GET", key=emails_only, query=f"bundle_id={bundle_id}&expires_in=604801"))

    assert "phones" in assert_problem(no_phones, 403)["detail"]
    assert_problem(other_pool, 404)
    assert assert_problem(too_long, 400)["errors"][0]["parameter"] == "expires_in"


def test_download_of_revoked_bundle_is_gone(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    key = add_consumer(conn)
    bundle_id = hand_off_pool(conn, environment)
    conn.execute("UPDATE ops.bundles SET revoked_at = now(), revoked_reason = 'erasure'")

    assert_problem(api.download(web_event("GET", key=key, query=f"bundle_id={bundle_id}")), 410)
