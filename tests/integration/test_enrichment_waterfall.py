"""Identity bridge, provider waterfall, public-bio source and quotes, against two loopback simulators."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql as pgsql

from sxe.adapters.apollo import ApolloPeopleMatch
from sxe.adapters.base import LookupRequest, LookupResult
from sxe.adapters.simulator import ProviderSimulator, simulated_person
from sxe.cards import build_cards, ensure_pool
from sxe.cards.intent import set_intent
from sxe.cli import main
from sxe.compliance.erasure import erase, parse_subject
from sxe.config import load_settings
from sxe.db import transaction
from sxe.errors import UsageError
from sxe.handoff.store import LocalObjectStore
from sxe.ingest.store import ingest_file
from sxe.intelligence import load_default_ruleset
from sxe.intelligence.store import tag_pending_cards
from sxe.orchestrator import controls, runner
from sxe.orchestrator.deadline import Deadline
from sxe.orchestrator.quote import DEFAULT_MATCH_RATE, quote_pool
from sxe.orchestrator.sweep import sweep

POOL = "waterfall"
ACTOR = "sxe_worker:test"
DANA = ("Dana Whitfield", "danawhitfield.com")
BIO_EMAIL = "bookings.dana@whitfield-mail.com"


def _missed_person() -> tuple[str, str]:
    """A name and domain the simulator returns no person for, found from its deterministic rule."""
    for index in range(26 * 26):
        first, last, domain = "Noor", f"Hallberg{chr(97 + index // 26)}{chr(97 + index % 26)}", "hallbergstudio.com"
        if simulated_person({"first_name": first, "last_name": last, "domain": domain}) is None:
            return f"{first} {last}", domain
    raise AssertionError("the simulator matched every candidate name")


NOBODY = _missed_person()


class Renamed:
    """An adapter under another provider name, so one simulator-backed adapter can stand for two providers."""

    def __init__(self, inner: ApolloPeopleMatch, name: str) -> None:
        self._inner, self._name = inner, name

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return self._inner.version

    def quoted_cost_credits(self, request: LookupRequest) -> int:
        return self._inner.quoted_cost_credits(request)

    def lookup(self, request: LookupRequest) -> LookupResult:
        found = self._inner.lookup(request)
        points = tuple(dataclasses.replace(point, source=self._name) for point in found.contact_points)
        return dataclasses.replace(found, provider=self._name, contact_points=points)


def x_user(
    user_id: int,
    name: str,
    website: str | None,
    *,
    bio: str = "Helping small studios grow.",
    bio_urls: tuple[str, ...] = (),
) -> dict[str, Any]:
    """An X API v1.1 user whose website is a t.co link expanding to `website`, with `bio_urls` in its bio."""
    short = f"https://t.co/u{user_id}"
    bio_links = [{"url": f"https://t.co/b{user_id}{n}", "expanded_url": url} for n, url in enumerate(bio_urls)]
    return {
        "id": user_id,
        "id_str": str(user_id),
        "name": name,
        "screen_name": f"user_{user_id}",
        "description": bio + "".join(f" {link['url']}" for link in bio_links),
        "url": short if website else None,
        "entities": {
            "url": {"urls": [{"url": short, "expanded_url": f"https://{website}/"}] if website else []},
            "description": {"urls": bio_links},
        },
        "protected": False,
        "followers_count": 12_400,
        "friends_count": 310,
        "statuses_count": 2_900,
        "favourites_count": 4_100,
        "verified": False,
        "lang": "en",
        "created_at": "Tue Apr 12 09:30:00 +0000 2016",
    }


@dataclass
class World:
    conn: psycopg.Connection[Any]
    first_simulator: ProviderSimulator
    second_simulator: ProviderSimulator
    first: Renamed
    second: Renamed
    folder: Path
    next_id: int = 5000

    def add(self, users: list[dict[str, Any]]) -> list[uuid.UUID]:
        path = self.folder / f"users-{self.next_id}.jsonl"
        self.next_id += 1
        path.write_text("".join(json.dumps(user) + "\n" for user in users), encoding="utf-8")
        ingest_file(self.conn, path, run_id=uuid.uuid4(), format_name="x-api-v1.1")
        with transaction(self.conn, role="sxe_worker"):
            ensure_pool(self.conn, POOL)
            build_cards(self.conn, POOL)
            tag_pending_cards(self.conn, POOL, load_default_ruleset())
        rows = self.conn.execute(
            """
            SELECT link.card_id, profile.platform_user_id FROM execution.card_profiles AS link
              JOIN social.profiles AS profile ON profile.id = link.profile_id
             WHERE profile.platform_user_id = ANY(%s)
            """,
            ([user["id_str"] for user in users],),
        ).fetchall()
        card_by_user = {row["platform_user_id"]: row["card_id"] for row in rows}
        return [card_by_user[user["id_str"]] for user in users]

    def person(self, name: str, website: str | None, **extra: Any) -> uuid.UUID:
        self.next_id += 1
        return self.add([x_user(self.next_id, name, website, **extra)])[0]

    def prepare(self, allowed: list[str], wanted: list[str] | None = None) -> runner.Enrichment:
        policy: dict[str, Any] = {"allowed_providers": allowed, "max_cost_credits_per_lead": 20}
        if wanted is not None:
            policy["wanted_fields"] = wanted
        with transaction(self.conn, role="sxe_worker"):
            set_intent(self.conn, POOL, policy)
        settings = load_settings(pool=POOL, provider_burst=50, provider_rate_per_second=50)
        return runner.prepare(self.conn, settings, self.first, actor=ACTOR, simulated=True, fallbacks=(self.second,))

    def drain(self, enrichment: runner.Enrichment) -> None:
        runner.drain(self.conn, enrichment, deadline=Deadline.after(120))

    def decisions(self, card_id: uuid.UUID) -> list[dict[str, Any]]:
        return self.conn.execute(
            "SELECT * FROM ops.enrichment_decisions WHERE card_id = %s ORDER BY id", (card_id,)
        ).fetchall()

    def jobs(self, card_id: uuid.UUID) -> list[dict[str, Any]]:
        return self.conn.execute(
            "SELECT * FROM ops.jobs WHERE payload ->> 'card_id' = %s ORDER BY id", (str(card_id),)
        ).fetchall()

    def card(self, card_id: uuid.UUID) -> dict[str, Any]:
        return self.conn.execute("SELECT * FROM execution.lead_cards WHERE id = %s", (card_id,)).fetchone()

    def points(self, card_id: uuid.UUID) -> list[dict[str, Any]]:
        return self.conn.execute(
            """
            SELECT point.kind, point.value, point.source FROM contact.contact_points AS point
              JOIN execution.lead_cards AS card ON card.contact_id = point.contact_id
             WHERE card.id = %s ORDER BY point.kind, point.source
            """,
            (card_id,),
        ).fetchall()


@pytest.fixture
def world(conn: psycopg.Connection[Any], tmp_path: Path) -> Iterator[World]:
    with (
        ProviderSimulator() as first_simulator,
        ProviderSimulator() as second_simulator,
        ApolloPeopleMatch(first_simulator.api_key, base_url=first_simulator.base_url, simulated=True) as first,
        ApolloPeopleMatch(
            second_simulator.api_key, base_url=second_simulator.base_url, simulated=True, reveal_phone_number=True
        ) as second,
    ):
        yield World(
            conn, first_simulator, second_simulator, Renamed(first, "first"), Renamed(second, "second"), tmp_path
        )


def calls(simulator: ProviderSimulator) -> int:
    return sum(simulator.calls.values())


# identity bridge ------------------------------------------------------------


def test_unmatchable_card_skipped_without_call(world: World) -> None:
    card_id = world.person("Bloomhaus", "linktr.ee/bloomhaus")
    enrichment = world.prepare(["first"])

    world.drain(enrichment)

    [decision] = world.decisions(card_id)
    assert (decision["decision"], decision["reason"], decision["bridge"]) == ("skip", "no_match_key", None)
    assert world.jobs(card_id) == []
    assert calls(world.first_simulator) == 0
    assert world.card(card_id)["readiness"] == "ready"


def test_linkedin_url_in_bio_becomes_bridge(world: World) -> None:
    card_id = world.person("Dana", None, bio_urls=("https://www.LinkedIn.com/in/Dana-Whitfield/",))
    enrichment = world.prepare(["first"])

    sweep(world.conn, enrichment.sweep)

    [decision] = world.decisions(card_id)
    [job] = world.jobs(card_id)
    assert (decision["decision"], decision["bridge"]) == ("enqueue", "linkedin_url")
    assert job["payload"]["request"] == {"linkedin_url": "https://www.linkedin.com/in/dana-whitfield"}


def test_own_domain_found_behind_link_hub(world: World) -> None:
    card_id = world.person(
        "Dana Whitfield", "linktr.ee/dana", bio_urls=("https://instagram.com/dana", "https://danawhitfield.com/book")
    )
    enrichment = world.prepare(["first"])

    sweep(world.conn, enrichment.sweep)

    [decision] = world.decisions(card_id)
    [job] = world.jobs(card_id)
    assert decision["bridge"] == "name_domain"
    assert job["payload"]["request"]["domain"] == "danawhitfield.com"


def test_image_urls_give_no_domain(world: World) -> None:
    world.next_id += 1
    user = x_user(world.next_id, "Mara Lindqvist", None)
    user["profile_image_url_https"] = "https://images.photohost.example/u/77"
    user["profile_banner_url"] = "https://banners.photohost.example/u/77/1500x500"
    user["status"] = {"entities": {"media": [{"media_url_https": "https://pics.photohost.example/m/9"}]}}
    [card_id] = world.add([user])
    enrichment = world.prepare(["first"])

    sweep(world.conn, enrichment.sweep)

    [decision] = world.decisions(card_id)
    assert (decision["decision"], decision["reason"]) == ("skip", "no_match_key")
    assert world.jobs(card_id) == []


# provider configuration ------------------------------------------------------


def test_unconfigured_provider_keeps_card_eligible(world: World) -> None:
    card_id = world.person(*DANA)

    world.drain(world.prepare(["dealmachine"]))

    [decision] = world.decisions(card_id)
    assert decision["decision"] == "skip"
    assert decision["provider"] == "dealmachine"
    assert decision["reason"].startswith("provider_not_configured; ")
    assert "SXE_DEALMACHINE_API_KEY" in decision["reason"]
    assert world.jobs(card_id) == []
    assert world.card(card_id)["readiness"] == "qualified"


def test_empty_allowed_providers_keeps_card_eligible(world: World) -> None:
    card_id = world.person(*DANA)

    world.drain(world.prepare([]))

    [decision] = world.decisions(card_id)
    assert decision["reason"].startswith("provider_not_allowed; ")
    assert world.card(card_id)["readiness"] == "qualified"


def test_fixed_intent_enriches_skipped_card(world: World) -> None:
    card_id = world.person(*DANA)
    world.drain(world.prepare(["dealmachine"]))

    world.drain(world.prepare(["first"]))

    assert calls(world.first_simulator) == 1
    assert world.card(card_id)["readiness"] == "enriched"


def test_quote_counts_unconfigured_provider(world: World) -> None:
    world.person(*DANA)
    world.prepare(["dealmachine"])

    estimate = quote_pool(world.conn, load_settings(pool=POOL), world.first, fallbacks=(world.second,))

    assert (estimate.lookups, dict(estimate.skipped)) == (0, {"provider_not_configured": 1})


def test_new_intent_reopens_disqualified_cards(world: World) -> None:
    card_id = world.person(*DANA)
    strict = {"allowed_providers": ["first"], "max_cost_credits_per_lead": 20, "min_followers": 10**9}
    with transaction(world.conn, role="sxe_worker"):
        set_intent(world.conn, POOL, strict)
    settings = load_settings(pool=POOL, provider_burst=50, provider_rate_per_second=50)
    world.drain(runner.prepare(world.conn, settings, world.first, actor=ACTOR, simulated=True))
    assert world.card(card_id)["readiness"] == "disqualified"

    world.drain(world.prepare(["first"]))

    assert world.card(card_id)["readiness"] == "enriched"


# waterfall ------------------------------------------------------------------


def test_missing_phone_tries_next_provider(world: World) -> None:
    card_id = world.person(*DANA)
    enrichment = world.prepare(["first", "second"], wanted=["email", "phone"])

    world.drain(enrichment)

    assert (calls(world.first_simulator), calls(world.second_simulator)) == (1, 1)
    assert [job["payload"]["provider"] for job in world.jobs(card_id)] == ["first", "second"]
    assert [(row["provider"], row["decision"]) for row in world.decisions(card_id)] == [
        ("first", "enqueue"),
        ("second", "enqueue"),
    ]
    card = world.card(card_id)
    assert card["readiness"] == "enriched"
    assert {(point["kind"], point["source"]) for point in world.points(card_id)} >= {
        ("email", "first"),
        ("phone", "second"),
    }


def test_found_fields_stop_the_waterfall(world: World) -> None:
    card_id = world.person(*DANA)
    enrichment = world.prepare(["first", "second"], wanted=["email"])

    world.drain(enrichment)

    assert (calls(world.first_simulator), calls(world.second_simulator)) == (1, 0)
    assert [job["payload"]["provider"] for job in world.jobs(card_id)] == ["first"]
    assert world.card(card_id)["readiness"] == "enriched"


def test_miss_falls_through_to_next_provider(world: World) -> None:
    card_id = world.person(*NOBODY)
    enrichment = world.prepare(["first", "second"])

    world.drain(enrichment)

    assert (calls(world.first_simulator), calls(world.second_simulator)) == (1, 1)
    assert world.card(card_id)["readiness"] == "no_match"
    assert world.points(card_id) == []


def test_open_breaker_passes_to_next_provider(world: World) -> None:
    card_id = world.person(*DANA)
    enrichment = world.prepare(["first", "second"])
    with transaction(world.conn, role="sxe_worker"):
        controls.ensure_breaker(world.conn, "first", failure_threshold=1, open_seconds=600)
        controls.record_breaker_failure(world.conn, "first")

    sweep(world.conn, enrichment.sweep)

    assert [(row["provider"], row["reason"]) for row in world.decisions(card_id)] == [
        ("first", "circuit_open"),
        ("second", "allowed by intent, cooldown, budget and breaker"),
    ]
    assert [job["payload"]["provider"] for job in world.jobs(card_id)] == ["second"]


# public bio -----------------------------------------------------------------


def test_reused_match_without_phone_continues(world: World) -> None:
    first_card = world.person(*DANA)
    world.drain(world.prepare(["first"]))
    second_card = world.person(*DANA)

    world.drain(world.prepare(["first", "second"], wanted=["email", "phone"]))

    assert world.card(first_card)["readiness"] == "enriched"
    assert (calls(world.first_simulator), calls(world.second_simulator)) == (1, 1)
    assert [(row["provider"], row["reason"]) for row in world.decisions(second_card)] == [
        ("first", "cooldown_matched"),
        ("second", "allowed by intent, cooldown, budget and breaker"),
    ]
    assert world.card(second_card)["readiness"] == "enriched"
    assert {(point["kind"], point["source"]) for point in world.points(second_card)} >= {
        ("email", "first"),
        ("phone", "second"),
    }


def test_reused_match_with_every_field_stops(world: World) -> None:
    world.person(*DANA)
    world.drain(world.prepare(["first"]))
    second_card = world.person(*DANA)

    world.drain(world.prepare(["first", "second"], wanted=["email"]))

    assert (calls(world.first_simulator), calls(world.second_simulator)) == (1, 0)
    assert [row["provider"] for row in world.decisions(second_card)] == ["first"]
    assert world.card(second_card)["readiness"] == "enriched"


def test_result_remembered_before_job_continues(world: World) -> None:
    card_id = world.person(*DANA)
    enrichment = world.prepare(["first", "second"], wanted=["email", "phone"])
    sweep(world.conn, enrichment.sweep)
    [job] = world.jobs(card_id)
    # Another card's job bought the same lookup meanwhile, and it found an email only.
    with transaction(world.conn, role="sxe_worker"):
        contact_id = world.conn.execute("INSERT INTO contact.contacts DEFAULT VALUES RETURNING id").fetchone()["id"]
        world.conn.execute(
            """
            INSERT INTO contact.contact_points
                   (contact_id, kind, value, value_sha256, source, adapter_version, simulated)
            VALUES (%s, 'email', 'dana@danawhitfield.com', repeat('b', 64), 'first', '1', true)
            """,
            (contact_id,),
        )
        controls.remember(
            world.conn,
            job["payload"]["fingerprint"],
            provider="first",
            outcome="matched",
            contact_id=contact_id,
            days=9,
        )

    world.drain(enrichment)

    assert (calls(world.first_simulator), calls(world.second_simulator)) == (0, 1)
    assert [job["payload"]["provider"] for job in world.jobs(card_id)] == ["first", "second"]
    card = world.card(card_id)
    assert (card["readiness"], card["contact_id"]) == ("enriched", contact_id)
    assert {(point["kind"], point["source"]) for point in world.points(card_id)} >= {
        ("email", "first"),
        ("phone", "second"),
    }


def _tier1_holds(conn: psycopg.Connection[Any], value: str) -> list[str]:
    tables = conn.execute(
        """
        SELECT table_schema, table_name FROM information_schema.tables
         WHERE table_schema IN ('social', 'execution', 'ops') AND table_type = 'BASE TABLE'
        """
    ).fetchall()
    found = []
    for table in tables:
        query = pgsql.SQL("SELECT count(*) AS n FROM {}.{} AS t WHERE t::text ILIKE %s").format(
            pgsql.Identifier(table["table_schema"]), pgsql.Identifier(table["table_name"])
        )
        if conn.execute(query, (f"%{value}%",)).fetchone()["n"]:
            found.append(f"{table['table_schema']}.{table['table_name']}")
    return found


def test_bio_email_reaches_contacts_when_allowed(world: World) -> None:
    card_id = world.person("Bloomhaus", None, bio=f"Bookings: {BIO_EMAIL}")
    enrichment = world.prepare(["first", "public_bio"])

    world.drain(enrichment)

    assert world.points(card_id) == [{"kind": "email", "value": BIO_EMAIL, "source": "public_bio"}]
    assert world.card(card_id)["readiness"] == "enriched"
    [audit] = world.conn.execute(
        "SELECT detail FROM ops.audit_log WHERE action = 'enrichment.lookup' AND subject = %s",
        (f"lead_card:{card_id}",),
    ).fetchall()
    assert (audit["detail"]["provider"], audit["detail"]["outcome"], audit["detail"]["credits"]) == (
        "public_bio",
        "matched",
        0,
    )
    assert calls(world.first_simulator) == 0
    assert _tier1_holds(world.conn, BIO_EMAIL) == []


def test_bio_email_stays_out_when_not_allowed(world: World) -> None:
    card_id = world.person("Bloomhaus", None, bio=f"Bookings: {BIO_EMAIL}")
    enrichment = world.prepare(["first"])

    world.drain(enrichment)

    sightings = world.conn.execute("SELECT kind, value FROM contact.bio_sightings").fetchall()
    assert sightings == [{"kind": "email", "value": BIO_EMAIL}]
    assert world.conn.execute("SELECT count(*) AS n FROM contact.contact_points").fetchone()["n"] == 0
    assert world.card(card_id)["readiness"] == "ready"
    assert _tier1_holds(world.conn, BIO_EMAIL) == []


def test_sightings_closed_to_api_role(world: World) -> None:
    world.person("Bloomhaus", None, bio=f"Bookings: {BIO_EMAIL}")

    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction(world.conn, role="sxe_api"):
        world.conn.execute("SELECT * FROM contact.bio_sightings")


def test_erasure_deletes_bio_sightings(world: World) -> None:
    world.person("Bloomhaus", None, bio=f"Bookings: {BIO_EMAIL}")
    handle = world.conn.execute("SELECT handle FROM social.profiles").fetchone()["handle"]

    receipt = erase(
        world.conn,
        LocalObjectStore(world.folder / "objects"),
        parse_subject(f"x:{handle}"),
        key=b"k" * 32,
        actor=ACTOR,
    )

    assert receipt.removed["bio_sightings"] == 1
    assert world.conn.execute("SELECT count(*) AS n FROM contact.bio_sightings").fetchone()["n"] == 0


# quote ----------------------------------------------------------------------


def _row_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    tables = ["ops.jobs", "ops.enrichment_decisions", "ops.audit_log", "ops.budgets", "ops.circuit_breakers"]
    counts = {table: conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"] for table in tables}
    readiness = conn.execute("SELECT string_agg(readiness, ',' ORDER BY id) AS r FROM execution.lead_cards")
    counts["readiness"] = hash(readiness.fetchone()["r"])
    return counts


def test_quote_prices_pool_without_writing(world: World) -> None:
    world.person(*DANA)
    world.person(*NOBODY)
    world.person("Bloomhaus", "linktr.ee/bloomhaus")
    world.prepare(["first", "second"])
    settings = load_settings(pool=POOL)
    before = _row_counts(world.conn)

    estimate = quote_pool(world.conn, settings, world.first, fallbacks=(world.second,))

    assert _row_counts(world.conn) == before
    assert (estimate.cards, estimate.lookups, dict(estimate.skipped)) == (3, 2, {"no_match_key": 1})
    first, second = estimate.providers["first"], estimate.providers["second"]
    assert (first.first_calls, first.expected_calls, first.match_rate_source) == (2, 2.0, "default")
    assert second.expected_calls == pytest.approx(2 * (1 - DEFAULT_MATCH_RATE))
    assert estimate.expected_credits == pytest.approx(2 * 1 + 2 * (1 - DEFAULT_MATCH_RATE) * 9)
    assert estimate.max_credits == 2 * (1 + 9)
    assert (calls(world.first_simulator), calls(world.second_simulator)) == (0, 0)


def test_quote_learns_rate_from_memory(world: World) -> None:
    world.person(*DANA)
    world.prepare(["first"])
    for index in range(20):
        outcome = "matched" if index < 15 else "no_match"
        world.conn.execute(
            "INSERT INTO ops.lookup_memory (fingerprint, provider, outcome, remembered_until)"
            " VALUES (%s, 'first', %s, now() - interval '1 day')",
            (f"first:1:{index:064x}", outcome),
        )

    estimate = quote_pool(world.conn, load_settings(pool=POOL), world.first)

    first = estimate.providers["first"]
    assert (first.match_rate, first.match_rate_source, first.remembered_lookups) == (0.75, "lookup_memory", 20)
    assert estimate.expected_matches == pytest.approx(0.75)


def test_quote_unknown_pool_names_fix(world: World) -> None:
    with pytest.raises(UsageError, match=r"pool 'nowhere' does not exist; create it with `sxe pool set nowhere`"):
        quote_pool(world.conn, load_settings(pool="nowhere"), world.first)
    assert world.conn.execute("SELECT count(*) AS n FROM execution.pools WHERE name = 'nowhere'").fetchone()["n"] == 0


def test_quote_command_prints_json(
    world: World, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world.person(*DANA)
    world.prepare(["apollo"])
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(world.folder / "state"))
    monkeypatch.delenv("SXE_APOLLO_API_KEY", raising=False)
    jobs_before = world.conn.execute("SELECT count(*) AS n FROM ops.jobs").fetchone()["n"]

    assert main(["quote", POOL, "--json"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert (report["pool"], report["cards"], report["lookups"]) == (POOL, 1, 1)
    assert [item["provider"] for item in report["providers"]] == ["apollo"]
    assert world.conn.execute("SELECT count(*) AS n FROM ops.jobs").fetchone()["n"] == jobs_before


def test_quote_command_rejects_unknown_pool(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))

    assert main(["quote", "nowhere"]) == 2

    assert "pool 'nowhere' does not exist" in capsys.readouterr().err
