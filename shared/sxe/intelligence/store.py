"""Write persona, tribe and tier labels, the bio language and the signals of lead cards."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from sxe.cards import Readiness, reopen, transition
from sxe.db import sql
from sxe.intelligence import Ruleset, tag
from sxe.intelligence.signals import Observation, card_signals
from sxe.models import Platform, Profile


def tag_pending_cards(conn: psycopg.Connection[Any], pool: str, ruleset: Ruleset) -> int:
    """Label every card of `pool` that is untagged, tagged by another ruleset or has changed profiles.

    Returns the number of cards tagged. Labels of a card are replaced as a whole,
    so a rule that no longer fires leaves no stale label behind.
    """
    rows = conn.execute(sql("cards_needing_tags"), {"pool": pool, "ruleset_version": ruleset.version}).fetchall()
    if not rows:
        return 0

    card_ids = [row["id"] for row in rows]
    profiles_by_card = _load_profiles(conn, card_ids)
    observations = _load_observations(conn, card_ids)
    for row in rows:
        card_id = row["id"]
        members = profiles_by_card[card_id]
        profiles = [profile for _, profile in members]
        _write_labels(conn, card_id, tag(profiles, ruleset), ruleset.version)
        language, signals = card_signals(profiles, [observations.get(profile_id, []) for profile_id, _ in members])
        conn.execute(sql("cards_set_signals"), {"card_id": card_id, "language": language, "signals": Jsonb(signals)})
        _retag(conn, card_id, Readiness(row["readiness"]))
    return len(rows)


def _retag(conn: psycopg.Connection[Any], card_id: UUID, readiness: Readiness) -> None:
    """Send a relabelled card back through the gate, because its earlier decision may no longer hold."""
    if readiness is Readiness.NEW:
        transition(conn, card_id, Readiness.TAGGED)
    else:
        reopen(conn, card_id, readiness, "profiles or ruleset changed")


def _load_profiles(conn: psycopg.Connection[Any], card_ids: list[UUID]) -> dict[UUID, list[tuple[UUID, Profile]]]:
    profiles: dict[UUID, list[tuple[UUID, Profile]]] = defaultdict(list)
    for row in conn.execute(sql("cards_profiles"), {"card_ids": card_ids}):
        profiles[row["card_id"]].append((row["id"], profile_from_row(row)))
    return profiles


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


def _write_labels(conn: psycopg.Connection[Any], card_id: UUID, labels: list[Any], version: str) -> None:
    conn.execute(sql("cards_clear_labels"), {"card_id": card_id})
    for label in labels:
        conn.execute(
            sql("cards_add_label"),
            {
                "card_id": card_id,
                "kind": label.kind,
                "value": label.value,
                "score": label.score,
                "rule_id": label.rule_id,
                "ruleset_version": label.ruleset_version,
                "evidence": Jsonb(label.evidence),
            },
        )
    conn.execute(sql("cards_mark_tagged"), {"card_id": card_id, "ruleset_version": version})
