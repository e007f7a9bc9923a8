"""`sxe explain`, `sxe pool set` and re-tagging under a new ruleset version, against real rows."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from sxe.cards import build_person_cards, ensure_pool
from sxe.cli import main
from sxe.db import transaction
from sxe.intelligence import load_shipped_ruleset
from sxe.intelligence.store import tag_pending_cards

POOL = "default"


def add_profile(conn: psycopg.Connection, platform: str, handle: str, **fields: object) -> None:
    columns = {"platform": platform, "identity_key": f"handle:{handle}", "handle": handle, **fields}
    columns.update(source_format="test", source_file="test.json", collected_at="2026-01-01T00:00:00Z")
    marks = ", ".join(["%s"] * len(columns))
    conn.execute(f"INSERT INTO social.profiles ({', '.join(columns)}) VALUES ({marks})", list(columns.values()))


@pytest.fixture
def tagged_pool(conn: psycopg.Connection, database_url: str, monkeypatch: pytest.MonkeyPatch) -> psycopg.Connection:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    add_profile(
        conn, "x", "coachrina", display_name="Rina Alvarez | Strength Coach", followers=3150,
        bio="Online strength coaching for busy moms. Entrenadora personal en Miami.",
    )  # fmt: skip
    add_profile(conn, "threads", "coachrina", display_name="Rina Alvarez", bio="Strength coach for busy moms")
    with transaction(conn, role="sxe_worker"):
        ensure_pool(conn, POOL)
        build_person_cards(conn, POOL)
        tag_pending_cards(conn, POOL, load_shipped_ruleset("personas-v1"))
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
