"""GET handoff/merges lists the merged cards of a consumer's pools, each with the card it was merged into."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from handoff_support import body_of, seed_card, web_event

from sxe import contracts
from sxe.cards import Readiness, build_person_cards, ensure_pool, transition
from sxe.cards.building import MERGE_REASON
from sxe.compliance.erasure import erase, parse_subject
from sxe.contracts import MERGES_PAGE_V1
from sxe.db import sql, transaction
from sxe.errors import ContractViolation
from sxe.handoff import api
from sxe.handoff.consumers import create_consumer
from sxe.handoff.store import LocalObjectStore

POOL = "makers"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_SIGNING_KEY", "k" * 40)
    return tmp_path / "state"


def add_profile(conn: psycopg.Connection[Any], platform: str, handle: str, display_name: str) -> uuid.UUID:
    row = conn.execute(
        """INSERT INTO social.profiles (platform, identity_key, handle, display_name,
                                        source_format, source_file, collected_at)
           VALUES (%s, %s, %s, %s, 'test', 'test.json', '2026-12-01T00:00:00Z') RETURNING id""",
        (platform, f"handle:{handle}", handle, display_name),
    ).fetchone()
    return uuid.UUID(str(row["id"]))


def build(conn: psycopg.Connection[Any], pool: str) -> int:
    with transaction(conn, role="sxe_worker"):
        ensure_pool(conn, pool)
        return build_person_cards(conn, pool).merged


def card_of(conn: psycopg.Connection[Any], profile_id: uuid.UUID) -> uuid.UUID:
    row = conn.execute("SELECT card_id FROM execution.card_profiles WHERE profile_id = %s", (profile_id,)).fetchone()
    return uuid.UUID(str(row["card_id"]))


def add_person_on_two_cards(conn: psycopg.Connection[Any], pool: str, name: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Add one person's X and TikTok profiles, which the first build puts on two cards, and return both."""
    x_profile = add_profile(conn, "x", f"{name}_on_x", name.title())
    tiktok_profile = add_profile(conn, "tiktok", f"{name}_on_tiktok", name.title())
    build(conn, pool)
    assert card_of(conn, x_profile) != card_of(conn, tiktok_profile)
    return x_profile, tiktok_profile


def link(conn: psycopg.Connection[Any], x_profile: uuid.UUID, tiktok_handle: str) -> None:
    """Let the X bio name the TikTok account, which makes identity resolution join the two profiles."""
    conn.execute(
        "UPDATE social.profiles SET bio = %s, updated_at = now(), changed_xid = pg_current_xact_id() WHERE id = %s",
        (f"Clips every day. Also on TikTok @{tiktok_handle}", x_profile),
    )


def merge_by_build(conn: psycopg.Connection[Any], pool: str, name: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Merge one person's two cards through card building and return the merged card and the kept one."""
    x_profile, tiktok_profile = add_person_on_two_cards(conn, pool, name)
    before = {card_of(conn, x_profile), card_of(conn, tiktok_profile)}

    link(conn, x_profile, f"{name}_on_tiktok")
    assert build(conn, pool) == 1

    survivor = card_of(conn, x_profile)
    return (before - {survivor}).pop(), survivor


def merge_as_building_does(conn: psycopg.Connection[Any], card_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
    """Run the statement and the move that card building runs for each card it retires."""
    with transaction(conn, role="sxe_worker"):
        conn.execute(sql("cards_merge_into"), {"card_id": card_id, "survivor_id": survivor_id})
        transition(conn, card_id, Readiness.MERGED, f"{MERGE_REASON} {survivor_id}")


def page(key: str, query: str = "") -> dict[str, Any]:
    response = api.merges(web_event("GET", key=key, query=query))
    assert response["statusCode"] == 200, response["body"]
    document: dict[str, Any] = body_of(response)
    contracts.validate(document, MERGES_PAGE_V1)
    return document


def pairs(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(item["card_id"], item["merged_into"]) for item in document["items"]]


def test_build_merges_are_listed_in_order(environment: Path, conn: psycopg.Connection[Any]) -> None:
    ensure_pool(conn, POOL)
    key = create_consumer(conn, "crm", [POOL], actor="test")[1]
    assert page(key)["items"] == []

    first = merge_by_build(conn, POOL, "kofi")
    second = merge_by_build(conn, POOL, "mara")
    listed = page(key)

    assert pairs(listed) == [(str(first[0]), str(first[1])), (str(second[0]), str(second[1]))]
    assert {item["pool"] for item in listed["items"]} == {POOL}
    assert {item["event"] for item in listed["items"]} == {"card.merged"}
    merged_at = [datetime.fromisoformat(item["merged_at"]) for item in listed["items"]]
    assert merged_at[0] < merged_at[1]
    assert listed["has_more"] is False


def test_one_build_merges_sort_by_card_id(environment: Path, conn: psycopg.Connection[Any]) -> None:
    ensure_pool(conn, POOL)
    key = create_consumer(conn, "crm", [POOL], actor="test")[1]
    people = {name: add_person_on_two_cards(conn, POOL, name) for name in ("kofi", "mara", "priya")}
    cards_before = {name: {card_of(conn, profile) for profile in profiles} for name, profiles in people.items()}

    for name, (x_profile, _) in people.items():
        link(conn, x_profile, f"{name}_on_tiktok")
    assert build(conn, POOL) == 3
    listed = page(key)

    merged = [cards - {card_of(conn, people[name][0])} for name, cards in cards_before.items()]
    expected = sorted(str(card_id) for cards in merged for card_id in cards)
    assert [item["card_id"] for item in listed["items"]] == expected
    assert len({item["merged_at"] for item in listed["items"]}) == 1


def test_merges_page_through_cursor(environment: Path, conn: psycopg.Connection[Any]) -> None:
    ensure_pool(conn, POOL)
    key = create_consumer(conn, "crm", [POOL], actor="test")[1]
    merged = [merge_by_build(conn, POOL, name)[0] for name in ("kofi", "mara", "priya")]

    first = page(key, "limit=2")
    second = page(key, f"limit=2&cursor={first['next_cursor']}")
    third = page(key, f"limit=2&cursor={second['next_cursor']}")

    assert first["has_more"] is True
    assert [item["card_id"] for item in first["items"] + second["items"]] == [str(card) for card in merged]
    assert second["has_more"] is False
    assert third["items"] == []
    assert third["next_cursor"] == second["next_cursor"]


def test_other_pools_see_no_merge(environment: Path, conn: psycopg.Connection[Any]) -> None:
    ensure_pool(conn, POOL)
    merge_by_build(conn, "elsewhere", "kofi")
    ours = merge_by_build(conn, POOL, "mara")
    key = create_consumer(conn, "crm", [POOL], actor="test")[1]
    other_key = create_consumer(conn, "other", ["elsewhere"], actor="test")[1]

    assert pairs(page(key)) == [(str(ours[0]), str(ours[1]))]
    assert [item["pool"] for item in page(other_key)["items"]] == ["elsewhere"]


def test_pool_parameter_narrows_merges(environment: Path, conn: psycopg.Connection[Any]) -> None:
    ensure_pool(conn, POOL)
    merge_by_build(conn, "elsewhere", "kofi")
    ours = merge_by_build(conn, POOL, "mara")
    key = create_consumer(conn, "crm", [POOL, "elsewhere"], actor="test")[1]

    assert len(page(key)["items"]) == 2
    assert pairs(page(key, f"pool={POOL}")) == [(str(ours[0]), str(ours[1]))]


def test_later_merge_of_survivor_is_later_item(environment: Path, conn: psycopg.Connection[Any]) -> None:
    first, second, third = (seed_card(conn, POOL, index).card_id for index in range(3))
    key = create_consumer(conn, "crm", [POOL], actor="test")[1]

    merge_as_building_does(conn, first, second)
    merge_as_building_does(conn, second, third)

    assert pairs(page(key)) == [(str(first), str(second)), (str(second), str(third))]


def test_cards_cursor_is_rejected_by_merges(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    seed_card(conn, POOL, 1)
    key = create_consumer(conn, "crm", [POOL], actor="test")[1]
    cards_page = body_of(api.cards(web_event("GET", key=key, query="limit=1")))

    response = api.merges(web_event("GET", key=key, query=f"cursor={cards_page['next_cursor']}"))

    assert response["statusCode"] == 400
    assert body_of(response)["errors"][0]["parameter"] == "cursor"
    assert "belongs to the cards feed" in body_of(response)["errors"][0]["detail"]


def test_erasures_cursor_is_rejected_by_merges(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    key = create_consumer(conn, "crm", [POOL], actor="test")[1]
    objects = LocalObjectStore(environment / "objects")
    erase(conn, objects, parse_subject("x:maker_0"), key=b"s" * 32, actor="test")
    erasures_page = body_of(api.erasures(web_event("GET", key=key)))

    response = api.merges(web_event("GET", key=key, query=f"cursor={erasures_page['next_cursor']}"))

    assert response["statusCode"] == 400
    assert body_of(response)["errors"][0]["parameter"] == "cursor"
    assert "belongs to the erasures feed" in body_of(response)["errors"][0]["detail"]


def test_merges_cursor_is_rejected_by_cards(environment: Path, conn: psycopg.Connection[Any]) -> None:
    merged, survivor = (seed_card(conn, POOL, index).card_id for index in range(2))
    key = create_consumer(conn, "crm", [POOL], actor="test")[1]
    merge_as_building_does(conn, merged, survivor)
    merges_cursor = page(key)["next_cursor"]

    response = api.cards(web_event("GET", key=key, query=f"cursor={merges_cursor}"))

    assert response["statusCode"] == 400
    assert "belongs to the merges feed" in body_of(response)["errors"][0]["detail"]


def test_contract_requires_merged_into(environment: Path, conn: psycopg.Connection[Any]) -> None:
    merged, survivor = (seed_card(conn, POOL, index).card_id for index in range(2))
    key = create_consumer(conn, "crm", [POOL], actor="test")[1]
    merge_as_building_does(conn, merged, survivor)
    document = page(key)

    del document["items"][0]["merged_into"]

    with pytest.raises(ContractViolation) as caught:
        contracts.validate(document, MERGES_PAGE_V1)
    assert caught.value.rule == "required"
