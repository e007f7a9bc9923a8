"""Person-based card building: one live lead card per person in a pool.

After identity resolution, each person of the pool's profiles (those on the
pool's live cards, plus profiles on no card yet) gets exactly one card:

- a person with no card gets a new card in state `new`;
- a person whose profiles sit on several cards keeps one of them, chosen in this
  order: the card already bound to the person, the card holding most of its
  profiles, the oldest card. The others move to `merged`, point at the kept card
  through `merged_into`, lose their labels and hand over their contact when the
  kept card has none;
- a card whose profiles now belong to several people stays with one of them and
  the others get new cards (a split).

Card ids stay stable while a card keeps any profile. Every kept card whose set of
profiles changed has its labels invalidated and walks back to `tagged` through
the state machine. A card waiting on a lookup job (`enrichment_queued`) is always
kept, so no job loses its card; it is re-tagged once the job has moved it on.
Profiles on cards of other pools are never moved.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from sxe.cards import Readiness, reopen, transition
from sxe.db import sql
from sxe.identity.store import PeopleUpdate, resolve_people

MERGE_REASON = "its person was merged into another card"
RESHAPE_REASON = "its profiles changed after identity resolution"


@dataclass(slots=True)
class CardBuild:
    """What one build changed in a pool."""

    created: int = 0
    merged: int = 0
    split: int = 0
    """Kept cards that gave some of their profiles to another person's card."""
    reshaped: int = 0
    people: PeopleUpdate | None = None


@dataclass(slots=True)
class _Card:
    id: UUID
    person_id: UUID | None
    readiness: Readiness
    created_at: datetime
    profiles: set[UUID] = field(default_factory=set)


def build_person_cards(conn: psycopg.Connection[Any], pool: str) -> CardBuild:
    """Resolve people, then create, merge and split the pool's cards to one per person."""
    conn.execute(sql("cards_lock"))
    people = resolve_people(conn)
    cards, unassigned = _load_pool(conn, pool)
    placement = _plan(cards, unassigned, people.person_of)
    return _apply(conn, pool, cards, placement, people)


def count_profiles_to_build(conn: psycopg.Connection[Any], pool: str) -> int:
    """Count the profiles of `pool` on no card yet, which its next card build takes."""
    rows = conn.execute(sql("cards_pool_members"), {"pool": pool})
    return sum(1 for row in rows if row["card_id"] is None)


def count_carded_elsewhere(conn: psycopg.Connection[Any], pool: str) -> int:
    """Count the profiles ingested for `pool` that sit on a card of another pool, so `pool` never cards them."""
    row = conn.execute(sql("cards_pool_carded_elsewhere"), {"pool": pool}).fetchone()
    return 0 if row is None else int(row["carded_elsewhere"])


def _load_pool(conn: psycopg.Connection[Any], pool: str) -> tuple[dict[UUID, _Card], set[UUID]]:
    cards: dict[UUID, _Card] = {}
    unassigned: set[UUID] = set()
    for row in conn.execute(sql("cards_pool_members"), {"pool": pool}):
        if row["card_id"] is None:
            unassigned.add(row["profile_id"])
            continue
        card = cards.get(row["card_id"])
        if card is None:
            card = _Card(row["card_id"], row["person_id"], Readiness(row["readiness"]), row["created_at"])
            cards[card.id] = card
        card.profiles.add(row["profile_id"])
    return cards, unassigned


@dataclass(slots=True)
class _Placement:
    """The planned card of each person: an existing card id, or a new id listed in `new_cards`."""

    card_of_person: dict[UUID, UUID] = field(default_factory=dict)
    profiles_of_card: dict[UUID, set[UUID]] = field(default_factory=dict)
    new_cards: set[UUID] = field(default_factory=set)
    card_of_profile: dict[UUID, UUID] = field(default_factory=dict)


def _plan(cards: dict[UUID, _Card], unassigned: set[UUID], person_of: dict[UUID, UUID]) -> _Placement:
    """Choose one card per person, larger people first."""
    placement = _Placement()
    placement.card_of_profile = {profile: card.id for card in cards.values() for profile in card.profiles}
    members: dict[UUID, set[UUID]] = defaultdict(set)
    for profile in [*placement.card_of_profile, *unassigned]:
        members[person_of[profile]].add(profile)

    claimed: set[UUID] = set()
    for person in sorted(members, key=lambda person: (-len(members[person]), str(person))):
        profiles = members[person]
        card_id = _choose_card(person, profiles, cards, placement.card_of_profile, claimed)
        if card_id is None:
            card_id = uuid.uuid4()
            placement.new_cards.add(card_id)
        claimed.add(card_id)
        placement.card_of_person[person] = card_id
        placement.profiles_of_card[card_id] = profiles
    return placement


def _choose_card(
    person: UUID,
    profiles: set[UUID],
    cards: dict[UUID, _Card],
    card_of_profile: dict[UUID, UUID],
    claimed: set[UUID],
) -> UUID | None:
    """Pick the kept card of a person among the unclaimed cards holding its profiles.

    A card waiting on a lookup job comes first, because it must never be merged
    away under a running job.
    """
    overlap = Counter(card_of_profile[profile] for profile in profiles if profile in card_of_profile)
    choices = [card_id for card_id in overlap if card_id not in claimed]
    if not choices:
        return None
    return min(
        choices,
        key=lambda card_id: (
            cards[card_id].readiness is not Readiness.ENRICHMENT_QUEUED,
            cards[card_id].person_id != person,
            -overlap[card_id],
            cards[card_id].created_at,
            str(card_id),
        ),
    )


def _apply(
    conn: psycopg.Connection[Any],
    pool: str,
    cards: dict[UUID, _Card],
    placement: _Placement,
    people: PeopleUpdate,
) -> CardBuild:
    person_of_card = {card_id: person for person, card_id in placement.card_of_person.items()}
    retired = sorted((card_id for card_id in cards if card_id not in placement.profiles_of_card), key=str)
    rebound = sorted(
        (
            card_id
            for card_id in cards
            if card_id in person_of_card and cards[card_id].person_id != person_of_card[card_id]
        ),
        key=str,
    )
    # Unbind first: the pool allows one live card per person, and people may move between cards.
    if retired or rebound:
        conn.execute(sql("cards_clear_person"), {"card_ids": [*retired, *rebound]})

    new_cards = sorted(placement.new_cards, key=str)
    if new_cards:
        conn.execute(
            sql("cards_create_for_people"),
            {"pool": pool, "card_ids": new_cards, "person_ids": [person_of_card[card] for card in new_cards]},
        )
    _place_profiles(conn, placement)
    merged = _retire(conn, retired, placement)
    if rebound:
        conn.execute(
            sql("cards_set_person"),
            {"card_ids": rebound, "person_ids": [person_of_card[card_id] for card_id in rebound]},
        )
    reshaped = _reopen_reshaped(conn, cards, placement)
    split = _count_split(cards, placement)
    return CardBuild(created=len(new_cards), merged=merged, split=split, reshaped=reshaped, people=people)


def _count_split(cards: dict[UUID, _Card], placement: _Placement) -> int:
    return sum(
        1
        for card_id, card in cards.items()
        if card_id in placement.profiles_of_card and not card.profiles <= placement.profiles_of_card[card_id]
    )


def _place_profiles(conn: psycopg.Connection[Any], placement: _Placement) -> None:
    moves = [
        (card_id, profile)
        for card_id, profiles in sorted(placement.profiles_of_card.items(), key=lambda item: str(item[0]))
        for profile in sorted(profiles, key=str)
        if placement.card_of_profile.get(profile) != card_id
    ]
    if moves:
        conn.execute(
            sql("cards_place_profiles"),
            {"card_ids": [card for card, _ in moves], "profile_ids": [profile for _, profile in moves]},
        )


def _retire(conn: psycopg.Connection[Any], retired: list[UUID], placement: _Placement) -> int:
    """Move every card that lost all its profiles to `merged`, pointing at the card that took most of them."""
    taken_by: dict[UUID, Counter[UUID]] = defaultdict(Counter)
    for card_id, profiles in placement.profiles_of_card.items():
        for profile in profiles:
            previous = placement.card_of_profile.get(profile)
            if previous is not None and previous != card_id:
                taken_by[previous][card_id] += 1

    for card_id in retired:
        takers = taken_by[card_id]
        survivor = min(takers, key=lambda other: (-takers[other], str(other)))
        conn.execute(sql("cards_merge_into"), {"card_id": card_id, "survivor_id": survivor})
        transition(conn, card_id, Readiness.MERGED, f"{MERGE_REASON} {survivor}")
    return len(retired)


def _reopen_reshaped(conn: psycopg.Connection[Any], cards: dict[UUID, _Card], placement: _Placement) -> int:
    """Invalidate the labels of kept cards whose profiles changed and walk them back to `tagged`."""
    reshaped = sorted(
        (
            card_id
            for card_id, profiles in placement.profiles_of_card.items()
            if card_id in cards and profiles != cards[card_id].profiles
        ),
        key=str,
    )
    if not reshaped:
        return 0
    conn.execute(sql("cards_invalidate_tags"), {"card_ids": reshaped})
    for card_id in reshaped:
        reopen(conn, card_id, cards[card_id].readiness, RESHAPE_REASON)
    return len(reshaped)
