"""The lead-card readiness state machine, against real rows."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from sxe.cards import TRANSITIONS, Readiness, ensure_pool, predecessors, transition, transition_pool
from sxe.errors import StateTransitionError

POOL = "readiness-test"


def make_card(conn: psycopg.Connection, readiness: Readiness) -> uuid.UUID:
    ensure_pool(conn, POOL)
    row = conn.execute(
        "INSERT INTO execution.lead_cards (pool, readiness) VALUES (%s, %s) RETURNING id", (POOL, readiness.value)
    ).fetchone()
    return row["id"]


def readiness_of(conn: psycopg.Connection, card_id: uuid.UUID) -> str:
    return conn.execute("SELECT readiness FROM execution.lead_cards WHERE id = %s", (card_id,)).fetchone()["readiness"]


LEGAL = [(source, target) for source, targets in TRANSITIONS.items() for target in sorted(targets)]
ILLEGAL = [
    (Readiness.NEW, Readiness.READY),
    (Readiness.TAGGED, Readiness.HANDED_OFF),
    (Readiness.DISQUALIFIED, Readiness.ENRICHMENT_QUEUED),
    (Readiness.HANDED_OFF, Readiness.TAGGED),
    (Readiness.SUPPRESSED, Readiness.TAGGED),
    (Readiness.ENRICHED, Readiness.ENRICHMENT_QUEUED),
]


@pytest.mark.parametrize(("source", "target"), LEGAL, ids=[f"{s}->{t}" for s, t in LEGAL])
def test_legal_transition_moves_card(conn: psycopg.Connection, source: Readiness, target: Readiness) -> None:
    card_id = make_card(conn, source)

    transition(conn, card_id, target, "test")

    assert readiness_of(conn, card_id) == target.value


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=[f"{s}->{t}" for s, t in ILLEGAL])
def test_illegal_transition_names_both_states(conn: psycopg.Connection, source: Readiness, target: Readiness) -> None:
    card_id = make_card(conn, source)

    with pytest.raises(StateTransitionError) as raised:
        transition(conn, card_id, target)

    assert str(card_id) in str(raised.value)
    assert f"to {target.value} from {source.value}" in str(raised.value)
    assert readiness_of(conn, card_id) == source.value


def test_transition_records_an_event(conn: psycopg.Connection) -> None:
    card_id = make_card(conn, Readiness.NEW)

    transition(conn, card_id, Readiness.TAGGED)

    event = conn.execute(
        "SELECT data FROM ops.events WHERE type = 'card.readiness_changed' AND subject_id = %s", (str(card_id),)
    ).fetchone()
    assert event["data"]["readiness"] == "tagged"
    assert event["data"]["previous"] == "new"


def test_unknown_card_is_reported(conn: psycopg.Connection) -> None:
    missing = uuid.uuid4()

    with pytest.raises(StateTransitionError, match="does not exist"):
        transition(conn, missing, Readiness.TAGGED)


def test_every_state_can_be_suppressed() -> None:
    assert set(predecessors(Readiness.SUPPRESSED)) == set(Readiness) - {Readiness.SUPPRESSED}


def test_pool_transition_moves_only_listed_states(conn: psycopg.Connection) -> None:
    enriched = make_card(conn, Readiness.ENRICHED)
    queued = make_card(conn, Readiness.ENRICHMENT_QUEUED)

    moved = transition_pool(conn, POOL, [Readiness.ENRICHED], Readiness.READY)

    assert moved == 1
    assert readiness_of(conn, enriched) == "ready"
    assert readiness_of(conn, queued) == "enrichment_queued"


def test_pool_transition_rejects_illegal_source(conn: psycopg.Connection) -> None:
    with pytest.raises(ValueError, match="cannot move"):
        transition_pool(conn, POOL, [Readiness.NEW], Readiness.HANDED_OFF)
