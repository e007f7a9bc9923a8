"""Identity resolution: group profiles into people from the evidence that links them.

Signals between two profiles of different platforms, with their confidence:

| signal              | when                                                   | confidence |
|---------------------|--------------------------------------------------------|------------|
| `bio_cross_link`    | one bio names the other account ("TikTok: @mara")      | 0.95       |
| `same_link_target`  | both link the same link-in-bio page (linktr.ee/mara)   | 0.95       |
| `same_website`      | both link the same own domain                          | 0.9        |
| `same_handle`       | identical handle of 8+ characters, or 5+ with _ . or 0-9 | 0.85     |
| `same_handle`       | identical short plain handle ("anna")                  | 0.4        |
| `same_display_name` | the same name of two or more words                     | 0.5        |
| `same_display_name` | the same one-word name ("Anna")                        | 0.2        |

A website or link target also used by two profiles of one platform (a founder
and their company on X, say) is ambiguous and scores 0.5; one used by more than
`MAX_SHARED` profiles is common and gives no signal, and so does a display name
that more than `MAX_SHARED` profiles carry.

Two profiles are linked when one signal reaches `STRONG` (0.8), or when two or
more signals together reach `COMBINED` (0.7), combining as independent evidence:
1 - (1 - a)(1 - b). So a weak signal alone never links two profiles. Links join
people in descending confidence, and a person never holds two profiles of one
platform: a link that would do so is rejected and kept with its reason.

The result depends only on the input facts, not on their order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any
from uuid import UUID

from sxe.identity.facts import IdentityFacts

STRONG = 0.8
COMBINED = 0.7
MAX_SHARED = 8
"""A value carried by more profiles than this is too common to tell people apart."""

CROSS_LINK = 0.95
LINK_TARGET = 0.95
WEBSITE = 0.9
AMBIGUOUS = 0.5
HANDLE = 0.85
SHORT_HANDLE = 0.4
FULL_NAME = 0.5
ONE_WORD_NAME = 0.2


@dataclass(frozen=True, slots=True)
class Signal:
    """One piece of evidence that two profiles are one person."""

    kind: str
    confidence: float
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Link:
    """Two profiles (`first` < `second`), their signals and the outcome.

    `state` is 'active' when the link joined the profiles into one person, or
    'rejected' with a `reason` when it would have put two profiles of one platform
    into one person.
    """

    first: UUID
    second: UUID
    signals: tuple[Signal, ...]
    confidence: float
    state: str = "active"
    reason: str | None = None


@dataclass(slots=True)
class Resolution:
    """People as sets of profile ids, and every link that was decided."""

    people: list[frozenset[UUID]] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


def resolve(facts: Sequence[IdentityFacts]) -> Resolution:
    """Group `facts` into people; every profile ends in exactly one person."""
    by_id = {fact.profile_id: fact for fact in facts}
    signals = _collect_signals(facts)
    candidates = [_decide(pair, found) for pair, found in signals.items()]
    # Equally strong links are taken in the order of their profiles' stable keys, so two
    # runs over the same profiles join the same pair when two links conflict.
    linked = sorted(
        (link for link in candidates if link is not None),
        key=lambda link: (-link.confidence, *sorted((_order_key(by_id[link.first]), _order_key(by_id[link.second])))),
    )

    clusters = _Clusters(by_id)
    links: list[Link] = []
    for link in linked:
        conflict = clusters.conflict(link.first, link.second)
        if conflict is None:
            clusters.join(link.first, link.second)
            links.append(link)
        else:
            links.append(Link(link.first, link.second, link.signals, link.confidence, "rejected", conflict))
    return Resolution(people=clusters.groups(), links=links)


def _order_key(fact: IdentityFacts) -> str:
    return fact.stable_key or str(fact.profile_id)


def combined_confidence(confidences: Iterable[float]) -> float:
    """Combine independent confidences: 1 - product of (1 - c)."""
    remaining = 1.0
    for confidence in confidences:
        remaining *= 1.0 - confidence
    return round(1.0 - remaining, 4)


def _decide(pair: tuple[UUID, UUID], found: dict[str, Signal]) -> Link | None:
    signals = tuple(sorted(found.values(), key=lambda signal: (-signal.confidence, signal.kind)))
    strongest = signals[0].confidence
    confidence = combined_confidence(signal.confidence for signal in signals)
    if strongest >= STRONG or (len(signals) >= 2 and confidence >= COMBINED):
        return Link(pair[0], pair[1], signals, confidence)
    return None


def _collect_signals(facts: Sequence[IdentityFacts]) -> dict[tuple[UUID, UUID], dict[str, Signal]]:
    """Return the strongest signal of each kind for every pair of profiles on different platforms."""
    found: dict[tuple[UUID, UUID], dict[str, Signal]] = defaultdict(dict)

    def add(a: IdentityFacts, b: IdentityFacts, signal: Signal) -> None:
        if a.platform == b.platform:
            return
        pair = (a.profile_id, b.profile_id) if a.profile_id < b.profile_id else (b.profile_id, a.profile_id)
        current = found[pair].get(signal.kind)
        if current is None or signal.confidence > current.confidence:
            found[pair][signal.kind] = signal

    _shared_values(facts, lambda f: f.domains, "same_website", "domain", WEBSITE, add)
    _shared_values(facts, lambda f: f.link_targets, "same_link_target", "link_target", LINK_TARGET, add)
    _same_handles(facts, add)
    _same_names(facts, add)
    _cross_links(facts, add)
    return found


def _shared_values(facts: Sequence[IdentityFacts], values: Any, kind: str, key: str, strong: float, add: Any) -> None:
    groups: dict[str, list[IdentityFacts]] = defaultdict(list)
    for fact in facts:
        for value in values(fact):
            groups[value].append(fact)

    for value, members in groups.items():
        if len(members) < 2 or len(members) > MAX_SHARED:
            continue
        platforms = [member.platform for member in members]
        ambiguous = len(set(platforms)) < len(platforms)
        confidence = AMBIGUOUS if ambiguous else strong
        evidence = {key: value, **({"shared_on_one_platform": True} if ambiguous else {})}
        for a, b in combinations(members, 2):
            add(a, b, Signal(kind, confidence, evidence))


def _same_handles(facts: Sequence[IdentityFacts], add: Any) -> None:
    groups: dict[str, list[IdentityFacts]] = defaultdict(list)
    for fact in facts:
        if fact.handle:
            groups[fact.handle].append(fact)

    for handle, members in groups.items():
        for a, b in combinations(members, 2):
            distinctive = a.handle_is_distinctive
            confidence = HANDLE if distinctive else SHORT_HANDLE
            add(a, b, Signal("same_handle", confidence, {"handle": handle, "distinctive": distinctive}))


def _same_names(facts: Sequence[IdentityFacts], add: Any) -> None:
    groups: dict[str, list[IdentityFacts]] = defaultdict(list)
    for fact in facts:
        if fact.name_key:
            groups[fact.name_key].append(fact)

    for name, members in groups.items():
        if len(members) > MAX_SHARED:
            continue
        for a, b in combinations(members, 2):
            confidence = FULL_NAME if a.name_words >= 2 else ONE_WORD_NAME
            add(a, b, Signal("same_display_name", confidence, {"display_name": name}))


def _cross_links(facts: Sequence[IdentityFacts], add: Any) -> None:
    by_handle = {(fact.platform, fact.handle): fact for fact in facts if fact.handle}
    for fact in facts:
        for platform, handle in sorted(fact.cross_links):
            target = by_handle.get((platform, handle))
            if target is not None:
                evidence = {"from": f"{fact.platform.value}:{fact.handle}", "names": f"{platform.value}:{handle}"}
                add(fact, target, Signal("bio_cross_link", CROSS_LINK, evidence))


class _Clusters:
    """Union-find over profile ids that tracks the platforms in each cluster."""

    def __init__(self, facts: dict[UUID, IdentityFacts]) -> None:
        self._parent = {profile_id: profile_id for profile_id in facts}
        self._platforms = {profile_id: {fact.platform.value} for profile_id, fact in facts.items()}

    def find(self, profile_id: UUID) -> UUID:
        root = profile_id
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[profile_id] != root:
            self._parent[profile_id], profile_id = root, self._parent[profile_id]
        return root

    def conflict(self, a: UUID, b: UUID) -> str | None:
        """Return why `a` and `b` cannot be joined, or None when they can."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return None
        shared = sorted(self._platforms[root_a] & self._platforms[root_b])
        if shared:
            return f"the person would hold two {shared[0]} profiles"
        return None

    def join(self, a: UUID, b: UUID) -> None:
        root_a, root_b = sorted((self.find(a), self.find(b)))
        if root_a == root_b:
            return
        self._parent[root_b] = root_a
        self._platforms[root_a] |= self._platforms.pop(root_b)

    def groups(self) -> list[frozenset[UUID]]:
        members: dict[UUID, set[UUID]] = defaultdict(set)
        for profile_id in self._parent:
            members[self.find(profile_id)].add(profile_id)
        return sorted((frozenset(group) for group in members.values()), key=lambda group: str(min(group)))
