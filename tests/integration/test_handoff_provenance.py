"""The enrichment steps of a lead-card record keep the outcome each lookup had when it finished."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from sxe.config import Settings, load_settings
from sxe.db import transaction
from sxe.handoff.records import RecordFormat, render_card
from sxe.pipeline import run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CARD = "SELECT * FROM contact.handoff_cards WHERE card_id = %s"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(database_url=database_url, state_dir=tmp_path / "state", suppression_key="k" * 32)


def record(conn: psycopg.Connection[Any], card_id: Any) -> dict[str, Any]:
    with transaction(conn, role="sxe_worker"):
        return render_card(conn.execute(CARD, (card_id,)).fetchone(), RecordFormat())


def test_step_outcome_survives_readiness_change(settings: Settings, conn: psycopg.Connection[Any]) -> None:
    run([EXAMPLES], settings)
    card_id = conn.execute(
        "SELECT id FROM execution.lead_cards WHERE readiness = 'handed_off' AND contact_id IS NOT NULL ORDER BY id"
    ).fetchone()["id"]
    before = record(conn, card_id)

    # A later state of the card, such as its return after a neighbour's erasure, has another reason.
    conn.execute("UPDATE execution.lead_cards SET readiness_reason = 'bundle revoked' WHERE id = %s", (card_id,))
    after = record(conn, card_id)

    assert [step["outcome"] for step in before["provenance"]["enrichment"]].count("matched") >= 1
    assert after["provenance"]["enrichment"] == before["provenance"]["enrichment"]


def test_decisions_keep_lookup_outcomes(settings: Settings, conn: psycopg.Connection[Any]) -> None:
    run([EXAMPLES], settings)

    rows = conn.execute(
        "SELECT decision, outcome FROM ops.enrichment_decisions WHERE decision = 'enqueue' ORDER BY id"
    ).fetchall()

    assert rows
    assert all(row["outcome"] in ("matched", "no_match", "already_paid", "budget_exhausted") for row in rows)
