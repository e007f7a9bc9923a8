"""Tribes of a pool stored by `refresh_tribes` from real card and profile rows."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from sxe.cards import Readiness, build_person_cards, ensure_pool, transition
from sxe.db import transaction
from sxe.intelligence.tribes import refresh_tribes

POOL = "tribes-test"
BAKERS = {
    "crumb_club": "Weekend loaves and starter tips #sourdough #baking",
    "oven_notes": "Laminated dough nerd #baking #sourdough",
    "rye_and_salt": "Rye experiments #sourdough #baking #rye",
}
GAMERS = {
    "frame_perfect": "Any% runs every night #speedrun #gaming",
    "pixel_route": "Routing old platformers #gaming #speedrun",
    "glitch_hunter": "Hunting skips #speedrun #gaming",
}
LONER = {"yarn_loop": "Cables and colourwork #knitting"}


def add_profile(conn: psycopg.Connection, handle: str, bio: str) -> uuid.UUID:
    row = conn.execute(
        "INSERT INTO social.profiles (platform, identity_key, handle, bio, source_format, source_file, collected_at)"
        " VALUES ('x', %s, %s, %s, 'test', 'test.json', '2026-01-01T00:00:00Z') RETURNING id",
        (f"handle:{handle}", handle, bio),
    ).fetchone()
    return row["id"]


def card_ids_by_handle(conn: psycopg.Connection) -> dict[str, uuid.UUID]:
    rows = conn.execute(
        "SELECT profile.handle, link.card_id FROM execution.card_profiles AS link"
        " JOIN social.profiles AS profile ON profile.id = link.profile_id"
    ).fetchall()
    return {row["handle"]: row["card_id"] for row in rows}


def build_pool(conn: psycopg.Connection) -> dict[str, uuid.UUID]:
    for handle, bio in {**BAKERS, **GAMERS, **LONER}.items():
        add_profile(conn, handle, bio)
    with transaction(conn, role="sxe_worker"):
        ensure_pool(conn, POOL)
        build_person_cards(conn, POOL)
    return card_ids_by_handle(conn)


def refresh(conn: psycopg.Connection) -> None:
    with transaction(conn, role="sxe_worker"):
        refresh_tribes(conn, POOL)


def stored_tribes(conn: psycopg.Connection) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        "SELECT slug, name, top_terms, card_count FROM execution.tribes WHERE pool = %s ORDER BY slug", (POOL,)
    ).fetchall()
    return {row["slug"]: dict(row) for row in rows}


def members(conn: psycopg.Connection) -> dict[uuid.UUID, tuple[str, float, list[str]]]:
    rows = conn.execute("SELECT card_id, slug, score, terms FROM execution.card_tribes WHERE pool = %s", (POOL,))
    return {row["card_id"]: (row["slug"], row["score"], row["terms"]) for row in rows}


def test_shared_hashtags_form_named_tribes(conn: psycopg.Connection) -> None:
    build_pool(conn)

    refresh(conn)

    tribes = stored_tribes(conn)
    assert sorted(tribes) == ["baking-sourdough", "gaming-speedrun"]
    bakers = tribes["baking-sourdough"]
    assert bakers["name"] == "#baking & #sourdough"
    assert bakers["top_terms"] == [{"term": "#baking", "cards": 3}, {"term": "#sourdough", "cards": 3}]
    assert bakers["card_count"] == 3
    assert tribes["gaming-speedrun"]["name"] == "#gaming & #speedrun"
    assert tribes["gaming-speedrun"]["card_count"] == 3


def test_tribe_members_carry_score_and_terms(conn: psycopg.Connection) -> None:
    cards = build_pool(conn)

    refresh(conn)

    joined = members(conn)
    assert joined[cards["crumb_club"]] == ("baking-sourdough", 1.0, ["#baking", "#sourdough"])
    # '#rye' is on one card only, so it is no tribe term and lowers that card's share.
    slug, score, terms = joined[cards["rye_and_salt"]]
    assert slug == "baking-sourdough"
    assert abs(score - 2 / 3) < 1e-4
    assert terms == ["#baking", "#sourdough"]
    assert joined[cards["pixel_route"]][0] == "gaming-speedrun"
    assert cards["yarn_loop"] not in joined


def test_refresh_rerun_is_deterministic(conn: psycopg.Connection) -> None:
    build_pool(conn)
    refresh(conn)
    first_tribes, first_members = stored_tribes(conn), members(conn)

    refresh(conn)

    assert stored_tribes(conn) == first_tribes
    assert members(conn) == first_members


def test_card_without_tribe_terms_leaves_tribe(conn: psycopg.Connection) -> None:
    cards = build_pool(conn)
    refresh(conn)
    assert members(conn)[cards["oven_notes"]][0] == "baking-sourdough"

    conn.execute(
        "UPDATE social.profiles SET bio = 'Laminated dough nerd', updated_at = now(),"
        " changed_xid = pg_current_xact_id() WHERE handle = 'oven_notes'"
    )
    refresh(conn)

    assert cards["oven_notes"] not in members(conn)
    assert stored_tribes(conn)["baking-sourdough"]["card_count"] == 2
    assert stored_tribes(conn)["baking-sourdough"]["top_terms"] == [
        {"term": "#baking", "cards": 2},
        {"term": "#sourdough", "cards": 2},
    ]


def test_merged_card_leaves_tribe(conn: psycopg.Connection) -> None:
    cards = build_pool(conn)
    refresh(conn)

    transition(conn, cards["glitch_hunter"], Readiness.MERGED, "test")
    refresh(conn)

    assert cards["glitch_hunter"] not in members(conn)
    assert stored_tribes(conn)["gaming-speedrun"]["card_count"] == 2
