"""The enrichment gate: decide, per lead card, whether a paid lookup is allowed and worth it.

Every decision, enqueue or skip, is written with its reason. The checks run from
cheapest to dearest: the pool's intent policy, whether the card has a usable
lookup key, the cooldown memory, the budget, and last the provider's breaker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from sxe.adapters.base import LookupRequest


class SkipReason(StrEnum):
    PROVIDER_NOT_ALLOWED = "provider_not_allowed"
    EXCLUDED_QUALITY_FLAG = "excluded_quality_flag"
    BELOW_MIN_FOLLOWERS = "below_min_followers"
    PERSONA_NOT_TARGETED = "persona_not_targeted"
    TRIBE_NOT_TARGETED = "tribe_not_targeted"
    BELOW_MIN_QUALITY = "below_min_quality"
    ABOVE_MAX_FOLLOWERS = "above_max_followers"
    NO_PERSON_NAME = "no_person_name"
    NO_WEBSITE_DOMAIN = "no_website_domain"
    OVER_MAX_COST = "over_max_cost"
    COOLDOWN_MATCHED = "cooldown_matched"
    COOLDOWN_NO_MATCH = "cooldown_no_match"
    BUDGET_EXHAUSTED = "budget_exhausted"
    CIRCUIT_OPEN = "circuit_open"


# Skips that may clear by themselves: the card stays qualified and a later sweep decides again.
TRANSIENT_SKIPS = frozenset({SkipReason.BUDGET_EXHAUSTED, SkipReason.CIRCUIT_OPEN})

# Skips by the pool's intent policy: the card is disqualified until its data or the policy changes.
POLICY_SKIPS = frozenset(
    {
        SkipReason.PROVIDER_NOT_ALLOWED,
        SkipReason.EXCLUDED_QUALITY_FLAG,
        SkipReason.BELOW_MIN_FOLLOWERS,
        SkipReason.PERSONA_NOT_TARGETED,
        SkipReason.TRIBE_NOT_TARGETED,
        SkipReason.BELOW_MIN_QUALITY,
        SkipReason.ABOVE_MAX_FOLLOWERS,
        SkipReason.OVER_MAX_COST,
    }
)

# Skips for want of anything to match on: the card goes on to handoff without a lookup.
NO_KEY_SKIPS = frozenset({SkipReason.NO_PERSON_NAME, SkipReason.NO_WEBSITE_DOMAIN})

# Link hubs and shorteners tell nothing about where a person works, so they are no lookup key.
LINK_HUB_DOMAINS = frozenset(
    {"linktr.ee", "beacons.ai", "lnk.bio", "bio.link", "linkin.bio", "t.co", "bit.ly", "tiktok.com", "x.com"}
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A tagged card and the facts about it that the gate reads."""

    card_id: UUID
    readiness: str
    personas: tuple[str, ...]
    display_name: str | None
    website_domain: str | None
    followers: int | None
    quality_flags: tuple[str, ...]
    tribes: tuple[str, ...] = ()
    quality: float = 0.0

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Candidate:
        return cls(
            card_id=row["card_id"],
            readiness=row["readiness"],
            personas=tuple(row["personas"]),
            display_name=row["display_name"],
            website_domain=row["website_domain"],
            followers=row["followers"],
            quality_flags=tuple(row["quality_flags"] or ()),
            tribes=tuple(row.get("tribes") or ()),
            quality=float(row.get("quality") or 0.0),
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """Enqueue (`skip` is None) or skip with a reason; `request` is set once a lookup key exists."""

    card_id: UUID
    skip: SkipReason | None
    request: LookupRequest | None = None
    detail: str | None = None
    readiness: str = "tagged"

    @property
    def enqueue(self) -> bool:
        return self.skip is None


def check_policy(candidate: Candidate, intent: dict[str, Any], provider: str, quoted_credits: int) -> Decision:
    """Apply the pool's intent policy and build the lookup request; touch no shared state."""
    skip = _policy_skip(candidate, intent, provider, quoted_credits)
    if skip is not None:
        return Decision(candidate.card_id, skip[0], detail=skip[1])

    request = lookup_request(candidate)
    if request is None:
        return Decision(candidate.card_id, SkipReason.NO_PERSON_NAME, detail="the display name is not a person's name")
    if request.domain is None:
        return Decision(candidate.card_id, SkipReason.NO_WEBSITE_DOMAIN, request, "no own website domain to match on")
    return Decision(candidate.card_id, None, request)


def _policy_skip(
    candidate: Candidate, intent: dict[str, Any], provider: str, quoted_credits: int
) -> tuple[SkipReason, str] | None:
    if provider not in intent.get("allowed_providers", []):
        return SkipReason.PROVIDER_NOT_ALLOWED, f"{provider} is not in the pool's allowed_providers"

    excluded = sorted(set(candidate.quality_flags) & set(intent.get("exclude_quality_flags", [])))
    if excluded:
        return SkipReason.EXCLUDED_QUALITY_FLAG, f"quality flags {excluded} are excluded by the pool"

    min_followers = int(intent.get("min_followers", 0))
    if (candidate.followers or 0) < min_followers:
        return SkipReason.BELOW_MIN_FOLLOWERS, f"{candidate.followers or 0} followers is below {min_followers}"

    max_followers = intent.get("max_followers")
    if max_followers is not None and (candidate.followers or 0) > int(max_followers):
        return SkipReason.ABOVE_MAX_FOLLOWERS, f"{candidate.followers} followers is above {max_followers}"

    targets = set(intent.get("target_personas", []))
    if targets and not targets & set(candidate.personas):
        return SkipReason.PERSONA_NOT_TARGETED, f"personas {list(candidate.personas)} miss {sorted(targets)}"

    tribes = set(intent.get("target_tribes", []))
    if tribes and not tribes & set(candidate.tribes):
        return SkipReason.TRIBE_NOT_TARGETED, f"tribes {list(candidate.tribes)} miss {sorted(tribes)}"

    min_quality = float(intent.get("min_quality", 0.0))
    if candidate.quality < min_quality:
        return SkipReason.BELOW_MIN_QUALITY, f"best persona score {candidate.quality} is below {min_quality}"

    max_cost = int(intent.get("max_cost_credits_per_lead", quoted_credits))
    if quoted_credits > max_cost:
        return SkipReason.OVER_MAX_COST, f"quoted {quoted_credits} credits exceeds {max_cost}"
    return None


_NAME_SEPARATORS = re.compile(r"\s[|•·–—-]\s|[|•·,(\[]")
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'.-]*$")


def lookup_request(candidate: Candidate) -> LookupRequest | None:
    """Build a people-match request from a display name such as "Dana Whitfield | Coach".

    Returns None when the name is not two to four plain words, because a brand
    name or a single word would buy a lookup that cannot identify a person.
    """
    if not candidate.display_name:
        return None
    name_part = _NAME_SEPARATORS.split(candidate.display_name, maxsplit=1)[0]
    words = [word for word in name_part.split() if _NAME_WORD.match(word)]
    if len(words) != len(name_part.split()) or not 2 <= len(words) <= 4:
        return None

    domain = candidate.website_domain
    if domain is not None and domain in LINK_HUB_DOMAINS:
        domain = None
    return LookupRequest(first_name=words[0], last_name=words[-1], name=" ".join(words), domain=domain)
