"""A lookup that died on a wrong Apollo key, its card handed off without contact data, then requeued.

`sxe run` and `sxe jobs requeue` run as an operator runs them, against a real PostgreSQL.
httpx.MockTransport replays Apollo's people/match with the documented bodies of
tests/fixtures/apollo: the 401 body while the key is wrong, the match body once it is fixed.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from handoff_support import body_of, web_event
from test_enrichment_waterfall import x_user

from sxe import pipeline
from sxe.cli import main
from sxe.config import Settings
from sxe.handoff import api
from sxe.handoff.consumers import create_consumer
from sxe.orchestrator.providers import Providers, apollo_adapter
from sxe.runtime import alarms, health

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apollo"
POOL = "requeue-check"
APOLLO_KEY = "apollo-live-key-0123456789abcdef"
EMAIL = "sam.okafor@example.org"


class ApolloKey:
    """Apollo people/match replay: 401 for every request while the key is wrong, the documented match after."""

    def __init__(self) -> None:
        self.wrong = True
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        name, status = ("error_401.json", 401) if self.wrong else ("match_email_only.json", 200)
        body = (FIXTURES / name).read_bytes()
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})


@pytest.fixture
def apollo(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> ApolloKey:
    """Point `sxe run` at the replayed Apollo, as the only configured provider."""
    for name, value in {
        "SXE_DATABASE_URL": database_url,
        "SXE_STATE_DIR": str(tmp_path / "state"),
        "SXE_SIGNING_KEY": "k" * 40,
        "SXE_POOL": POOL,
        "SXE_APOLLO_API_KEY": APOLLO_KEY,
        "SXE_ENRICH_DRAIN_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("SXE_DEALMACHINE_API_KEY", "SXE_APOLLO_WEBHOOK_TOKEN", "SXE_FUNCTIONS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)

    replay = ApolloKey()

    @contextmanager
    def replayed_providers(settings: Settings) -> Iterator[Providers]:
        with apollo_adapter(settings, client=httpx.Client(transport=httpx.MockTransport(replay))) as adapter:
            yield Providers(adapter, ())

    monkeypatch.setattr(pipeline, "open_providers", replayed_providers)
    return replay


def run_files(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main([*args, "--json"]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def bundle_emails(summary: dict[str, Any]) -> dict[str, list[str]]:
    """Return each card's email addresses in the run's bundle, by card id."""
    path = Path(summary["bundle"]["path"]) / "records.jsonl.gz"
    records = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    return {record["card_id"]: [email["address"] for email in record["contact"]["emails"]] for record in records}


def feed_page(key: str, cursor: str | None = None) -> dict[str, Any]:
    query = f"pool={POOL}" + (f"&cursor={cursor}" if cursor else "")
    response = api.cards(web_event("GET", key=key, query=query))
    assert response["statusCode"] == 200
    page: dict[str, Any] = body_of(response)
    return page


def ledger(conn: psycopg.Connection[Any]) -> dict[str, tuple[int, int]]:
    rows = conn.execute("SELECT scope, reserved_credits, spent_credits FROM ops.budgets").fetchall()
    return {row["scope"]: (row["reserved_credits"], row["spent_credits"]) for row in rows}


def lookups(conn: psycopg.Connection[Any], card_id: str) -> list[tuple[str, int]]:
    rows = conn.execute(
        "SELECT detail FROM ops.audit_log WHERE action = 'enrichment.lookup' AND subject = %s ORDER BY seq",
        (f"lead_card:{card_id}",),
    ).fetchall()
    return [(row["detail"]["outcome"], row["detail"]["credits"]) for row in rows]


def test_fixed_key_hands_card_off_again(
    apollo: ApolloKey, conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    users = tmp_path / "users.jsonl"
    users.write_text(json.dumps(x_user(7001, "Sam Okafor", "example.org")) + "\n", encoding="utf-8")
    key = create_consumer(conn, "crm", [POOL], contact_fields=["emails"], actor="test")[1]
    first = run_files(capsys, "run", str(users))
    [card_id] = bundle_emails(first)

    # With the wrong key Apollo returns 401, the job dies, and the same run hands the card off bare.
    [job] = conn.execute("SELECT id, state, last_error FROM ops.jobs WHERE queue = 'enrich'").fetchall()
    assert (job["state"], job["last_error"]["status_code"]) == ("dead", 401)
    assert first["dead_jobs"] == 1
    assert bundle_emails(first) == {card_id: []}
    before = feed_page(key)
    assert [(item["card_id"], item["contact"]["emails"]) for item in before["items"]] == [(card_id, [])]
    assert conn.execute("SELECT count(*) AS n FROM ops.lookup_memory").fetchone()["n"] == 0

    apollo.wrong = False
    requeued = run_files(capsys, "jobs", "requeue", str(job["id"]))
    assert requeued["cards_back_to_gate"] == [card_id]
    assert requeued["closed"] == [job["id"]]
    assert feed_page(key)["items"] == []
    second = run_files(capsys, "run", str(users))

    card = conn.execute("SELECT readiness FROM execution.lead_cards WHERE id = %s", (card_id,)).fetchone()
    assert card["readiness"] == "handed_off"
    assert bundle_emails(second) == {card_id: [EMAIL]}
    after = feed_page(key, before["next_cursor"])
    assert [item["card_id"] for item in after["items"]] == [card_id]
    assert [email["address"] for email in after["items"][0]["contact"]["emails"]] == [EMAIL]
    messages = conn.execute("SELECT card_id, bundle_id FROM ops.handoff_messages ORDER BY enqueued_at").fetchall()
    assert [(str(row["card_id"]), str(row["bundle_id"])) for row in messages] == [
        (card_id, first["bundle"]["id"]),
        (card_id, second["bundle"]["id"]),
    ]

    # One paid lookup: the 401 cost nothing, the match costs Apollo's one credit for an email.
    assert len(apollo.requests) == 2
    assert lookups(conn, card_id) == [("permanent_error", 0), ("matched", 1)]
    assert ledger(conn) == {"provider:apollo": (0, 1), f"pool:{POOL}": (0, 1)}
    memory = conn.execute("SELECT outcome FROM ops.lookup_memory").fetchall()
    assert memory == [{"outcome": "matched"}]
    keys = conn.execute("SELECT state, reserved_credits FROM ops.idempotency_keys").fetchall()
    assert keys == [{"state": "completed", "reserved_credits": 0}]


def dead_jobs_alarm(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """Check the dead_jobs alarm (threshold 0) once and return the changes as (alarm, state)."""
    thresholds = alarms.load_thresholds(dead_jobs=0)
    changes = alarms.check(conn, alarms.measure(health.report(conn, "test"), thresholds))
    return [(change.alarm, change.state) for change in changes if change.alarm == "dead_jobs"]


def run_until_lookup_dies(
    conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str], tmp_path: Path, user_id: int
) -> dict[str, Any]:
    """Run one X user through `sxe run` while Apollo rejects the key, and return the dead lookup job."""
    users = tmp_path / "users.jsonl"
    users.write_text(json.dumps(x_user(user_id, "Ines Duarte", "example.org")) + "\n", encoding="utf-8")
    run_files(capsys, "run", str(users))
    [job] = conn.execute("SELECT id, state, payload FROM ops.jobs WHERE queue = 'enrich'").fetchall()
    assert job["state"] == "dead"
    return dict(job)


def test_erasure_closes_dead_lookup(
    apollo: ApolloKey, conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    job = run_until_lookup_dies(conn, capsys, tmp_path, 7002)
    assert dead_jobs_alarm(conn) == [("dead_jobs", "firing")]

    receipt = run_files(capsys, "erase", "x:user_7002")

    row = conn.execute("SELECT state, payload, last_error, errors FROM ops.jobs WHERE id = %s", (job["id"],)).fetchone()
    assert receipt["jobs_closed"]["dead"] == 1
    assert row["state"] == "cancelled"
    assert set(row["payload"]) == {"card_id", "erased_by"}
    assert row["last_error"]["status_code"] == 401
    assert [error["status_code"] for error in row["errors"]] == [401]
    assert dead_jobs_alarm(conn) == [("dead_jobs", "ok")]


def test_requeue_closes_erased_card_lookup(
    apollo: ApolloKey, conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    job = run_until_lookup_dies(conn, capsys, tmp_path, 7003)
    run_files(capsys, "erase", "x:user_7003")
    # An erasure that cancelled only queued and running jobs left the dead one dead.
    conn.execute("UPDATE ops.jobs SET state = 'dead' WHERE id = %s", (job["id"],))
    assert dead_jobs_alarm(conn) == [("dead_jobs", "firing")]

    status = main(["jobs", "requeue", str(job["id"])])
    text = capsys.readouterr().out

    state = conn.execute("SELECT state, last_error FROM ops.jobs WHERE id = %s", (job["id"],)).fetchone()
    assert status == 0
    assert f"enrichment job {job['id']} closed: its card is suppressed" in text
    assert state["state"] == "cancelled"
    assert state["last_error"]["status_code"] == 401
    readiness = conn.execute(
        "SELECT readiness FROM execution.lead_cards WHERE id = %s", (job["payload"]["card_id"],)
    ).fetchone()
    assert readiness["readiness"] == "suppressed"
    assert dead_jobs_alarm(conn) == [("dead_jobs", "ok")]
