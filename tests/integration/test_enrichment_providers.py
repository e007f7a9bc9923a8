"""Providers chosen by settings: DealMachine in the waterfall, Apollo's phone webhook, late phone deliveries.

Apollo and DealMachine responses are documented bodies replayed by httpx.MockTransport,
or the loopback simulator where a whole run is simulated.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from test_enrichment_waterfall import World

from sxe.adapters import apollo_callback
from sxe.adapters.apollo import MATCH_PATH, ApolloPeopleMatch
from sxe.adapters.base import ProviderAdapter
from sxe.adapters.dealmachine import NAME_PATH, DealMachineEnrichment
from sxe.adapters.simulator import ProviderSimulator, simulated_dealmachine_people
from sxe.cards.intent import set_intent
from sxe.config import Settings, load_settings
from sxe.db import transaction
from sxe.errors import ConfigError
from sxe.logs import configure, copy_to
from sxe.orchestrator import controls, runner
from sxe.orchestrator.deadline import Deadline
from sxe.orchestrator.providers import apollo_adapter, apollo_bulk_adapter, open_providers
from sxe.orchestrator.quote import quote_pool
from sxe.orchestrator.sweep import PHONES_NOT_REQUESTED, sweep
from sxe.orchestrator.worker import work

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
POOL = "waterfall"
ACTOR = "sxe_worker:test"
APOLLO_KEY = "apollo-live-key-0123456789abcdef"
DEALMACHINE_KEY = "dm_sk_live_0123456789abcdef0123456789abcdef"
TOKEN = "hook-token-7f3a9c1e5b"
FUNCTIONS = "https://functions.example.com/api/v1/web/fn-sxe"
REQUEST_ID = 1039995589705121900
# The name in the DealMachine fixture `name_match.json`, with a website of its own.
RIVERA = ("Dana Rivera", "riverastudio.com")


def _simulated_dealmachine_name() -> tuple[str, str]:
    """A name the simulator's DealMachine route returns one person for, found from its deterministic rule."""
    for index in range(26 * 26):
        last = f"Lindqvist{chr(97 + index // 26)}{chr(97 + index % 26)}"
        if simulated_dealmachine_people({"first_name": "Maja", "last_name": last}):
            return f"Maja {last}", "lindqviststudio.com"
    raise AssertionError("the simulator matched no candidate name")


def apollo_body(name: str, **changes: Any) -> bytes:
    """A documented people/match body from the fixtures, with top-level keys or `person` fields changed."""
    document = json.loads((FIXTURES / "apollo" / name).read_text(encoding="utf-8"))
    for key, value in changes.items():
        if key == "request_id":
            document[key] = value
        else:
            document["person"][key] = value
    return json.dumps(document).encode()


class Replay:
    """An httpx transport handler that returns one body for every request and records the requests."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, content=self.body, headers={"content-type": "application/json"})

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


@pytest.fixture
def world(conn: psycopg.Connection[Any], tmp_path: Path) -> Iterator[World]:
    """Cards built from X profiles; the world's own simulator adapters stay unused here."""
    with (
        ProviderSimulator() as first_simulator,
        ProviderSimulator() as second_simulator,
        ApolloPeopleMatch(first_simulator.api_key, base_url=first_simulator.base_url, simulated=True) as first,
    ):
        yield World(conn, first_simulator, second_simulator, first, first, tmp_path)  # type: ignore[arg-type]


@pytest.fixture
def no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SXE_APOLLO_API_KEY", "SXE_DEALMACHINE_API_KEY", "SXE_APOLLO_WEBHOOK_TOKEN", "SXE_FUNCTIONS_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def settings_for(**overrides: Any) -> Settings:
    return load_settings(pool=POOL, provider_burst=50, provider_rate_per_second=50, **overrides)


def prepare(
    world: World,
    settings: Settings,
    providers: list[ProviderAdapter],
    allowed: list[str],
    wanted: list[str] | None = None,
) -> runner.Enrichment:
    policy: dict[str, Any] = {"allowed_providers": allowed, "max_cost_credits_per_lead": 20}
    if wanted is not None:
        policy["wanted_fields"] = wanted
    with transaction(world.conn, role="sxe_worker"):
        set_intent(world.conn, POOL, policy)
    return runner.prepare(
        world.conn, settings, providers[0], actor=ACTOR, simulated=False, fallbacks=tuple(providers[1:])
    )


def drain(world: World, enrichment: runner.Enrichment) -> None:
    runner.drain(world.conn, enrichment, deadline=Deadline.after(120))


def stored_text(conn: psycopg.Connection[Any]) -> str:
    """Every event, audit row, job payload and decision, as one text to search for secrets."""
    parts = [
        conn.execute("SELECT coalesce(string_agg(data::text, ' '), '') AS t FROM ops.events").fetchone()["t"],
        conn.execute("SELECT coalesce(string_agg(detail::text, ' '), '') AS t FROM ops.audit_log").fetchone()["t"],
        conn.execute("SELECT coalesce(string_agg(payload::text, ' '), '') AS t FROM ops.jobs").fetchone()["t"],
        conn.execute(
            "SELECT coalesce(string_agg(reason || ' ' || coalesce(bridge, ''), ' '), '') AS t"
            " FROM ops.enrichment_decisions"
        ).fetchone()["t"],
    ]
    return " ".join(parts)


# settings ---------------------------------------------------------------------


def test_callback_url_needs_token_and_base() -> None:
    assert settings_for(apollo_webhook_token=TOKEN).apollo_callback_url is None
    assert settings_for(functions_base_url=FUNCTIONS).apollo_callback_url is None


def test_callback_url_names_function_and_token() -> None:
    settings = settings_for(apollo_webhook_token="a b&c", functions_base_url=FUNCTIONS + "/")

    assert settings.apollo_callback_url == f"{FUNCTIONS}/enrich/callback?token=a%20b%26c"


def test_functions_base_url_rejects_query() -> None:
    with pytest.raises(ConfigError, match="invalid functions_base_url"):
        settings_for(functions_base_url=FUNCTIONS + "?x=1")


def test_no_keys_simulate_both_providers(no_provider_keys: None) -> None:
    with open_providers(settings_for()) as providers:
        assert providers.names == ["apollo", "dealmachine"]
        assert providers.simulated is True


def test_apollo_key_alone_leaves_dealmachine_out(no_provider_keys: None) -> None:
    with open_providers(settings_for(apollo_api_key=APOLLO_KEY)) as providers:
        assert providers.names == ["apollo"]
        assert providers.simulated is False


def test_both_keys_configure_both(no_provider_keys: None) -> None:
    with open_providers(settings_for(apollo_api_key=APOLLO_KEY, dealmachine_api_key=DEALMACHINE_KEY)) as providers:
        assert providers.names == ["apollo", "dealmachine"]
        assert providers.simulated is False


# DealMachine in the waterfall -------------------------------------------------------


def test_simulated_run_reaches_dealmachine(world: World, no_provider_keys: None) -> None:
    card_id = world.person(*_simulated_dealmachine_name())
    settings = settings_for()

    with open_providers(settings) as providers:
        enrichment = prepare(world, settings, [providers.primary, *providers.fallbacks], ["dealmachine"])
        drain(world, enrichment)
        assert providers.simulator is not None
        assert providers.simulator.calls[NAME_PATH] == 1
        assert providers.simulator.calls[MATCH_PATH] == 0

    assert world.card(card_id)["readiness"] == "enriched"
    assert {point["source"] for point in world.points(card_id)} == {"dealmachine"}


def test_dealmachine_key_serves_lookups(world: World, no_provider_keys: None) -> None:
    card_id = world.person(*_simulated_dealmachine_name())
    log_lines = io.StringIO()

    # A real-key configuration aimed at the loopback simulator, which checks the Bearer key.
    with ProviderSimulator() as simulator, copy_to(log_lines):
        configure("DEBUG")
        try:
            settings = settings_for(dealmachine_api_key=simulator.api_key, dealmachine_base_url=simulator.base_url)
            with open_providers(settings) as providers:
                assert providers.names == ["dealmachine"]
                enrichment = prepare(world, settings, [providers.primary], ["dealmachine"])
                drain(world, enrichment)
        finally:
            configure("WARNING")
        assert simulator.calls[NAME_PATH] == 1
        key = simulator.api_key

    assert world.card(card_id)["readiness"] == "enriched"
    simulated = world.conn.execute("SELECT DISTINCT simulated FROM contact.contact_points").fetchall()
    assert simulated == [{"simulated": False}]
    assert key not in log_lines.getvalue()
    assert key not in stored_text(world.conn)


def test_dealmachine_phones_follow_apollo_email(world: World) -> None:
    card_id = world.person(*RIVERA)
    apollo = Replay(apollo_body("match_email_only.json"))
    dealmachine = Replay((FIXTURES / "dealmachine" / "name_match.json").read_bytes())
    settings = settings_for()

    with (
        ApolloPeopleMatch(APOLLO_KEY, client=apollo.client()) as apollo_adapter_,
        DealMachineEnrichment(DEALMACHINE_KEY, client=dealmachine.client()) as dealmachine_adapter,
    ):
        providers: list[ProviderAdapter] = [apollo_adapter_, dealmachine_adapter]
        enrichment = prepare(world, settings, providers, ["apollo", "dealmachine"], wanted=["email", "phone"])
        drain(world, enrichment)

    assert (len(apollo.requests), len(dealmachine.requests)) == (1, 1)
    assert json.loads(dealmachine.requests[0].content)["data"] == [{"first_name": "dana", "last_name": "rivera"}]
    assert [(row["provider"], row["decision"]) for row in world.decisions(card_id)] == [
        ("apollo", "enqueue"),
        ("dealmachine", "enqueue"),
    ]
    assert world.card(card_id)["readiness"] == "enriched"
    kinds = {(point["kind"], point["source"]) for point in world.points(card_id)}
    assert ("email", "apollo") in kinds
    assert ("phone", "dealmachine") in kinds


# Apollo's phone webhook ---------------------------------------------------------


def test_webhook_settings_request_phones(world: World) -> None:
    world.person("Sam Okafor", "example.org")
    replay = Replay(apollo_body("match_email_only.json", request_id=REQUEST_ID))
    settings = settings_for(apollo_api_key=APOLLO_KEY, apollo_webhook_token=TOKEN, functions_base_url=FUNCTIONS)

    with apollo_adapter(settings, client=replay.client()) as adapter:
        assert adapter.phones_requested is True
        drain(world, prepare(world, settings, [adapter], ["apollo"], wanted=["email", "phone"]))

    [request] = replay.requests
    assert request.url.params["reveal_phone_number"] == "true"
    assert request.url.params["webhook_url"] == f"{FUNCTIONS}/enrich/callback?token={TOKEN}"
    registered = world.conn.execute("SELECT request_id FROM ops.apollo_phone_requests").fetchall()
    assert registered == [{"request_id": REQUEST_ID}]


def test_email_pool_requests_no_phones(world: World) -> None:
    card_id = world.person("Sam Okafor", "example.org")
    replay = Replay(apollo_body("match_email_only.json"))
    settings = settings_for(apollo_api_key=APOLLO_KEY, apollo_webhook_token=TOKEN, functions_base_url=FUNCTIONS)

    with apollo_adapter(settings, client=replay.client()) as adapter:
        drain(world, prepare(world, settings, [adapter], ["apollo"], wanted=["email"]))

    [request] = replay.requests
    assert request.url.params["reveal_phone_number"] == "false"
    assert "webhook_url" not in request.url.params
    attempt = world.conn.execute(
        "SELECT detail FROM ops.audit_log WHERE action = 'enrichment.attempt' AND subject = %s",
        (f"lead_card:{card_id}",),
    ).fetchone()
    assert attempt["detail"]["phones_requested"] is False
    assert attempt["detail"]["reserved_credits"] == 1


def test_email_pool_quote_prices_no_phones(world: World) -> None:
    world.person("Sam Okafor", "example.org")
    settings = settings_for(apollo_api_key=APOLLO_KEY, apollo_webhook_token=TOKEN, functions_base_url=FUNCTIONS)

    with apollo_adapter(settings, client=Replay(b"{}").client()) as adapter:
        with transaction(world.conn, role="sxe_worker"):
            set_intent(
                world.conn,
                POOL,
                {"allowed_providers": ["apollo"], "wanted_fields": ["email"], "max_cost_credits_per_lead": 20},
            )
        email_quote = quote_pool(world.conn, settings, adapter)
        with transaction(world.conn, role="sxe_worker"):
            set_intent(
                world.conn,
                POOL,
                {"allowed_providers": ["apollo"], "wanted_fields": ["email", "phone"], "max_cost_credits_per_lead": 20},
            )
        phone_quote = quote_pool(world.conn, settings, adapter)

    assert email_quote.providers["apollo"].credits_per_lookup == 1
    assert phone_quote.providers["apollo"].credits_per_lookup == 9


def test_simulated_email_pool_requests_no_phones(world: World, no_provider_keys: None) -> None:
    card_id = world.person("Sam Okafor", "example.org")
    settings = settings_for()

    with open_providers(settings) as providers:
        enrichment = prepare(world, settings, [providers.primary, *providers.fallbacks], ["apollo"])
        drain(world, enrichment)
        served = dict(providers.simulator.served) if providers.simulator else {}

    assert served
    attempts = world.conn.execute(
        "SELECT detail FROM ops.audit_log WHERE action = 'enrichment.attempt' AND subject = %s",
        (f"lead_card:{card_id}",),
    ).fetchall()
    assert attempts
    for attempt in attempts:
        assert attempt["detail"]["phones_requested"] is False
        assert attempt["detail"]["reserved_credits"] == 1


def test_webhook_token_stays_out_of_records(world: World) -> None:
    world.person("Sam Okafor", "example.org")
    replay = Replay(apollo_body("match_email_only.json", request_id=REQUEST_ID))
    settings = settings_for(apollo_api_key=APOLLO_KEY, apollo_webhook_token=TOKEN, functions_base_url=FUNCTIONS)
    log_lines = io.StringIO()

    with apollo_adapter(settings, client=replay.client()) as adapter, copy_to(log_lines):
        configure("DEBUG")
        try:
            drain(world, prepare(world, settings, [adapter], ["apollo"], wanted=["email", "phone"]))
        finally:
            configure("WARNING")

    assert len(replay.requests) == 1
    assert log_lines.getvalue(), "the run should have logged its lookup"
    assert TOKEN not in log_lines.getvalue()
    assert TOKEN not in stored_text(world.conn)


def test_webhook_token_stays_out_of_http_logs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.person("Sam Okafor", "example.org")
    replay = Replay(apollo_body("match_email_only.json", request_id=REQUEST_ID))
    settings = settings_for(apollo_api_key=APOLLO_KEY, apollo_webhook_token=TOKEN, functions_base_url=FUNCTIONS)
    caplog.set_level(logging.DEBUG)

    with apollo_adapter(settings, client=replay.client()) as adapter:
        drain(world, prepare(world, settings, [adapter], ["apollo"], wanted=["email", "phone"]))

    assert len(replay.requests) == 1
    assert TOKEN in str(replay.requests[0].url)
    assert TOKEN not in caplog.text


def test_without_webhook_phones_not_requested(world: World, no_provider_keys: None) -> None:
    card_id = world.person("Sam Okafor", "example.org")
    replay = Replay(apollo_body("match_email_only.json"))
    settings = settings_for(apollo_api_key=APOLLO_KEY, apollo_webhook_token=TOKEN)

    with apollo_adapter(settings, client=replay.client()) as adapter:
        assert adapter.phones_requested is False
        drain(world, prepare(world, settings, [adapter], ["apollo"], wanted=["email", "phone"]))

    [request] = replay.requests
    assert request.url.params["reveal_phone_number"] == "false"
    assert "webhook_url" not in request.url.params
    [decision] = world.decisions(card_id)
    assert decision["reason"].endswith(PHONES_NOT_REQUESTED)
    attempt = world.conn.execute(
        "SELECT detail FROM ops.audit_log WHERE action = 'enrichment.attempt' AND subject = %s",
        (f"lead_card:{card_id}",),
    ).fetchone()
    assert attempt["detail"]["phones_requested"] is False


# late phone deliveries --------------------------------------------------------------


def test_late_phones_enrich_no_match_card(
    world: World, monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    card_id = world.person("Sam Okafor", "example.org")
    # Apollo found the person but no email; the phones follow by webhook under request_id.
    replay = Replay(apollo_body("match_email_only.json", email=None, email_status=None, request_id=REQUEST_ID))
    settings = settings_for(apollo_api_key=APOLLO_KEY, apollo_webhook_token=TOKEN, functions_base_url=FUNCTIONS)
    with apollo_adapter(settings, client=replay.client()) as adapter:
        drain(world, prepare(world, settings, [adapter], ["apollo"]))
    assert world.card(card_id)["readiness"] == "no_match"

    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_APOLLO_WEBHOOK_TOKEN", TOKEN)
    phone = {"sanitized_number": "+12125550177", "type": "mobile", "status": "valid_number", "dnc_status": "clear"}
    body = {"request_id": REQUEST_ID, "people": [{"id": "64a1f0c2e4b0a1b2c3d4e5f7", "phone_numbers": [phone]}]}
    http = {"method": "POST", "headers": {}, "body": json.dumps(body), "queryString": f"token={TOKEN}"}
    response = apollo_callback.handle({"http": http})

    assert response["statusCode"] == 200
    card = world.card(card_id)
    assert (card["readiness"], card["readiness_reason"]) == ("enriched", "phones_delivered")
    assert [(point["kind"], point["value"]) for point in world.points(card_id)] == [("phone", "+12125550177")]


def test_phones_leave_failed_card_state(
    world: World, monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    card_id = world.person("Sam Okafor", "example.org")
    with transaction(world.conn, role="sxe_worker"):
        world.conn.execute("UPDATE execution.lead_cards SET readiness = 'enrichment_failed' WHERE id = %s", (card_id,))
        apollo_callback.register_phone_request(
            world.conn,
            request_id=REQUEST_ID,
            card_id=card_id,
            provider_person_id="p1",
            adapter_version="1",
            simulated=False,
        )

    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_APOLLO_WEBHOOK_TOKEN", TOKEN)
    phone = {"sanitized_number": "+12125550177", "type": "mobile"}
    body = {"request_id": REQUEST_ID, "people": [{"id": "p1", "phone_numbers": [phone]}]}
    http = {"method": "POST", "headers": {}, "body": json.dumps(body), "queryString": f"token={TOKEN}"}

    assert apollo_callback.handle({"http": http})["statusCode"] == 200
    assert world.card(card_id)["readiness"] == "enrichment_failed"
    assert len(world.points(card_id)) == 1


# Apollo bulk_match in the worker --------------------------------------------------------


class BulkReplay:
    """An httpx transport handler for bulk_match: the fixture's match for Sam Okafor, null for anyone else."""

    def __init__(self, status: int = 200) -> None:
        fixture = json.loads((FIXTURES / "apollo" / "bulk_match.json").read_text(encoding="utf-8"))
        self.person = fixture["matches"][0]
        self.status = status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status != 200:
            return httpx.Response(self.status, json={"error": "Service unavailable."})
        details = json.loads(request.content)["details"]
        matches = [self.person if detail.get("last_name") == "okafor" else None for detail in details]
        body = {
            "status": "success",
            "error_code": None,
            "error_message": None,
            "total_requested_enrichments": len(details),
            "unique_enriched_records": sum(match is not None for match in matches),
            "missing_records": sum(match is None for match in matches),
            "credits_consumed": sum(match is not None for match in matches),
            "matches": matches,
        }
        return httpx.Response(200, json=body)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def prepare_bulk(world: World, settings: Settings, single: ApolloPeopleMatch, bulk: Any) -> runner.Enrichment:
    with transaction(world.conn, role="sxe_worker"):
        set_intent(world.conn, POOL, {"allowed_providers": ["apollo"], "max_cost_credits_per_lead": 20})
    return runner.prepare(world.conn, settings, single, actor=ACTOR, simulated=False, bulk=bulk)


def audit_actions(conn: psycopg.Connection[Any], card_id: Any) -> list[str]:
    rows = conn.execute(
        "SELECT action FROM ops.audit_log WHERE subject = %s AND action LIKE 'enrichment.%%' ORDER BY seq",
        (f"lead_card:{card_id}",),
    ).fetchall()
    return [row["action"] for row in rows]


def test_bulk_adapter_only_without_webhook(no_provider_keys: None) -> None:
    with open_providers(settings_for(apollo_api_key=APOLLO_KEY)) as providers:
        assert providers.bulk is not None
    webhook = settings_for(apollo_api_key=APOLLO_KEY, apollo_webhook_token=TOKEN, functions_base_url=FUNCTIONS)
    with open_providers(webhook) as providers:
        assert providers.bulk is None


def test_bulk_buys_claimed_apollo_jobs(world: World) -> None:
    sam = world.person("Sam Okafor", "example.org")
    noor = world.person("Noor Hallberg", "hallbergstudio.com")
    single, bulk = Replay(apollo_body("match_email_only.json")), BulkReplay()
    settings = settings_for(apollo_api_key=APOLLO_KEY)

    with (
        apollo_adapter(settings, client=single.client()) as adapter,
        apollo_bulk_adapter(settings, client=bulk.client()) as bulk_adapter,
    ):
        drain(world, prepare_bulk(world, settings, adapter, bulk_adapter))

    assert single.requests == []
    [request] = bulk.requests
    assert len(json.loads(request.content)["details"]) == 2
    assert world.card(sam)["readiness"] == "enriched"
    assert world.card(noor)["readiness"] == "no_match"
    assert [(point["kind"], point["value"]) for point in world.points(sam)] == [("email", "sam.okafor@example.org")]
    for card_id in (sam, noor):
        assert audit_actions(world.conn, card_id) == ["enrichment.decided", "enrichment.attempt", "enrichment.lookup"]
    keys = world.conn.execute("SELECT state FROM ops.idempotency_keys ORDER BY key").fetchall()
    assert keys == [{"state": "completed"}, {"state": "completed"}]
    budgets = world.conn.execute("SELECT scope, reserved_credits, spent_credits FROM ops.budgets").fetchall()
    assert {row["scope"]: (row["reserved_credits"], row["spent_credits"]) for row in budgets} == {
        "provider:apollo": (0, 1),
        f"pool:{POOL}": (0, 1),
    }


def test_bulk_failure_retries_every_job(world: World) -> None:
    cards = [world.person("Sam Okafor", "example.org"), world.person("Noor Hallberg", "hallbergstudio.com")]
    single, bulk = Replay(apollo_body("match_email_only.json")), BulkReplay(status=503)
    settings = settings_for(apollo_api_key=APOLLO_KEY)

    with (
        apollo_adapter(settings, client=single.client()) as adapter,
        apollo_bulk_adapter(settings, client=bulk.client()) as bulk_adapter,
    ):
        enrichment = prepare_bulk(world, settings, adapter, bulk_adapter)
        sweep(world.conn, enrichment.sweep)
        done = work(world.conn, enrichment.worker)

    assert len(bulk.requests) == 1
    assert done.outcomes["retry_scheduled"] == 2
    for card_id in cards:
        [job] = world.jobs(card_id)
        assert (job["state"], job["attempts"]) == ("queued", 1)
    breaker = world.conn.execute("SELECT consecutive_failures FROM ops.circuit_breakers WHERE provider = 'apollo'")
    assert breaker.fetchone()["consecutive_failures"] == 1
    budgets = world.conn.execute("SELECT reserved_credits, spent_credits FROM ops.budgets").fetchall()
    assert all((row["reserved_credits"], row["spent_credits"]) == (0, 0) for row in budgets)


def test_bulk_spent_budget_takes_no_token(world: World) -> None:
    cards = [world.person("Sam Okafor", "example.org"), world.person("Noor Hallberg", "hallbergstudio.com")]
    single, bulk = Replay(apollo_body("match_email_only.json")), BulkReplay()
    settings = settings_for(apollo_api_key=APOLLO_KEY)

    with (
        apollo_adapter(settings, client=single.client()) as adapter,
        apollo_bulk_adapter(settings, client=bulk.client()) as bulk_adapter,
    ):
        enrichment = prepare_bulk(world, settings, adapter, bulk_adapter)
        sweep(world.conn, enrichment.sweep)
        with transaction(world.conn, role="sxe_worker"):
            world.conn.execute("UPDATE ops.budgets SET spent_credits = limit_credits WHERE scope = 'provider:apollo'")
            controls.block_bucket(world.conn, "apollo", 600)
        done = work(world.conn, enrichment.worker)

    assert (len(single.requests), len(bulk.requests)) == (0, 0)
    assert (done.outcomes["budget_exhausted"], done.outcomes["deferred"]) == (2, 0)
    assert {world.card(card_id)["readiness"] for card_id in cards} == {"qualified"}


def test_single_apollo_job_skips_bulk(world: World) -> None:
    sam = world.person("Sam Okafor", "example.org")
    single, bulk = Replay(apollo_body("match_email_only.json")), BulkReplay()
    settings = settings_for(apollo_api_key=APOLLO_KEY)

    with (
        apollo_adapter(settings, client=single.client()) as adapter,
        apollo_bulk_adapter(settings, client=bulk.client()) as bulk_adapter,
    ):
        drain(world, prepare_bulk(world, settings, adapter, bulk_adapter))

    assert (len(single.requests), len(bulk.requests)) == (1, 0)
    assert world.card(sam)["readiness"] == "enriched"
