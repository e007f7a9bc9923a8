"""`sxe status --pool` against a real PostgreSQL: what one pool's operator sees beside another pool's work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from handoff_support import seed_card
from psycopg.types.json import Jsonb

from sxe import audit
from sxe.cli import main
from sxe.db import sql, transaction
from sxe.orchestrator import status

PERIOD = "2026-12"


@pytest.fixture
def command_environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    """Point the `sxe` command at the test database."""
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def two_pools(conn: psycopg.Connection[Any]) -> dict[str, list[str]]:
    """Seed two pools: north with two cards, south with one, each with lookups, jobs and a budget."""
    cards: dict[str, list[str]] = {"north": [], "south": []}
    with transaction(conn):
        for pool, count in (("north", 2), ("south", 1)):
            for index in range(count):
                card_id = str(seed_card(conn, pool, index, readiness="enrichment_queued").card_id)
                cards[pool].append(card_id)
                add_lookup(conn, card_id, pool)
            budget(conn, f"pool:{pool}", limit=100 if pool == "north" else 50)
        budget(conn, "provider:apollo", limit=1000)
        conn.execute("INSERT INTO ops.jobs (queue, payload) VALUES ('pull', %s)", (Jsonb({"source": "x"}),))
        conn.execute(
            "INSERT INTO ops.enrichment_decisions (card_id, provider, decision, reason) "
            "VALUES (%s, 'apollo', 'skip', 'cooldown_matched')",
            (cards["south"][0],),
        )
    return cards


def add_lookup(conn: psycopg.Connection[Any], card_id: str, pool: str) -> None:
    """Queue one lookup job for the card, and audit one billed call for it."""
    conn.execute(
        "INSERT INTO ops.jobs (queue, payload) VALUES ('enrich', %s)",
        (Jsonb({"card_id": card_id, "pool": pool, "provider": "apollo"}),),
    )
    audit.append(
        conn,
        actor="sxe_worker:test",
        action="enrichment.lookup",
        subject=f"lead_card:{card_id}",
        detail={"provider": "apollo", "outcome": "matched", "credits": 1},
    )


def budget(conn: psycopg.Connection[Any], scope: str, *, limit: int) -> None:
    conn.execute(
        "INSERT INTO ops.budgets (scope, period, limit_credits) VALUES (%s, %s, %s)",
        (scope, PERIOD, limit),
    )


def test_pool_counts_its_own_cards(conn: psycopg.Connection[Any], two_pools: dict[str, list[str]]) -> None:
    report = status.collect(conn, pool="north", period=PERIOD)

    assert report["pool"] == "north"
    assert report["cards"] == {"enrichment_queued": 2}


def test_pool_leaves_out_other_lookup_jobs(conn: psycopg.Connection[Any], two_pools: dict[str, list[str]]) -> None:
    north = status.collect(conn, pool="north", period=PERIOD)
    south = status.collect(conn, pool="south", period=PERIOD)

    assert north["queues"]["enrich"] == {"queued": 2}
    assert south["queues"]["enrich"] == {"queued": 1}
    assert north["queues"]["pull"] == {"queued": 1}
    assert south["queues"]["pull"] == {"queued": 1}
    assert north["jobs"] == {"queued": 3}


def erase_jobs_of(conn: psycopg.Connection[Any], card_id: str) -> None:
    """Scrub and close the card's jobs with the statement an erasure runs, which strips `pool` from payloads."""
    params = {"card_id_texts": [card_id], "request_id": "00000000-0000-4000-8000-00000000e1a5"}
    with transaction(conn, role="sxe_worker"):
        conn.execute(sql("erase_cancel_jobs"), params)


def test_erased_lookup_counts_for_no_pool(conn: psycopg.Connection[Any], two_pools: dict[str, list[str]]) -> None:
    north_card = two_pools["north"][0]
    conn.execute("UPDATE ops.jobs SET state = 'dead' WHERE payload->>'card_id' = %s", (north_card,))
    erase_jobs_of(conn, north_card)
    # An erasure that closed only queued and running jobs left this one dead.
    conn.execute("UPDATE ops.jobs SET state = 'dead' WHERE payload->>'card_id' = %s", (north_card,))

    north = status.collect(conn, pool="north", period=PERIOD)
    south = status.collect(conn, pool="south", period=PERIOD)
    every = status.collect(conn, period=PERIOD)

    assert north["queues"]["enrich"] == {"queued": 1}
    assert south["queues"]["enrich"] == {"queued": 1}
    assert every["queues"]["enrich"] == {"queued": 2, "dead": 1}
    assert north["jobs"] == {"queued": 2}
    assert south["jobs"] == {"queued": 2}


def test_shared_queues_count_in_every_pool(conn: psycopg.Connection[Any], two_pools: dict[str, list[str]]) -> None:
    conn.execute(
        "INSERT INTO ops.jobs (queue, payload, state) VALUES ('normalize', %s, 'dead')",
        (Jsonb({"webhook_batch_id": "00000000-0000-4000-8000-0000000000b1"}),),
    )
    erase_jobs_of(conn, two_pools["south"][0])

    north = status.collect(conn, pool="north", period=PERIOD)
    south = status.collect(conn, pool="south", period=PERIOD)

    for report in (north, south):
        assert report["queues"]["normalize"] == {"dead": 1}
        assert report["queues"]["pull"] == {"queued": 1}
    assert north["queues"]["enrich"] == {"queued": 2}
    assert "enrich" not in south["queues"]


def test_pool_counts_its_own_lookups(conn: psycopg.Connection[Any], two_pools: dict[str, list[str]]) -> None:
    north = status.collect(conn, pool="north", period=PERIOD)["providers"]["apollo"]
    south = status.collect(conn, pool="south", period=PERIOD)["providers"]["apollo"]

    assert north["calls"] == 2
    assert north["billable_calls"] == 2
    assert north["cache_hits"] == 0
    assert south["calls"] == 1
    assert south["cache_hits"] == 1
    assert north["budget"]["limit"] == 1000


def test_pool_shows_shared_and_own_budgets(conn: psycopg.Connection[Any], two_pools: dict[str, list[str]]) -> None:
    report = status.collect(conn, pool="south", period=PERIOD)

    assert [item["scope"] for item in report["budgets"]] == ["pool:south", "provider:apollo"]


def test_every_pool_without_option(conn: psycopg.Connection[Any], two_pools: dict[str, list[str]]) -> None:
    report = status.collect(conn, period=PERIOD)

    assert report["pool"] is None
    assert report["cards"] == {"enrichment_queued": 3}
    assert report["queues"]["enrich"] == {"queued": 3}
    assert report["providers"]["apollo"]["calls"] == 3
    assert [item["scope"] for item in report["budgets"]] == ["pool:north", "pool:south", "provider:apollo"]


def test_command_names_the_pool(
    command_environment: None, two_pools: dict[str, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--pool", "south"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("SXE status, pool south, budget period ")

    assert main(["status", "--pool", "south", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cards"] == {"enrichment_queued": 1}


def test_command_rejects_unknown_pool(
    command_environment: None, two_pools: dict[str, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--pool", "west"]) == 2
    error = capsys.readouterr().err
    assert "pool 'west' does not exist" in error
    assert "existing pools: north, south" in error
