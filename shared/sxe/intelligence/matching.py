"""Matching of one rule against one profile.

Keywords and hashtags match as whole words: the characters before and after a
match must not be letters, digits or '_'. Matching ignores case, and spaces inside
a phrase match any run of whitespace. Emoji match as substrings after the emoji
variation selector (U+FE0F) is removed from both sides, so "💪🏽" matches "💪".
The result records which ruleset terms matched, never the profile's own text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from sxe.intelligence.ruleset import Rule, RuleRequirements
from sxe.models import Profile

_VARIATION_SELECTOR = "\ufe0f"


@dataclass(frozen=True, slots=True)
class FieldMatch:
    """The ruleset terms that matched in one profile field (`bio`, `display_name` or `website_domain`)."""

    field: str
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RequirementMatch:
    """A requirement the profile met, with the profile value that met it."""

    field: str
    value: int | bool


@dataclass(frozen=True, slots=True)
class ProfileMatch:
    """The evidence that one rule fired on one profile: matched terms by field and the requirements met."""

    fields: tuple[FieldMatch, ...]
    requirements: tuple[RequirementMatch, ...]

    def distinct_terms(self) -> set[str]:
        """Return the matched terms, case-folded, without duplicates across fields."""
        return {term.casefold() for match in self.fields for term in match.terms}


@dataclass(frozen=True, slots=True)
class _SearchText:
    """A profile text field normalized for matching, with a lowercase copy for a fast substring pre-check."""

    text: str
    lowered: str

    @classmethod
    def of(cls, raw: str | None) -> _SearchText:
        text = _normalize_text(raw or "")
        return cls(text, text.lower())

    def has_word(self, term: str) -> bool:
        """Return whether `term` occurs in the text as a whole word or phrase, ignoring case."""
        if _first_word(term) not in self.lowered:
            return False
        return _word_pattern(term).search(self.text) is not None


@dataclass(frozen=True, slots=True)
class PreparedProfile:
    """A profile with its bio, display name and website domain normalized once for all rules."""

    profile: Profile
    bio: _SearchText
    display_name: _SearchText
    domain: str

    @classmethod
    def of(cls, profile: Profile) -> PreparedProfile:
        """Normalize the fields of `profile` that rules match against."""
        return cls(
            profile=profile,
            bio=_SearchText.of(profile.bio),
            display_name=_SearchText.of(profile.display_name),
            domain=_normalize_domain(profile.website_domain or ""),
        )


def match_rule(rule: Rule, prepared: PreparedProfile) -> ProfileMatch | None:
    """Return why `rule` fires on the profile, or None when it does not fire.

    The rule fires when every requirement is met and at least `rule.required_terms`
    distinct terms match.
    """
    requirements = _match_requirements(rule.require, prepared.profile)
    if requirements is None:
        return None

    fields = _match_terms(rule, prepared)
    match = ProfileMatch(fields=fields, requirements=requirements)
    if len(match.distinct_terms()) < rule.required_terms:
        return None
    return match


def _match_terms(rule: Rule, prepared: PreparedProfile) -> tuple[FieldMatch, ...]:
    terms = rule.terms
    bio = prepared.bio
    domain = prepared.domain

    bio_terms = [
        *(term for term in terms.bio_keywords if bio.has_word(term)),
        *(term for term in terms.bio_hashtags if bio.has_word(term)),
        *(term for term in terms.bio_emoji if _normalize_text(term) in bio.text),
    ]
    name_terms = [term for term in terms.display_name_keywords if prepared.display_name.has_word(term)]
    domain_terms = [term for term in terms.website_domains if domain and _domain_matches(domain, term)]

    candidates = (("bio", bio_terms), ("display_name", name_terms), ("website_domain", domain_terms))
    return tuple(FieldMatch(field, tuple(found)) for field, found in candidates if found)


def _match_requirements(require: RuleRequirements, profile: Profile) -> tuple[RequirementMatch, ...] | None:
    """Return the requirements the profile met, or None when any requirement fails."""
    met: list[RequirementMatch] = []

    if require.followers is not None:
        if profile.followers is None or not require.followers.contains(profile.followers):
            return None
        met.append(RequirementMatch("followers", profile.followers))

    flags = (
        ("verified", require.verified, profile.verified),
        ("bio_has_email", require.bio_has_email, profile.bio_has_email),
        ("bio_has_phone", require.bio_has_phone, profile.bio_has_phone),
    )
    for field, expected, actual in flags:
        if expected is None:
            continue
        if actual != expected:
            return None
        met.append(RequirementMatch(field, actual))

    return tuple(met)


def _normalize_text(text: str) -> str:
    """Return `text` in NFC form, without emoji variation selectors and with curly apostrophes straightened."""
    return unicodedata.normalize("NFC", text).replace(_VARIATION_SELECTOR, "").replace("\u2019", "'")


def _normalize_domain(domain: str) -> str:
    host = domain.strip().lower().rstrip(".")
    return host.removeprefix("www.")


def _domain_matches(domain: str, pattern: str) -> bool:
    if pattern.endswith("."):
        return domain.startswith(pattern)
    return domain == pattern or domain.endswith("." + pattern)


@cache
def _first_word(term: str) -> str:
    """Return the lowercase first word of `term`, which the lowercased text must contain for a match.

    NOTE: this pre-check is stricter than re.IGNORECASE for the few characters whose
    lower() differs from their case folding, such as the long s ('ſ').
    """
    return _normalize_text(term).split()[0].lower()


@cache
def _word_pattern(term: str) -> re.Pattern[str]:
    """Compile `term` to a case-insensitive whole-word pattern in which spaces match any whitespace."""
    words = [re.escape(word) for word in _normalize_text(term).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)
