"""Persona, tribe and tier tagging with the shipped personas-v1 ruleset."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from sxe.intelligence import (
    Ruleset,
    RulesetError,
    load_ruleset,
    load_shipped_ruleset,
    parse_ruleset,
)
from sxe.intelligence import tag as tag_with
from sxe.models import Label, Platform, Profile


def load_v1_ruleset() -> Ruleset:
    return load_shipped_ruleset("personas-v1")


def tag(profiles: list[Profile], ruleset: Ruleset | None = None) -> list[Label]:
    return tag_with(profiles, ruleset or load_v1_ruleset())


def make_profile(
    bio: str | None,
    *,
    followers: int | None = None,
    website_domain: str | None = None,
    bio_has_email: bool = False,
    bio_has_phone: bool = False,
    verified: bool = False,
    display_name: str | None = None,
    platform: Platform = Platform.X,
    handle: str = "someone",
) -> Profile:
    return Profile(
        platform=platform,
        platform_user_id=None,
        handle=handle,
        display_name=display_name,
        bio=bio,
        followers=followers,
        following=None,
        posts=None,
        likes=None,
        verified=verified,
        website_domain=website_domain,
        language=None,
        bio_has_email=bio_has_email,
        bio_has_phone=bio_has_phone,
    )


def find_label(labels: list[Label], kind: str, value: str) -> Label | None:
    matches = [label for label in labels if label.kind == kind and label.value == value]
    assert len(matches) <= 1, f"more than one {kind}:{value} label"
    return matches[0] if matches else None


def matched_terms(label: Label, rule_id: str | None = None) -> set[str]:
    return {
        term
        for entry in label.evidence["matches"]
        if rule_id is None or entry["rule_id"] == rule_id
        for term in entry.get("matched", [])
    }


def default_document() -> dict[str, Any]:
    text = resources.files("sxe").joinpath("rulesets", "personas-v1.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def rule_in(document: dict[str, Any], rule_id: str) -> dict[str, Any]:
    rule: dict[str, Any] = next(rule for rule in document["rules"] if rule["id"] == rule_id)
    return rule


PERSONA_CASES = [
    pytest.param(
        make_profile("Mindset coach helping you grow. #mindset", followers=4_200),
        "coach",
        "persona.coach.bio-keywords",
        {"coach", "#mindset"},
        id="coach",
    ),
    pytest.param(
        make_profile("Entrenadora personal en Sevilla", followers=900),
        "coach",
        "persona.coach.bio-keywords",
        {"entrenadora", "entrenadora personal"},
        id="coach-spanish",
    ),
    pytest.param(
        make_profile("Family bakery. Open 9-5. Call [phone]", followers=800, bio_has_phone=True),
        "business",
        "persona.business.local-with-phone",
        {"bakery"},
        id="local-business-with-phone",
    ),
    pytest.param(
        make_profile("Peluquería en el centro de Madrid", followers=1_500),
        "business",
        "persona.business.local-keywords",
        {"peluquería"},
        id="local-business-spanish",
    ),
    pytest.param(
        make_profile("Small-batch soy candles", followers=2_000, website_domain="glowcandles.myshopify.com"),
        "ecommerce",
        "persona.ecommerce.store-domain",
        {"myshopify.com"},
        id="ecommerce-shopify-domain",
    ),
    pytest.param(
        make_profile("Products for slow mornings", website_domain="shop.example.com"),
        "ecommerce",
        "persona.ecommerce.store-domain",
        {"shop."},
        id="ecommerce-shop-subdomain",
    ),
    pytest.param(
        make_profile("Living my best life", followers=25_000, website_domain="linktr.ee"),
        "creator",
        "persona.creator.link-in-bio-large-audience",
        {"linktr.ee"},
        id="creator-linktree-followers",
    ),
    pytest.param(
        make_profile("Co-founder at Acme. Ex-Google.", followers=3_100),
        "founder",
        "persona.founder.bio-keywords",
        {"co-founder"},
        id="founder",
    ),
    pytest.param(
        make_profile("Social media agency for restaurants. We help brands grow.", followers=6_000),
        "agency",
        "persona.agency.bio-keywords",
        {"social media agency", "agency"},
        id="agency",
    ),
    pytest.param(
        make_profile("Realtor® in Austin 🏡 #justlisted", followers=1_200),
        "real-estate",
        "persona.real-estate.bio-keywords",
        {"realtor", "#justlisted"},
        id="real-estate",
    ),
]


@pytest.mark.parametrize(("profile", "persona", "rule_id", "terms"), PERSONA_CASES)
def test_persona_table(profile: Profile, persona: str, rule_id: str, terms: set[str]) -> None:
    labels = tag([profile])

    label = find_label(labels, "persona", persona)
    assert label is not None, f"no {persona} label in {[(item.kind, item.value) for item in labels]}"
    assert label.rule_id == rule_id
    assert label.ruleset_version == "personas-v1"
    assert 0.5 <= label.score <= 1.0
    assert terms <= matched_terms(label, rule_id)


def test_agency_plural_does_not_match_restaurant() -> None:
    profile = make_profile("Social media agency for restaurants.", followers=6_000)

    assert find_label(tag([profile]), "persona", "business") is None


def test_local_business_phone_evidence() -> None:
    profile = make_profile("Family bakery. Open 9-5. Call [phone]", followers=800, bio_has_phone=True)

    label = find_label(tag([profile]), "persona", "business")

    assert label is not None
    phone_entries = [entry for entry in label.evidence["matches"] if entry["field"] == "bio_has_phone"]
    assert phone_entries
    assert phone_entries[0]["value"] is True
    assert "open 9-5" in matched_terms(label, "persona.business.hours-and-booking")


def test_phrase_ignores_case_and_spacing() -> None:
    label = find_label(tag([make_profile("Nails by Ana. BOOK   NOW")]), "persona", "business")

    assert label is not None
    assert matched_terms(label) == {"book now"}


def test_creator_linktree_small_audience() -> None:
    profile = make_profile(None, followers=2_000, website_domain="www.linktr.ee")

    label = find_label(tag([profile]), "persona", "creator")

    assert label is not None
    assert label.rule_id == "persona.creator.link-in-bio-audience"
    assert label.score == pytest.approx(0.65)


def test_creator_evidence_lists_followers() -> None:
    profile = make_profile("Living my best life", followers=25_000, website_domain="linktr.ee")

    label = find_label(tag([profile]), "persona", "creator")

    assert label is not None
    follower_entries = [entry for entry in label.evidence["matches"] if entry["field"] == "followers"]
    assert {
        "rule_id": "persona.creator.link-in-bio-large-audience",
        "field": "followers",
        "value": 25_000,
        "platform": "x",
        "handle": "someone",
    } in follower_entries
    supporting = [rule["rule_id"] for rule in label.evidence["rules"]]
    assert supporting[0] == "persona.creator.link-in-bio-large-audience"
    assert "persona.creator.link-in-bio" in supporting


@pytest.mark.parametrize(
    ("followers", "tier"),
    [
        (0, "nano"),
        (9_999, "nano"),
        (10_000, "micro"),
        (99_999, "micro"),
        (100_000, "mid"),
        (499_999, "mid"),
        (500_000, "macro"),
        (999_999, "macro"),
        (1_000_000, "mega"),
        (250_000_000, "mega"),
        (None, "unknown"),
    ],
)
def test_tier_boundaries(followers: int | None, tier: str) -> None:
    labels = tag([make_profile("hello", followers=followers)])

    tiers = [label for label in labels if label.kind == "tier"]
    assert len(tiers) == 1
    assert tiers[0].value == tier
    assert tiers[0].rule_id == f"tier.{tier}"
    assert tiers[0].score == 1.0


def test_tier_uses_highest_follower_count() -> None:
    profiles = [
        make_profile("a", followers=9_000, platform=Platform.X, handle="small"),
        make_profile("b", followers=None, platform=Platform.THREADS, handle="none"),
        make_profile("c", followers=120_000, platform=Platform.TIKTOK, handle="big"),
    ]

    tiers = [label for label in tag(profiles) if label.kind == "tier"]

    assert [label.value for label in tiers] == ["mid"]
    assert tiers[0].evidence["matches"] == [
        {"field": "followers", "value": 120_000, "platform": "tiktok", "handle": "big"}
    ]
    assert tiers[0].evidence["bounds"] == {"min_followers": 100_000, "max_followers_exclusive": 500_000}


def test_empty_card_gets_unknown_tier() -> None:
    labels = tag([])

    assert [(label.kind, label.value) for label in labels] == [("tier", "unknown")]


def test_evidence_names_rule_and_version() -> None:
    label = find_label(tag([make_profile("Life coach. #mindset", handle="jo")]), "persona", "coach")

    assert label is not None
    assert label.evidence["rule_id"] == "persona.coach.bio-keywords"
    assert label.evidence["ruleset_version"] == "personas-v1"
    assert {
        "rule_id": "persona.coach.bio-keywords",
        "field": "bio",
        "matched": ["coach", "life coach", "#mindset"],
        "platform": "x",
        "handle": "jo",
    } in label.evidence["matches"]


def test_evidence_never_copies_bio_text() -> None:
    bio = "Dentist in Leeds. Write to [email] or jo.smith@example.com, call [phone] or 0113 496 0000"
    profile = make_profile(bio, bio_has_email=True, bio_has_phone=True)

    labels = tag([profile])
    serialized = json.dumps([label.evidence for label in labels], ensure_ascii=False)

    assert find_label(labels, "persona", "business") is not None
    assert "example.com" not in serialized
    assert "496" not in serialized
    assert "[email]" not in serialized
    assert "Leeds" not in serialized


def test_matched_terms_come_from_ruleset() -> None:
    ruleset = load_v1_ruleset()
    profile = make_profile("FITNESS coach 💪🏽 #Mindset", followers=50_000)

    for label in tag([profile], ruleset):
        if label.kind == "tier":
            continue
        rules = {rule.id: rule for rule in ruleset.rules}
        for entry in label.evidence["matches"]:
            terms = rules[entry["rule_id"]].terms
            allowed = {*terms.bio_keywords, *terms.bio_hashtags, *terms.bio_emoji}
            assert set(entry.get("matched", [])) <= allowed


@pytest.mark.parametrize(
    ("profile", "kind", "value"),
    [
        pytest.param(
            make_profile("Writing about life. [email]", bio_has_email=True), "persona", "business", id="email-alone"
        ),
        pytest.param(
            make_profile(None, followers=None, website_domain="linktr.ee"),
            "persona",
            "creator",
            id="linktree-without-followers",
        ),
        pytest.param(make_profile("Morning person 💪"), "tribe", "fitness", id="one-fitness-emoji"),
        pytest.param(make_profile("Let's book a call sometime"), "persona", "coach", id="one-offer-phrase"),
        pytest.param(make_profile("Music festival fan, Coachella 2019"), "persona", "coach", id="coach-inside-word"),
        pytest.param(
            make_profile("Dad, runner-up at chess", followers=500_000), "persona", "creator", id="audience-alone"
        ),
    ],
)
def test_weak_signal_emits_no_label(profile: Profile, kind: str, value: str) -> None:
    assert find_label(tag([profile]), kind, value) is None


def test_weak_rules_score_below_threshold() -> None:
    ruleset = load_v1_ruleset()
    scores = {rule.id: rule.card_score(1) for rule in ruleset.rules}

    assert scores["persona.business.email-in-bio"] < ruleset.min_score.persona
    assert scores["persona.creator.link-in-bio"] < ruleset.min_score.persona
    assert scores["tribe.fitness.emoji"] < ruleset.min_score.tribe


def test_labels_meet_threshold() -> None:
    ruleset = load_v1_ruleset()
    profiles = [case.values[0] for case in PERSONA_CASES]

    for profile in profiles:
        assert isinstance(profile, Profile)
        for label in tag([profile], ruleset):
            if label.kind == "persona":
                assert label.score >= ruleset.min_score.persona
            if label.kind == "tribe":
                assert label.score >= ruleset.min_score.tribe
            assert 0.0 <= label.score <= 1.0


def test_two_emoji_reach_tribe_threshold() -> None:
    profile = make_profile("💪🏽 🏋️‍♀️ every morning")

    label = find_label(tag([profile]), "tribe", "fitness")

    assert label is not None
    assert label.rule_id == "tribe.fitness.emoji"
    assert label.score == pytest.approx(0.5)
    assert matched_terms(label) == {"💪", "🏋"}


def test_multi_profile_card_combines_evidence() -> None:
    profiles = [
        make_profile("Life coach", followers=3_000, platform=Platform.X, handle="jo_x"),
        make_profile("Coaching for founders #mindset", followers=12_000, platform=Platform.THREADS, handle="jo_t"),
    ]

    labels = tag(profiles)
    coach = find_label(labels, "persona", "coach")

    assert coach is not None
    sources = {(entry["platform"], entry["handle"]) for entry in coach.evidence["matches"]}
    assert sources == {("x", "jo_x"), ("threads", "jo_t")}
    assert matched_terms(coach) == {"coach", "life coach", "coaching", "#mindset"}
    assert coach.score == pytest.approx(0.85)
    assert [label.value for label in labels if label.kind == "tier"] == ["micro"]


def test_one_label_per_kind_and_value() -> None:
    profile = make_profile(
        "Bakery & café. Open daily, book now. Call [phone]. 123 Main St",
        bio_has_phone=True,
        bio_has_email=True,
        display_name="Rosa's Bakery",
    )

    labels = tag([profile])
    keys = [(label.kind, label.value) for label in labels]

    assert len(keys) == len(set(keys))
    business = find_label(labels, "persona", "business")
    assert business is not None
    assert business.rule_id == "persona.business.local-with-phone"
    fired = [rule["rule_id"] for rule in business.evidence["rules"]]
    assert "persona.business.email-and-phone" in fired
    assert "persona.business.address-with-phone" in fired


def test_tagging_is_deterministic() -> None:
    profiles = [
        make_profile("Fitness coach & founder of FitCo 💪 🥗 #fitness #startup", followers=40_000, handle="a"),
        make_profile("Travel, food and gaming 🎮 ✈️", followers=None, platform=Platform.TIKTOK, handle="b"),
    ]

    first = tag(profiles)
    second = tag(list(profiles))

    assert first == second
    kinds = [label.kind for label in first]
    assert kinds == sorted(kinds, key=["persona", "tribe", "tier"].index)
    assert kinds[-1] == "tier"
    personas = [label.score for label in first if label.kind == "persona"]
    assert personas == sorted(personas, reverse=True)


def test_default_ruleset_loads_once() -> None:
    ruleset = load_v1_ruleset()

    assert ruleset.version == "personas-v1"
    assert load_v1_ruleset() is ruleset
    assert len({rule.id for rule in ruleset.rules}) == len(ruleset.rules)


def test_custom_ruleset_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(default_document()), encoding="utf-8")

    ruleset = load_ruleset(path)

    assert ruleset == load_v1_ruleset()


def test_broken_rule_names_id_and_field() -> None:
    document = default_document()
    rule_in(document, "persona.coach.bio-keywords")["score"] = 1.5

    with pytest.raises(RulesetError) as raised:
        parse_ruleset(document, source="broken.json")

    assert raised.value.rule_id == "persona.coach.bio-keywords"
    assert raised.value.field == "score"
    assert "persona.coach.bio-keywords" in str(raised.value)
    assert "'score'" in str(raised.value)
    assert "broken.json" in str(raised.value)


@pytest.mark.parametrize(
    ("rule_id", "change", "field", "message"),
    [
        ("tribe.fitness.bio-keywords", {"terms": {"bio_hashtags": ["fitness"]}}, "terms.bio_hashtags", "'#'"),
        ("persona.agency.bio-keywords", {"value": "agencies"}, "value", "do not match id"),
        ("persona.founder.bio-keywords", {"kind": "tier"}, "kind", "persona"),
        ("persona.creator.link-in-bio", {"max_score": 0.3}, "max_score", "below score"),
        (
            "persona.coach.bio-keywords",
            {"terms": {"bio_keywords": ["coach", "Coach"]}},
            "terms.bio_keywords",
            "listed twice",
        ),
        (
            "persona.coach.bio-keywords",
            {"terms": {"bio_keywords": ["call 555 010 9999"]}},
            "terms.bio_keywords",
            "phone",
        ),
        ("persona.coach.bio-keywords", {"terms": {"bio_keywords": ["jo@example.com"]}}, "terms.bio_keywords", "email"),
        (
            "persona.ecommerce.store-domain",
            {"terms": {"website_domains": ["https://etsy.com"]}},
            "terms.website_domains",
            "lowercase host",
        ),
        ("persona.business.email-in-bio", {"require": {}}, "require", "no terms and no requirements"),
        (
            "persona.business.phone-in-bio",
            {"require": {"followers": {"min": 10, "max_exclusive": 5}}},
            "require.followers.max_exclusive",
            "greater than min",
        ),
        ("persona.coach.bio-keywords", {"weight": 0.5}, "weight", "Extra inputs"),
        ("tribe.gaming.emoji", {"terms": {"bio_emoji": ["🎮"]}, "min_terms": 2}, "min_terms", "exceeds"),
    ],
)
def test_invalid_rule_is_rejected(rule_id: str, change: dict[str, Any], field: str, message: str) -> None:
    document = default_document()
    rule_in(document, rule_id).update(change)

    with pytest.raises(RulesetError) as raised:
        parse_ruleset(document)

    assert raised.value.rule_id == rule_id
    assert raised.value.field == field
    assert rule_id in str(raised.value)
    assert message in str(raised.value)


def test_duplicate_rule_id_is_rejected() -> None:
    document = default_document()
    document["rules"].append(copy.deepcopy(rule_in(document, "tribe.food.emoji")))

    with pytest.raises(RulesetError, match="tribe.food.emoji") as raised:
        parse_ruleset(document)

    assert raised.value.field == "id"


def test_rule_without_id_names_position() -> None:
    document = default_document()
    del document["rules"][2]["id"]

    with pytest.raises(RulesetError, match=r"rules\[2\]") as raised:
        parse_ruleset(document)

    assert raised.value.rule_id is None
    assert raised.value.field == "id"


def test_tier_gap_is_rejected() -> None:
    document = default_document()
    document["tiers"]["bands"][1]["min_followers"] = 20_000

    with pytest.raises(RulesetError, match="tier.nano") as raised:
        parse_ruleset(document)

    assert raised.value.rule_id is None
    assert raised.value.field == "tiers.bands"


def test_invalid_json_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text('{"version": "x",', encoding="utf-8")

    with pytest.raises(RulesetError, match="not valid JSON at line 1"):
        load_ruleset(path)


def test_missing_ruleset_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(RulesetError, match="Cannot read ruleset file"):
        load_ruleset(tmp_path / "absent.json")
