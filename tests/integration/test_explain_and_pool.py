"""`sxe explain`, `sxe pool set` and re-tagging under a new ruleset version, against real rows."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
import pytest

from sxe.cards import build_person_cards, ensure_pool
from sxe.cli import main
from sxe.config import load_settings
from sxe.db import connect, transaction
from sxe.intelligence import load_shipped_ruleset
from sxe.intelligence.store import tag_pending_cards
from sxe.intelligence.tribes import refresh_tribes
from sxe.pii import contains_pii
from sxe.pipeline import RunSummary, card_stage, run

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"

POOL = "default"


def add_profile(conn: psycopg.Connection, platform: str, handle: str, **fields: object) -> None:
    columns = {"platform": platform, "identity_key": f"handle:{handle}", "handle": handle, **fields}
    columns.update(source_format="test", source_file="test.json", collected_at="2026-01-01T00:00:00Z")
    marks = ", ".join(["%s"] * len(columns))
    conn.execute(f"INSERT INTO social.profiles ({', '.join(columns)}) VALUES ({marks})", list(columns.values()))


def build_and_tag(conn: psycopg.Connection, ruleset: str = "personas-v1") -> None:
    with transaction(conn, role="sxe_worker"):
        ensure_pool(conn, POOL)
        build_person_cards(conn, POOL)
        tag_pending_cards(conn, POOL, load_shipped_ruleset(ruleset))


@pytest.fixture
def tagged_pool(conn: psycopg.Connection, database_url: str, monkeypatch: pytest.MonkeyPatch) -> psycopg.Connection:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    add_profile(
        conn, "x", "coachrina", display_name="Rina Alvarez | Strength Coach", followers=3150,
        bio="Online strength coaching for busy moms. Entrenadora personal en Miami.",
    )  # fmt: skip
    add_profile(conn, "threads", "coachrina", display_name="Rina Alvarez", bio="Strength coach for busy moms")
    build_and_tag(conn)
    return conn


def explain_json(reference: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["explain", reference, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_explain_json_lists_profiles_links_labels(
    tagged_pool: psycopg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    report = explain_json("x:coachrina", capsys)

    assert {(p["platform"], p["handle"]) for p in report["profiles"]} == {("x", "coachrina"), ("threads", "coachrina")}
    assert report["readiness"] == "tagged"
    coach = next(label for label in report["labels"] if label["value"] == "coach")
    assert coach["rule"] == "persona.coach.bio-keywords"
    assert coach["version"] == "personas-v1"
    assert coach["score"] > 0
    assert coach["evidence"]["matches"]
    assert {link["signal"] for link in report["links"]} == {"same_handle", "same_display_name"}
    assert explain_json(report["card_id"], capsys)["card_id"] == report["card_id"]


def test_explain_text_shows_evidence(tagged_pool: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "threads:@coachrina"]) == 0
    text = capsys.readouterr().out

    assert "same_handle (handle coachrina, distinctive True)" in text
    assert "persona coach" in text
    assert "Readiness: tagged" in text


@pytest.mark.parametrize(
    ("reference", "message"),
    [("x:nobody_here", "no lead card holds the x profile @nobody_here"), ("myspace:tom", "invalid card reference")],
)
def test_explain_unknown_reference_exits_2(
    tagged_pool: psycopg.Connection, capsys: pytest.CaptureFixture[str], reference: str, message: str
) -> None:
    assert main(["explain", reference]) == 2
    assert message in capsys.readouterr().err


def test_retag_records_new_ruleset_version(tagged_pool: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    conn = tagged_pool
    card_id = explain_json("x:coachrina", capsys)["card_id"]
    conn.execute("UPDATE execution.lead_cards SET readiness = 'qualified' WHERE id = %s", (card_id,))

    with transaction(conn, role="sxe_worker"):
        retagged = tag_pending_cards(conn, POOL, load_shipped_ruleset("personas-v2"))

    report = explain_json(card_id, capsys)
    assert retagged == 1
    assert {label["version"] for label in report["labels"]} == {"personas-v2"}
    assert report["ruleset_version"] == "personas-v2"
    assert report["readiness"] == "tagged"
    assert report["language"] == "en"


def test_pool_set_stores_valid_intent(
    tagged_pool: psycopg.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = {"allowed_providers": ["apollo"], "max_cost_credits_per_lead": 3, "target_tribes": ["fitness"]}
    path = tmp_path / "intent.json"
    path.write_text(json.dumps(policy))

    assert main(["pool", "set", "growth", "--intent", str(path)]) == 0
    capsys.readouterr()
    assert main(["pool", "show", "growth"]) == 0
    assert json.loads(capsys.readouterr().out)["intent"] == policy


def test_pool_set_rejects_invalid_intent(
    tagged_pool: psycopg.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "intent.json"
    path.write_text(json.dumps({"allowed_providers": ["apollo"], "max_cost_credits_per_lead": -2}))

    assert main(["pool", "set", "growth", "--intent", str(path)]) == 2
    assert "max_cost_credits_per_lead" in capsys.readouterr().err
    row = tagged_pool.execute("SELECT 1 FROM execution.pools WHERE name = 'growth'").fetchone()
    assert row is None


def run_card_stage(conn: psycopg.Connection, database_url: str, state_dir: Path, pool: str) -> RunSummary:
    summary = RunSummary(run_id=str(uuid.uuid4()))
    card_stage(conn, load_settings(database_url=database_url, state_dir=state_dir, pool=pool), summary)
    return summary


def test_card_stage_records_new_pool(conn: psycopg.Connection, database_url: str, tmp_path: Path) -> None:
    add_profile(conn, "x", "coachrina", display_name="Rina Alvarez", followers=3150)

    first = run_card_stage(conn, database_url, tmp_path, "default")
    again = run_card_stage(conn, database_url, tmp_path, "default")
    mistyped = run_card_stage(conn, database_url, tmp_path, "defualt")

    assert first.pool == "default"
    assert first.pool_created is True
    assert first.other_pools == []
    assert again.pool_created is False
    assert mistyped.pool_created is True
    assert mistyped.other_pools == ["default"]
    assert mistyped.to_json()["other_pools"] == ["default"]


@pytest.fixture
def several_signal_tribes(
    conn: psycopg.Connection, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> psycopg.Connection:
    """A card whose fitness tribe comes from bio keywords, a hashtag and emoji on two profiles, in a pool
    whose other cards share hashtags with it, so the pool also has communities."""
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    add_profile(
        conn, "x", "liftwithdana", display_name="Dana Kowalski", followers=48200,
        bio="Personal trainer \U0001f4aa strength training #fitfam #morningroutine \U0001f3c3",
    )  # fmt: skip
    add_profile(
        conn, "threads", "liftwithdana", display_name="Dana Kowalski",
        bio="Workouts for busy parents \U0001f3cb and some python coding on weekends #morningroutine",
    )  # fmt: skip
    # A hashtag carried by more than half of the pool's cards names no community, so each is on two of four.
    add_profile(conn, "x", "sunrise_sam", display_name="Sam Reyes", bio="Coffee first #morningroutine")
    for handle in ("early_eli", "dawn_devi"):
        add_profile(conn, "x", handle, display_name=handle.title(), bio="Reading in the evening #bookclub")
    with transaction(conn, role="sxe_worker"):
        ensure_pool(conn, POOL)
        build_person_cards(conn, POOL)
        tag_pending_cards(conn, POOL, load_shipped_ruleset("personas-v2"))
        refresh_tribes(conn, POOL)
    return conn


def test_explain_tribes_are_stored_labels(
    several_signal_tribes: psycopg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    report = explain_json("x:liftwithdana", capsys)

    stored = several_signal_tribes.execute(
        "SELECT value, rule_id, ruleset_version, score, evidence FROM execution.card_labels"
        " WHERE card_id = %s AND kind = 'tribe' ORDER BY score DESC, value",
        (report["card_id"],),
    ).fetchall()
    assert [tribe["value"] for tribe in report["tribes"]] == [row["value"] for row in stored]
    assert {tribe["value"] for tribe in report["tribes"]} == {"fitness", "tech"}
    for tribe, row in zip(report["tribes"], stored, strict=True):
        assert tribe["rule"] == row["rule_id"]
        assert tribe["version"] == row["ruleset_version"] == "personas-v2"
        assert tribe["score"] == round(float(row["score"]), 4)
        assert [rule["rule"] for rule in tribe["rules"]] == [rule["rule_id"] for rule in row["evidence"]["rules"]]


def test_explain_tribe_lists_every_signal(
    several_signal_tribes: psycopg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    report = explain_json("x:liftwithdana", capsys)

    fitness = next(tribe for tribe in report["tribes"] if tribe["value"] == "fitness")
    rules = {rule["rule"]: rule for rule in fitness["rules"]}
    assert set(rules) == {"tribe.fitness.bio-keywords", "tribe.fitness.emoji"}
    keyword_sources = {(match["platform"], match["field"]) for match in rules["tribe.fitness.bio-keywords"]["matches"]}
    emoji_sources = {match["platform"] for match in rules["tribe.fitness.emoji"]["matches"]}
    assert ("x", "bio") in keyword_sources
    assert ("threads", "bio") in keyword_sources
    assert emoji_sources == {"x", "threads"}
    x_terms = {
        term
        for match in rules["tribe.fitness.bio-keywords"]["matches"]
        if match["platform"] == "x"
        for term in match["matched"]
    }
    assert "#fitfam" in x_terms
    assert all(match["rule_id"] == rule["rule"] for rule in fitness["rules"] for match in rule["matches"])


def test_explain_keeps_communities_apart(
    several_signal_tribes: psycopg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    report = explain_json("x:liftwithdana", capsys)
    assert main(["explain", "x:liftwithdana"]) == 0
    text = capsys.readouterr().out

    community_slugs = {community["slug"] for community in report["communities"]}
    assert community_slugs
    assert community_slugs.isdisjoint({tribe["value"] for tribe in report["tribes"]})
    tribes_section = text.split("Tribes (stored labels):")[1].split("\n\n")[0]
    assert "fitness  score" in tribes_section
    assert "tribe.fitness.emoji" in tribes_section
    assert "morningroutine" not in tribes_section
    assert "Pool communities" in text


def test_explain_notes_labels_awaiting_retag(
    several_signal_tribes: psycopg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    card_id = explain_json("x:liftwithdana", capsys)["card_id"]
    several_signal_tribes.execute("UPDATE execution.lead_cards SET ruleset_version = NULL WHERE id = %s", (card_id,))

    assert main(["explain", card_id]) == 0

    text = capsys.readouterr().out
    assert "labels are from personas-v2, the card records none; it awaits re-tagging" in text
    assert "fitness  score" in text


# enrichment -------------------------------------------------------------------


@pytest.fixture
def failing_run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the examples against a simulator that answers every lookup with HTTP 500; return a looked-up card id."""
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    for name in ("SXE_APOLLO_API_KEY", "SXE_DEALMACHINE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(
        database_url=database_url,
        state_dir=tmp_path / "state",
        simulator_faults="500=1.0",
        enrich_drain_seconds=0,
        breaker_failure_threshold=2,
    )
    run([EXAMPLES_DIR], settings)
    with connect(database_url) as conn:
        row = conn.execute(
            "SELECT payload ->> 'card_id' AS card_id FROM ops.jobs WHERE last_error IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()
    assert row is not None
    return str(row["card_id"])


def test_explain_json_lists_enrichment(failing_run: str, capsys: pytest.CaptureFixture[str]) -> None:
    enrichment = explain_json(failing_run, capsys)["enrichment"]

    [decision, *_] = enrichment["decisions"]
    assert (decision["provider"], decision["decision"]) == ("apollo", "enqueue")
    assert decision["reason"].startswith("allowed by intent")
    assert decision["at"]
    [job] = enrichment["jobs"]
    assert (job["provider"], job["state"], job["attempts"]) == ("apollo", "queued", 1)
    assert job["last_error_class"] == "RetryableProviderError"
    assert job["last_error_status_code"] == 500
    assert job["next_run_at"]
    assert enrichment["breaker_was_open"] is True
    assert enrichment["breaker_open_for"] == ["apollo"]
    assert enrichment["breakers"][0]["state"] == "open"


def test_explain_text_shows_enrichment(failing_run: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", failing_run]) == 0
    text = capsys.readouterr().out

    assert "Enrichment decisions:" in text
    assert "apollo  enqueue  allowed by intent" in text
    assert "queued  attempts 1/" in text
    assert "last error RetryableProviderError (HTTP 500), next run " in text
    assert "open for this card's lookups: apollo" in text


def test_explain_prints_no_contact_values(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    for name in ("SXE_APOLLO_API_KEY", "SXE_DEALMACHINE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    run([EXAMPLES_DIR], load_settings(database_url=database_url, state_dir=tmp_path / "state"))
    with connect(database_url) as conn:
        cards = [row["id"] for row in conn.execute("SELECT id FROM execution.lead_cards WHERE contact_id IS NOT NULL")]
    assert cards

    for card_id in cards:
        for arguments in (["explain", str(card_id)], ["explain", str(card_id), "--json"]):
            assert main(arguments) == 0
            output = capsys.readouterr().out
            assert "Enrichment" in output or '"enrichment"' in output
            assert not contains_pii(output), card_id


@pytest.fixture
def cli_conn(conn: psycopg.Connection, database_url: str, monkeypatch: pytest.MonkeyPatch) -> psycopg.Connection:
    """The test database's connection, with the CLI pointed at the same database."""
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    return conn


def test_explain_text_names_match_rules(cli_conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    bio = "Handmade furniture. Orders: [email] or call [phone]"
    add_profile(cli_conn, "x", "oakworks", bio=bio, bio_has_email=True, bio_has_phone=True)
    build_and_tag(cli_conn)

    assert main(["explain", "x:oakworks"]) == 0
    text = capsys.readouterr().out

    assert "persona business" in text
    assert "    persona.business.email-and-phone  score 0.55" in text
    assert "    persona.business.phone-in-bio  score 0.45" in text
    assert "    persona.business.email-in-bio  score 0.3" in text
    after_rule = text.split("    persona.business.email-and-phone  score")[1]
    email_and_phone = after_rule.split("    persona.business.phone-in-bio  score")[0]
    assert "bio_has_email: True" in email_and_phone
    assert "bio_has_phone: True" in email_and_phone


def test_explain_text_shows_flags_and_signals(cli_conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    flags = ["invalid_count:followers"]
    add_profile(cli_conn, "x", "hugecount", display_name="Huge Count", bio="DM for collabs", quality_flags=flags)
    build_and_tag(cli_conn)

    report = explain_json("x:hugecount", capsys)
    assert main(["explain", "x:hugecount"]) == 0
    text = capsys.readouterr().out

    assert report["profiles"][0]["quality_flags"] == ["invalid_count:followers"]
    assert "x:hugecount  Huge Count  ? followers  flags: invalid_count:followers" in text
    signal_lines = text.split("Signals:\n")[1].split("\n\n")[0].splitlines()
    assert signal_lines
    for line in signal_lines:
        key, value = line.strip().split(": ", 1)
        assert json.loads(value) == report["signals"][key]


def test_explain_instagram_card_held(cli_conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    add_profile(cli_conn, "instagram", "atelier.rue", display_name="Atelier Rue", followers=8800)
    add_profile(cli_conn, "x", "coachrina", display_name="Rina Alvarez", followers=3150)
    build_and_tag(cli_conn)

    instagram_only = explain_json("instagram:atelier.rue", capsys)
    carried = explain_json("x:coachrina", capsys)
    assert main(["explain", "instagram:atelier.rue"]) == 0
    text = capsys.readouterr().out

    assert instagram_only["handoff_held"] == (
        "no profile on a platform the lead-card contract lists (threads, tiktok, x), "
        "so the card waits for a lead-card version that lists instagram"
    )
    assert carried["handoff_held"] is None
    assert f"  not handed off: {instagram_only['handoff_held']}" in text.splitlines()
