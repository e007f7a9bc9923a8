"""The enrichment gate: decide, per lead card, whether a paid lookup is allowed and worth it.

Every decision, enqueue or skip, is written with its reason and the identity
bridge it used. The checks run from cheapest to dearest: the pool's intent
policy, whether the card has anything the provider can match on (the identity
bridge, `sxe.orchestrator.bridge`), the cooldown memory, the budget, and last the
provider's breaker.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from sxe.adapters.base import LookupRequest
from sxe.orchestrator import bridge
from sxe.orchestrator.bridge import LINK_HUB_DOMAINS, Bridge, BridgeKind


class SkipReason(StrEnum):
    PROVIDER_NOT_ALLOWED = "provider_not_allowed"
    PROVIDER_NOT_CONFIGURED = "provider_not_configured"
    EXCLUDED_QUALITY_FLAG = "excluded_quality_flag"
    BELOW_MIN_FOLLOWERS = "below_min_followers"
    PERSONA_NOT_TARGETED = "persona_not_targeted"
    TRIBE_NOT_TARGETED = "tribe_not_targeted"
    BELOW_MIN_QUALITY = "below_min_quality"
    ABOVE_MAX_FOLLOWERS = "above_max_followers"
    NO_PERSON_NAME = "no_person_name"
    NO_WEBSITE_DOMAIN = "no_website_domain"
    NO_MATCH_KEY = "no_match_key"
    OVER_MAX_COST = "over_max_cost"
    COOLDOWN_MATCHED = "cooldown_matched"
    COOLDOWN_NO_MATCH = "cooldown_no_match"
    BUDGET_EXHAUSTED = "budget_exhausted"
    CIRCUIT_OPEN = "circuit_open"


# The meaning of each skip, in words, for people reading `sxe explain`. A decision row
# keeps only the code, and the decision's audit entry keeps its detail.
SKIP_DESCRIPTIONS: dict[str, str] = {
    SkipReason.PROVIDER_NOT_ALLOWED: "the pool's allowed_providers leave this provider out",
    SkipReason.PROVIDER_NOT_CONFIGURED: "the pool allows this provider, but the run does not configure it",
    SkipReason.EXCLUDED_QUALITY_FLAG: "the card has a quality flag that the pool's exclude_quality_flags lists",
    SkipReason.BELOW_MIN_FOLLOWERS: "the card has fewer followers than the pool's min_followers",
    SkipReason.PERSONA_NOT_TARGETED: "none of the card's personas is in the pool's target_personas",
    SkipReason.TRIBE_NOT_TARGETED: "none of the card's tribes is in the pool's target_tribes",
    SkipReason.BELOW_MIN_QUALITY: "the card's best persona score is below the pool's min_quality",
    SkipReason.ABOVE_MAX_FOLLOWERS: "the card has more followers than the pool's max_followers",
    SkipReason.NO_PERSON_NAME: "no person's name to look up",
    SkipReason.NO_WEBSITE_DOMAIN: "no website domain to look up",
    SkipReason.NO_MATCH_KEY: "nothing this provider can match on, such as a LinkedIn URL or a name with an own domain",
    SkipReason.OVER_MAX_COST: "the provider's quote is above the pool's max_cost_credits_per_lead",
    SkipReason.COOLDOWN_MATCHED: "the same lookup matched within its cooldown, so its result is reused",
    SkipReason.COOLDOWN_NO_MATCH: "the same lookup found nothing within its cooldown",
    SkipReason.BUDGET_EXHAUSTED: "the budget left for the period is below the provider's quote",
    SkipReason.CIRCUIT_OPEN: "the provider's circuit breaker is open",
}

# Error classes of the history entries with which the worker cancels a lookup job before
# any provider call, because the card no longer passes the gate or the budget cannot take
# the quote. The worker writes their messages itself, without contact data, so `sxe explain`
# prints them, where it prints only the class of a provider's error.
GATE_REJECTED = "GateRejected"
BUDGET_EXHAUSTED = "BudgetExhausted"
CANCEL_CLASSES = (GATE_REJECTED, BUDGET_EXHAUSTED)

# Skips that may clear by themselves or with a settings or intent change: the card stays
# qualified and a later sweep decides again. A provider that the intent allows but the run
# does not configure (or the reverse) is a settings problem, not a fact about the card, so it
# never disqualifies it.
TRANSIENT_SKIPS = frozenset(
    {
        SkipReason.BUDGET_EXHAUSTED,
        SkipReason.CIRCUIT_OPEN,
        SkipReason.PROVIDER_NOT_ALLOWED,
        SkipReason.PROVIDER_NOT_CONFIGURED,
    }
)

# Skips by the pool's intent policy: the card is disqualified until its data or the policy
# changes (`sxe.cards.intent.set_intent` sends the pool's disqualified cards back to tagged).
POLICY_SKIPS = frozenset(
    {
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
# NO_PERSON_NAME and NO_WEBSITE_DOMAIN are kept for decisions recorded before the identity bridge.
NO_KEY_SKIPS = frozenset({SkipReason.NO_PERSON_NAME, SkipReason.NO_WEBSITE_DOMAIN, SkipReason.NO_MATCH_KEY})

__all__ = ["LINK_HUB_DOMAINS", "Candidate", "Decision", "SkipReason", "card_policy_skip", "check_policy"]


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
    links: tuple[str, ...] = ()
    profile_keys: tuple[str, ...] = ()

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
            links=tuple(row.get("links") or ()),
            profile_keys=tuple(row.get("profile_keys") or ()),
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """Enqueue (`skip` is None) or skip with a reason; `request` is set once a lookup key exists."""

    card_id: UUID
    skip: SkipReason | None
    request: LookupRequest | None = None
    detail: str | None = None
    readiness: str = "tagged"
    bridge: BridgeKind | None = None

    @property
    def enqueue(self) -> bool:
        return self.skip is None


def check_policy(candidate: Candidate, intent: dict[str, Any], provider: str, quoted_credits: int) -> Decision:
    """Apply the pool's intent policy and derive the identity bridge; touch no shared state.

    A card with nothing `provider` can match on is skipped as `no_match_key`, so no
    credit is spent on a certain miss.
    """
    skip = _policy_skip(candidate, intent, provider, quoted_credits)
    if skip is not None:
        return Decision(candidate.card_id, skip[0], detail=skip[1])

    found = match_key(candidate, provider)
    if isinstance(found, bridge.NoBridge):
        return Decision(candidate.card_id, SkipReason.NO_MATCH_KEY, detail=found.missing)
    return Decision(candidate.card_id, None, found.request, bridge=found.kind)


def match_key(candidate: Candidate, provider: str) -> Bridge | bridge.NoBridge:
    """Return what `provider` can match this card on, or why there is nothing."""
    return bridge.derive(
        candidate.display_name, candidate.website_domain, candidate.links, candidate.profile_keys, provider
    )


def _policy_skip(
    candidate: Candidate, intent: dict[str, Any], provider: str, quoted_credits: int
) -> tuple[SkipReason, str] | None:
    if provider not in intent.get("allowed_providers", []):
        return SkipReason.PROVIDER_NOT_ALLOWED, f"{provider} is not in the pool's allowed_providers"
    return card_policy_skip(candidate, intent, quoted_credits)


def card_policy_skip(
    candidate: Candidate, intent: dict[str, Any], quoted_credits: int
) -> tuple[SkipReason, str] | None:
    """Return the skip reason and detail of the first intent rule the card fails, or None when it passes them all.

    These are the rules about the card itself (quality flags, followers, persona and
    tribe labels, persona score) and the pool's cost cap. Every reason returned is in
    `POLICY_SKIPS`.
    """
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
