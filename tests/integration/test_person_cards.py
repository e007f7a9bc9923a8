"""Person-based card building against real rows: merges, splits and concurrent builders."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import psycopg

from sxe.cards import CardBuild, Readiness, build_person_cards, ensure_pool, transition
from sxe.db import connect, transaction

POOL = "people-test"


def add_profile(conn: psycopg.Connection, platform: str, handle: str, **fields: Any) -> uuid.UUID:
    columns = {"platform": platform, "identity_key": f"handle:{handle}", "handle": handle, **fields}
    columns.update(source_format="test", source_file="test.json", collected_at="2026-01-01T00:00:00Z")
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    row = conn.execute(
        f"INSERT INTO social.profiles ({names}) VALUES ({marks}) RETURNING id", list(columns.values())
    ).fetchone()
    return row["id"]


def update_profile(conn: psycopg.Connection, profile_id: uuid.UUID, **fields: Any) -> None:
    assignments = ", ".join(f"{name} = %s" for name in fields)
    conn.execute(
        f"UPDATE social.profiles SET {assignments}, updated_at = now(), changed_xid = pg_current_xact_id()"
        " WHERE id = %s",
        [*fields.values(), profile_id],
    )


def build(conn: psycopg.Connection) -> CardBuild:
    with transaction(conn, role="sxe_worker"):
        ensure_pool(conn, POOL)
        return build_person_cards(conn, POOL)


def card_of(conn: psycopg.Connection, profile_id: uuid.UUID) -> dict[str, Any]:
    return conn.execute(
        "SELECT card.* FROM execution.lead_cards AS card JOIN execution.card_profiles AS link"
        " ON link.card_id = card.id WHERE link.profile_id = %s",
        (profile_id,),
    ).fetchone()


def live_cards(conn: psycopg.Connection) -> int:
    row = conn.execute(
        "SELECT count(*) AS n FROM execution.lead_cards WHERE pool = %s AND readiness <> 'merged'", (POOL,)
    ).fetchone()
    return int(row["n"])


def walk(conn: psycopg.Connection, card_id: uuid.UUID, *states: Readiness) -> None:
    for state in states:
        transition(conn, card_id, state, "test")


def test_new_profile_of_known_person_joins_card(conn: psycopg.Connection) -> None:
    x_id = add_profile(conn, "x", "mara_bakes", website_domain="marabakes.example")
    build(conn)
    first = card_of(conn, x_id)
    walk(conn, first["id"], Readiness.TAGGED, Readiness.QUALIFIED)

    threads_id = add_profile(conn, "threads", "mara_bakes", bio="Sourdough every Sunday marabakes.example")
    build(conn)

    assert card_of(conn, threads_id)["id"] == first["id"]
    assert card_of(conn, x_id)["readiness"] == "tagged"
    assert card_of(conn, x_id)["ruleset_version"] is None
    assert live_cards(conn) == 1


def test_two_cards_merge_into_one(conn: psycopg.Connection) -> None:
    x_id = add_profile(conn, "x", "dj_kofi", display_name="Kofi")
    tiktok_id = add_profile(conn, "tiktok", "kofimixes", display_name="Kofi")
    build(conn)
    x_card, tiktok_card = card_of(conn, x_id)["id"], card_of(conn, tiktok_id)["id"]
    assert x_card != tiktok_card
    walk(conn, x_card, Readiness.TAGGED)
    walk(conn, tiktok_card, Readiness.TAGGED, Readiness.QUALIFIED, Readiness.READY, Readiness.HANDED_OFF)
    contact = conn.execute("INSERT INTO contact.contacts DEFAULT VALUES RETURNING id").fetchone()["id"]
    conn.execute("UPDATE execution.lead_cards SET contact_id = %s WHERE id = %s", (contact, tiktok_card))

    update_profile(conn, x_id, bio="Mixes every Friday. Also on TikTok @kofimixes")
    outcome = build(conn)

    assert outcome.merged == 1
    assert outcome.split == 0
    survivor = card_of(conn, x_id)
    assert card_of(conn, tiktok_id)["id"] == survivor["id"]
    assert survivor["readiness"] == "tagged"
    assert survivor["contact_id"] == contact
    loser_id = ({x_card, tiktok_card} - {survivor["id"]}).pop()
    loser = conn.execute("SELECT * FROM execution.lead_cards WHERE id = %s", (loser_id,)).fetchone()
    assert loser["readiness"] == "merged"
    assert loser["merged_into"] == survivor["id"]
    assert live_cards(conn) == 1


def test_contradicted_link_splits_card(conn: psycopg.Connection) -> None:
    x_id = add_profile(conn, "x", "mara_b", display_name="Mara", website_domain="marabakes.example")
    add_profile(conn, "tiktok", "mara_b", display_name="Mara")
    threads_id = add_profile(conn, "threads", "sourdough.mara", bio="Bread drops at marabakes.example")
    build(conn)
    shared = card_of(conn, x_id)["id"]
    assert card_of(conn, threads_id)["id"] == shared
    walk(conn, shared, Readiness.TAGGED)

    update_profile(conn, threads_id, bio="Now baking at crumbco.example")
    outcome = build(conn)

    assert outcome.split == 1
    assert outcome.created == 1
    assert outcome.merged == 0
    assert card_of(conn, x_id)["id"] == shared
    assert card_of(conn, threads_id)["id"] != shared
    assert card_of(conn, threads_id)["readiness"] == "new"
    assert card_of(conn, x_id)["readiness"] == "tagged"
    assert card_of(conn, x_id)["ruleset_version"] is None
    links = conn.execute("SELECT state, reason FROM execution.identity_links WHERE signal = 'same_website'").fetchall()
    assert {link["state"] for link in links} == {"contradicted"}
    assert all("no longer shows" in link["reason"] for link in links)
    people = conn.execute("SELECT count(*) AS n FROM execution.people").fetchone()["n"]
    assert people == 2


def test_rebuild_without_changes_is_stable(conn: psycopg.Connection) -> None:
    x_id = add_profile(conn, "x", "priya_codes", website_domain="priyacodes.example")
    add_profile(conn, "tiktok", "priya_codes", website_domain="priyacodes.example")
    build(conn)
    before = card_of(conn, x_id)

    build(conn)

    after = card_of(conn, x_id)
    assert after["id"] == before["id"]
    assert after["updated_at"] == before["updated_at"]
    assert live_cards(conn) == 1


def test_queued_card_is_never_merged_away(conn: psycopg.Connection) -> None:
    x_id = add_profile(conn, "x", "lena_paints", display_name="Lena")
    threads_id = add_profile(conn, "threads", "lena.art", display_name="Lena")
    build(conn)
    queued = card_of(conn, threads_id)["id"]
    walk(conn, queued, Readiness.TAGGED, Readiness.QUALIFIED, Readiness.ENRICHMENT_QUEUED)

    update_profile(conn, x_id, bio="IG: lena.art")
    build(conn)

    assert card_of(conn, x_id)["id"] == queued
    assert card_of(conn, x_id)["readiness"] == "enrichment_queued"


def test_concurrent_builders_give_one_card_per_person(database_url: str) -> None:
    with connect(database_url, autocommit=True) as setup:
        for index in range(30):
            add_profile(setup, "x", f"maker_{index:03d}", website_domain=f"maker{index}.example")
            add_profile(setup, "tiktok", f"maker_{index:03d}")
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with connect(database_url, autocommit=True) as own:
                build(own)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with connect(database_url, autocommit=True) as check:
        assert live_cards(check) == 30
        per_card = check.execute(
            "SELECT count(*) AS n FROM execution.card_profiles GROUP BY card_id HAVING count(*) <> 2"
        ).fetchall()
        assert per_card == []
