"""Lead cards: one per person, holding no PII, moving through an explicit readiness state machine.

    new ──tag──▶ tagged ──enrich (contact found)──▶ enriched ──▶ ready
                   │                                              ▲
                   └──enrichment skipped or no match──────────────┘
    any state ──(every profile private)──▶ held

Each transition is one guarded UPDATE; a card in an unexpected state raises
StateTransitionError with its id.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from sxe.db import sql
from sxe.errors import StateTransitionError


class Readiness(StrEnum):
    NEW = "new"
    TAGGED = "tagged"
    ENRICHED = "enriched"
    READY = "ready"
    HELD = "held"


DEFAULT_INTENT: dict[str, Any] = {
    "target_personas": [],
    "allowed_providers": ["apollo"],
    "max_cost_credits_per_lead": 9,
    "min_followers": 0,
    "exclude_quality_flags": ["private_account"],
}


def ensure_pool(conn: psycopg.Connection[Any], name: str, intent: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create the pool with the default intent policy when missing; return its intent policy."""
    conn.execute(sql("cards_ensure_pool"), {"name": name, "intent": Jsonb(intent or DEFAULT_INTENT)})
    row = conn.execute(sql("cards_get_pool"), {"name": name}).fetchone()
    return dict(row["intent"])


def build_cards(conn: psycopg.Connection[Any], pool: str) -> int:
    """Create one card per profile that has none; return how many were created.

    Identity resolution will merge profiles of one person into one card; until
    then each profile is its own person. A transaction-scoped lock keeps two
    concurrent builders from giving one profile two cards.
    """
    conn.execute(sql("cards_lock"))
    return len(conn.execute(sql("cards_build"), {"pool": pool}).fetchall())


def cards_for_profiles(conn: psycopg.Connection[Any], profile_ids: Iterable[UUID]) -> list[UUID]:
    rows = conn.execute(sql("cards_for_profiles"), {"profile_ids": list(profile_ids)}).fetchall()
    return [row["card_id"] for row in rows]


def transition(
    conn: psycopg.Connection[Any],
    card_id: UUID,
    *,
    from_states: Iterable[Readiness],
    to_state: Readiness,
    reason: str | None = None,
) -> None:
    """Move one card to `to_state`; raise StateTransitionError when it is not in `from_states`."""
    allowed = [state.value for state in from_states]
    row = conn.execute(
        sql("cards_transition"),
        {"card_id": card_id, "from_states": allowed, "to_state": to_state.value, "reason": reason},
    ).fetchone()
    if row is None:
        raise StateTransitionError(
            f"lead card {card_id} cannot move to {to_state.value}: it is not in {', '.join(allowed)}"
        )


def readiness_counts(conn: psycopg.Connection[Any], pool: str) -> dict[str, int]:
    return {row["readiness"]: int(row["cards"]) for row in conn.execute(sql("cards_count"), {"pool": pool})}
