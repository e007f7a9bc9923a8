"""Changing a consumer's settings, and queueing for it the cards handed off before it could read them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from handoff_support import body_of, seed_card, web_event

from sxe.cli import main
from sxe.errors import UsageError
from sxe.handoff import api
from sxe.handoff.consumers import backfill_consumer, create_consumer, update_consumer
from sxe.handoff.export import HandoffRequest, hand_off
from sxe.handoff.store import LocalObjectStore

POOL = "makers"


@pytest.fixture
def state_dir(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_SIGNING_KEY", "k" * 40)
    return tmp_path / "state"


def add_consumer(conn: psycopg.Connection[Any], name: str = "crm", pools: tuple[str, ...] = (POOL,)) -> str:
    return create_consumer(conn, name, pools, contact_fields=["emails"], actor="test")[1]


def hand_off_pool(conn: psycopg.Connection[Any], state_dir: Path, pool: str = POOL) -> str:
    request = HandoffRequest(
        pool=pool, environment="local", created_at=datetime.now(UTC), retention_days=7, actor="test"
    )
    return hand_off(conn, LocalObjectStore(state_dir / "objects"), request).bundle_id


def pull_cards(key: str) -> list[str]:
    response = api.queue(web_event("POST", key=key, path="/pull", body={"max_messages": 100}))
    assert response["statusCode"] == 200, response["body"]
    return sorted(message["card"]["card_id"] for message in body_of(response)["messages"])


# Backfill


def test_backfill_queues_earlier_cards(state_dir: Path, conn: psycopg.Connection[Any]) -> None:
    cards = sorted(str(seed_card(conn, POOL, index).card_id) for index in range(3))
    hand_off_pool(conn, state_dir)
    key = add_consumer(conn)
    before = pull_cards(key)

    queued = backfill_consumer(conn, "crm", actor="test")

    assert before == []
    assert queued == 3
    assert pull_cards(key) == cards


def test_backfill_twice_queues_once(state_dir: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    hand_off_pool(conn, state_dir)
    add_consumer(conn)

    first = backfill_consumer(conn, "crm", actor="test")
    second = backfill_consumer(conn, "crm", actor="test")

    assert first == 1
    assert second == 0


def test_backfill_skips_cards_already_queued(state_dir: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    add_consumer(conn)
    hand_off_pool(conn, state_dir)

    queued = backfill_consumer(conn, "crm", actor="test")

    assert queued == 0
    assert conn.execute("SELECT count(*) AS n FROM ops.handoff_messages").fetchone()["n"] == 1


def test_backfill_skips_revoked_bundles(state_dir: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    hand_off_pool(conn, state_dir)
    conn.execute("UPDATE ops.bundles SET revoked_at = now(), revoked_reason = 'test'")
    add_consumer(conn)

    assert backfill_consumer(conn, "crm", actor="test") == 0


def test_backfill_uses_newest_live_bundle(state_dir: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    first = hand_off_pool(conn, state_dir)
    conn.execute("UPDATE execution.lead_cards SET readiness = 'ready'")
    second = hand_off_pool(conn, state_dir)
    add_consumer(conn)

    backfill_consumer(conn, "crm", actor="test")

    bundles = [str(row["bundle_id"]) for row in conn.execute("SELECT bundle_id FROM ops.handoff_messages")]
    assert first != second
    assert bundles == [second]


def test_backfill_limited_to_named_pool(state_dir: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    seed_card(conn, "agencies", 1)
    hand_off_pool(conn, state_dir)
    hand_off_pool(conn, state_dir, pool="agencies")
    add_consumer(conn, pools=(POOL, "agencies"))

    queued = backfill_consumer(conn, "crm", pools=["agencies"], actor="test")

    pools = [row["pool"] for row in conn.execute("SELECT pool FROM ops.handoff_messages")]
    assert queued == 1
    assert pools == ["agencies"]


def test_backfill_rejects_unreadable_pool(state_dir: Path, conn: psycopg.Connection[Any]) -> None:
    add_consumer(conn)

    with pytest.raises(UsageError, match="cannot read pool 'agencies'; its pools are makers"):
        backfill_consumer(conn, "crm", pools=["agencies"], actor="test")


def test_backfill_audits_count(state_dir: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    hand_off_pool(conn, state_dir)
    add_consumer(conn)

    backfill_consumer(conn, "crm", actor="test")

    row = conn.execute("SELECT detail FROM ops.audit_log WHERE action = 'handoff.consumer_backfilled'").fetchone()
    assert row["detail"] == {"pools": [POOL], "queued": 1}


# Update


def test_update_adds_pool_then_backfill(state_dir: Path, conn: psycopg.Connection[Any]) -> None:
    card = str(seed_card(conn, "agencies", 0).card_id)
    hand_off_pool(conn, state_dir, pool="agencies")
    key = add_consumer(conn)

    change = update_consumer(conn, "crm", pools=[POOL, "agencies"], actor="test")
    backfill_consumer(conn, "crm", actor="test")

    assert change["before"]["pools"] == [POOL]
    assert change["after"]["pools"] == ["agencies", POOL]
    assert pull_cards(key) == [card]


def test_update_fields_apply_to_queued_messages(state_dir: Path, conn: psycopg.Connection[Any]) -> None:
    seed_card(conn, POOL, 0)
    key = add_consumer(conn)
    hand_off_pool(conn, state_dir)

    update_consumer(conn, "crm", contact_fields=["emails", "phones"], actor="test")
    response = api.queue(web_event("POST", key=key, path="/pull", body={}))

    (message,) = body_of(response)["messages"]
    assert message["card"]["contact"]["phones"]


def test_update_keeps_unnamed_settings(state_dir: Path, conn: psycopg.Connection[Any]) -> None:
    add_consumer(conn)

    change = update_consumer(conn, "crm", rate_per_second=2.5, actor="test")

    assert change["after"] == {**change["before"], "rate_per_second": 2.5}


def test_smaller_burst_caps_tokens(state_dir: Path, conn: psycopg.Connection[Any]) -> None:
    add_consumer(conn)

    update_consumer(conn, "crm", burst=3, actor="test")

    row = conn.execute("SELECT rate_capacity, tokens FROM ops.api_consumers").fetchone()
    assert row["rate_capacity"] == 3
    assert row["tokens"] == 3


def test_update_audits_before_and_after(state_dir: Path, conn: psycopg.Connection[Any]) -> None:
    add_consumer(conn)

    update_consumer(conn, "crm", schema_version="v1", actor="test")

    row = conn.execute("SELECT detail FROM ops.audit_log WHERE action = 'handoff.consumer_updated'").fetchone()
    assert row["detail"]["before"]["schema_version"] == "lead-card.v2"
    assert row["detail"]["after"]["schema_version"] == "lead-card.v1"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "nothing to change"),
        ({"contact_fields": ["sms"]}, "'sms' is unknown"),
        ({"burst": 0}, "burst 0 is invalid"),
        ({"rate_per_second": float("inf")}, "rate inf/s is invalid"),
        ({"pools": ["Bad Pool"]}, "pool name 'Bad Pool' is invalid"),
    ],
)
def test_update_rejects_bad_values(
    state_dir: Path, conn: psycopg.Connection[Any], options: dict[str, Any], message: str
) -> None:
    add_consumer(conn)

    with pytest.raises(UsageError, match=message):
        update_consumer(conn, "crm", actor="test", **options)


def test_update_of_revoked_consumer_fails(state_dir: Path, conn: psycopg.Connection[Any]) -> None:
    add_consumer(conn)
    conn.execute("UPDATE ops.api_consumers SET revoked_at = now()")

    with pytest.raises(UsageError, match="no active consumer named 'crm'"):
        update_consumer(conn, "crm", burst=5, actor="test")


# Command line


def test_cli_update_and_backfill(
    state_dir: Path, conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    seed_card(conn, "agencies", 0)
    hand_off_pool(conn, state_dir, pool="agencies")
    add_consumer(conn)

    updated = main(["consumer", "update", "crm", "--pool", POOL, "--pool", "agencies", "--fields", ""])
    update_output = capsys.readouterr().out
    backfilled = main(["consumer", "backfill", "crm"])
    backfill_output = capsys.readouterr().out

    assert updated == 0
    assert "pools: makers -> agencies,makers" in update_output
    assert "contact_fields: emails -> none" in update_output
    assert "sxe consumer backfill crm" in update_output
    assert "page each feed again from the start, without a cursor" in update_output
    assert backfilled == 0
    assert "1 handed-off card queued" in backfill_output


def test_cli_add_names_missing_pool(
    state_dir: Path, conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    seed_card(conn, POOL, 0)

    added = main(["consumer", "add", "crm", "--pool", POOL, "--pool", "makres"])
    output = capsys.readouterr().out

    assert added == 0
    assert "note: pool 'makres' does not exist yet (existing pools: makers)" in output
    assert "`sxe consumer update crm --pool ...` sets the pools" in output
    assert f"pool '{POOL}' does not exist" not in output
