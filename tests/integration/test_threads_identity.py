"""Threads profile_lookup records (handle only) and /me records (id and handle) of one person make one profile."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sxe.ingest.store import FileResult, ingest_file

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PROFILES_QUERY = """
SELECT profile.identity_key, profile.platform_user_id, profile.handle, profile.followers, profile.display_name,
       (SELECT count(*) FROM social.profile_observations AS seen WHERE seen.profile_id = profile.id) AS observations
  FROM social.profiles AS profile
 WHERE profile.platform = 'threads'
 ORDER BY profile.identity_key
"""


def lookup(username: str, followers: int = 45210, name: str = "Nadia Okafor") -> dict[str, Any]:
    """A `GET /profile_lookup?username=` response: no id."""
    return {
        "username": username,
        "name": name,
        "profile_picture_url": "https://scontent.cdninstagram.example/n.jpg",
        "biography": "Ceramics studio in Lisbon",
        "is_verified": False,
        "follower_count": followers,
        "likes_count": 1200,
        "quotes_count": 3,
        "replies_count": 40,
        "reposts_count": 9,
        "views_count": 70000,
    }


def me(user_id: str, username: str, name: str = "Nadia Okafor") -> dict[str, Any]:
    """A `GET /me` response: id and username, no counts."""
    return {
        "id": user_id,
        "username": username,
        "name": name,
        "threads_profile_picture_url": "https://scontent.cdninstagram.example/n.jpg",
        "threads_biography": "Ceramics studio in Lisbon",
        "is_verified": False,
    }


def ingest(conn: psycopg.Connection[Any], path: Path, values: list[dict[str, Any]], day: int) -> FileResult:
    path.write_text("".join(json.dumps(value) + "\n" for value in values), encoding="utf-8")
    return ingest_file(
        conn, path, run_id=uuid.uuid4(), format_name="threads-api", collected_at=T0 + timedelta(days=day)
    )


def profiles(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(PROFILES_QUERY)]


def test_lookup_then_me_attaches_id(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    ingest(conn, tmp_path / "lookup.jsonl", [lookup("nadia.clay")], day=0)
    ingest(conn, tmp_path / "me.jsonl", [me("17841400000000001", "nadia.clay")], day=1)

    stored = profiles(conn)

    assert len(stored) == 1
    assert stored[0]["identity_key"] == "id:17841400000000001"
    assert stored[0]["platform_user_id"] == "17841400000000001"
    assert stored[0]["followers"] == 45210  # kept from the lookup; /me has no counts
    assert stored[0]["observations"] == 2


def test_me_then_lookup_joins_id_profile(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    ingest(conn, tmp_path / "me.jsonl", [me("17841400000000001", "nadia.clay")], day=0)
    ingest(conn, tmp_path / "lookup.jsonl", [lookup("Nadia.Clay", followers=46000)], day=1)

    stored = profiles(conn)

    assert len(stored) == 1
    assert stored[0]["identity_key"] == "id:17841400000000001"
    assert stored[0]["followers"] == 46000
    assert stored[0]["observations"] == 2


@pytest.mark.parametrize("order", ["lookup_first", "me_first"])
def test_both_records_in_one_file(conn: psycopg.Connection[Any], tmp_path: Path, order: str) -> None:
    records = [lookup("nadia.clay"), me("17841400000000001", "nadia.clay")]
    if order == "me_first":
        records.reverse()

    result = ingest(conn, tmp_path / "both.jsonl", records, day=0)

    stored = profiles(conn)
    assert result.accepted == 2
    assert [row["identity_key"] for row in stored] == ["id:17841400000000001"]
    assert stored[0]["followers"] == 45210
    assert stored[0]["observations"] == 2


@pytest.mark.parametrize("order", ["lookup_first", "me_first"])
def test_rerun_stores_nothing_more(conn: psycopg.Connection[Any], tmp_path: Path, order: str) -> None:
    files = [("lookup.jsonl", [lookup("nadia.clay")]), ("me.jsonl", [me("17841400000000001", "nadia.clay")])]
    if order == "me_first":
        files.reverse()
    for day, (name, values) in enumerate(files):
        ingest(conn, tmp_path / name, values, day=day)
    first = profiles(conn)

    again = [ingest(conn, tmp_path / name, values, day=2 + day) for day, (name, values) in enumerate(files)]

    assert [result.accepted for result in again] == [0, 0]
    assert [result.duplicates for result in again] == [1, 1]
    assert profiles(conn) == first
    assert len(first) == 1


def test_different_people_stay_apart(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    ingest(conn, tmp_path / "lookup.jsonl", [lookup("nadia.clay")], day=0)
    ingest(conn, tmp_path / "me.jsonl", [me("17841400000000002", "other.person", name="Nadia Okafor")], day=1)
    ingest(conn, tmp_path / "lookup2.jsonl", [lookup("third.person", name="Nadia Okafor")], day=2)

    keys = [row["identity_key"] for row in profiles(conn)]

    assert keys == ["handle:nadia.clay", "handle:third.person", "id:17841400000000002"]


def test_id_already_stored_keeps_handle_profile(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    # The account renamed itself to a handle that a lookup had stored on its own before.
    ingest(conn, tmp_path / "lookup.jsonl", [lookup("nadia.clay")], day=0)
    ingest(conn, tmp_path / "old.jsonl", [me("17841400000000001", "nadia.ceramics")], day=1)
    ingest(conn, tmp_path / "new.jsonl", [me("17841400000000001", "nadia.clay")], day=2)

    keys = [row["identity_key"] for row in profiles(conn)]

    assert keys == ["handle:nadia.clay", "id:17841400000000001"]


def test_two_ids_claiming_handle_attach_neither(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    ingest(conn, tmp_path / "lookup.jsonl", [lookup("nadia.clay")], day=0)
    ingest(
        conn,
        tmp_path / "both.jsonl",
        [me("17841400000000001", "nadia.clay"), me("17841400000000002", "nadia.clay")],
        day=1,
    )

    keys = [row["identity_key"] for row in profiles(conn)]

    assert keys == ["handle:nadia.clay", "id:17841400000000001", "id:17841400000000002"]


def test_attached_id_moves_bio_sightings(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    with_email = {**lookup("nadia.clay"), "biography": "Ceramics studio, orders: studio@nadiaclay.example"}
    ingest(conn, tmp_path / "lookup.jsonl", [with_email], day=0)
    ingest(conn, tmp_path / "me.jsonl", [me("17841400000000001", "nadia.clay")], day=1)

    keys = [row["identity_key"] for row in conn.execute("SELECT identity_key FROM contact.bio_sightings")]

    assert keys == ["id:17841400000000001"]
