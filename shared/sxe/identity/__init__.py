"""Identity resolution: Tier 1 profiles into Tier 3 people, with the evidence that links them.

`profile_facts` extracts what a profile can be matched on, `resolve` groups facts
into people (pure, no database), and `resolve_people` does both over every stored
profile and records people and links in `execution.people`,
`execution.person_profiles` and `execution.identity_links`.
"""

from __future__ import annotations

from sxe.identity.facts import GENERIC_HOSTS, IdentityFacts, name_key_of, profile_facts
from sxe.identity.resolve import Link, Resolution, Signal, combined_confidence, resolve
from sxe.identity.store import PeopleUpdate, load_facts, resolve_people

__all__ = [
    "GENERIC_HOSTS",
    "IdentityFacts",
    "Link",
    "PeopleUpdate",
    "Resolution",
    "Signal",
    "combined_confidence",
    "load_facts",
    "name_key_of",
    "profile_facts",
    "resolve",
    "resolve_people",
]
