"""The word index that picks which rule terms to check against a profile finds what checking every term finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from test_personas import make_profile

from sxe.intelligence import Rule, Ruleset, load_shipped_ruleset, matching
from sxe.intelligence.matching import FieldMatch, PreparedProfile, match_rule, rules_to_match

RULESETS: list[Ruleset] = [load_shipped_ruleset(version) for version in ("personas-v1", "personas-v2")]
RULES: list[Rule] = [rule for ruleset in RULESETS for rule in ruleset.rules]
# Hosts that each domain pattern matches: "shop." matches hosts that start with it, "etsy.com" itself and subdomains.
DOMAINS = sorted(
    {
        host
        for rule in RULES
        for pattern in rule.terms.website_domains
        for host in ((pattern + "example.com",) if pattern.endswith(".") else (pattern, "shop." + pattern))
    }
)
TERMS = sorted(
    {
        term
        for rule in RULES
        for term in (
            *rule.terms.bio_keywords,
            *rule.terms.bio_hashtags,
            *rule.terms.bio_emoji,
            *rule.terms.display_name_keywords,
        )
    }
)
# Separators that do and do not end a word, and letters that lowercasing or NFC change.
SEPARATORS = [" ", "  ", "\n", "-", "#", "_", ".", "/", "'", "\u2019", "é", "\ufe0f", "İ", "ß", "1"]


def profile(
    bio: str, display_name: str, website_domain: str | None = None, followers: int | None = None
) -> PreparedProfile:
    return PreparedProfile.of(
        make_profile(bio, display_name=display_name, website_domain=website_domain, followers=followers)
    )


def every_term(rule: Rule, prepared: PreparedProfile) -> tuple[FieldMatch, ...]:
    """Check every term of `rule` one by one, as matching did before the word index."""
    terms, bio, name = rule.terms, prepared.bio, prepared.display_name
    bio_terms = [
        *(term for term in terms.bio_keywords if bio.has_word(term)),
        *(term for term in terms.bio_hashtags if bio.has_word(term)),
        *(term for term in terms.bio_emoji if matching._normalize_text(term) in bio.text),
    ]
    name_terms = [term for term in terms.display_name_keywords if name.has_word(term)]
    found = (("bio", bio_terms), ("display_name", name_terms))
    return tuple(FieldMatch(field, tuple(terms)) for field, terms in found if terms)


def indexed(rule: Rule, prepared: PreparedProfile) -> tuple[FieldMatch, ...]:
    return matching._match_terms(matching._rule_terms(rule), prepared)


pieces = st.one_of(
    st.sampled_from(TERMS),
    st.sampled_from(TERMS).map(str.upper),
    st.sampled_from(TERMS).map(str.title),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz#-_ 0123456789éüñ", max_size=10),
)
texts = st.lists(st.tuples(pieces, st.sampled_from(SEPARATORS)), max_size=8).map(
    lambda parts: "".join(piece + separator for piece, separator in parts)
)


@settings(max_examples=400, deadline=None)
@given(bio=texts, display_name=texts)
def test_index_equals_every_term(bio: str, display_name: str) -> None:
    prepared = profile(bio, display_name)

    for rule in RULES:
        assert indexed(rule, prepared) == every_term(rule, prepared), rule.id


def test_index_finds_terms_by_first_word() -> None:
    prepared = profile("Realtor & real-estate COACH #FitFam 💪🏽 in Austin", "Jane | Coach")

    found = {rule.id: indexed(rule, prepared) for rule in RULES}

    assert any(fields for fields in found.values())
    for rule in RULES:
        assert found[rule.id] == every_term(rule, prepared), rule.id


def test_lowercase_length_change_checks_every_term() -> None:
    # "İ" lowercases to two characters, so the text's words no longer line up with it.
    prepared = profile("İstanbul coach and realtor", "")

    assert prepared.bio.words is None
    for rule in RULES:
        assert indexed(rule, prepared) == every_term(rule, prepared), rule.id


def test_rule_terms_prepared_once_per_rule() -> None:
    rule = RULES[0]

    assert matching._rule_terms(rule) is matching._rule_terms(rule)
    assert matching._rule_terms(rule.model_copy()) is not matching._rule_terms(rule)


cards = st.lists(
    st.tuples(
        texts,
        texts,
        st.one_of(st.none(), st.sampled_from(DOMAINS)),
        st.one_of(st.none(), st.integers(min_value=0, max_value=5_000_000)),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(card=cards)
def test_skipped_rules_never_fire(card: list[tuple[str, str, str | None, int | None]]) -> None:
    profiles = [profile(bio, name, domain, followers) for bio, name, domain, followers in card]

    for ruleset in RULESETS:
        matched = set(rules_to_match(ruleset, profiles))
        for position, rule in enumerate(ruleset.rules):
            if position not in matched:
                assert all(match_rule(rule, prepared) is None for prepared in profiles), rule.id


def test_rules_to_match_skips_unrelated_rules() -> None:
    profiles = [profile("Realtor in Austin, open houses every weekend", "Jane")]

    matched = rules_to_match(RULESETS[1], profiles)

    assert 0 < len(matched) < len(RULESETS[1].rules)
    assert matched == sorted(matched)
