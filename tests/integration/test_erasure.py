"""Erasure of a person after a real pipeline run: deletions, suppression, revoked bundles, receipts, re-import."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from sxe import jobs
from sxe.cards import DEFAULT_INTENT
from sxe.cards.intent import set_intent
from sxe.cli import main as cli_main
from sxe.commands.erase import render
from sxe.compliance.access import access_report
from sxe.compliance.access import render as render_access
from sxe.compliance.erasure import ErasureReceipt, erase, parse_subject
from sxe.compliance.functions import erase as erase_function
from sxe.compliance.revocation import RevocationCheck
from sxe.compliance.suppression import email_identifier, phone_identifier, suppression_key
from sxe.config import Settings, load_settings
from sxe.contracts import ERASURE_RECEIPT_V1, validate
from sxe.db import connect, transaction
from sxe.errors import UsageError
from sxe.handoff.download_server import DownloadServer
from sxe.handoff.signing import sign_url
from sxe.handoff.store import LocalObjectStore
from sxe.pipeline import RunSummary, run, signing_secret

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ACTOR = "sxe_worker:test"

PERSON_QUERY = """
SELECT card.id AS card_id, card.contact_id, profile.platform, profile.handle, profile.id AS profile_id,
       (SELECT value FROM contact.contact_points WHERE contact_id = card.contact_id AND kind = 'email' LIMIT 1)
           AS email,
       (SELECT value FROM contact.contact_points WHERE contact_id = card.contact_id AND kind = 'phone' LIMIT 1)
           AS phone,
       (SELECT fingerprint FROM ops.enrichment_decisions WHERE card_id = card.id AND fingerprint IS NOT NULL
         LIMIT 1) AS fingerprint
  FROM execution.lead_cards AS card
  JOIN execution.card_profiles AS link ON link.card_id = card.id
  JOIN social.profiles AS profile ON profile.id = link.profile_id
 WHERE card.readiness = 'handed_off' AND card.contact_id IS NOT NULL AND profile.handle IS NOT NULL
   -- One profile per card, so the expected counts do not depend on which person is picked.
   AND (SELECT count(*) FROM execution.card_profiles AS other WHERE other.card_id = card.id) = 1
   AND EXISTS (SELECT 1 FROM contact.contact_points WHERE contact_id = card.contact_id AND kind = %(kind)s)
 ORDER BY card.id
 LIMIT 1
"""


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(database_url=database_url, state_dir=tmp_path / "state", suppression_key="k" * 32)


@pytest.fixture
def first_run(settings: Settings) -> RunSummary:
    return run([EXAMPLES], settings)


def person(conn: psycopg.Connection, kind: str = "email") -> dict[str, Any]:
    row = conn.execute(PERSON_QUERY, {"kind": kind}).fetchone()
    assert row is not None, f"the examples should yield a handed-off card with a {kind}"
    return dict(row)


def count(conn: psycopg.Connection, query: str, *params: Any) -> int:
    return int(conn.execute(query, params).fetchone()["n"])


def erase_handle(conn: psycopg.Connection, settings: Settings, target: dict[str, Any]) -> ErasureReceipt:
    identifier = parse_subject(f"{target['platform']}:{target['handle']}")
    store = LocalObjectStore(settings.objects_dir)
    return erase(conn, store, identifier, key=suppression_key(settings), actor=ACTOR)


def test_erase_by_handle_removes_person(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    target = person(conn)

    receipt = erase_handle(conn, settings, target)

    card_id = target["card_id"]
    assert receipt.cards_suppressed == [str(card_id)]
    assert count(conn, "SELECT count(*) AS n FROM social.profiles WHERE id = %s", target["profile_id"]) == 0
    assert count(conn, "SELECT count(*) AS n FROM contact.contacts WHERE id = %s", target["contact_id"]) == 0
    assert (
        count(conn, "SELECT count(*) AS n FROM contact.contact_points WHERE contact_id = %s", target["contact_id"]) == 0
    )
    assert count(conn, "SELECT count(*) AS n FROM ops.lookup_memory WHERE fingerprint = %s", target["fingerprint"]) == 0
    assert count(conn, "SELECT count(*) AS n FROM ops.idempotency_keys WHERE key = %s", target["fingerprint"]) == 0
    assert count(conn, "SELECT count(*) AS n FROM execution.card_labels WHERE card_id = %s", card_id) == 0
    assert count(conn, "SELECT count(*) AS n FROM execution.card_profiles WHERE card_id = %s", card_id) == 0
    assert (
        count(conn, "SELECT count(*) AS n FROM ops.enrichment_decisions WHERE fingerprint = %s", target["fingerprint"])
        == 0
    )
    card = conn.execute("SELECT readiness, contact_id FROM execution.lead_cards WHERE id = %s", (card_id,)).fetchone()
    assert card["readiness"] == "suppressed"
    assert card["contact_id"] is None
    assert receipt.removed["contacts"] == 1
    assert receipt.removed["profiles"] == 1
    assert receipt.removed["raw_records"] >= 1


def test_erase_emits_tombstone_and_receipt(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    target = person(conn)

    receipt = erase_handle(conn, settings, target)

    tombstone = conn.execute(
        "SELECT data FROM ops.events WHERE type = 'card.erased' AND subject_id = %s", (str(target["card_id"]),)
    ).fetchone()
    assert tombstone["data"]["request_id"] == str(receipt.request_id)
    row = conn.execute(
        "SELECT detail, payload_sha256 FROM ops.audit_log WHERE action = 'erasure.completed' AND subject = %s",
        (f"erasure:{receipt.request_id}",),
    ).fetchone()
    assert row["detail"]["removed"]["contacts"] == 1
    assert row["detail"]["cards_suppressed"] == [str(target["card_id"])]
    assert row["payload_sha256"] is not None
    text = json.dumps(row["detail"]).lower()
    assert target["handle"].lower() not in text
    assert target["email"].lower() not in text


def test_erase_suppresses_every_identifier(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    target = person(conn)

    receipt = erase_handle(conn, settings, target)

    kinds = {row["kind"] for row in conn.execute("SELECT kind FROM ops.suppressions")}
    assert {"handle", "email"} <= kinds
    key = suppression_key(settings)
    assert email_identifier(target["email"]).keyed_hash(key) in receipt.suppressed_hmacs
    assert receipt.requested_hmac in receipt.suppressed_hmacs


def test_erase_then_reimport_is_suppressed(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    target = person(conn)
    erase_handle(conn, settings, target)

    second = run([EXAMPLES], settings)

    data = second.to_json()
    assert data["suppressed"] >= 1
    assert data["ingested"] == 0
    handles = count(
        conn,
        "SELECT count(*) AS n FROM social.profiles WHERE platform = %s AND lower(handle) = lower(%s)",
        target["platform"],
        target["handle"],
    )
    assert handles == 0
    audited = conn.execute("SELECT detail FROM ops.audit_log WHERE action = 'ingest.suppressed'").fetchall()
    assert len(audited) == data["suppressed"]
    # A record is audited under the first of its suppressed identifiers by keyed hash, and
    # the erasure also suppressed the emails and phones of the person's bio.
    assert {row["detail"]["matched"] for row in audited} <= {"handle", "platform_user_id", "email", "phone"}
    assert second.bundle is not None
    assert str(target["card_id"]) not in bundle_card_ids(second)


def test_unknown_person_is_suppressed_at_first_import(settings: Settings, conn: psycopg.Connection) -> None:
    source = EXAMPLES / "x-api-v1.1-users.jsonl"
    first_line = json.loads(source.read_text().splitlines()[0])
    identifier = parse_subject(f"x:{first_line['screen_name']}")
    receipt = erase(
        conn, LocalObjectStore(settings.objects_dir), identifier, key=suppression_key(settings), actor=ACTOR
    )

    summary = run([source], settings)

    data = summary.to_json()
    records = sum(file["records"] for file in data["files"])
    assert receipt.cards_suppressed == []
    assert sum(receipt.removed.values()) == 0
    assert data["suppressed"] == 1
    assert data["ingested"] == records - data["quarantined"] - 1


def test_erase_revokes_bundle_and_server_refuses(
    settings: Settings, first_run: RunSummary, conn: psycopg.Connection, database_url: str
) -> None:
    target = person(conn)
    bundle = conn.execute("SELECT id, data_key, manifest_key FROM ops.bundles").fetchone()
    store = LocalObjectStore(settings.objects_dir)
    with download_server(store, signing_secret(settings), database_url) as base_url:
        url = sign_url(base_url, bundle["data_key"], signing_secret(settings), 60)
        assert httpx.get(url).status_code == 200

        receipt = erase_handle(conn, settings, target)
        response = httpx.get(url)

    assert receipt.bundles_revoked == [str(bundle["id"])]
    assert response.status_code == 410
    assert "revoked" in response.json()["detail"]
    assert not store.exists(bundle["data_key"])
    assert not store.exists(bundle["manifest_key"])
    bundle_folder = Path(settings.objects_dir, *bundle["data_key"].split("/")[:-1])
    assert not bundle_folder.exists()
    assert Path(settings.objects_dir).is_dir()
    revoked = conn.execute("SELECT revoked_at, revoked_reason FROM ops.bundles WHERE id = %s", (bundle["id"],))
    assert revoked.fetchone()["revoked_reason"] == f"erasure {receipt.request_id}"


def test_revoked_bundle_neighbours_go_out_again(
    settings: Settings, first_run: RunSummary, conn: psycopg.Connection
) -> None:
    target = person(conn)
    receipt = erase_handle(conn, settings, target)

    second = run([EXAMPLES], settings)

    reissued = set(receipt.cards_reissued)
    assert len(reissued) == first_run.bundle.records - 1
    assert set(bundle_card_ids(second)) == reissued
    assert str(target["card_id"]) not in reissued


def test_revoked_bundle_neighbours_stay_in_feed(
    settings: Settings, first_run: RunSummary, conn: psycopg.Connection
) -> None:
    target = person(conn)

    receipt = erase_handle(conn, settings, target)

    states = conn.execute(
        "SELECT DISTINCT readiness FROM execution.lead_cards WHERE id::text = ANY(%s)", (receipt.cards_reissued,)
    ).fetchall()
    assert [row["readiness"] for row in states] == ["ready"]


def test_neighbour_in_live_bundle_stays_handed_off(
    settings: Settings, first_run: RunSummary, conn: psycopg.Connection
) -> None:
    target = person(conn)
    assert first_run.bundle is not None
    still_carried = next(card_id for card_id in bundle_card_ids(first_run) if card_id != str(target["card_id"]))
    with transaction(conn):
        conn.execute(
            """INSERT INTO ops.bundles (id, pool, schema_version, manifest_key, data_key, record_count, sha256)
               SELECT gen_random_uuid(), pool, schema_version, 'later/manifest.json', 'later/records.jsonl.gz',
                      1, sha256
                 FROM ops.bundles WHERE id = %s""",
            (first_run.bundle.id,),
        )
        conn.execute(
            "INSERT INTO ops.bundle_cards (bundle_id, card_id) "
            "SELECT id, %s FROM ops.bundles WHERE data_key = 'later/records.jsonl.gz'",
            (still_carried,),
        )

    receipt = erase_handle(conn, settings, target)

    assert still_carried not in receipt.cards_reissued
    assert len(receipt.cards_reissued) == first_run.bundle.records - 2
    row = conn.execute("SELECT readiness FROM execution.lead_cards WHERE id = %s", (still_carried,)).fetchone()
    assert row["readiness"] == "handed_off"


def test_erase_by_email_finds_card(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    target = person(conn)
    store = LocalObjectStore(settings.objects_dir)

    receipt = erase(
        conn, store, email_identifier(f"  {target['email'].upper()} "), key=suppression_key(settings), actor=ACTOR
    )

    assert str(target["card_id"]) in receipt.cards_suppressed
    assert count(conn, "SELECT count(*) AS n FROM social.profiles WHERE id = %s", target["profile_id"]) == 0


@pytest.fixture
def phone_run(settings: Settings, conn: psycopg.Connection) -> RunSummary:
    """Run the examples for a pool that wants phones, so the simulator's Apollo returns them."""
    with transaction(conn, role="sxe_worker"):
        set_intent(conn, settings.pool, {**DEFAULT_INTENT, "wanted_fields": ["email", "phone"]})
    return run([EXAMPLES], settings)


def test_erase_by_national_phone(settings: Settings, phone_run: RunSummary, conn: psycopg.Connection) -> None:
    target = person(conn, "phone")
    assert target["phone"].startswith("+1")
    national = f"({target['phone'][2:5]}) {target['phone'][5:8]}-{target['phone'][8:]}"
    store = LocalObjectStore(settings.objects_dir)

    receipt = erase(conn, store, phone_identifier(national, "US"), key=suppression_key(settings), actor=ACTOR)

    assert str(target["card_id"]) in receipt.cards_suppressed
    assert receipt.requested_kind == "phone"


def test_second_erasure_removes_nothing_more(
    settings: Settings, first_run: RunSummary, conn: psycopg.Connection
) -> None:
    target = person(conn)
    erase_handle(conn, settings, target)

    again = erase(
        conn,
        LocalObjectStore(settings.objects_dir),
        email_identifier(target["email"]),
        key=suppression_key(settings),
        actor=ACTOR,
    )

    assert sum(again.removed.values()) == 0
    assert again.cards_suppressed == []
    assert again.bundles_revoked == []
    assert again.objects_deleted == 0


def test_concurrent_erasures_delete_once(
    settings: Settings, first_run: RunSummary, conn: psycopg.Connection, database_url: str
) -> None:
    target = person(conn)
    receipts: list[ErasureReceipt] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with connect(database_url, autocommit=True) as own:
                receipts.append(erase_handle(own, settings, target))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(receipt.removed["contacts"] for receipt in receipts) == 1
    assert sum(receipt.removed["profiles"] for receipt in receipts) == 1
    assert count(conn, "SELECT count(*) AS n FROM ops.audit_log WHERE action = 'erasure.completed'") == 3


def test_erase_cancels_queued_jobs(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    target = person(conn)
    with transaction(conn, role="sxe_worker"):
        job_id = jobs.enqueue(
            conn,
            "enrich",
            {"card_id": str(target["card_id"]), "fingerprint": "apollo:v1:abc", "request": {"name": "dana w"}},
            dedupe_key="apollo:v1:abc",
        )

    receipt = erase_handle(conn, settings, target)

    job = conn.execute("SELECT state, payload, dedupe_key FROM ops.jobs WHERE id = %s", (job_id,)).fetchone()
    assert job["state"] == "cancelled"
    assert job["payload"] == {"card_id": str(target["card_id"]), "erased_by": str(receipt.request_id)}
    assert job["dedupe_key"] is None
    assert receipt.jobs_closed["cancelled"] == 1


def test_erase_closes_dead_jobs(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    target = person(conn)
    error = {"attempt": 1, "class": "PermanentProviderError", "message": "HTTP 401 from the provider"}
    with transaction(conn, role="sxe_worker"):
        dead = jobs.enqueue(conn, "enrich", {"card_id": str(target["card_id"]), "pool": "makers"})
        done = jobs.enqueue(conn, "enrich", {"card_id": str(target["card_id"]), "pool": "makers"})
    conn.execute(
        "UPDATE ops.jobs SET state = 'dead', last_error = %s, errors = %s WHERE id = %s",
        (Jsonb(error), Jsonb([error]), dead),
    )
    conn.execute("UPDATE ops.jobs SET state = 'succeeded' WHERE id = %s", (done,))

    receipt = erase_handle(conn, settings, target)

    rows = {row["id"]: row for row in conn.execute("SELECT id, state, payload, last_error, errors FROM ops.jobs")}
    assert rows[dead]["state"] == "cancelled"
    assert rows[dead]["payload"] == {"card_id": str(target["card_id"]), "erased_by": str(receipt.request_id)}
    assert rows[dead]["last_error"] == error
    assert rows[dead]["errors"] == [error]
    assert rows[done]["state"] == "succeeded"
    assert receipt.jobs_closed["dead"] == 1
    assert receipt.jobs_closed["cancelled"] == 0


def test_erase_receipt_counts_jobs_apart(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    target = person(conn)
    error = {"attempt": 1, "class": "PermanentProviderError", "message": "HTTP 401 from the provider"}
    with transaction(conn, role="sxe_worker"):
        jobs.enqueue(conn, "enrich", {"card_id": str(target["card_id"]), "request": {"name": "dana w"}})
        dead = jobs.enqueue(conn, "enrich", {"card_id": str(target["card_id"]), "pool": "makers"})
    conn.execute("UPDATE ops.jobs SET state = 'dead', last_error = %s WHERE id = %s", (Jsonb(error), dead))
    card_jobs = "SELECT count(*) AS n FROM ops.jobs WHERE payload ->> 'card_id' = %s"
    job_count = count(conn, card_jobs, str(target["card_id"]))

    receipt = erase_handle(conn, settings, target)

    document = {**receipt.to_json(), "objects_deleted": receipt.objects_deleted}
    audited = conn.execute(
        "SELECT detail FROM ops.audit_log WHERE action = 'erasure.completed' AND subject = %s",
        (f"erasure:{receipt.request_id}",),
    ).fetchone()["detail"]
    text = render(receipt)
    removed_total = sum(receipt.removed.values())
    assert receipt.jobs_closed == {"cancelled": 1, "dead": 1}
    assert receipt.scrubbed["job_payloads"] == job_count
    assert receipt.scrubbed["decision_fingerprints"] >= 1
    assert not {"jobs_cancelled", "dead_jobs_closed", "job_payloads_scrubbed", "decision_fingerprints"} & set(
        receipt.removed
    )
    validate(document, ERASURE_RECEIPT_V1)
    validate(audited, ERASURE_RECEIPT_V1)
    assert audited["jobs_closed"] == {"cancelled": 1, "dead": 1}
    assert f"\nRows removed ({removed_total}):\n" in text
    assert "\nJobs closed (2):\n  cancelled  1\n  dead       1\n" in text
    assert f"  job_payloads           {job_count}\n" in text
    assert text.index("Rows removed") < text.index("Jobs closed") < text.index("Rows scrubbed")


def test_receipt_of_nobody_says_none() -> None:
    receipt = ErasureReceipt(uuid.uuid4(), "handle", "ab" * 32, datetime.now(UTC))

    text = render(receipt)

    assert "\nRows removed (0):\n  none: SXE held nothing more on this person\n" in text
    assert "\nJobs closed (0):\n  none\n" in text
    assert "\nRows scrubbed, kept with the person's values cleared (0):\n  none\n" in text


@pytest.mark.parametrize(
    "subject",
    ["https://x.com/Dana_W", "https://www.threads.net/@dana_w", "https://www.tiktok.com/@dana_w?lang=en", "x:@DANA_W"],
)
def test_subject_forms_parse(subject: str) -> None:
    identifier = parse_subject(subject)

    assert identifier.kind == "handle"
    assert identifier.value.endswith(":dana_w")


@pytest.mark.parametrize("subject", ["dana_w", "myspace:dana", "https://example.com/dana", "x:"])
def test_bad_subject_names_value(subject: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_subject(subject)

    assert subject in str(raised.value)


def test_erase_function_requires_token(
    settings: Settings, first_run: RunSummary, conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = person(conn)
    set_env(monkeypatch, settings, erase_token="t" * 40)
    body = {"subject": f"{target['platform']}:{target['handle']}", "request_id": "6f1c1c0e-9d1b-4a56-9a0e-0a1b2c3d4e5f"}

    missing = erase_function(body)
    wrong = erase_function({**body, "http": {"headers": {"authorization": "Bearer " + "x" * 40}}})
    allowed = erase_function({**body, "http": {"headers": {"Authorization": "Bearer " + "t" * 40}}})

    assert missing["statusCode"] == 401
    assert wrong["statusCode"] == 401
    assert allowed["statusCode"] == 200
    assert allowed["body"]["request_id"] == body["request_id"]
    assert allowed["body"]["cards_suppressed"] == [str(target["card_id"])]


def test_erase_function_disabled_without_token(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, settings)

    response = erase_function({"subject": "x:dana_w", "http": {"headers": {"authorization": "Bearer "}}})

    assert response["statusCode"] == 401
    assert "SXE_ERASE_TOKEN is not set" in response["body"]["detail"]


@pytest.mark.parametrize(
    ("body", "hidden"),
    [({"email": "not-an-address"}, "not-an-address"), ({"phone": "555 0199 12"}, "555 0199 12")],
)
def test_erase_function_error_hides_value(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, body: dict[str, str], hidden: str
) -> None:
    set_env(monkeypatch, settings, erase_token="t" * 40)

    response = erase_function({**body, "http": {"headers": {"authorization": "Bearer " + "t" * 40}}})

    assert response["statusCode"] == 400
    assert hidden not in json.dumps(response)


def test_cli_erase_needs_one_identifier(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli_main(["erase", "x:dana_w", "--email", "dana@example.com"])

    assert status == 2
    assert "exactly one person" in capsys.readouterr().err


def test_cli_erase_prints_text_receipt(
    settings: Settings,
    first_run: RunSummary,
    conn: psycopg.Connection,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_env(monkeypatch, settings)
    target = person(conn)

    status = cli_main(["erase", f"{target['platform']}:{target['handle']}"])

    out = capsys.readouterr().out
    assert status == 0
    assert not out.lstrip().startswith("{")
    assert "(handle, identifier HMAC " in out
    assert f"Cards suppressed (1): {target['card_id']}" in out
    assert re.search(r"^  profiles +1$", out, re.MULTILINE)
    assert re.search(r"^  contacts +1$", out, re.MULTILINE)
    assert "Bundles revoked (1): " in out
    assert "Bundle objects deleted: " in out
    assert target["handle"] not in out
    assert target["email"] not in out


def test_cli_erase_json_prints_receipt(
    settings: Settings,
    first_run: RunSummary,
    conn: psycopg.Connection,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_env(monkeypatch, settings)
    target = person(conn)

    status = cli_main(["erase", "--email", target["email"], "--json"])

    receipt = json.loads(capsys.readouterr().out)
    assert status == 0
    assert receipt["requested"]["kind"] == "email"
    assert receipt["cards_suppressed"] == [str(target["card_id"])]
    assert receipt["removed"]["contacts"] == 1
    assert receipt["objects_deleted"] >= 1
    assert target["email"] not in json.dumps(receipt)


def set_env(monkeypatch: pytest.MonkeyPatch, settings: Settings, **extra: str) -> None:
    assert settings.database_url is not None
    monkeypatch.setenv("SXE_DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("SXE_STATE_DIR", str(settings.state_dir))
    monkeypatch.setenv("SXE_SUPPRESSION_KEY", "k" * 32)
    monkeypatch.delenv("SXE_ERASE_TOKEN", raising=False)
    for name, value in extra.items():
        monkeypatch.setenv(f"SXE_{name.upper()}", value)


def bundle_card_ids(summary: RunSummary) -> list[str]:
    assert summary.bundle is not None
    path = Path(summary.bundle.path) / "records.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line)["card_id"] for line in lines]


class download_server:  # noqa: N801 - used as a context manager, named like one
    """Run the download server with the database revocation check on a loopback port."""

    def __init__(self, store: LocalObjectStore, secret: bytes, database_url: str) -> None:
        self.httpd = DownloadServer(("127.0.0.1", 0), store, secret, RevocationCheck(database_url))

    def __enter__(self) -> str:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def hold_in_quarantine(conn: psycopg.Connection, format_name: str, payload: dict[str, Any]) -> int:
    row = conn.execute(
        """
        INSERT INTO ops.quarantine (source_file, location, format, kind, reason, content_hash, payload)
        VALUES ('bad.jsonl', 'line 1', %s, 'invalid_record', 'followers_count is not a number', %s, %s)
        RETURNING id
        """,
        (format_name, uuid.uuid4().hex, Jsonb(payload)),
    ).fetchone()
    return int(row["id"])


def test_erase_removes_quarantined_records(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    target = person(conn)
    handle = target["handle"]
    other_platform = "tiktok" if target["platform"] != "tiktok" else "x"
    by_handle = hold_in_quarantine(conn, f"{target['platform']}-api", {"user": {"screen_name": "@" + handle.upper()}})
    anywhere = hold_in_quarantine(conn, "csv", {"rows": [{"handle": handle}], "followers": "many"})
    neighbour = hold_in_quarantine(conn, f"{target['platform']}-api", {"screen_name": handle + "_fan"})
    elsewhere = hold_in_quarantine(conn, f"{other_platform}-scraper", {"uniqueId": handle})

    receipt = erase_handle(conn, settings, target)

    left = {row["id"] for row in conn.execute("SELECT id FROM ops.quarantine")}
    assert by_handle not in left
    assert anywhere not in left
    assert {neighbour, elsewhere} <= left
    assert receipt.removed["quarantined_records"] == 2


def test_erase_clears_card_signals(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    target = person(conn)
    signals = "SELECT signals, language FROM execution.lead_cards WHERE id = %s"
    assert conn.execute(signals, (target["card_id"],)).fetchone()["signals"] != {}

    receipt = erase_handle(conn, settings, target)

    card = conn.execute(signals, (target["card_id"],)).fetchone()
    assert card["signals"] == {}
    assert card["language"] is None
    assert receipt.scrubbed["card_signals"] == 1


def test_erase_suppresses_bio_email(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    # Kenji's X bio shows his wholesale email, which ingest keeps in contact.bio_sightings.
    sightings = "SELECT count(*) AS n FROM contact.bio_sightings WHERE value = 'kenji@example.com'"
    assert count(conn, sightings) == 1

    receipt = erase(
        conn,
        LocalObjectStore(settings.objects_dir),
        parse_subject("x:kenji_ceramics"),
        key=suppression_key(settings),
        actor=ACTOR,
    )

    assert count(conn, sightings) == 0
    assert receipt.removed["bio_sightings"] == 1
    assert email_identifier("kenji@example.com").keyed_hash(suppression_key(settings)) in receipt.suppressed_hmacs


def test_erase_by_bio_email_finds_profile(settings: Settings, first_run: RunSummary, conn: psycopg.Connection) -> None:
    receipt = erase(
        conn,
        LocalObjectStore(settings.objects_dir),
        email_identifier("Kenji@Example.com"),
        key=suppression_key(settings),
        actor=ACTOR,
    )

    handles = "SELECT count(*) AS n FROM social.profiles WHERE handle = 'kenji_ceramics'"
    assert count(conn, handles) == 0
    assert receipt.removed["profiles"] == 1
    assert receipt.removed["bio_sightings"] == 1
    assert len(receipt.cards_suppressed) == 1


def test_receipt_names_only_bundles_it_revoked(
    settings: Settings, first_run: RunSummary, conn: psycopg.Connection
) -> None:
    first = person(conn)
    neighbour = conn.execute(
        "SELECT profile.platform, profile.handle FROM execution.card_profiles AS link "
        "JOIN social.profiles AS profile ON profile.id = link.profile_id "
        "JOIN ops.bundle_cards AS held ON held.card_id = link.card_id "
        "WHERE link.card_id <> %s AND profile.handle IS NOT NULL ORDER BY profile.id LIMIT 1",
        (first["card_id"],),
    ).fetchone()
    revoked = erase_handle(conn, settings, first)

    # The neighbour's only bundle is the one the first erasure revoked and emptied.
    second = erase_handle(conn, settings, dict(neighbour))

    assert revoked.bundles_revoked
    assert revoked.objects_deleted == 2 * len(revoked.bundles_revoked)
    assert second.bundles_revoked == []
    assert second.objects_deleted == 0


# An invented number in the range reserved for fiction, shown in two people's bios.
SHARED_PHONE = "+1 415 555 0199"
SHARED_PHONE_SHA256 = hashlib.sha256(b"+14155550199").hexdigest()


@pytest.fixture
def shared_phone_run(settings: Settings, tmp_path: Path) -> RunSummary:
    """Import three X profiles: two show SHARED_PHONE in their bios, the third shows no contact value."""
    template = json.loads((EXAMPLES / "x-api-v1.1-users.jsonl").read_text().splitlines()[0])
    for linking_field in ("url", "entities"):
        template.pop(linking_field, None)
    people = [
        ("7100000001", "ana_bookings", "Ana Ruiz", f"Tour manager. Bookings: {SHARED_PHONE}"),
        ("7100000002", "ben_drums", "Ben Okafor", f"Drummer for hire, call the office {SHARED_PHONE}"),
        ("7100000003", "cai_quiet", "Cai Lindqvist", "Painter. No calls please."),
    ]
    lines = [
        json.dumps(
            {**template, "id": int(user_id), "id_str": user_id, "screen_name": handle, "name": name, "description": bio}
        )
        for user_id, handle, name, bio in people
    ]
    source = tmp_path / "shared-phone.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run([source], settings)


def erase_ana(conn: psycopg.Connection, settings: Settings) -> ErasureReceipt:
    return erase_handle(conn, settings, {"platform": "x", "handle": "ana_bookings"})


def test_erase_deletes_shared_bio_phone_elsewhere(
    settings: Settings, shared_phone_run: RunSummary, conn: psycopg.Connection
) -> None:
    sightings = "SELECT count(*) AS n FROM contact.bio_sightings WHERE value_sha256 = %s"
    assert count(conn, sightings, SHARED_PHONE_SHA256) == 2

    receipt = erase_ana(conn, settings)

    assert count(conn, sightings, SHARED_PHONE_SHA256) == 0
    assert receipt.removed["bio_sightings"] == 2
    assert receipt.removed["profiles"] == 1
    assert receipt.profiles_sharing_values == 1
    other_profiles = "SELECT count(*) AS n FROM social.profiles WHERE handle = ANY(%s)"
    assert count(conn, other_profiles, ["ben_drums", "cai_quiet"]) == 2


def test_erase_deletes_shared_contact_point(
    settings: Settings, shared_phone_run: RunSummary, conn: psycopg.Connection
) -> None:
    # A public_bio lookup for the other profile would put the number into a Tier 2 contact of its own.
    other_contact = conn.execute("INSERT INTO contact.contacts DEFAULT VALUES RETURNING id").fetchone()["id"]
    insert_point = (
        "INSERT INTO contact.contact_points "
        "(contact_id, kind, value, value_sha256, source, adapter_version, simulated) "
        "VALUES (%s, %s, %s, %s, 'public_bio', '1', false)"
    )
    conn.execute(insert_point, (other_contact, "phone", "+14155550199", SHARED_PHONE_SHA256))
    conn.execute(insert_point, (other_contact, "email", "ben@drums.example", "0" * 64))

    receipt = erase_ana(conn, settings)

    points = "SELECT kind FROM contact.contact_points WHERE contact_id = %s"
    assert [row["kind"] for row in conn.execute(points, (other_contact,))] == ["email"]
    assert receipt.removed["contact_points"] == 1


def test_access_by_shared_phone_after_erasure(
    settings: Settings, shared_phone_run: RunSummary, conn: psycopg.Connection
) -> None:
    key = suppression_key(settings)
    before = access_report(conn, parse_subject("x:ana_bookings"), key=key)
    assert before.profiles_sharing_values == 1
    assert "1 other profiles showed one of these values" in render_access(before)
    erase_ana(conn, settings)

    report = access_report(conn, phone_identifier(SHARED_PHONE), key=key)

    assert report.suppressed
    assert report.bio_sightings == []
    assert report.contact_points == []
    assert "including records of other people's profiles" in render_access(report)


def test_receipt_warns_of_shared_values(
    settings: Settings,
    shared_phone_run: RunSummary,
    conn: psycopg.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="sxe")
    receipt = erase_ana(conn, settings)

    text = render(receipt)
    document = {**receipt.to_json(), "objects_deleted": receipt.objects_deleted}
    shared_lines = [record for record in caplog.records if record.__dict__.get("event") == "erasure.shared_values"]
    assert "Other profiles sharing a suppressed email or phone: 1\n" in text
    assert "ingest now withholds each of their later records" in text
    validate(document, ERASURE_RECEIPT_V1)
    assert document["profiles_sharing_values"] == 1
    assert len(shared_lines) == 1
    assert shared_lines[0].__dict__["count"] == 1
    assert "4155550199" not in caplog.text


def test_receipt_without_shared_values_says_nothing() -> None:
    receipt = ErasureReceipt(uuid.uuid4(), "handle", "ab" * 32, datetime.now(UTC))

    assert "sharing" not in render(receipt)


def test_receipt_text_caps_id_lists() -> None:
    reissued = [str(uuid.UUID(int=number)) for number in range(30)]
    receipt = ErasureReceipt(uuid.uuid4(), "handle", "ab" * 32, datetime.now(UTC), cards_reissued=reissued)

    line = next(line for line in render(receipt).splitlines() if line.startswith("Other cards of revoked"))

    assert line.startswith("Other cards of revoked bundles, back to ready (30): ")
    assert all(card_id in line for card_id in reissued[:20])
    assert not any(card_id in line for card_id in reissued[20:])
    assert line.endswith(" and 10 more (all in --json)")
    assert receipt.to_json()["cards_reissued"] == reissued
