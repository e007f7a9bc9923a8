"""The ingest/webhook function called with DigitalOcean's raw web event, against a real PostgreSQL."""

from __future__ import annotations

import base64
import copy
import hashlib
import importlib.util
import json
import threading
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from conftest import TEMPLATE_DATABASE, scratch_database

from sxe import audit, functions
from sxe.cli import main
from sxe.compliance import suppression
from sxe.compliance.access import access_report
from sxe.compliance.erasure import erase
from sxe.config import load_settings
from sxe.db import connect, transaction
from sxe.handoff.store import LocalObjectStore
from sxe.webhooks import normalize as webhook_normalize
from sxe.webhooks import sign
from sxe.webhooks.signature import TOLERANCE_SECONDS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((PROJECT_ROOT / "contracts/ingest/examples/webhook-batch.v1.json").read_text(encoding="utf-8"))
OLD_SECRET = "whsec_" + base64.b64encode(b"old-secret-key-for-tests-0123456").decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"new-secret-key-for-tests-6543210").decode()
UNKNOWN_SECRET = "whsec_" + base64.b64encode(b"a-secret-nobody-configured-here!").decode()
# Outside the signature tolerance by more than the time a slow machine takes between
# signing and checking, and the up to one second lost by int(time.time()).
OUTSIDE_TOLERANCE = TOLERANCE_SECONDS + 60


def load_handler() -> ModuleType:
    path = PROJECT_ROOT / "packages" / "ingest" / "webhook" / "__main__.py"
    spec = importlib.util.spec_from_file_location("handler_ingest_webhook", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HANDLER = load_handler()


def configure(monkeypatch: pytest.MonkeyPatch, database_url: str, state_dir: Path) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(state_dir))
    monkeypatch.setenv("SXE_WEBHOOK_SECRETS", f"{OLD_SECRET}, {NEW_SECRET}")
    monkeypatch.setenv("SXE_WEBHOOK_MAX_BYTES", "65536")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    """A fresh database per test, for deliveries that store something."""
    configure(monkeypatch, database_url, tmp_path / "state")
    return database_url


@pytest.fixture(scope="module")
def rejecting_database(server_url: str, template_url: str) -> Any:
    with scratch_database(server_url, "sxe_webhook", TEMPLATE_DATABASE) as url:
        yield url


@pytest.fixture
def rejecting(monkeypatch: pytest.MonkeyPatch, rejecting_database: str, tmp_path: Path) -> str:
    """One database shared by the tests of rejected deliveries, which must all leave it empty."""
    configure(monkeypatch, rejecting_database, tmp_path / "state")
    return rejecting_database


def delivery(
    body: bytes | dict[str, Any] = EXAMPLE,
    *,
    webhook_id: str = "msg_2b9Qx7",
    timestamp: int | None = None,
    secret: str = NEW_SECRET,
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(data, webhook_id, timestamp, secret),
    }
    if headers is not None:
        signed = {**signed, **headers}
        signed = {name: value for name, value in signed.items() if value is not None}
    payload = base64.b64encode(data).decode() if base64_body else data.decode()
    return {
        "http": {
            "body": payload,
            "headers": signed,
            "method": "POST",
            "path": "",
            "queryString": "",
            "isBase64Encoded": base64_body,
        }
    }


def call(event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = HANDLER.main(event, None)
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def count(database_url: str, table: str, where: str = "true") -> int:
    with connect(database_url, autocommit=True) as conn:
        return int(conn.execute(f"SELECT count(*) AS n FROM {table} WHERE {where}").fetchone()["n"])


def stored_nothing(database_url: str) -> bool:
    tables = ("social.webhook_batches", "social.ingest_batches", "ops.jobs", "ops.quarantine")
    # Migrations audit themselves, and rejected signatures are audited, so only other rows count.
    deliveries_audited = count(database_url, "ops.audit_log", "action NOT IN ('migration.applied', 'webhook.rejected')")
    return all(count(database_url, table) == 0 for table in tables) and deliveries_audited == 0


# Accepted deliveries


def test_valid_delivery_is_accepted(environment: str) -> None:
    status, body, headers = call(delivery())

    assert status == 202
    assert headers["content-type"] == "application/json"
    assert body["duplicate"] is False
    assert body["records"] == 2
    assert body["accepted"] == 2
    assert body["quarantined"] == 0
    assert count(environment, "social.webhook_batches", f"id = '{body['batch_id']}'") == 1
    assert count(environment, "ops.jobs", "queue = 'normalize' AND state = 'queued'") == 1
    assert count(environment, "ops.audit_log", "action = 'webhook.accepted'") == 1


def test_accepted_delivery_does_no_normalization(environment: str) -> None:
    call(delivery())

    assert count(environment, "social.profiles") == 0
    assert count(environment, "social.raw_records") == 0


def test_base64_body_is_accepted(environment: str) -> None:
    status, body, _ = call(delivery(base64_body=True))

    assert status == 202
    assert body["accepted"] == 2


def test_rotated_old_secret_still_verifies(environment: str) -> None:
    status, _, _ = call(delivery(secret=OLD_SECRET))

    assert status == 202


def test_one_matching_entry_among_several_verifies(environment: str) -> None:
    event = delivery(secret=NEW_SECRET)
    good = event["http"]["headers"]["webhook-signature"]
    event["http"]["headers"]["webhook-signature"] = f"v1,{base64.b64encode(b'x' * 32).decode()} v2,abc {good}"

    status, _, _ = call(event)

    assert status == 202


def test_records_wait_whole_outside_tier1(environment: str) -> None:
    body = copy.deepcopy(EXAMPLE)
    body["records"][0]["biography"] = "Orders: orders@verde.example or +351 912 345 678"

    status, receipt, _ = call(delivery(body))

    assert status == 202
    with connect(environment, autocommit=True) as conn:
        batch = conn.execute("SELECT records FROM social.webhook_batches").fetchone()
        intake_text = conn.execute("SELECT records::text AS r FROM intake.webhook_records").fetchone()["r"]
        with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction(conn, role="sxe_api"):
            conn.execute("SELECT count(*) FROM intake.webhook_records")
    assert batch["records"] is None
    assert "orders@verde.example" in intake_text


# Rejected signatures


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({"webhook-id": None}, "webhook-id is missing"),
        ({"webhook-timestamp": None}, "webhook-timestamp is missing"),
        ({"webhook-signature": None}, "webhook-signature is missing"),
        ({"webhook-signature": "   "}, "webhook-signature is missing"),
        ({"webhook-id": "has space"}, "printable ASCII"),
        ({"webhook-timestamp": "1.7e9"}, "integer number of Unix seconds"),
        ({"webhook-timestamp": "-5"}, "integer number of Unix seconds"),
        ({"webhook-timestamp": "yesterday"}, "integer number of Unix seconds"),
        ({"webhook-signature": "v1"}, "v1,<base64>"),
        ({"webhook-signature": "v1,not*base64!"}, "not valid base64"),
        ({"webhook-signature": "v2,abcd"}, "no v1 entry"),
        ({"webhook-signature": " ".join(["v1,YWJj"] * 11)}, "more than 10 entries"),
    ],
)
def test_malformed_headers_are_401(rejecting: str, headers: dict[str, str], detail: str) -> None:
    status, body, response_headers = call(delivery(headers=headers))

    assert status == 401
    assert response_headers["content-type"] == "application/problem+json"
    assert detail in body["detail"]
    assert body["status"] == 401
    assert stored_nothing(rejecting)


def test_tampered_body_is_401(rejecting: str) -> None:
    event = delivery()
    event["http"]["body"] = event["http"]["body"].replace("24810", "99999")

    status, body, _ = call(event)

    assert status == 401
    assert "matches no active secret" in body["detail"]
    assert stored_nothing(rejecting)


def test_tampered_webhook_id_is_401(rejecting: str) -> None:
    event = delivery()
    event["http"]["headers"]["webhook-id"] = "msg_other"

    status, _, _ = call(event)

    assert status == 401


def test_unknown_secret_is_401(rejecting: str) -> None:
    status, body, _ = call(delivery(secret=UNKNOWN_SECRET))

    assert status == 401
    assert UNKNOWN_SECRET not in json.dumps(body)


def test_stale_timestamp_is_401(rejecting: str) -> None:
    status, body, _ = call(delivery(timestamp=int(time.time()) - OUTSIDE_TOLERANCE))

    assert status == 401
    assert "seconds old" in body["detail"]


def test_future_timestamp_is_401(rejecting: str) -> None:
    status, body, _ = call(delivery(timestamp=int(time.time()) + OUTSIDE_TOLERANCE))

    assert status == 401
    assert "in the future" in body["detail"]


def rejections(database_url: str) -> list[dict[str, Any]]:
    with connect(database_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT detail, payload_sha256 FROM ops.audit_log WHERE action = 'webhook.rejected' ORDER BY id"
        ).fetchall()


def test_rejected_signature_is_audited_without_body(environment: str) -> None:
    event = delivery()
    event["http"]["body"] = event["http"]["body"].replace("24810", "99999")

    call(event)

    (row,) = rejections(environment)
    assert row["detail"] == {"reason": "no_matching_secret", "webhook_id": "msg_2b9Qx7"}
    assert row["payload_sha256"] == hashlib.sha256(event["http"]["body"].encode()).hexdigest()


@pytest.mark.parametrize(
    ("headers", "offset", "reason"),
    [
        ({}, -OUTSIDE_TOLERANCE, "stale_timestamp"),
        ({}, OUTSIDE_TOLERANCE, "future_timestamp"),
        ({"webhook-signature": None}, 0, "missing_header"),
        ({"webhook-id": "has space"}, 0, "malformed_header"),
    ],
)
def test_rejection_reason_is_audited(environment: str, headers: dict[str, str], offset: int, reason: str) -> None:
    # The offset applies when the test runs, not when the suite is collected minutes before.
    call(delivery(headers=headers, timestamp=int(time.time()) + offset))

    (row,) = rejections(environment)
    assert row["detail"]["reason"] == reason


def test_rejection_without_database_is_still_401(rejecting: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", "postgresql://sxe@127.0.0.1:9/nowhere?connect_timeout=2")

    status, body, _ = call(delivery(secret=UNKNOWN_SECRET))

    assert status == 401
    assert "matches no active secret" in body["detail"]


def test_timestamp_inside_window_is_accepted(environment: str) -> None:
    status, _, _ = call(delivery(timestamp=int(time.time()) - 240))

    assert status == 202


# Sizes, methods and configuration


def test_oversized_body_is_413_before_hashing(rejecting: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail_if_called(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an oversized body was verified")

    monkeypatch.setattr(HANDLER, "handle", HANDLER.handle)
    monkeypatch.setattr("sxe.webhooks.handler.verify", fail_if_called)
    body = copy.deepcopy(EXAMPLE)
    body["records"][0]["biography"] = "x" * 70_000

    status, problem, headers = call(delivery(body))

    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert "65536 bytes" in problem["detail"]


def test_oversized_base64_body_is_413(rejecting: str) -> None:
    body = copy.deepcopy(EXAMPLE)
    body["records"][0]["biography"] = "x" * 70_000

    status, _, _ = call(delivery(body, base64_body=True))

    assert status == 413


def test_declared_length_over_limit_is_413(rejecting: str) -> None:
    status, _, _ = call(delivery(headers={"content-length": "70000"}))

    assert status == 413


def test_get_request_is_405(rejecting: str) -> None:
    event = delivery()
    event["http"]["method"] = "GET"

    status, _, _ = call(event)

    assert status == 405


def test_missing_secrets_is_503(rejecting: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SXE_WEBHOOK_SECRETS")

    status, body, _ = call(delivery())

    assert status == 503
    assert "no signing secret" in body["detail"]


def test_malformed_secret_is_503_naming_variable(rejecting: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SXE_WEBHOOK_SECRETS", "my-shared-secret")

    status, body, _ = call(delivery())

    assert status == 503
    assert "SXE_WEBHOOK_SECRETS: entry 1 is not 'whsec_' followed by base64" in body["detail"]
    assert "my-shared-secret" not in body["detail"]
    assert stored_nothing(rejecting)


def test_event_without_http_is_405(rejecting: str) -> None:
    status, _, _ = call({})

    assert status == 405


# Bodies


def test_signed_body_that_is_not_json_is_quarantined(environment: str) -> None:
    status, receipt, _ = call(delivery(b"not json at all"))

    with connect(environment, autocommit=True) as conn:
        quarantined = conn.execute("SELECT kind, location, payload, reason FROM ops.quarantine").fetchone()
    assert status == 202
    assert receipt["accepted"] == 0
    assert receipt["quarantined"] == 1
    assert "not UTF-8 JSON" in receipt["invalid"]
    assert quarantined["kind"] == "invalid_batch"
    assert quarantined["location"] == "webhook:(invalid)/msg_2b9Qx7"
    assert quarantined["payload"] is None
    assert count(environment, "ops.jobs") == 0


def test_signed_body_breaking_contract_is_quarantined(environment: str) -> None:
    body = {key: value for key, value in EXAMPLE.items() if key != "pool"}
    body["records"] = [{**EXAMPLE["records"][0], "biography": "mail orders@verde.example"}]

    status, receipt, _ = call(delivery(body))

    with connect(environment, autocommit=True) as conn:
        quarantined = conn.execute("SELECT location, payload::text AS payload, reason FROM ops.quarantine").fetchone()
        audited = conn.execute("SELECT detail FROM ops.audit_log WHERE action = 'webhook.batch_invalid'").fetchone()
    assert status == 202
    assert "missing required properties: 'pool'" in receipt["invalid"]
    assert quarantined["location"] == "webhook:partner-scraper/msg_2b9Qx7"
    assert "orders@verde.example" not in quarantined["payload"]
    assert "[email]" in quarantined["payload"]
    assert audited["detail"]["source"] == "partner-scraper"
    assert "pool" in audited["detail"]["reason"]
    assert count(environment, "intake.webhook_records") == 0


def test_invalid_batch_redelivery_is_duplicate(environment: str) -> None:
    call(delivery(b"[]"))
    status, receipt, _ = call(delivery(b"[]"))

    assert status == 200
    assert receipt["duplicate"] is True
    assert count(environment, "ops.quarantine") == 1


def test_invalid_batch_reason_hides_contact_values(environment: str) -> None:
    body = {**EXAMPLE, "source": "orders@verde.example"}

    _, receipt, _ = call(delivery(body))

    assert "orders@verde.example" not in json.dumps(receipt)
    assert count(environment, "social.webhook_batches", "source = '(invalid)'") == 1


def test_invalid_records_are_quarantined_with_2xx(environment: str) -> None:
    body = copy.deepcopy(EXAMPLE)
    body["records"].append({"id": "5500000009", "followersCount": 3})
    body["records"].append({"username": "bad_counts", "followersCount": "lots"})

    status, receipt, _ = call(delivery(body))

    assert status == 202
    assert receipt["records"] == 4
    assert receipt["accepted"] == 2
    assert receipt["quarantined"] == 2
    with connect(environment, autocommit=True) as conn:
        rows = conn.execute("SELECT location, kind, reason FROM ops.quarantine ORDER BY location").fetchall()
    assert [row["location"] for row in rows] == [
        "webhook:partner-scraper/msg_2b9Qx7[2]",
        "webhook:partner-scraper/msg_2b9Qx7[3]",
    ]
    assert {row["kind"] for row in rows} == {"invalid_shape"}
    assert "does not match its format" in rows[0]["reason"]


# Redelivery


def test_redelivery_is_acknowledged_once(environment: str) -> None:
    first_status, first, _ = call(delivery())
    second_status, second, _ = call(delivery())

    assert first_status == 202
    assert second_status == 200
    assert second["duplicate"] is True
    assert second["batch_id"] == first["batch_id"]
    assert second["accepted"] == first["accepted"]
    assert count(environment, "social.webhook_batches") == 1
    assert count(environment, "ops.jobs") == 1
    assert count(environment, "ops.audit_log", "action = 'webhook.duplicate'") == 1


def test_reused_webhook_id_with_other_body_conflicts(environment: str) -> None:
    changed = copy.deepcopy(EXAMPLE)
    changed["records"][0]["followersCount"] = 99

    call(delivery())
    status, problem, headers = call(delivery(changed))

    assert status == 409
    assert headers["content-type"] == "application/problem+json"
    assert "msg_2b9Qx7" in problem["detail"]
    assert "its own webhook-id" in problem["detail"]
    assert count(environment, "social.webhook_batches") == 1
    assert count(environment, "ops.audit_log", "action = 'webhook.duplicate'") == 0


def test_byte_order_mark_before_json_accepted(environment: str) -> None:
    status, receipt, _ = call(delivery(b"\xef\xbb\xbf" + json.dumps(EXAMPLE).encode()))

    assert status == 202
    assert receipt["accepted"] == 2


def test_same_webhook_id_from_another_source_is_new(environment: str) -> None:
    other = {**EXAMPLE, "source": "other-scraper"}

    call(delivery())
    status, _, _ = call(delivery(other))

    assert status == 202
    assert count(environment, "social.webhook_batches") == 2


def test_concurrent_duplicates_store_one_batch(environment: str) -> None:
    event = delivery(webhook_id="msg_race")
    results: list[tuple[int, dict[str, Any], dict[str, str]]] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        results.append(call(copy.deepcopy(event)))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200, 200, 200, 202]
    assert len({body["batch_id"] for _, body, _ in results}) == 1
    assert count(environment, "social.webhook_batches") == 1
    assert count(environment, "ops.jobs", "queue = 'normalize'") == 1
    assert count(environment, "ops.audit_log", "action = 'webhook.duplicate'") == 3


# Database failures


def test_unreachable_database_is_503(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", "postgresql://sxe:secret-pw@127.0.0.1:1/sxe")
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("SXE_WEBHOOK_SECRETS", NEW_SECRET)

    status, body, headers = call(delivery())

    assert status == 503
    assert headers["content-type"] == "application/problem+json"
    assert "secret-pw" not in json.dumps(body)


def test_failure_mid_delivery_writes_nothing(environment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def connection_lost(*args: Any, **kwargs: Any) -> None:
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(audit, "append", connection_lost)
    body = copy.deepcopy(EXAMPLE)
    body["records"].append({"username": "bad_counts", "followersCount": "lots"})

    status, problem, _ = call(delivery(body))

    assert status == 503
    assert problem["title"] == "Database unavailable"
    assert stored_nothing(environment)


# Normalization


def test_normalize_job_builds_profiles_and_cards(environment: str) -> None:
    body = copy.deepcopy(EXAMPLE)
    body["records"][0]["biography"] = "Orders: orders@verde.example"
    _, receipt, _ = call(delivery(body))

    with connect(environment, autocommit=True) as conn:
        result = webhook_normalize.normalize_webhook_batches(conn)
        profile = conn.execute("SELECT platform, handle, bio, bio_has_email FROM social.profiles").fetchone()
        cards = conn.execute("SELECT pool FROM execution.lead_cards").fetchall()
        job = conn.execute("SELECT state FROM ops.jobs").fetchone()
        quarantined = conn.execute("SELECT kind FROM ops.quarantine").fetchall()
        batch = conn.execute("SELECT normalized_at FROM social.webhook_batches").fetchone()

    assert result.batches == 1
    assert result.accepted == 1
    assert profile == {
        "platform": "instagram",
        "handle": "verde.ceramics",
        "bio": "Orders: [email]",
        "bio_has_email": True,
    }
    assert [card["pool"] for card in cards] == ["default"]
    assert job["state"] == "succeeded"
    assert [row["kind"] for row in quarantined] == ["api_error"]
    assert batch["normalized_at"] is not None
    assert receipt["accepted"] == 2


def test_new_pool_is_audited_once(environment: str) -> None:
    body = {**copy.deepcopy(EXAMPLE), "pool": "spring-makers"}

    with connect(environment, autocommit=True) as conn:
        for webhook_id in ("msg_pool_1", "msg_pool_2"):
            call(delivery(body, webhook_id=webhook_id))
            webhook_normalize.normalize_webhook_batches(conn)
        events = conn.execute("SELECT subject_id, data FROM ops.events WHERE type = 'pool.created'").fetchall()
        audits = conn.execute(
            "SELECT actor, subject, detail FROM ops.audit_log WHERE action = 'pool.created'"
        ).fetchall()
        first_batch = conn.execute("SELECT id FROM social.webhook_batches WHERE webhook_id = 'msg_pool_1'").fetchone()
        pools = conn.execute("SELECT name FROM execution.pools WHERE name = 'spring-makers'").fetchall()

    batch_id = str(first_batch["id"])
    assert len(pools) == 1
    assert events == [{"subject_id": "spring-makers", "data": {"pool": "spring-makers", "batch_id": batch_id}}]
    assert len(audits) == 1
    assert audits[0]["actor"] == "sxe_worker:normalize"
    assert audits[0]["subject"] == "pool:spring-makers"
    assert audits[0]["detail"]["webhook_batch_id"] == batch_id
    assert audits[0]["detail"]["intent"] == "default"


def test_normalize_job_rerun_stores_nothing_twice(environment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    call(delivery())

    def crash(*args: Any) -> None:
        raise RuntimeError("the process died after the records were stored")

    # The first job stores the records, then dies before it completes; its lease still holds it.
    monkeypatch.setattr(webhook_normalize, "build_cards", crash)
    with connect(environment, autocommit=True) as conn:
        with pytest.raises(RuntimeError):
            webhook_normalize.normalize_webhook_batches(conn)
        monkeypatch.undo()
        conn.execute(
            "INSERT INTO ops.jobs (queue, payload) SELECT 'normalize', payload FROM ops.jobs WHERE queue = 'normalize'"
        )
        again = webhook_normalize.normalize_webhook_batches(conn)

    assert again.batches == 1
    assert again.accepted == 0
    assert again.duplicates == 1
    assert count(environment, "social.profiles") == 1
    assert count(environment, "social.profile_observations") == 1


def test_normalized_batch_keeps_no_records(environment: str) -> None:
    call(delivery())

    with connect(environment, autocommit=True) as conn:
        webhook_normalize.normalize_webhook_batches(conn)
        batch = conn.execute("SELECT records, record_count, accepted FROM social.webhook_batches").fetchone()

    assert batch == {"records": None, "record_count": 2, "accepted": 2}
    assert count(environment, "intake.webhook_records") == 0


def test_bio_contacts_kept_as_sightings(environment: str) -> None:
    body = copy.deepcopy(EXAMPLE)
    body["records"][0]["biography"] = "Orders: Orders@Verde.example, WhatsApp +351 912 345 678"
    call(delivery(body))

    with connect(environment, autocommit=True) as conn:
        webhook_normalize.normalize_webhook_batches(conn)
        sightings = conn.execute("SELECT identity_key, kind, value FROM contact.bio_sightings ORDER BY kind").fetchall()
        stored = conn.execute("SELECT payload::text AS p FROM social.raw_records").fetchone()["p"]

    assert sightings == [
        {"identity_key": "id:5500000001", "kind": "email", "value": "orders@verde.example"},
        {"identity_key": "id:5500000001", "kind": "phone", "value": "+351912345678"},
    ]
    assert "verde.example" not in stored.lower()
    assert "[email]" in stored


def test_erased_bio_email_withholds_webhook_record(environment: str) -> None:
    with connect(environment, autocommit=True) as conn, transaction(conn, role="sxe_worker"):
        key = suppression.suppression_key(load_settings())
        suppression.add(conn, [suppression.email_identifier("orders@verde.example")], key, uuid.uuid4())
    body = copy.deepcopy(EXAMPLE)
    body["records"][0]["username"] = "verde.renamed"
    body["records"][0]["id"] = "5500000077"
    body["records"][0]["biography"] = "Write to ORDERS@verde.example"
    call(delivery(body))

    with connect(environment, autocommit=True) as conn:
        result = webhook_normalize.normalize_webhook_batches(conn)
        audited = conn.execute("SELECT detail FROM ops.audit_log WHERE action = 'ingest.suppressed'").fetchall()

    assert result.suppressed == 1
    assert result.accepted == 0
    assert [row["detail"]["matched"] for row in audited] == ["email"]
    assert count(environment, "social.profiles") == 0
    assert count(environment, "contact.bio_sightings") == 0
    assert count(environment, "intake.webhook_records") == 0


def waiting_delivery(environment: str) -> None:
    """Deliver the example with a second profile beside Verde's, and leave it waiting for normalization."""
    body = copy.deepcopy(EXAMPLE)
    body["records"][0]["biography"] = "Orders: orders@verde.example"
    other = {**body["records"][0], "id": "5500000002", "username": "other.studio", "biography": "Porto"}
    body["records"].append(other)
    status, _, _ = call(delivery(body))
    assert status == 202


def test_erasure_drops_waiting_record(environment: str, tmp_path: Path) -> None:
    waiting_delivery(environment)

    with connect(environment, autocommit=True) as conn:
        settings = load_settings()
        store = LocalObjectStore(tmp_path / "objects")
        identifier = suppression.email_identifier("orders@verde.example")
        receipt = erase(conn, store, identifier, key=suppression.suppression_key(settings), actor="test")
        kept = conn.execute("SELECT records FROM intake.webhook_records").fetchone()["records"]
        result = webhook_normalize.normalize_webhook_batches(conn)
        handles = [row["handle"] for row in conn.execute("SELECT handle FROM social.profiles")]

    assert receipt.removed["waiting_webhook_records"] == 1
    assert kept[0] is None
    assert kept[2]["username"] == "other.studio"
    assert result.accepted == 1
    assert handles == ["other.studio"]


def test_access_lists_waiting_record(environment: str) -> None:
    waiting_delivery(environment)

    with connect(environment, autocommit=True) as conn:
        identifier = suppression.handle_identifier("instagram", "verde.ceramics")
        report = access_report(conn, identifier, key=suppression.suppression_key(load_settings()))

    (waiting,) = report.waiting_webhook_records
    assert waiting["index"] == 0
    assert waiting["source"] == "partner-scraper"
    assert waiting["record"]["biography"] == "Orders: orders@verde.example"
    assert report.holds_data


def test_normalize_command_works_the_queue(environment: str, capsys: pytest.CaptureFixture[str]) -> None:
    call(delivery())
    call(delivery(webhook_id="msg_second"))

    first = main(["normalize", "--json"])
    counts = json.loads(capsys.readouterr().out)
    second = main(["normalize"])
    again = capsys.readouterr().out

    assert first == second == 0
    assert (counts["batches"], counts["accepted"], counts["duplicates"]) == (2, 1, 1)
    assert counts["pools"] == ["default"]
    assert list(counts["tagged"]) == ["default"]
    assert count(environment, "execution.lead_cards") == 1
    assert "Normalized 0 webhook batches" in again


def test_normalize_command_counts_in_words(environment: str, capsys: pytest.CaptureFixture[str]) -> None:
    call(delivery())

    assert main(["normalize"]) == 0
    text = capsys.readouterr().out

    assert "Normalized 1 webhook batch: 1 stored, 0 duplicates," in text
    assert "pool default: 1 card tagged" in text


def test_normalize_tags_the_batch_pool(environment: str, capsys: pytest.CaptureFixture[str]) -> None:
    call(delivery({**EXAMPLE, "pool": "b2b-founders"}))

    main(["normalize", "--json"])
    counts = json.loads(capsys.readouterr().out)

    with connect(environment, autocommit=True) as conn:
        card = conn.execute("SELECT pool, readiness FROM execution.lead_cards").fetchone()
    assert counts["pools"] == ["b2b-founders"]
    assert sorted(counts["tagged"]) == ["b2b-founders", "default"]
    assert card["pool"] == "b2b-founders"
    assert card["readiness"] != "new"


def test_normalize_function_tags_the_batch_pool(environment: str) -> None:
    call(delivery({**EXAMPLE, "pool": "b2b-founders"}))

    response = functions.normalize_batch({})

    with connect(environment, autocommit=True) as conn:
        card = conn.execute("SELECT readiness FROM execution.lead_cards WHERE pool = 'b2b-founders'").fetchone()
    assert response["statusCode"] == 200
    assert card["readiness"] != "new"


def test_legacy_redacted_batch_normalizes(environment: str) -> None:
    _, receipt, _ = call(delivery())
    # A batch received before the intake table existed kept its records on the batch row.
    with connect(environment, autocommit=True) as conn:
        conn.execute(
            "UPDATE social.webhook_batches SET records = received.records"
            " FROM intake.webhook_records AS received WHERE received.batch_id = webhook_batches.id"
        )
        conn.execute("DELETE FROM intake.webhook_records")
        result = webhook_normalize.normalize_webhook_batches(conn)

    assert result.accepted == 1
    assert count(environment, "social.profiles", "handle = 'verde.ceramics'") == 1


def test_x_response_is_split_when_normalized(environment: str) -> None:
    response = json.loads((PROJECT_ROOT / "examples/x-api-v2-followers.json").read_text(encoding="utf-8"))
    users = len(response["data"])
    body = {"source": "x-export", "format": "x-api-v2", "pool": "default", "records": [response]}

    status, receipt, _ = call(delivery(body))
    with connect(environment, autocommit=True) as conn:
        result = webhook_normalize.normalize_webhook_batches(conn)

    assert status == 202
    assert receipt["accepted"] == 1
    assert receipt["quarantined"] == 0
    assert result.accepted == users
    assert count(environment, "social.profiles", "platform = 'x'") == users


def test_x_error_body_is_quarantined_as_api_error(environment: str) -> None:
    error_body = {"errors": [{"code": 50, "message": "User not found."}]}
    body = {"source": "x-export", "format": "x-api-v1.1", "pool": "default", "records": [error_body]}

    status, receipt, _ = call(delivery(body))
    with connect(environment, autocommit=True) as conn:
        webhook_normalize.normalize_webhook_batches(conn)
        rows = conn.execute("SELECT kind, reason FROM ops.quarantine").fetchall()

    assert status == 202
    assert receipt["quarantined"] == 0
    assert [row["kind"] for row in rows] == ["api_error"]
    assert "code 50" in rows[0]["reason"]


def test_quarantine_locations_keep_delivery_positions(environment: str) -> None:
    body = copy.deepcopy(EXAMPLE)
    # Record 0 is invalid on receipt, so the example's error item moves to index 2.
    body["records"].insert(0, {"username": "bad_counts", "followersCount": "lots"})

    call(delivery(body))
    with connect(environment, autocommit=True) as conn:
        webhook_normalize.normalize_webhook_batches(conn)
        rows = conn.execute("SELECT location, kind FROM ops.quarantine ORDER BY location").fetchall()

    assert [(row["location"], row["kind"]) for row in rows] == [
        ("webhook:partner-scraper/msg_2b9Qx7[0]", "invalid_shape"),
        ("webhook:partner-scraper/msg_2b9Qx7[2]", "api_error"),
    ]
