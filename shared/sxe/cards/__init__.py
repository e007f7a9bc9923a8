"""Lead cards: one per person, holding no PII, moving through an explicit readiness state machine.

    new → tagged → qualified ─→ enrichment_queued → enriched | no_match | enrichment_failed → ready → handed_off
                 ↘ disqualified   ↘ ready (nothing to look up), enriched | no_match (remembered lookup)
    ready, handed_off → stale → tagged (its profiles changed)       any state → suppressed (erasure)
    handed_off → ready (the bundle that carried it was revoked, so it goes out again)
    enriched, no_match, enrichment_failed → stale (its profiles changed before handoff)
    any state but enrichment_queued → merged (its person joined another card's person)

`TRANSITIONS` lists every legal move. Each move is one UPDATE guarded by the
current state, and records a `card.readiness_changed` event. `reopen` walks a card back
to `tagged` along legal moves when its profiles or labels change.

A card holds the profiles of one person (see `sxe.identity`): `build_cards`
resolves people and then creates, merges and splits cards to match them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from sxe import audit
from sxe.db import sql
from sxe.errors import StateTransitionError, UsageError
from sxe.events import EventType, emit


class Readiness(StrEnum):
    NEW = "new"
    TAGGED = "tagged"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    ENRICHMENT_QUEUED = "enrichment_queued"
    ENRICHED = "enriched"
    NO_MATCH = "no_match"
    ENRICHMENT_FAILED = "enrichment_failed"
    READY = "ready"
    HANDED_OFF = "handed_off"
    STALE = "stale"
    SUPPRESSED = "suppressed"
    MERGED = "merged"


# Every legal move, keyed by the state a card leaves. Suppression (erasure) is
# reachable from every state and left by none.
TRANSITIONS: dict[Readiness, frozenset[Readiness]] = {
    Readiness.NEW: frozenset({Readiness.TAGGED}),
    Readiness.TAGGED: frozenset({Readiness.QUALIFIED, Readiness.DISQUALIFIED}),
    Readiness.QUALIFIED: frozenset(
        {
            Readiness.ENRICHMENT_QUEUED,
            Readiness.ENRICHED,
            Readiness.NO_MATCH,
            Readiness.READY,
            Readiness.DISQUALIFIED,
            Readiness.TAGGED,
        }
    ),
    Readiness.DISQUALIFIED: frozenset({Readiness.TAGGED}),
    Readiness.ENRICHMENT_QUEUED: frozenset(
        {Readiness.ENRICHED, Readiness.NO_MATCH, Readiness.ENRICHMENT_FAILED, Readiness.QUALIFIED}
    ),
    Readiness.ENRICHED: frozenset({Readiness.READY, Readiness.STALE}),
    # A late provider delivery (Apollo's phones by webhook) can turn a miss into a match.
    Readiness.NO_MATCH: frozenset({Readiness.ENRICHED, Readiness.READY, Readiness.STALE}),
    Readiness.ENRICHMENT_FAILED: frozenset({Readiness.READY, Readiness.QUALIFIED, Readiness.STALE}),
    Readiness.READY: frozenset({Readiness.HANDED_OFF, Readiness.STALE}),
    Readiness.HANDED_OFF: frozenset({Readiness.STALE, Readiness.READY}),
    Readiness.STALE: frozenset({Readiness.TAGGED}),
    Readiness.SUPPRESSED: frozenset(),
    Readiness.MERGED: frozenset(),
}
for _state in Readiness:
    if _state is not Readiness.SUPPRESSED:
        TRANSITIONS[_state] = TRANSITIONS[_state] | {Readiness.SUPPRESSED}
# A card waiting on a lookup job is merged only after the job has finished with it.
for _state in Readiness:
    if _state not in (Readiness.SUPPRESSED, Readiness.MERGED, Readiness.ENRICHMENT_QUEUED):
        TRANSITIONS[_state] = TRANSITIONS[_state] | {Readiness.MERGED}

# States `reopen` leaves alone: not tagged yet, already there, owned by a running
# lookup, or finished for good.
_NOT_REOPENED = frozenset(
    {Readiness.NEW, Readiness.TAGGED, Readiness.ENRICHMENT_QUEUED, Readiness.SUPPRESSED, Readiness.MERGED}
)


def predecessors(to_state: Readiness) -> list[Readiness]:
    """Return the states from which a card may move to `to_state`."""
    return [state for state, targets in TRANSITIONS.items() if to_state in targets]


DEFAULT_INTENT: dict[str, Any] = {
    "target_personas": [],
    "allowed_providers": ["apollo"],
    "max_cost_credits_per_lead": 9,
    "min_followers": 0,
    "exclude_quality_flags": ["private_account"],
}


def create_pool(conn: psycopg.Connection[Any], name: str, intent: dict[str, Any] | None = None) -> bool:
    """Create the pool with `intent`, or the default intent policy, unless it exists; return whether it was created."""
    row = conn.execute(sql("cards_ensure_pool"), {"name": name, "intent": Jsonb(intent or DEFAULT_INTENT)}).fetchone()
    return row is not None


def create_pool_recorded(
    conn: psycopg.Connection[Any],
    name: str,
    *,
    actor: str,
    detail: Mapping[str, Any],
    batch_id: UUID | None = None,
) -> bool:
    """Create the pool with the default intent policy unless it exists; return whether it was created, audited if so.

    `batch_id` names the webhook batch that named the pool, as `record_pool_created` records it.
    """
    created = create_pool(conn, name)
    if created:
        record_pool_created(conn, name, actor=actor, detail=detail, batch_id=batch_id)
    return created


def record_pool_created(
    conn: psycopg.Connection[Any], pool: str, *, actor: str, detail: Mapping[str, Any], batch_id: UUID | None = None
) -> None:
    """Audit that `actor` created `pool`, with `detail`, and record the `pool.created` event.

    A mistyped pool name creates a pool too, so every creation leaves a trace. The event
    carries `batch_id` only when a webhook batch named the pool (event.v3 makes it optional).
    """
    audit.append(conn, actor=actor, action="pool.created", subject=f"pool:{pool}", detail={"pool": pool, **detail})
    if batch_id is None:
        emit(conn, EventType.POOL_CREATED, pool, pool=pool)
    else:
        emit(conn, EventType.POOL_CREATED, pool, pool=pool, batch_id=str(batch_id))


def get_intent(conn: psycopg.Connection[Any], name: str) -> dict[str, Any] | None:
    """Return the intent policy of pool `name`, or None when the pool does not exist."""
    row = conn.execute(sql("cards_get_pool"), {"name": name}).fetchone()
    return None if row is None else dict(row["intent"])


def pool_names(conn: psycopg.Connection[Any]) -> list[str]:
    """Return the names of every pool, sorted."""
    return [row["name"] for row in conn.execute(sql("pools_list")).fetchall()]


def unknown_pool(name: str, existing: Sequence[str]) -> UsageError:
    """Return the error for a command given a pool that does not exist, naming the pools that do."""
    listed = ", ".join(existing) if existing else "none"
    return UsageError(
        f"pool {name!r} does not exist; existing pools: {listed}. Create it with `sxe pool set {name} --intent FILE`"
    )


def ensure_pool(conn: psycopg.Connection[Any], name: str, intent: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create the pool with the default intent policy when missing; return its intent policy.

    `sxe.cards.intent.set_intent` replaces the policy of an existing pool.
    """
    create_pool(conn, name, intent)
    row = conn.execute(sql("cards_get_pool"), {"name": name}).fetchone()
    if row is None:
        raise LookupError(f"pool {name!r} not found right after creating it; another transaction deleted it, retry")
    return dict(row["intent"])


def build_cards(conn: psycopg.Connection[Any], pool: str) -> int:
    """Resolve people and give each one lead card in `pool`; return how many cards were created.

    See `build_person_cards` for merges and splits. A transaction-scoped lock
    keeps two concurrent builders from giving one profile two cards.
    """
    return build_person_cards(conn, pool).created


def cards_for_profiles(conn: psycopg.Connection[Any], profile_ids: Iterable[UUID]) -> list[UUID]:
    rows = conn.execute(sql("cards_for_profiles"), {"profile_ids": list(profile_ids)}).fetchall()
    return [row["card_id"] for row in rows]


def transition(conn: psycopg.Connection[Any], card_id: UUID, to_state: Readiness, reason: str | None = None) -> None:
    """Move one card to `to_state` and record the event.

    Raises StateTransitionError naming the card and both states when the move is
    not legal from the card's current state, or the card does not exist.
    """
    allowed = [state.value for state in predecessors(to_state)]
    row = conn.execute(
        sql("cards_transition"),
        {"card_id": card_id, "from_states": allowed, "to_state": to_state.value, "reason": reason},
    ).fetchone()
    if row is None:
        current = conn.execute(sql("cards_readiness"), {"card_id": card_id}).fetchone()
        where = f"from {current['readiness']}" if current else "because it does not exist"
        raise StateTransitionError(f"lead card {card_id} cannot move to {to_state.value} {where}")
    emit(
        conn,
        EventType.READINESS_CHANGED,
        str(card_id),
        readiness=to_state.value,
        previous=row["previous"],
        reason=reason,
    )


def transition_cards(
    conn: psycopg.Connection[Any], card_ids: Sequence[UUID], to_state: Readiness, reason: str | None = None
) -> None:
    """Move every card of `card_ids` to `to_state` in one statement, recording one event per card.

    The guard and the event are those of `transition`. Raises StateTransitionError naming
    the first card, by id order, that cannot move and its current state. The other cards
    have already moved by then, so the caller's transaction must roll back.
    """
    if not card_ids:
        return
    allowed = [state.value for state in predecessors(to_state)]
    rows = conn.execute(
        sql("cards_transition_many"),
        {"card_ids": list(card_ids), "from_states": allowed, "to_state": to_state.value, "reason": reason},
    ).fetchall()
    if len(rows) == len(set(card_ids)):
        return

    moved = {row["id"] for row in rows}
    stuck = min((card_id for card_id in card_ids if card_id not in moved), key=str)
    current = conn.execute(sql("cards_readiness"), {"card_id": stuck}).fetchone()
    where = f"from {current['readiness']}" if current else "because it does not exist"
    raise StateTransitionError(f"lead card {stuck} cannot move to {to_state.value} {where}")


def transition_pool(
    conn: psycopg.Connection[Any],
    pool: str,
    from_states: Iterable[Readiness],
    to_state: Readiness,
    reason: str | None = None,
) -> int:
    """Move every card of `pool` in `from_states` to `to_state`; return how many moved.

    Raises ValueError when one of `from_states` may not move to `to_state`.
    """
    sources = list(from_states)
    illegal = [state.value for state in sources if to_state not in TRANSITIONS[state]]
    if illegal:
        raise ValueError(f"cards cannot move from {illegal} to {to_state.value}")
    rows = conn.execute(
        sql("cards_transition_pool"),
        {"pool": pool, "from_states": [s.value for s in sources], "to_state": to_state.value, "reason": reason},
    ).fetchall()
    return len(rows)


def reopen_path(state: Readiness) -> list[Readiness]:
    """Return the shortest list of legal moves from `state` to `tagged`, empty when `reopen` leaves it."""
    if state in _NOT_REOPENED:
        return []
    paths: dict[Readiness, list[Readiness]] = {state: []}
    frontier = [state]
    while frontier:
        following: list[Readiness] = []
        for current in frontier:
            for target in sorted(TRANSITIONS[current]):
                if target in paths or target in (Readiness.SUPPRESSED, Readiness.MERGED):
                    continue
                paths[target] = [*paths[current], target]
                if target is Readiness.TAGGED:
                    return paths[target]
                following.append(target)
        frontier = following
    return []


def reopen(conn: psycopg.Connection[Any], card_id: UUID, state: Readiness, reason: str) -> Readiness:
    """Walk a card from `state` back to `tagged` through legal moves, one event each; return the final state.

    Cards that are new, tagged, waiting on a lookup job, suppressed or merged stay where they are.
    """
    for target in reopen_path(state):
        transition(conn, card_id, target, reason)
        state = target
    return state


def reopen_cards(conn: psycopg.Connection[Any], states: Mapping[UUID, Readiness], reason: str) -> None:
    """Walk many cards back to `tagged` like `reopen`, one statement per move for all cards sharing a state."""
    cards_in_state: dict[Readiness, list[UUID]] = defaultdict(list)
    for card_id, state in states.items():
        cards_in_state[state].append(card_id)
    for state in sorted(cards_in_state):
        for target in reopen_path(state):
            transition_cards(conn, cards_in_state[state], target, reason)


def readiness_counts(conn: psycopg.Connection[Any], pool: str) -> dict[str, int]:
    return {row["readiness"]: int(row["cards"]) for row in conn.execute(sql("cards_count"), {"pool": pool})}


from sxe.cards.building import (  # noqa: E402  (building uses the names above)
    CardBuild,
    build_person_cards,
    count_carded_elsewhere,
    count_profiles_to_build,
)

__all__ = [
    "DEFAULT_INTENT",
    "TRANSITIONS",
    "CardBuild",
    "Readiness",
    "build_cards",
    "build_person_cards",
    "cards_for_profiles",
    "count_carded_elsewhere",
    "count_profiles_to_build",
    "create_pool",
    "create_pool_recorded",
    "ensure_pool",
    "get_intent",
    "pool_names",
    "predecessors",
    "readiness_counts",
    "record_pool_created",
    "reopen",
    "reopen_cards",
    "reopen_path",
    "transition",
    "transition_cards",
    "transition_pool",
    "unknown_pool",
]
