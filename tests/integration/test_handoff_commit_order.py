"""The pull feeds deliver every item, also one whose transaction commits after a later one was read.

Each feed pages by the id of the transaction that wrote the item and reads only
transactions that ended, so a consumer's cursor never passes a transaction still running.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import migrations_before
from handoff_support import body_of, seed_card, web_event

from sxe.cards import Readiness, transition
from sxe.cards.building import MERGE_REASON
from sxe.config import load_settings
from sxe.db import connect, sql, transaction
from sxe.db.migrate import migrate
from sxe.events import EventType, emit
from sxe.handoff import api
from sxe.handoff.consumers import create_consumer
from sxe.handoff.cursor import TimePosition, encode_cursor
from sxe.handoff.storage import signing_secret

POOL = "makers"
Feed = Callable[[dict[str, Any]], dict[str, Any]]
FEEDS: dict[str, Feed] = {"cards": api.cards, "erasures": api.erasures, "merges": api.merges}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_SIGNING_KEY", "k" * 40)
    return tmp_path / "state"


def page_response(feed: str, key: str, cursor: str | None = None, limit: int = 100) -> dict[str, Any]:
    query = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
    response = FEEDS[feed](web_event("GET", key=key, query=query))
    assert response["statusCode"] == 200, response["body"]
    return response


def page(feed: str, key: str, cursor: str | None = None, limit: int = 100) -> dict[str, Any]:
    document: dict[str, Any] = body_of(page_response(feed, key, cursor, limit))
    return document


def read_all(feed: str, key: str, cursor: str | None, limit: int = 100) -> tuple[list[str], str | None]:
    """Return the card ids of every page from `cursor` on, and the last next_cursor."""
    card_ids: list[str] = []
    while True:
        document = page(feed, key, cursor, limit)
        card_ids += [item["card_id"] for item in document["items"]]
        cursor = document["next_cursor"]
        if not document["has_more"]:
            return card_ids, cursor


def release(conn: psycopg.Connection[Any], card_id: uuid.UUID) -> None:
    """Move an enriched card to ready, which puts it into the cards feed."""
    with transaction(conn, role="sxe_worker"):
        transition(conn, card_id, Readiness.READY, "matched")


def record_erasure(conn: psycopg.Connection[Any], card_id: uuid.UUID) -> None:
    """Suppress a card and record its tombstone, as an erasure does for each of its cards."""
    with transaction(conn, role="sxe_worker"):
        transition(conn, card_id, Readiness.SUPPRESSED, "erasure")
        emit(conn, EventType.TOMBSTONE, str(card_id), request_id=str(uuid.uuid4()), reason="erasure")


def record_merge(conn: psycopg.Connection[Any], card_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
    """Run the statement and the move that card building runs for each card it retires."""
    with transaction(conn, role="sxe_worker"):
        conn.execute(sql("cards_merge_into"), {"card_id": card_id, "survivor_id": survivor_id})
        transition(conn, card_id, Readiness.MERGED, f"{MERGE_REASON} {survivor_id}")


def seed_feed_cards(conn: psycopg.Connection[Any], feed: str, count: int, start: int = 0) -> list[uuid.UUID]:
    """Seed cards that are not items of `feed` yet: enriched for the cards feed, ready for the others."""
    readiness = "enriched" if feed == "cards" else "ready"
    return [seed_card(conn, POOL, index, readiness=readiness).card_id for index in range(start, start + count)]


def record(feed: str, conn: psycopg.Connection[Any], card_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
    """Make `card_id` an item of `feed` in the transaction open on `conn`, or in its own one.

    A merge also updates its survivor, so two open transactions must merge into different survivors.
    """
    if feed == "cards":
        release(conn, card_id)
    elif feed == "erasures":
        record_erasure(conn, card_id)
    else:
        record_merge(conn, card_id, survivor_id)


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_feed_delivers_item_of_late_commit(environment: Path, database_url: str, feed: str) -> None:
    with connect(database_url, autocommit=True) as conn:
        first, early, late = seed_feed_cards(conn, feed, 3)
        survivors = seed_feed_cards(conn, feed, 3, start=100)
        key = create_consumer(conn, "crm", [POOL], actor="test")[1]
        record(feed, conn, first, survivors[0])
        seen, cursor = read_all(feed, key, None)
        assert str(first) in seen

        with connect(database_url) as earlier:
            earlier.execute("SELECT pg_current_xact_id()")
            record(feed, earlier, early, survivors[1])
            record(feed, conn, late, survivors[2])
            during, kept_cursor = read_all(feed, key, cursor)
            earlier.commit()

        after, _ = read_all(feed, key, kept_cursor)

    assert str(early) in after
    assert str(late) in during + after


def page_around_running_transaction(
    database_url: str, feed: str, *, commit: bool, wait_seconds: float = 0
) -> tuple[uuid.UUID, uuid.UUID, dict[str, Any], dict[str, Any]]:
    """Page `feed` while an earlier transaction that recorded an item is open, and again after it ends.

    A later item commits while the earlier transaction is open. Return the earlier and
    later card ids and the responses during and after, with a commit or a rollback.
    """
    with connect(database_url, autocommit=True) as conn:
        early, late = seed_feed_cards(conn, feed, 2)
        survivors = seed_feed_cards(conn, feed, 2, start=100)
        key = create_consumer(conn, "crm", [POOL], actor="test")[1]

        with connect(database_url) as earlier:
            earlier.execute("SELECT pg_current_xact_id()")
            record(feed, earlier, early, survivors[0])
            record(feed, conn, late, survivors[1])
            time.sleep(wait_seconds)
            during = page_response(feed, key)
            if commit:
                earlier.commit()
            else:
                earlier.rollback()

        after = page_response(feed, key)
    return early, late, during, after


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_feed_holds_back_items_after_running_transaction(environment: Path, database_url: str, feed: str) -> None:
    late, during, after = page_around_running_transaction(database_url, feed, commit=False)[1:]

    assert body_of(during)["items"] == []
    assert body_of(during)["next_cursor"] is None
    assert [item["card_id"] for item in body_of(after)["items"]] == [str(late)]


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_page_says_when_feed_is_held_back(environment: Path, database_url: str, feed: str) -> None:
    early, late, during, after = page_around_running_transaction(database_url, feed, commit=True, wait_seconds=1.1)

    assert body_of(during)["items"] == []
    assert during["headers"][api.HELD_BACK_HEADER] == "true"
    assert 1 <= int(during["headers"][api.HELD_BACK_SECONDS_HEADER]) < 600
    assert api.HELD_BACK_HEADER not in after["headers"]
    assert api.HELD_BACK_SECONDS_HEADER not in after["headers"]
    assert [item["card_id"] for item in body_of(after)["items"]] == [str(early), str(late)]


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_page_without_waiting_items_is_not_held_back(environment: Path, database_url: str, feed: str) -> None:
    with connect(database_url, autocommit=True) as conn:
        (card_id,) = seed_feed_cards(conn, feed, 1)
        survivor = seed_feed_cards(conn, feed, 1, start=100)[0]
        key = create_consumer(conn, "crm", [POOL], actor="test")[1]
        record(feed, conn, card_id, survivor)

        with connect(database_url) as running:
            running.execute("SELECT pg_current_xact_id()")
            during = page_response(feed, key)
            running.rollback()

    assert [item["card_id"] for item in body_of(during)["items"]] == [str(card_id)]
    assert api.HELD_BACK_HEADER not in during["headers"]


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_full_page_has_no_held_back_header(environment: Path, database_url: str, feed: str) -> None:
    with connect(database_url, autocommit=True) as conn:
        card_ids = seed_feed_cards(conn, feed, 4)
        survivor = seed_feed_cards(conn, feed, 1, start=100)[0]
        key = create_consumer(conn, "crm", [POOL], actor="test")[1]
        record(feed, conn, card_ids[0], survivor)
        record(feed, conn, card_ids[1], survivor)

        with connect(database_url) as earlier:
            earlier.execute("SELECT pg_current_xact_id()")
            record(feed, conn, card_ids[2], survivor)
            first = page_response(feed, key, limit=1)
            last = page_response(feed, key, body_of(first)["next_cursor"], limit=1)
            earlier.rollback()

    assert body_of(first)["has_more"] is True
    assert api.HELD_BACK_HEADER not in first["headers"]
    assert body_of(last)["has_more"] is False
    assert last["headers"][api.HELD_BACK_HEADER] == "true"


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_one_transaction_pages_by_card_id(environment: Path, conn: psycopg.Connection[Any], feed: str) -> None:
    card_ids = seed_feed_cards(conn, feed, 13)
    survivor = card_ids.pop()
    key = create_consumer(conn, "crm", [POOL], actor="test")[1]
    with transaction(conn):
        for card_id in card_ids:
            record(feed, conn, card_id, survivor)

    pages = []
    cursor = None
    while True:
        document = page(feed, key, cursor, limit=5)
        pages.append([item["card_id"] for item in document["items"]])
        cursor = document["next_cursor"]
        if not document["has_more"]:
            break

    assert [len(items) for items in pages] == [5, 5, 2]
    assert [card_id for items in pages for card_id in items] == sorted(str(card_id) for card_id in card_ids)


def time_cursor(feed: str, time: datetime, card_id: uuid.UUID) -> str:
    """Return a cursor as the feeds issued it while they paged by (time, card_id)."""
    return encode_cursor(TimePosition(time, card_id), (POOL,), signing_secret(load_settings()), feed=feed)


def item_times(document: dict[str, Any], feed: str) -> dict[str, datetime]:
    column = {"cards": "updated_at", "erasures": "erased_at", "merges": "merged_at"}[feed]
    return {item["card_id"]: datetime.fromisoformat(item[column]) for item in document["items"]}


def record_items(conn: psycopg.Connection[Any], feed: str, count: int) -> tuple[list[uuid.UUID], uuid.UUID, str]:
    """Record `count` items of `feed`, one transaction each; return their card ids, the merge survivor and a key."""
    card_ids = seed_feed_cards(conn, feed, count + 1)
    survivor = card_ids.pop()
    key = create_consumer(conn, "crm", [POOL], actor="test")[1]
    for card_id in card_ids:
        record(feed, conn, card_id, survivor)
    return card_ids, survivor, key


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_time_cursor_resumes_without_skipping(environment: Path, conn: psycopg.Connection[Any], feed: str) -> None:
    card_ids, survivor, key = record_items(conn, feed, 4)
    times = item_times(page(feed, key), feed)
    ordered = sorted(times, key=lambda card_id: (times[card_id], uuid.UUID(card_id)))

    # The old cursor stood on the second item. A later transaction then wrote a new one.
    cursor = time_cursor(feed, times[ordered[1]], uuid.UUID(ordered[1]))
    newer = seed_feed_cards(conn, feed, 1, start=len(card_ids) + 1)[0]
    record(feed, conn, newer, survivor)
    resumed, next_cursor = read_all(feed, key, cursor, limit=2)

    assert resumed == ordered[2:] + [str(newer)]
    assert next_cursor is not None
    assert read_all(feed, key, next_cursor)[0] == []


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_time_cursor_waits_without_newer_items(environment: Path, conn: psycopg.Connection[Any], feed: str) -> None:
    key = record_items(conn, feed, 2)[2]
    cursor = time_cursor(feed, datetime.now().astimezone() + timedelta(hours=1), uuid.UUID(int=0))

    document = page(feed, key, cursor)

    assert document["items"] == []
    assert document["next_cursor"] == cursor


def test_card_keeps_position_when_hidden_column_changes(conn: psycopg.Connection[Any]) -> None:
    card_id = seed_card(conn, POOL, 0).card_id
    position = "SELECT updated_xid::text AS xid FROM execution.lead_cards WHERE id = %s"
    before = conn.execute(position, (card_id,)).fetchone()["xid"]

    conn.execute("UPDATE execution.lead_cards SET signals = '{\"bio\": 1}', language = 'de' WHERE id = %s", (card_id,))
    after_hidden_change = conn.execute(position, (card_id,)).fetchone()["xid"]
    with transaction(conn):
        writer = conn.execute("SELECT pg_current_xact_id()::text AS xid").fetchone()["xid"]
        conn.execute("UPDATE execution.lead_cards SET readiness_reason = 'rematched' WHERE id = %s", (card_id,))
    after_shown_change = conn.execute(position, (card_id,)).fetchone()["xid"]

    assert after_hidden_change == before
    assert after_shown_change == writer


def test_migration_numbers_existing_rows_in_old_order(empty_database_url: str, tmp_path: Path) -> None:
    earlier_migrations = migrations_before("0161", tmp_path / "migrations")
    stamps = ["2026-12-01T10:00:00Z", "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"]

    with connect(empty_database_url, autocommit=True) as conn:
        migrate(conn, earlier_migrations)
        conn.execute("INSERT INTO execution.pools (name, intent) VALUES (%s, '{}')", (POOL,))
        card_ids = [
            conn.execute(
                "INSERT INTO execution.lead_cards (pool, readiness, updated_at) VALUES (%s, 'ready', %s) RETURNING id",
                (POOL, stamp),
            ).fetchone()["id"]
            for stamp in stamps
        ]
        for card_id, stamp in zip(card_ids, stamps, strict=True):
            conn.execute(
                "INSERT INTO ops.events (type, subject_id, created_at) VALUES ('card.erased', %s, %s)",
                (str(card_id), stamp),
            )
        conn.execute("INSERT INTO ops.events (type, subject_id) VALUES ('card.tagged', %s)", (str(card_ids[0]),))
        migrate(conn)
        cards = conn.execute(
            "SELECT id, updated_at, updated_xid::text::numeric AS xid"
            " FROM execution.lead_cards ORDER BY updated_xid, id"
        ).fetchall()
        events = conn.execute(
            "SELECT type, created_at, created_xid::text::numeric AS xid"
            " FROM ops.events ORDER BY created_xid, subject_id"
        ).fetchall()
        now = conn.execute("SELECT pg_current_xact_id()::text::numeric AS xid").fetchone()["xid"]

    by_old_order = sorted(cards, key=lambda row: (row["updated_at"], row["id"]))
    assert [row["id"] for row in cards] == [row["id"] for row in by_old_order]
    assert cards[1]["xid"] == cards[2]["xid"]
    assert len({row["xid"] for row in cards}) == 3
    assert all(row["xid"] < now for row in cards)
    erased = [row for row in events if row["type"] == "card.erased"]
    assert [row["created_at"] for row in erased] == sorted(row["created_at"] for row in erased)
    assert all(row["xid"] < now for row in erased)
    assert [row["xid"] for row in events if row["type"] == "card.tagged"] == [None]
