"""personas-v2, the ruleset schema, bio language, card signals, tribes and intent policies."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from sxe.cards.intent import InvalidIntentPolicy, validate_intent
from sxe.intelligence import RulesetError, load_default_ruleset, parse_ruleset, tag
from sxe.intelligence.language import detect_language
from sxe.intelligence.signals import Observation, card_signals
from sxe.intelligence.tribes import card_terms, find_tribes
from sxe.models import Platform, Profile
from sxe.orchestrator.gate import Candidate, SkipReason, check_policy

PERSONAS = {
    "creator", "influencer", "coach", "local-business", "ecommerce", "founder", "agency",
    "real-estate", "fitness", "beauty", "finance", "gaming",
}  # fmt: skip


def profile(bio: str, *, platform: Platform = Platform.X, followers: int | None = 5000, **fields: object) -> Profile:
    values: dict[str, object] = {
        "platform": platform, "platform_user_id": None, "handle": "someone", "display_name": None, "bio": bio,
        "followers": followers, "following": None, "posts": None, "likes": None, "verified": False,
        "website_domain": None, "language": None, "bio_has_email": False, "bio_has_phone": False,
    }  # fmt: skip
    values.update(fields)
    return Profile(**values)  # type: ignore[arg-type]


def personas(bio: str, **fields: object) -> set[str]:
    return {label.value for label in tag([profile(bio, **fields)]) if label.kind == "persona"}


def test_default_ruleset_is_personas_v2() -> None:
    ruleset = load_default_ruleset()

    assert ruleset.version == "personas-v2"
    assert {rule.value for rule in ruleset.rules if rule.kind == "persona"} == PERSONAS


@pytest.mark.parametrize(
    ("bio", "fields", "expected"),
    [
        ("Brand deals and collabs: see link", {"followers": 250_000}, "influencer"),
        ("Fractional CFO and consultant for SaaS", {}, "coach"),
        ("Hair salon in Leeds. Walk-ins welcome", {}, "local-business"),
        ("Strength training and HIIT workouts #fitness", {}, "fitness"),
        ("Skincare and makeup tutorials #skincare", {}, "beauty"),
        ("Bitcoin and crypto market notes", {}, "finance"),
        ("Speedrunning and streaming every night #gaming", {}, "gaming"),
    ],
)
def test_v2_personas_fire(bio: str, fields: dict[str, object], expected: str) -> None:
    assert expected in personas(bio, **fields)


def test_v2_labels_record_version() -> None:
    labels = tag([profile("Life coach for founders")])

    assert {label.ruleset_version for label in labels} == {"personas-v2"}


def test_ruleset_schema_rejects_unknown_top_level_key() -> None:
    text = resources.files("sxe").joinpath("rulesets", "personas-v2.json").read_text(encoding="utf-8")
    document = json.loads(text)
    document["tiers"]["bands"][0]["note"] = "not allowed"

    with pytest.raises(RulesetError, match="note"):
        parse_ruleset(document, source="edited.json")


LANGUAGES = [
    ("Sourdough every Sunday. Home baker turned cookbook author.", "en"),
    ("Viajes lentos y baratos por todo el mundo. Consejos de viaje cada semana.", "es"),
    ("Entrenadora personal en Madrid. Rutinas para principiantes", "es"),
    ("Treinadora de corrida em São Paulo. Aulas online para iniciantes", "pt"),
    ("Corretora de imóveis no Rio de Janeiro. Apartamentos à venda", "pt"),
    ("مدربة لياقة بدنية في دبي، برامج تدريب أونلاين", "ar"),
    ("京都の手作り陶器。毎月第一金曜日に再入荷します。", "ja"),
]


@pytest.mark.parametrize(("bio", "code"), LANGUAGES, ids=[code + str(i) for i, (_, code) in enumerate(LANGUAGES)])
def test_bio_language_detected(bio: str, code: str) -> None:
    detected = detect_language(bio)

    assert detected is not None
    assert detected.code == code


@pytest.mark.parametrize("bio", ["coach", "#fitness @gym 2024", "[email] [phone]", "", None])
def test_too_short_bio_has_no_language(bio: str | None) -> None:
    assert detect_language(bio) is None


def test_card_signals_report_business_and_growth() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    tiktok = profile(
        "DM for collabs", platform=Platform.TIKTOK, followers=12_000, likes=240_000, posts=100,
        website_domain="calendly.com", bio_has_phone=True,
    )  # fmt: skip
    observations = [[Observation(start, 10_000), Observation(start + timedelta(days=60), 12_000)]]

    language, signals = card_signals([tiktok], observations)

    assert language is None
    assert signals["business"] == {
        "website": None, "booking_link": "calendly.com", "dm_for": True, "contact_in_bio": True,
    }  # fmt: skip
    assert signals["engagement_rate"]["rate"] == pytest.approx(0.2)
    assert signals["follower_growth"]["change"] == pytest.approx(0.2)
    assert signals["follower_growth"]["per_30_days"] == pytest.approx(0.1)


def test_x_likes_are_not_engagement() -> None:
    _, signals = card_signals([profile("Writing about SaaS", likes=50_000, posts=100)])

    assert signals["engagement_rate"] is None
    assert signals["follower_growth"] is None


def test_tribes_group_cooccurring_terms() -> None:
    bakers = {uuid.UUID(int=i): card_terms([f"#sourdough #bread day {i}"], ["baker"], [None]) for i in range(3)}
    gamers = {uuid.UUID(int=10 + i): card_terms(["#speedrun #twitch"], ["gaming"], [None]) for i in range(3)}
    loner = {uuid.UUID(int=99): card_terms(["#knitting"], [], ["wool.example"])}

    tribes = find_tribes({**bakers, **gamers, **loner})

    assert [set(tribe.members) for tribe in tribes] == [set(bakers), set(gamers)] or [
        set(tribe.members) for tribe in tribes
    ] == [set(gamers), set(bakers)]
    names = {tribe.name for tribe in tribes}
    assert any("#sourdough" in name or "#bread" in name or "baker" in name for name in names)
    assert find_tribes({**loner, **gamers, **bakers})[0].slug == tribes[0].slug


def candidate(**fields: object) -> Candidate:
    values: dict[str, object] = {
        "card_id": uuid.uuid4(), "readiness": "tagged", "personas": ("coach",), "display_name": "Dana Whitfield",
        "website_domain": "dana.example", "followers": 5000, "quality_flags": (), "tribes": ("fitness",),
        "quality": 0.75,
    }  # fmt: skip
    values.update(fields)
    return Candidate(**values)  # type: ignore[arg-type]


POLICY = {"allowed_providers": ["apollo"], "max_cost_credits_per_lead": 9}


@pytest.mark.parametrize(
    ("extra", "fields", "reason"),
    [
        ({"target_tribes": ["gaming"]}, {}, SkipReason.TRIBE_NOT_TARGETED),
        ({"min_quality": 0.8}, {}, SkipReason.BELOW_MIN_QUALITY),
        ({"max_followers": 1000}, {}, SkipReason.ABOVE_MAX_FOLLOWERS),
        ({"target_personas": ["agency"]}, {}, SkipReason.PERSONA_NOT_TARGETED),
    ],
)
def test_gate_applies_intent_policy(extra: dict[str, object], fields: dict[str, object], reason: SkipReason) -> None:
    decision = check_policy(candidate(**fields), validate_intent({**POLICY, **extra}), "apollo", 1)

    assert decision.skip is reason


def test_gate_allows_matching_policy() -> None:
    policy = validate_intent({**POLICY, "target_tribes": ["fitness"], "min_quality": 0.7, "max_followers": 10_000})

    assert check_policy(candidate(), policy, "apollo", 1).enqueue


@pytest.mark.parametrize(
    ("policy", "fragment"),
    [
        ({"max_cost_credits_per_lead": 9}, "allowed_providers"),
        ({**POLICY, "min_quality": 2}, "min_quality"),
        ({**POLICY, "budget": 5}, "budget"),
        ({**POLICY, "min_followers": 500, "max_followers": 100}, "max_followers (100) is below min_followers"),
    ],
)
def test_invalid_intent_policy_names_field(policy: dict[str, object], fragment: str) -> None:
    with pytest.raises(InvalidIntentPolicy, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        validate_intent(policy)
