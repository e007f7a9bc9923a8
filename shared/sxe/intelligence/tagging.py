"""Tagging of a lead card's profiles with persona, tribe and tier labels.

How labels are chosen:

- Each rule is matched against each profile of the card on its own, so all of a
  rule's terms and requirements must hold on one profile.
- A rule's card score grows with the distinct terms it matched over all
  profiles (see `Rule.card_score`).
- For each (kind, value) the highest-scoring rule wins and sets the label's
  `rule_id` and `score`. Ties go to the rule listed first in the ruleset.
- A persona or tribe label is emitted only when that score reaches the
  ruleset's `min_score` for its kind (0.5 for both in personas-v1). Rules scored
  below the threshold never emit a label alone, but they add supporting evidence
  when a stronger rule fires for the same label.
- Every card gets exactly one tier label, from the highest follower count over
  its profiles. The card gets the unknown tier when no profile reports a
  count, or when the highest count is negative. Tier labels have score 1.0.

Evidence lists ruleset terms and profile counts or flags, never bio text, so it
cannot contain an email address or phone number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sxe.intelligence.matching import PreparedProfile, ProfileMatch, match_rule, rules_to_match
from sxe.intelligence.ruleset import Rule, Ruleset, load_default_ruleset
from sxe.models import Label, Profile

_KIND_ORDER = {"persona": 0, "tribe": 1, "tier": 2}
TIER_SCORE = 1.0
"""The score of every tier label: the tier follows from the counts, not from a guess."""


@dataclass(frozen=True, slots=True)
class _RuleHit:
    """A rule that fired on at least one profile of the card."""

    rule: Rule
    position: int
    score: float
    matches: tuple[tuple[Profile, ProfileMatch], ...]


def tag(profiles: Sequence[Profile], ruleset: Ruleset | None = None) -> list[Label]:
    """Return the labels of one card whose profiles are `profiles`.

    `ruleset` defaults to `load_default_ruleset()`. Labels come in a fixed order:
    personas, then tribes, each by descending score and then by value, then the one
    tier label. The same input always gives the same labels in the same order.
    """
    if ruleset is None:
        ruleset = load_default_ruleset()

    prepared = [PreparedProfile.of(profile) for profile in profiles]
    hits_by_label: dict[tuple[str, str], list[_RuleHit]] = {}
    for position in rules_to_match(ruleset, prepared):
        rule = ruleset.rules[position]
        hit = _match_card(rule, position, prepared)
        if hit is not None:
            hits_by_label.setdefault((rule.kind, rule.value), []).append(hit)

    labels = [
        _build_label(hits, ruleset.version)
        for hits in hits_by_label.values()
        if _best_hit(hits).score >= ruleset.min_score.for_kind(hits[0].rule.kind)
    ]
    labels.sort(key=lambda label: (_KIND_ORDER[label.kind], -label.score, label.value))

    labels.append(_tier_label(profiles, ruleset))
    return labels


def _match_card(rule: Rule, position: int, profiles: Sequence[PreparedProfile]) -> _RuleHit | None:
    matches: list[tuple[Profile, ProfileMatch]] = []
    distinct_terms: set[str] = set()
    for prepared in profiles:
        match = match_rule(rule, prepared)
        if match is None:
            continue
        matches.append((prepared.profile, match))
        distinct_terms |= match.distinct_terms()

    if not matches:
        return None
    return _RuleHit(rule, position, rule.card_score(len(distinct_terms)), tuple(matches))


def _best_hit(hits: list[_RuleHit]) -> _RuleHit:
    return min(hits, key=lambda hit: (-hit.score, hit.position))


def _build_label(hits: list[_RuleHit], ruleset_version: str) -> Label:
    ordered = sorted(hits, key=lambda hit: (-hit.score, hit.position))
    best = ordered[0]
    evidence = {
        "rule_id": best.rule.id,
        "ruleset_version": ruleset_version,
        "rules": [{"rule_id": hit.rule.id, "score": hit.score} for hit in ordered],
        "matches": [entry for hit in ordered for entry in _evidence_entries(hit)],
    }
    return Label(
        kind=best.rule.kind,
        value=best.rule.value,
        rule_id=best.rule.id,
        ruleset_version=ruleset_version,
        score=best.score,
        evidence=evidence,
    )


def _evidence_entries(hit: _RuleHit) -> list[dict[str, Any]]:
    """Return one entry per matched field and per met requirement, profile by profile."""
    entries: list[dict[str, Any]] = []
    for profile, match in hit.matches:
        source = {"platform": profile.platform.value, "handle": profile.handle}
        for field_match in match.fields:
            entries.append(
                {"rule_id": hit.rule.id, "field": field_match.field, "matched": list(field_match.terms), **source}
            )
        for requirement in match.requirements:
            entries.append({"rule_id": hit.rule.id, "field": requirement.field, "value": requirement.value, **source})
    return entries


def _tier_label(profiles: Sequence[Profile], ruleset: Ruleset) -> Label:
    """Build the card's tier label from its profile with the most followers.

    The highest count is used, not the sum, because follower tiers describe the
    reach of one account and the same people often follow a person on several
    platforms. Among profiles with equal counts the first one is reported.
    """
    counted = [profile for profile in profiles if profile.followers is not None]
    top = max(counted, key=lambda profile: profile.followers or 0, default=None)
    band = ruleset.tiers.band_for(top.followers) if top is not None and top.followers is not None else None

    if top is None or band is None:
        unknown = ruleset.tiers.unknown
        evidence: dict[str, Any] = {"rule_id": unknown.id, "ruleset_version": ruleset.version, "matches": []}
        return Label("tier", unknown.value, unknown.id, ruleset.version, TIER_SCORE, evidence)

    match = {"field": "followers", "value": top.followers, "platform": top.platform.value, "handle": top.handle}
    evidence = {
        "rule_id": band.id,
        "ruleset_version": ruleset.version,
        "bounds": {"min_followers": band.min_followers, "max_followers_exclusive": band.max_followers_exclusive},
        "matches": [match],
    }
    return Label("tier", band.value, band.id, ruleset.version, TIER_SCORE, evidence)
