"""Set-based re-tagging and readiness moves against real rows: chunks, guards and events."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from sxe.cards import Readiness, build_person_cards, ensure_pool, transition, transition_cards
from sxe.db import transaction
from sxe.errors import StateTransitionError
from sxe.intelligence import load_shipped_ruleset
from sxe.intelligence import store as tagging_store
from sxe.intelligence.store import RETAG_REASON, tag_pending_cards

POOL = "retag-test"
BIOS = [
    "Online strength coaching for busy moms. Book a free call",
    "Skincare and makeup tutorials. DM for collabs #skincare",
    "Speedrunning and streaming every night #gaming",
    "Corretora de imóveis no Rio de Janeiro. Apartamentos à venda",
    "Founder building boring software for busy clinics",
]


def add_profiles(conn: psycopg.Connection, count: int) -> None:
    for index in range(count):
        conn.execute(
            "INSERT INTO social.profiles (platform, identity_key, handle, bio, followers,"
            " source_format, source_file, collected_at)"
            " VALUES ('x', %s, %s, %s, %s, 'test', 'test.json', '2026-01-01T00:00:00Z')",
            (f"handle:person_{index}", f"person_{index}", BIOS[index % len(BIOS)], 500 * (index + 1)),
        )


def build_and_tag(conn: psycopg.Connection, version: str) -> int:
    with transaction(conn, role="sxe_worker"):
        ensure_pool(conn, POOL)
        build_person_cards(conn, POOL)
        return tag_pending_cards(conn, POOL, load_shipped_ruleset(version))


def cards(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT id, readiness, readiness_reason, ruleset_version, language FROM execution.lead_cards"
        " WHERE pool = %s ORDER BY id",
        (POOL,),
    ).fetchall()


def labels_of(conn: psycopg.Connection, card_id: uuid.UUID) -> list[tuple[str, str, str]]:
    rows = conn.execute(
        "SELECT kind, value, ruleset_version FROM execution.card_labels WHERE card_id = %s ORDER BY kind, value",
        (card_id,),
    ).fetchall()
    return [(row["kind"], row["value"], row["ruleset_version"]) for row in rows]


def readiness_events(conn: psycopg.Connection, card_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT data FROM ops.events WHERE type = 'card.readiness_changed' AND subject_id = %s ORDER BY id",
        (str(card_id),),
    ).fetchall()
    return [row["data"] for row in rows]


def test_chunked_tagging_labels_every_card(conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tagging_store, "CHUNK_CARDS", 3)
    add_profiles(conn, 8)

    assert build_and_tag(conn, "personas-v1") == 8

    for card in cards(conn):
        assert card["readiness"] == "tagged"
        assert card["ruleset_version"] == "personas-v1"
        assert any(kind == "tier" for kind, _, _ in labels_of(conn, card["id"]))
        assert readiness_events(conn, card["id"]) == [{"readiness": "tagged", "previous": "new", "reason": None}]


def test_chunked_tagging_matches_one_chunk(conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    add_profiles(conn, 7)
    build_and_tag(conn, "personas-v1")
    whole = {card["id"]: labels_of(conn, card["id"]) for card in cards(conn)}

    conn.execute("UPDATE execution.lead_cards SET ruleset_version = NULL")
    monkeypatch.setattr(tagging_store, "CHUNK_CARDS", 2)
    build_and_tag(conn, "personas-v1")

    assert {card["id"]: labels_of(conn, card["id"]) for card in cards(conn)} == whole
    assert any(kind == "persona" for labels in whole.values() for kind, _, _ in labels)


def test_retag_walks_each_state_back(conn: psycopg.Connection) -> None:
    add_profiles(conn, 4)
    build_and_tag(conn, "personas-v1")
    tagged, qualified, ready, queued = [card["id"] for card in cards(conn)]
    transition(conn, qualified, Readiness.QUALIFIED)
    for state in (Readiness.QUALIFIED, Readiness.READY):
        transition(conn, ready, state)
    for state in (Readiness.QUALIFIED, Readiness.ENRICHMENT_QUEUED):
        transition(conn, queued, state)

    assert build_and_tag(conn, "personas-v2") == 4

    states = {card["id"]: card for card in cards(conn)}
    assert states[tagged]["readiness"] == "tagged"
    assert states[qualified]["readiness"] == "tagged"
    assert states[qualified]["readiness_reason"] == RETAG_REASON
    assert states[ready]["readiness"] == "tagged"
    assert [event["readiness"] for event in readiness_events(conn, ready)][-2:] == ["stale", "tagged"]
    assert readiness_events(conn, ready)[-1]["previous"] == "stale"
    assert states[queued]["readiness"] == "enrichment_queued"
    assert all(card["ruleset_version"] == "personas-v2" for card in states.values())
    assert all(version == "personas-v2" for card_id in states for _, _, version in labels_of(conn, card_id))


def test_transition_cards_records_each_move(conn: psycopg.Connection) -> None:
    add_profiles(conn, 3)
    build_and_tag(conn, "personas-v1")
    card_ids = [card["id"] for card in cards(conn)]

    transition_cards(conn, card_ids, Readiness.QUALIFIED, "test")

    for card in cards(conn):
        assert card["readiness"] == "qualified"
        assert card["readiness_reason"] == "test"
        last = readiness_events(conn, card["id"])[-1]
        assert last == {"readiness": "qualified", "previous": "tagged", "reason": "test"}


def test_transition_cards_names_stuck_card(conn: psycopg.Connection) -> None:
    add_profiles(conn, 2)
    build_and_tag(conn, "personas-v1")
    first, second = [card["id"] for card in cards(conn)]
    transition(conn, second, Readiness.QUALIFIED)

    with pytest.raises(StateTransitionError) as failure, conn.transaction():
        transition_cards(conn, [first, second], Readiness.ENRICHMENT_QUEUED, "test")

    message = str(failure.value)
    assert str(first) in message
    assert "cannot move to enrichment_queued from tagged" in message
    assert {card["id"]: card["readiness"] for card in cards(conn)}[second] == "qualified"
    assert readiness_events(conn, second)[-1]["readiness"] == "qualified"


def test_transition_cards_missing_card_fails(conn: psycopg.Connection) -> None:
    missing = uuid.uuid4()

    with pytest.raises(StateTransitionError, match=f"lead card {missing} cannot move to tagged because it does not"):
        transition_cards(conn, [missing], Readiness.TAGGED)
