"""Re-tagging after profile changes, also when the change commits late or the card moves first.

A card must be re-tagged exactly when one of its profiles changed in a way no
tagging pass of the card has seen. These tests run the real ingest, card build,
tagging and readiness statements against PostgreSQL, with a second connection
where a transaction has to stay open across another one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from conftest import migrations_before
from psycopg.types.json import Jsonb

from sxe.cards import DEFAULT_INTENT, Readiness, build_person_cards, ensure_pool, transition
from sxe.db import connect, sql, transaction
from sxe.db.migrate import migrate
from sxe.ingest import store as ingest_store
from sxe.ingest.store import FileResult, ingest_file
from sxe.intelligence import load_default_ruleset
from sxe.intelligence import store as tagging_store
from sxe.intelligence.store import tag_pending_cards

POOL = "retag-changes"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GAMER_BIO = "Speedrunning and streaming every night #gaming"
COACH_BIO = "Online strength coaching for busy moms. Book a free call"


def ingest_bio(conn: psycopg.Connection[Any], folder: Path, bio: str, collected_at: datetime) -> FileResult:
    """Ingest one X profile (user id 42) with `bio` through the real ingest path."""
    user = {
        "id": "42",
        "username": "mara_lifts",
        "name": "Mara",
        "description": bio,
        "public_metrics": {"followers_count": 1200, "following_count": 10, "tweet_count": 5, "like_count": 7},
    }
    path = folder / f"{uuid.uuid4().hex}.jsonl"
    path.write_text(json.dumps(user) + "\n", encoding="utf-8")
    return ingest_file(conn, path, run_id=uuid.uuid4(), collected_at=collected_at)


def build(conn: psycopg.Connection[Any]) -> None:
    with transaction(conn, role="sxe_worker"):
        ensure_pool(conn, POOL)
        build_person_cards(conn, POOL)


def tag(conn: psycopg.Connection[Any]) -> int:
    """Run one tagging pass of the pool in its own transaction; return how many cards it tagged."""
    with transaction(conn, role="sxe_worker"):
        return tag_pending_cards(conn, POOL, load_default_ruleset())


def only_card(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    rows = conn.execute("SELECT id, readiness FROM execution.lead_cards WHERE pool = %s", (POOL,)).fetchall()
    assert len(rows) == 1, rows
    return dict(rows[0])


def personas(conn: psycopg.Connection[Any], card_id: uuid.UUID) -> set[str]:
    rows = conn.execute(
        "SELECT value FROM execution.card_labels WHERE card_id = %s AND kind = 'persona'", (card_id,)
    ).fetchall()
    return {row["value"] for row in rows}


def run_first(monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str, action: Callable[[], None]) -> None:
    """Make `module.name` run `action` first, while its caller's transaction is open."""
    original = getattr(module, name)

    def action_then_original(*args: Any) -> Any:
        action()
        return original(*args)

    monkeypatch.setattr(module, name, action_then_original)


@pytest.fixture
def two_connections(
    database_url: str, tmp_path: Path
) -> Iterator[tuple[psycopg.Connection[Any], psycopg.Connection[Any]]]:
    """Yield an ingest connection and a tagging connection, after one gamer profile got its untagged card."""
    with connect(database_url, autocommit=True) as ingester, connect(database_url, autocommit=True) as tagger:
        ingest_bio(ingester, tmp_path, GAMER_BIO, T0)
        build(ingester)
        yield ingester, tagger


def test_change_committed_after_pass_is_retagged(
    two_connections: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingester, tagger = two_connections

    # The tagging pass runs while the ingest transaction that changes the bio
    # is still open, so it labels the card from the old bio.
    passes_during_ingest: list[int] = []
    run_first(monkeypatch, ingest_store, "_store_raw_and_observe", lambda: passes_during_ingest.append(tag(tagger)))
    changed = ingest_bio(ingester, tmp_path, COACH_BIO, T0 + timedelta(days=1))
    monkeypatch.undo()

    card = only_card(tagger)
    assert changed.profiles_changed == 1
    assert passes_during_ingest == [1]
    assert "gaming" in personas(tagger, card["id"])

    assert tag(tagger) == 1
    assert "coach" in personas(tagger, card["id"])
    assert "gaming" not in personas(tagger, card["id"])
    assert tag(tagger) == 0


def test_change_committed_during_pass_is_retagged(
    two_connections: tuple[psycopg.Connection[Any], psycopg.Connection[Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingester, tagger = two_connections

    # The change commits after the pass read the profiles but before it marks
    # the card tagged, so the mark must keep the snapshot of the read.
    changes_during_pass: list[int] = []

    def ingest_change() -> None:
        changed = ingest_bio(ingester, tmp_path, COACH_BIO, T0 + timedelta(days=1))
        changes_during_pass.append(changed.profiles_changed)

    run_first(monkeypatch, tagging_store, "_load_observations", ingest_change)
    assert tag(tagger) == 1
    monkeypatch.undo()

    card = only_card(tagger)
    assert changes_during_pass == [1]
    assert "gaming" in personas(tagger, card["id"])

    assert tag(tagger) == 1
    assert "coach" in personas(tagger, card["id"])
    assert tag(tagger) == 0


def test_change_before_readiness_move_is_retagged(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    ingest_bio(conn, tmp_path, GAMER_BIO, T0)
    build(conn)
    assert tag(conn) == 1
    card = only_card(conn)

    # An import stores the change without tagging, and the gate's sweep moves the
    # card before the next tagging pass: the move stamps the card after the change.
    ingest_bio(conn, tmp_path, COACH_BIO, T0 + timedelta(days=1))
    with transaction(conn, role="sxe_worker"):
        transition(conn, card["id"], Readiness.QUALIFIED, "test gate")

    assert tag(conn) == 1
    assert only_card(conn)["readiness"] == "tagged"
    assert "coach" in personas(conn, card["id"])
    assert tag(conn) == 0


def test_unchanged_profile_is_not_retagged(
    conn: psycopg.Connection[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_bio(conn, tmp_path, GAMER_BIO, T0)
    build(conn)
    assert tag(conn) == 1
    card = only_card(conn)

    redelivered = ingest_bio(conn, tmp_path, GAMER_BIO, T0 + timedelta(days=1))
    with transaction(conn, role="sxe_worker"):
        transition(conn, card["id"], Readiness.QUALIFIED, "test gate")
    build(conn)

    assert redelivered.profiles_changed == 0
    assert tag(conn) == 0
    assert only_card(conn)["readiness"] == "qualified"

    # An ingest that changes the bio and then rolls back changes nothing either.
    def store_then_fail(*args: Any) -> None:
        raise RuntimeError("roll back the chunk")

    monkeypatch.setattr(ingest_store, "_store_raw_and_observe", store_then_fail)
    with pytest.raises(RuntimeError):
        ingest_bio(conn, tmp_path, COACH_BIO, T0 + timedelta(days=2))
    monkeypatch.undo()

    assert tag(conn) == 0
    assert "gaming" in personas(conn, card["id"])


def add_profile(conn: psycopg.Connection[Any], platform: str, handle: str, bio: str) -> None:
    conn.execute(
        "INSERT INTO social.profiles (platform, identity_key, handle, bio, followers, website_domain,"
        " source_format, source_file, collected_at)"
        " VALUES (%s, %s, %s, %s, 900, 'maralifts.com', 'test', 'test.json', %s)",
        (platform, f"handle:{handle}", handle, bio, T0),
    )


def test_profile_removed_by_retention_is_retagged(conn: psycopg.Connection[Any]) -> None:
    add_profile(conn, "x", "mara_games", GAMER_BIO)
    add_profile(conn, "tiktok", "mara_coach", COACH_BIO)
    build(conn)
    assert tag(conn) == 1
    card = only_card(conn)
    assert {"gaming", "coach"} <= personas(conn, card["id"])

    conn.execute("UPDATE social.profiles SET updated_at = %s WHERE platform = 'x'", (T0 - timedelta(days=400),))
    with transaction(conn, role="sxe_worker"):
        removed = conn.execute(sql("retention_profiles"), {"cutoff": T0 - timedelta(days=200), "batch": 10})
        assert removed.fetchone() == {"removed": 1}

    assert tag(conn) == 1
    assert "gaming" not in personas(conn, card["id"])
    assert "coach" in personas(conn, card["id"])
    assert tag(conn) == 0


def test_migration_keeps_pending_retags(empty_database_url: str, tmp_path: Path) -> None:
    earlier_migrations = migrations_before("0162", tmp_path / "migrations")
    version = load_default_ruleset().version

    with connect(empty_database_url, autocommit=True) as conn:
        migrate(conn, earlier_migrations)
        add_profile(conn, "x", "mara_games", GAMER_BIO)
        add_profile(conn, "threads", "jo_coach", COACH_BIO)
        # One tagged card per profile, as the code of that schema would leave them. The
        # build code of today reads columns that later migrations add, so it cannot run here.
        conn.execute("INSERT INTO execution.pools (name, intent) VALUES (%s, %s)", (POOL, Jsonb(DEFAULT_INTENT)))
        for profile in conn.execute("SELECT id FROM social.profiles").fetchall():
            card = conn.execute(
                "INSERT INTO execution.lead_cards (pool, readiness) VALUES (%s, 'new') RETURNING id", (POOL,)
            ).fetchone()
            conn.execute("INSERT INTO execution.card_profiles VALUES (%s, %s)", (card["id"], profile["id"]))
        # Tag both cards as the statement before the migration did, then change one
        # profile. The old rule re-tags a card whose profile is stamped after it.
        conn.execute(
            "UPDATE execution.lead_cards"
            " SET readiness = 'tagged', ruleset_version = %s, updated_at = clock_timestamp()",
            (version,),
        )
        conn.execute(
            "UPDATE social.profiles SET bio = %s, updated_at = clock_timestamp() WHERE platform = 'x'", (COACH_BIO,)
        )
        pending = conn.execute(
            "SELECT link.card_id FROM execution.card_profiles AS link"
            " JOIN social.profiles AS profile ON profile.id = link.profile_id WHERE profile.platform = 'x'"
        ).fetchone()["card_id"]

        migrate(conn)

        assert tag(conn) == 1
        assert "coach" in personas(conn, pending)
        assert tag(conn) == 0
