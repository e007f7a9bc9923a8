"""Matching of one rule against one profile.

Keywords and hashtags match as whole words: the characters before and after a
match must not be letters, digits or '_'. Matching ignores case, and spaces inside
a phrase match any run of whitespace. Emoji match as substrings after the emoji
variation selector (U+FE0F) is removed from both sides, so "💪🏽" matches "💪".
The result records which ruleset terms matched, never the profile's own text.

A whole-word match contains the term's first run of word characters as a word of
the text. So each rule's terms, and each ruleset's rules, are indexed once by those
words, and a profile is checked only against the terms and rules that its own words
select (`rules_to_match`). That gives the same matches as checking every term.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sxe.intelligence.ruleset import Rule, RuleRequirements, Ruleset
from sxe.models import Profile

_VARIATION_SELECTOR = "\ufe0f"
_WORD = re.compile(r"\w+")
# Rules and rulesets prepared so far, by id, with the object itself so that a reused id is noticed.
_PREPARED: dict[int, tuple[Rule | Ruleset, Any]] = {}
_PREPARED_LIMIT = 4096


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
    """A profile text field normalized for matching, with a lowercase copy and its words for fast pre-checks.

    `words` is None when lowercasing changed the text's length, because its words
    would then not line up with the text's.
    """

    text: str
    lowered: str
    words: frozenset[str] | None

    @classmethod
    def of(cls, raw: str | None) -> _SearchText:
        text = _normalize_text(raw or "")
        lowered = text.lower()
        words = frozenset(_WORD.findall(lowered)) if len(lowered) == len(text) else None
        return cls(text, lowered, words)

    def has_word(self, term: str) -> bool:
        """Return whether `term` occurs in the text as a whole word or phrase, ignoring case."""
        if _first_word(term) not in self.lowered:
            return False
        return _word_pattern(term).search(self.text) is not None


@dataclass(frozen=True, slots=True)
class _WordTerms:
    """One field's whole-word terms of a rule, indexed by the first word that a text must contain for each.

    A whole-word match of a term contains the term's first run of word characters as a
    word of its own, so only the terms whose run is among the text's words can match.
    """

    terms: tuple[str, ...]
    by_anchor: dict[str, tuple[tuple[int, str], ...]]
    anchors: frozenset[str]
    unanchored: tuple[tuple[int, str], ...]

    @classmethod
    def of(cls, terms: Sequence[str]) -> _WordTerms:
        by_anchor: dict[str, list[tuple[int, str]]] = {}
        unanchored: list[tuple[int, str]] = []
        for position, term in enumerate(terms):
            anchor = _WORD.search(_normalize_text(term).lower())
            if anchor is None:
                unanchored.append((position, term))
            else:
                by_anchor.setdefault(anchor.group(), []).append((position, term))
        indexed = {anchor: tuple(entries) for anchor, entries in by_anchor.items()}
        return cls(tuple(terms), indexed, frozenset(indexed), tuple(unanchored))

    def found_in(self, text: _SearchText) -> list[str]:
        """Return the terms that occur in `text` as whole words, in rule order."""
        if text.words is None:
            return [term for term in self.terms if text.has_word(term)]
        candidates = [entry for anchor in self.anchors & text.words for entry in self.by_anchor[anchor]]
        if not candidates and not self.unanchored:
            return []
        candidates += self.unanchored
        candidates.sort()
        return [term for _, term in candidates if text.has_word(term)]


@dataclass(frozen=True, slots=True)
class _RuleTerms:
    """A rule's terms prepared for matching once, however many profiles it is matched against."""

    bio_words: _WordTerms
    bio_emoji: tuple[tuple[str, str], ...]
    ascii_emoji: bool
    display_name_words: _WordTerms
    website_domains: tuple[str, ...]
    required_terms: int

    @classmethod
    def of(cls, rule: Rule) -> _RuleTerms:
        terms = rule.terms
        emoji = tuple((term, _normalize_text(term)) for term in terms.bio_emoji)
        return cls(
            bio_words=_WordTerms.of((*terms.bio_keywords, *terms.bio_hashtags)),
            bio_emoji=emoji,
            ascii_emoji=any(normalized.isascii() for _, normalized in emoji),
            display_name_words=_WordTerms.of(terms.display_name_keywords),
            website_domains=terms.website_domains,
            required_terms=rule.required_terms,
        )


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

    terms = _rule_terms(rule)
    fields = _match_terms(terms, prepared)
    if len(fields) == 0 and terms.required_terms > 0:
        return None
    match = ProfileMatch(fields=fields, requirements=requirements)
    if len(match.distinct_terms()) < terms.required_terms:
        return None
    return match


def _rule_terms(rule: Rule) -> _RuleTerms:
    """Return the prepared terms of `rule`, prepared at its first match."""
    terms: _RuleTerms = _prepared(rule, _RuleTerms.of)
    return terms


def rules_to_match(ruleset: Ruleset, profiles: Sequence[PreparedProfile]) -> list[int]:
    """Return the positions, in ruleset order, of the rules that could fire on at least one of `profiles`.

    The other rules need a word, a website domain or an emoji that none of the profiles has.
    """
    index: _RuleIndex = _prepared(ruleset, _RuleIndex.of)
    return index.candidates(profiles)


def _prepared(source: Rule | Ruleset, prepare: Callable[[Any], Any]) -> Any:
    """Return `prepare(source)`, computed at the first call for this object and kept for later ones."""
    entry = _PREPARED.get(id(source))
    if entry is None or entry[0] is not source:
        if len(_PREPARED) >= _PREPARED_LIMIT:
            _PREPARED.clear()
        entry = _PREPARED[id(source)] = (source, prepare(source))
    return entry[1]


@dataclass(frozen=True, slots=True)
class _RuleIndex:
    """The rules of a ruleset by what a profile must have for each to fire.

    `by_word` maps the first word of each bio and display name term to the rules that
    list it. Rules that fire without terms, or that have a term without a word
    character, are always matched. The others are matched when a profile has one of
    their words, or a website domain or an emoji where they list those.
    """

    count: int
    by_word: dict[str, tuple[int, ...]]
    words: frozenset[str]
    always: frozenset[int]
    with_domain: frozenset[int]
    with_emoji: frozenset[int]

    @classmethod
    def of(cls, ruleset: Ruleset) -> _RuleIndex:
        by_word: dict[str, list[int]] = {}
        always, with_domain, with_emoji = set(), set(), set()
        for position, rule in enumerate(ruleset.rules):
            terms = _rule_terms(rule)
            if terms.required_terms == 0 or terms.ascii_emoji:
                always.add(position)
            for words in (terms.bio_words, terms.display_name_words):
                if words.unanchored:
                    always.add(position)
                for word in words.anchors:
                    by_word.setdefault(word, []).append(position)
            if terms.website_domains:
                with_domain.add(position)
            if terms.bio_emoji:
                with_emoji.add(position)
        indexed = {word: tuple(positions) for word, positions in by_word.items()}
        return cls(
            len(ruleset.rules),
            indexed,
            frozenset(indexed),
            frozenset(always),
            frozenset(with_domain),
            frozenset(with_emoji),
        )

    def candidates(self, profiles: Sequence[PreparedProfile]) -> list[int]:
        positions = set(self.always)
        for prepared in profiles:
            bio_words, name_words = prepared.bio.words, prepared.display_name.words
            if bio_words is None or name_words is None:
                return list(range(self.count))
            for word in (bio_words | name_words) & self.words:
                positions.update(self.by_word[word])
            if prepared.domain:
                positions |= self.with_domain
            if not prepared.bio.text.isascii():
                positions |= self.with_emoji
        return sorted(positions)


def _match_terms(terms: _RuleTerms, prepared: PreparedProfile) -> tuple[FieldMatch, ...]:
    bio, domain = prepared.bio, prepared.domain
    bio_terms = terms.bio_words.found_in(bio)
    # An emoji term that is not ASCII once normalized cannot occur in ASCII text.
    if terms.bio_emoji and (terms.ascii_emoji or not bio.text.isascii()):
        bio_terms += [term for term, normalized in terms.bio_emoji if normalized in bio.text]
    name_terms = terms.display_name_words.found_in(prepared.display_name)
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

    NOTE: this pre-check, and the word index of `_WordTerms`, are stricter than
    re.IGNORECASE for the few characters whose lower() differs from their case
    folding, such as the long s ('ſ').
    """
    return _normalize_text(term).split()[0].lower()


@cache
def _word_pattern(term: str) -> re.Pattern[str]:
    """Compile `term` to a case-insensitive whole-word pattern in which spaces match any whitespace."""
    words = [re.escape(word) for word in _normalize_text(term).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)
