"""Write persona, tribe and tier labels, the bio language and the signals of lead cards."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from sxe.cards import Readiness, reopen_cards, transition_cards
from sxe.db import sql
from sxe.intelligence import Ruleset, tag
from sxe.intelligence.signals import Observation, card_signals
from sxe.models import Label, Platform, Profile

CHUNK_CARDS = 2000
"""Cards tagged per round of statements: enough to amortise each round trip, small enough to bound memory."""

RETAG_REASON = "profiles or ruleset changed"


def tag_pending_cards(conn: psycopg.Connection[Any], pool: str, ruleset: Ruleset) -> int:
    """Label every card of `pool` that is untagged, tagged by another ruleset or has changed profiles.

    Returns the number of cards tagged. Labels of a card are replaced as a whole,
    so a rule that no longer fires leaves no stale label behind. Cards are written
    `CHUNK_CARDS` at a time with set-based statements, in the caller's transaction.
    Each card records the snapshot its profiles were read under, and a later pass
    takes it again when a profile changed in a transaction that snapshot did not see.
    """
    rows = conn.execute(sql("cards_needing_tags"), {"pool": pool, "ruleset_version": ruleset.version}).fetchall()
    for start in range(0, len(rows), CHUNK_CARDS):
        _tag_chunk(conn, rows[start : start + CHUNK_CARDS], ruleset)
    return len(rows)


def _tag_chunk(conn: psycopg.Connection[Any], rows: list[dict[str, Any]], ruleset: Ruleset) -> None:
    card_ids = [row["id"] for row in rows]
    profiles_by_card, snapshot = _load_profiles(conn, card_ids)
    observations = _load_observations(conn, card_ids)

    labels: list[tuple[UUID, Label]] = []
    signals: list[tuple[UUID, str | None, dict[str, Any]]] = []
    for card_id in card_ids:
        members = profiles_by_card[card_id]
        profiles = [profile for _, profile in members]
        labels += [(card_id, label) for label in tag(profiles, ruleset)]
        language, card_signal = card_signals(profiles, [observations.get(profile_id, []) for profile_id, _ in members])
        signals.append((card_id, language, card_signal))

    _write_labels(conn, card_ids, labels, ruleset.version, snapshot)
    _write_signals(conn, signals)
    _retag(conn, {row["id"]: Readiness(row["readiness"]) for row in rows})


def _retag(conn: psycopg.Connection[Any], readiness: dict[UUID, Readiness]) -> None:
    """Send relabelled cards back through the gate, because their earlier decisions may no longer hold."""
    new = [card_id for card_id, state in readiness.items() if state is Readiness.NEW]
    transition_cards(conn, new, Readiness.TAGGED)
    reopen_cards(
        conn, {card_id: state for card_id, state in readiness.items() if state is not Readiness.NEW}, RETAG_REASON
    )


def _load_profiles(
    conn: psycopg.Connection[Any], card_ids: list[UUID]
) -> tuple[dict[UUID, list[tuple[UUID, Profile]]], str | None]:
    """Return each card's profiles and the snapshot they were read under, which is None when no card has one."""
    profiles: dict[UUID, list[tuple[UUID, Profile]]] = defaultdict(list)
    snapshot: str | None = None
    for row in conn.execute(sql("cards_profiles"), {"card_ids": card_ids}):
        profiles[row["card_id"]].append((row["id"], profile_from_row(row)))
        snapshot = row["snapshot"]
    return profiles, snapshot


def _load_observations(conn: psycopg.Connection[Any], card_ids: list[UUID]) -> dict[UUID, list[Observation]]:
    observations: dict[UUID, list[Observation]] = defaultdict(list)
    for row in conn.execute(sql("cards_observations"), {"card_ids": card_ids}):
        observations[row["profile_id"]].append(Observation(row["observed_at"], int(row["followers"])))
    return observations


def profile_from_row(row: dict[str, Any]) -> Profile:
    """Rebuild a Tier 1 Profile from a `social.profiles` row."""
    return Profile(
        platform=Platform(row["platform"]),
        platform_user_id=row["platform_user_id"],
        handle=row["handle"],
        display_name=row["display_name"],
        bio=row["bio"],
        followers=row["followers"],
        following=row["following"],
        posts=row["posts"],
        likes=row["likes"],
        verified=row["verified"],
        website_domain=row["website_domain"],
        language=row["language"],
        bio_has_email=row["bio_has_email"],
        bio_has_phone=row["bio_has_phone"],
        quality_flags=tuple(row["quality_flags"]),
    )


def _write_labels(
    conn: psycopg.Connection[Any],
    card_ids: list[UUID],
    labels: list[tuple[UUID, Label]],
    version: str,
    snapshot: str | None,
) -> None:
    conn.execute(sql("cards_clear_labels"), {"card_ids": card_ids})
    conn.execute(
        sql("cards_add_labels"),
        {
            "card_ids": [card_id for card_id, _ in labels],
            "kinds": [label.kind for _, label in labels],
            "values": [label.value for _, label in labels],
            "scores": [float(label.score) for _, label in labels],
            "rule_ids": [label.rule_id for _, label in labels],
            "ruleset_versions": [label.ruleset_version for _, label in labels],
            "evidence": [Jsonb(label.evidence) for _, label in labels],
        },
    )
    conn.execute(sql("cards_mark_tagged"), {"card_ids": card_ids, "ruleset_version": version, "snapshot": snapshot})


def _write_signals(conn: psycopg.Connection[Any], signals: list[tuple[UUID, str | None, dict[str, Any]]]) -> None:
    conn.execute(
        sql("cards_set_signals"),
        {
            "card_ids": [card_id for card_id, _, _ in signals],
            "languages": [language for _, language, _ in signals],
            "signals": [Jsonb(card_signal) for _, _, card_signal in signals],
        },
    )
