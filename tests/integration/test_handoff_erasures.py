"""GET handoff/erasures lists the handed-off cards that consumers must delete after an erasure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from handoff_support import body_of, seed_card, web_event

from sxe import contracts
from sxe.compliance.erasure import erase, parse_subject
from sxe.contracts import ERASURES_PAGE_V1
from sxe.handoff import api
from sxe.handoff.consumers import create_consumer
from sxe.handoff.store import LocalObjectStore

POOL = "makers"
KEY = b"s" * 32


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_SIGNING_KEY", "k" * 40)
    return tmp_path / "state"


def erase_handle(conn: psycopg.Connection[Any], state_dir: Path, handle: str) -> None:
    erase(conn, LocalObjectStore(state_dir / "objects"), parse_subject(f"x:{handle}"), key=KEY, actor="test")


def page(key: str, query: str = "") -> dict[str, Any]:
    response = api.erasures(web_event("GET", key=key, query=query))
    assert response["statusCode"] == 200, response["body"]
    document: dict[str, Any] = body_of(response)
    contracts.validate(document, ERASURES_PAGE_V1)
    return document


def handle_of(conn: psycopg.Connection[Any], card_id: Any) -> str:
    row = conn.execute(
        "SELECT profile.handle FROM execution.card_profiles AS link "
        "JOIN social.profiles AS profile ON profile.id = link.profile_id WHERE link.card_id = %s",
        (card_id,),
    ).fetchone()
    return str(row["handle"])


def test_erased_cards_are_listed_in_order(environment: Path, conn: psycopg.Connection[Any]) -> None:
    cards = [seed_card(conn, POOL, index) for index in range(3)]
    key = create_consumer(conn, "crm", [POOL], actor="test")[1]
    handles = [handle_of(conn, card.card_id) for card in cards]

    assert page(key)["items"] == []
    erase_handle(conn, environment, handles[2])
    erase_handle(conn, environment, handles[0])
    listed = page(key)

    assert [item["card_id"] for item in listed["items"]] == [str(cards[2].card_id), str(cards[0].card_id)]
    assert {item["event"] for item in listed["items"]} == {"card.erased"}
    assert listed["has_more"] is False


def test_erasures_page_through_cursor(environment: Path, conn: psycopg.Connection[Any]) -> None:
    cards = [seed_card(conn, POOL, index) for index in range(3)]
    key = create_consumer(conn, "crm", [POOL], actor="test")[1]
    for card in cards:
        erase_handle(conn, environment, handle_of(conn, card.card_id))

    first = page(key, "limit=2")
    second = page(key, f"limit=2&cursor={first['next_cursor']}")
    third = page(key, f"limit=2&cursor={second['next_cursor']}")

    seen = [item["card_id"] for item in first["items"] + second["items"]]
    assert first["has_more"] is True
    assert sorted(seen) == sorted(str(card.card_id) for card in cards)
    assert third["items"] == []
    assert third["next_cursor"] == second["next_cursor"]


def test_other_pools_see_no_erasure(environment: Path, conn: psycopg.Connection[Any]) -> None:
    card = seed_card(conn, POOL, 0)
    seed_card(conn, "elsewhere", 1)
    key = create_consumer(conn, "other", ["elsewhere"], actor="test")[1]

    erase_handle(conn, environment, handle_of(conn, card.card_id))

    assert page(key)["items"] == []


def test_cards_cursor_is_rejected_by_erasures(environment: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    seed_card(conn, POOL, 1)
    key = create_consumer(conn, "crm", [POOL], actor="test")[1]
    cards_page = body_of(api.cards(web_event("GET", key=key, query="limit=1")))

    response = api.erasures(web_event("GET", key=key, query=f"cursor={cards_page['next_cursor']}"))

    assert response["statusCode"] == 400
    assert body_of(response)["errors"][0]["parameter"] == "cursor"
    assert "belongs to the cards feed" in body_of(response)["errors"][0]["detail"]
