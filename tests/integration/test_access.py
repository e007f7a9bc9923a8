"""Access requests after a real pipeline run: the report lists every profile, card, contact, bundle and audit row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sxe.cli import main as cli_main
from sxe.compliance.access import access_report, render
from sxe.compliance.erasure import erase, parse_subject
from sxe.compliance.suppression import email_identifier, suppression_key
from sxe.config import Settings, load_settings
from sxe.handoff.store import LocalObjectStore
from sxe.pipeline import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

PERSON_QUERY = """
SELECT card.id AS card_id, card.contact_id, profile.platform, profile.handle, profile.id AS profile_id,
       (SELECT value FROM contact.contact_points WHERE contact_id = card.contact_id AND kind = 'email' LIMIT 1)
           AS email
  FROM execution.lead_cards AS card
  JOIN execution.card_profiles AS link ON link.card_id = card.id
  JOIN social.profiles AS profile ON profile.id = link.profile_id
 WHERE card.readiness = 'handed_off' AND card.contact_id IS NOT NULL AND profile.handle IS NOT NULL
   AND EXISTS (SELECT 1 FROM contact.contact_points WHERE contact_id = card.contact_id AND kind = 'email')
 ORDER BY card.id
 LIMIT 1
"""


@pytest.fixture
def settings(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_SUPPRESSION_KEY", "k" * 32)
    return load_settings()


@pytest.fixture
def target(settings: Settings, conn: psycopg.Connection[Any]) -> dict[str, Any]:
    run([EXAMPLES], settings)
    row = conn.execute(PERSON_QUERY).fetchone()
    assert row is not None, "the examples should yield a handed-off card with an email"
    return dict(row)


def test_report_by_handle_lists_everything(
    settings: Settings, target: dict[str, Any], conn: psycopg.Connection[Any]
) -> None:
    identifier = parse_subject(f"{target['platform']}:{target['handle']}")

    report = access_report(conn, identifier, key=suppression_key(settings))

    card_ids = {card["id"] for card in report.cards}
    audited = conn.execute(
        "SELECT id FROM ops.audit_log WHERE subject = %s ORDER BY seq", (f"lead_card:{target['card_id']}",)
    ).fetchall()
    assert str(target["profile_id"]) in {profile["id"] for profile in report.profiles}
    assert str(target["card_id"]) in card_ids
    assert all(card["labels"] for card in report.cards if card["id"] == str(target["card_id"]))
    assert target["email"] in {point["value"] for point in report.contact_points}
    assert all(point["source"] for point in report.contact_points)
    assert report.bundles and all(str(target["card_id"]) in bundle["card_ids"] for bundle in report.bundles)
    assert {row["id"] for row in audited} <= {row["id"] for row in report.audit_rows}
    assert report.suppressed is False


def test_report_by_email_finds_same_card(
    settings: Settings, target: dict[str, Any], conn: psycopg.Connection[Any]
) -> None:
    report = access_report(conn, email_identifier(target["email"].upper()), key=suppression_key(settings))

    assert str(target["card_id"]) in {card["id"] for card in report.cards}
    assert str(target["profile_id"]) in {profile["id"] for profile in report.profiles}


def test_report_after_erasure_is_empty(
    settings: Settings, target: dict[str, Any], conn: psycopg.Connection[Any]
) -> None:
    identifier = parse_subject(f"{target['platform']}:{target['handle']}")
    key = suppression_key(settings)
    erase(conn, LocalObjectStore(settings.objects_dir), identifier, key=key, actor="sxe_worker:test")

    report = access_report(conn, identifier, key=key)

    assert report.suppressed is True
    assert report.profiles == report.contact_points == []
    assert "holds no profile, card or contact data" in render(report)


def test_cli_access_prints_json(target: dict[str, Any], settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    status = cli_main(["access", f"{target['platform']}:{target['handle']}", "--json"])

    printed = json.loads(capsys.readouterr().out)
    assert status == 0
    assert printed["requested"] == {"kind": "handle"}
    assert str(target["card_id"]) in {card["id"] for card in printed["cards"]}
    assert target["email"] in {point["value"] for point in printed["contact_points"]}


def test_cli_access_prints_text(target: dict[str, Any], settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    status = cli_main(["access", "--email", target["email"]])

    text = capsys.readouterr().out
    assert status == 0
    assert f"{target['platform']}:{target['handle']}" in text
    assert target["email"] in text
    assert "Bundles that included them (1)" in text


def test_cli_access_needs_one_identifier(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli_main(["access"])

    assert status == 2
    assert "exactly one person" in capsys.readouterr().err


def test_report_by_bio_email_lists_sighting(settings: Settings, conn: psycopg.Connection[Any]) -> None:
    run([EXAMPLES], settings)

    report = access_report(conn, email_identifier("kenji@example.com"), key=suppression_key(settings))

    assert report.holds_data
    assert [profile["handle"] for profile in report.profiles] == ["kenji_ceramics"]
    assert [(row["kind"], row["value"], row["platform"]) for row in report.bio_sightings] == [
        ("email", "kenji@example.com", "x")
    ]
    assert "kenji@example.com  on x:" in render(report)
