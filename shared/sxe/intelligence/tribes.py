"""Tribes: interest communities of a pool, found from terms its cards share.

A card's terms are the hashtags of its bios, the ruleset keywords its labels
matched, and its website domains. Terms carried by fewer than `MIN_CARDS` cards
tell nothing about a community, and terms carried by more than `MAX_SHARE` of the
cards describe the whole pool, so both are dropped. Two terms belong to one tribe
when the cards that carry them overlap with a Jaccard index of at least
`MIN_JACCARD`; tribes are the connected groups of such terms. Each card joins the
tribe that holds most of its terms, scored by the share of its terms in that
tribe. A tribe is named after its two terms carried by most cards, and its slug
is built from them, so the same data always gives the same tribes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from sxe.db import sql
from sxe.identity.facts import PLATFORM_HOSTS
from sxe.normalize.website import LINK_HUB_HOSTS, SHORTENER_HOSTS

MIN_CARDS = 2
MAX_SHARE = 0.5
MIN_JACCARD = 0.2
TOP_TERMS = 5
_HASHTAG = re.compile(r"(?<![\w#])#(\w{2,40})")
_NOT_INTERESTS = PLATFORM_HOSTS | LINK_HUB_HOSTS | SHORTENER_HOSTS


@dataclass(frozen=True, slots=True)
class Tribe:
    """A community: its slug, readable name, top terms with card counts, and member cards with scores."""

    slug: str
    name: str
    top_terms: tuple[tuple[str, int], ...]
    terms: frozenset[str]
    members: dict[UUID, tuple[float, tuple[str, ...]]]


def card_terms(bios: Iterable[str | None], matched_terms: Iterable[str], domains: Iterable[str | None]) -> set[str]:
    """Return the tribe terms of one card: '#hashtag', ruleset keywords and 'domain:host'."""
    terms = {f"#{tag.casefold()}" for bio in bios if bio for tag in _HASHTAG.findall(bio)}
    terms |= {term.casefold() for term in matched_terms}
    terms |= {f"domain:{domain}" for domain in domains if domain and domain not in _NOT_INTERESTS}
    return terms


def find_tribes(terms_of_card: Mapping[UUID, set[str]]) -> list[Tribe]:
    """Group cards into tribes from their terms; cards with no shared term join no tribe."""
    cards_of_term: dict[str, set[UUID]] = defaultdict(set)
    for card_id, terms in terms_of_card.items():
        for term in terms:
            cards_of_term[term].add(card_id)

    limit = max(MIN_CARDS, int(len(terms_of_card) * MAX_SHARE))
    kept = sorted(term for term, cards in cards_of_term.items() if MIN_CARDS <= len(cards) <= limit)
    groups = _term_groups(kept, cards_of_term)

    tribes: list[Tribe] = []
    slugs: set[str] = set()
    for group in sorted(groups, key=lambda terms: (-len(terms), terms[0])):
        tribe = _tribe(group, cards_of_term, slugs)
        slugs.add(tribe.slug)
        tribes.append(tribe)
    for card_id, terms in terms_of_card.items():
        _join_best(card_id, terms, tribes)
    return sorted((tribe for tribe in tribes if tribe.members), key=lambda tribe: tribe.slug)


def _term_groups(terms: list[str], cards_of_term: Mapping[str, set[UUID]]) -> list[list[str]]:
    parent = {term: term for term in terms}

    def find(term: str) -> str:
        while parent[term] != term:
            parent[term] = parent[parent[term]]
            term = parent[term]
        return term

    for first, second in combinations(terms, 2):
        a, b = cards_of_term[first], cards_of_term[second]
        if len(a & b) / len(a | b) >= MIN_JACCARD:
            root_a, root_b = sorted((find(first), find(second)))
            parent[root_b] = root_a

    groups: dict[str, list[str]] = defaultdict(list)
    for term in terms:
        groups[find(term)].append(term)
    return [sorted(group) for group in groups.values()]


def _tribe(group: list[str], cards_of_term: Mapping[str, set[UUID]], taken: set[str]) -> Tribe:
    ranked = sorted(group, key=lambda term: (-len(cards_of_term[term]), term))
    top = tuple((term, len(cards_of_term[term])) for term in ranked[:TOP_TERMS])
    name = " & ".join(_readable(term) for term, _ in top[:2])
    base = "-".join(_slug(term) for term, _ in top[:2])[:60].strip("-") or "tribe"
    slug, suffix = base, 2
    while slug in taken:
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return Tribe(slug=slug, name=name, top_terms=top, terms=frozenset(group), members={})


def _join_best(card_id: UUID, terms: set[str], tribes: list[Tribe]) -> None:
    """Add the card to the tribe sharing most of its terms; ties go to the smaller slug."""
    scored = [(len(terms & tribe.terms), tribe) for tribe in tribes]
    candidates = [(overlap, tribe) for overlap, tribe in scored if overlap]
    if not candidates:
        return
    overlap, tribe = min(candidates, key=lambda item: (-item[0], item[1].slug))
    tribe.members[card_id] = (round(overlap / len(terms), 4), tuple(sorted(terms & tribe.terms)))


def _readable(term: str) -> str:
    return term.removeprefix("domain:")


def _slug(term: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _readable(term).casefold()).strip("-")


def refresh_tribes(conn: psycopg.Connection[Any], pool: str) -> list[Tribe]:
    """Recompute the tribes of `pool` from its live cards and replace the stored ones."""
    terms_of_card: dict[UUID, set[str]] = {}
    for row in conn.execute(sql("tribes_card_terms"), {"pool": pool}):
        matched = [term for terms in row["matched"] or [] for term in terms]
        terms_of_card[row["card_id"]] = card_terms(row["bios"] or [], matched, row["domains"] or [])

    tribes = find_tribes(terms_of_card)
    conn.execute(sql("tribes_clear"), {"pool": pool})
    for tribe in tribes:
        conn.execute(
            sql("tribes_add"),
            {
                "pool": pool,
                "slug": tribe.slug,
                "name": tribe.name,
                "top_terms": Jsonb([{"term": term, "cards": cards} for term, cards in tribe.top_terms]),
                "card_count": len(tribe.members),
            },
        )
        cards = sorted(tribe.members, key=str)
        conn.execute(
            sql("tribes_add_members"),
            {
                "pool": pool,
                "slug": tribe.slug,
                "card_ids": cards,
                "scores": [tribe.members[card][0] for card in cards],
                "terms": [Jsonb(list(tribe.members[card][1])) for card in cards],
            },
        )
    return tribes
