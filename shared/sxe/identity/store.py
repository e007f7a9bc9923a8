"""Resolve every Tier 1 profile into a person and store people and links in Tier 3.

People are recomputed from the current profiles on every call, so newer data
that no longer shows a link's evidence marks the link 'contradicted' and splits
its person. Person ids stay stable: each new group keeps the id of the stored
person that holds most of its profiles, and only the remainder of a split gets a
new id. Run it inside the card builder's transaction, which holds the lock that
keeps two builders apart.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from sxe.db import sql
from sxe.identity.facts import IdentityFacts, profile_facts
from sxe.identity.resolve import Link, Resolution, resolve
from sxe.ingest.formats import FORMATS
from sxe.models import Platform, SourceProfile
from sxe.normalize.website import LINK_HUB_HOSTS

CONTRADICTED = "the latest profile data no longer shows this evidence"


@dataclass(frozen=True, slots=True)
class PeopleUpdate:
    """The outcome of one resolution: profile id to person id, and counts of what changed."""

    person_of: dict[UUID, UUID]
    people: int
    created: int
    removed: int
    links_active: int
    links_rejected: int
    links_contradicted: int


def resolve_people(conn: psycopg.Connection[Any]) -> PeopleUpdate:
    """Resolve all profiles into people and store memberships and links; return the mapping."""
    facts = load_facts(conn)
    resolution = resolve(facts)
    stored = {row["profile_id"]: row["person_id"] for row in conn.execute(sql("identity_memberships"))}

    person_of, new_people = _assign_person_ids(resolution, stored)
    if new_people:
        conn.execute(sql("identity_people_create"), {"person_ids": new_people})
    changed = {profile_id: person for profile_id, person in person_of.items() if stored.get(profile_id) != person}
    if changed:
        conn.execute(
            sql("identity_memberships_set"),
            {"profile_ids": list(changed), "person_ids": list(changed.values())},
        )
        conn.execute(sql("identity_people_touch"), {"person_ids": sorted(set(changed.values()))})
    removed = conn.execute(sql("identity_people_delete_empty")).fetchall()

    contradicted = _store_links(conn, resolution.links)
    return PeopleUpdate(
        person_of=person_of,
        people=len(resolution.people),
        created=len(new_people),
        removed=len(removed),
        links_active=sum(link.state == "active" for link in resolution.links),
        links_rejected=sum(link.state == "rejected" for link in resolution.links),
        links_contradicted=contradicted,
    )


def load_facts(conn: psycopg.Connection[Any]) -> list[IdentityFacts]:
    """Read the identity facts of every profile, with link-in-bio pages from raw records."""
    hub_links = _link_hub_urls(conn)
    return [
        profile_facts(
            row["id"],
            Platform(row["platform"]),
            row["handle"],
            row["display_name"],
            row["bio"],
            row["website_domain"],
            hub_links.get(row["id"]),
            identity_key=row["identity_key"],
        )
        for row in conn.execute(sql("identity_profiles"))
    ]


def _link_hub_urls(conn: psycopg.Connection[Any]) -> dict[UUID, str]:
    """Return the full website link of each profile whose website is a link hub.

    The link is parsed again from the profile's latest raw record with its own
    format, because Tier 1 stores the domain alone.
    """
    urls: dict[UUID, str] = {}
    rows = conn.execute(sql("identity_link_hub_records"), {"hub_hosts": sorted(LINK_HUB_HOSTS)})
    for row in rows:
        source_format = FORMATS.get(row["format"])
        if source_format is None:
            continue
        parsed = source_format.parse(row["payload"])
        if isinstance(parsed, SourceProfile) and parsed.website:
            urls[row["profile_id"]] = parsed.website
    return urls


def _assign_person_ids(resolution: Resolution, stored: dict[UUID, UUID]) -> tuple[dict[UUID, UUID], list[UUID]]:
    """Give each group the stored person id that holds most of it, or a new id; return both.

    Larger groups choose first, so when a person splits its id stays with the part
    that keeps most of its profiles. Ties go to the smaller person id.
    """
    person_of: dict[UUID, UUID] = {}
    claimed: set[UUID] = set()
    new_people: list[UUID] = []
    for group in sorted(resolution.people, key=lambda members: (-len(members), str(min(members)))):
        votes = Counter(stored[profile_id] for profile_id in group if profile_id in stored)
        choices = sorted(
            (person for person in votes if person not in claimed),
            key=lambda person: (-votes[person], str(person)),
        )
        if choices:
            person = choices[0]
        else:
            person = uuid.uuid4()
            new_people.append(person)
        claimed.add(person)
        for profile_id in group:
            person_of[profile_id] = person
    return person_of, new_people


def _store_links(conn: psycopg.Connection[Any], links: list[Link]) -> int:
    """Upsert one row per link and signal; mark stored links not found again; return how many were marked."""
    rows = [(link, signal) for link in links for signal in link.signals]
    columns: dict[str, list[Any]] = {
        "profile_ids": [link.first for link, _ in rows],
        "other_profile_ids": [link.second for link, _ in rows],
        "signals": [signal.kind for _, signal in rows],
        "confidences": [signal.confidence for _, signal in rows],
        "evidence": [Jsonb({**signal.evidence, "pair_confidence": link.confidence}) for link, signal in rows],
        "states": [link.state for link, _ in rows],
        "reasons": [link.reason for link, _ in rows],
    }
    if rows:
        conn.execute(sql("identity_links_upsert"), columns)
    contradicted = conn.execute(
        sql("identity_links_contradict"),
        {
            "profile_ids": columns["profile_ids"],
            "other_profile_ids": columns["other_profile_ids"],
            "signals": columns["signals"],
            "reason": CONTRADICTED,
        },
    ).fetchall()
    return len(contradicted)
