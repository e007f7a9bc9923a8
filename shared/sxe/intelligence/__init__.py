"""Explainable persona, tribe and follower-tier labels for lead cards.

`tag(profiles, ruleset)` labels one card from its profiles. `load_default_ruleset()`
returns the shipped default ruleset (`personas-v2`), and `load_ruleset(path)` reads another.
"""

from __future__ import annotations

from sxe.intelligence.ruleset import (
    DEFAULT_RULESET_VERSION,
    Rule,
    Ruleset,
    RulesetError,
    load_default_ruleset,
    load_ruleset,
    load_shipped_ruleset,
    parse_ruleset,
)
from sxe.intelligence.tagging import TIER_SCORE, tag

__all__ = [
    "DEFAULT_RULESET_VERSION",
    "TIER_SCORE",
    "Rule",
    "Ruleset",
    "RulesetError",
    "load_default_ruleset",
    "load_ruleset",
    "load_shipped_ruleset",
    "parse_ruleset",
    "tag",
]
