from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sxe.ingest import read_profiles
from sxe.models import Platform, SourceProfile
from sxe.normalize import normalize
from sxe.normalize.counts import InvalidCount, parse_count
from sxe.normalize.website import website_domain
from sxe.pii import contains_pii

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

BASE = SourceProfile(
    platform=Platform.X,
    platform_user_id="42",
    handle="Jane_Doe",
    display_name="Jane Doe",
    bio="Coach for founders.",
    followers=1500,
    following=300,
    posts=1200,
    likes=50,
    verified=True,
    website="https://www.janedoe.example/about",
    language="en",
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        (0, 0),
        (1234, 1234),
        ("1234", 1234),
        (" 1234 ", 1234),
        ("1,234", 1234),
        ("1,234,567", 1234567),
        ("12.3K", 12300),
        ("12.3k", 12300),
        ("317.4K", 317400),
        ("4.5M", 4500000),
        ("4.5 M", 4500000),
        ("1.2B", 1200000000),
        ("100k", 100000),
        ("1.2345K", 1234),
        ("", None),
        (2**63 - 1, 2**63 - 1),
    ],
)
def test_parse_count_accepts_source_forms(raw: int | str | None, expected: int | None) -> None:
    assert parse_count(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [-1, "-5", "12.5", "1.2.3", "lots", "1,23", "12KK", "5 followers", "1e6", True, 2**63, 10**30, "99999999999999B"],
)
def test_parse_count_rejects_invalid_values(raw: int | str) -> None:
    with pytest.raises(InvalidCount):
        parse_count(raw)


@pytest.mark.parametrize(
    ("url", "domain", "flags"),
    [
        ("https://www.janedoe.example/about", "janedoe.example", ()),
        ("HTTP://Shop.Example.COM/", "shop.example.com", ()),
        ("janedoe.example", "janedoe.example", ()),
        ("www.janedoe.example/links?a=1", "janedoe.example", ()),
        ("https://linktr.ee/coachrina", "linktr.ee", ("website_is_link_hub",)),
        ("https://beacons.ai/kaifit", "beacons.ai", ("website_is_link_hub",)),
        ("lnk.bio/someone", "lnk.bio", ("website_is_link_hub",)),
        ("https://t.co/abc", "t.co", ("website_is_shortener",)),
        ("https://bit.ly/xyz", "bit.ly", ("website_is_shortener",)),
        ("mailto:jane@example.com", None, ("website_is_contact_link",)),
        ("tel:+12125550100", None, ("website_is_contact_link",)),
        ("not a website", None, ("invalid_website",)),
        ("https://", None, ("invalid_website",)),
        ("", None, ()),
        (None, None, ()),
    ],
)
def test_website_domain_table(url: str | None, domain: str | None, flags: tuple[str, ...]) -> None:
    website = website_domain(url)

    assert website.domain == domain
    assert website.flags == flags


def test_website_domain_drops_credentials() -> None:
    assert website_domain("https://jane%40example.com:pw@janedoe.example/").domain == "janedoe.example"


def test_normalize_clean_profile_has_no_flags() -> None:
    profile = normalize(BASE)

    assert profile.handle == "jane_doe"
    assert profile.display_name == "Jane Doe"
    assert profile.bio == "Coach for founders."
    assert (profile.followers, profile.following, profile.posts, profile.likes) == (1500, 300, 1200, 50)
    assert profile.verified is True
    assert profile.website_domain == "janedoe.example"
    assert profile.language == "en"
    assert profile.quality_flags == ()
    assert profile.identity_key == "id:42"


def test_normalize_redacts_bio_and_sets_flags() -> None:
    source = replace(BASE, bio="Email jane@example.com or call +1 212 555 0100")

    profile = normalize(source)

    assert profile.bio == "Email [email] or call [phone]"
    assert profile.bio_has_email is True
    assert profile.bio_has_phone is True


def test_normalize_redacts_display_name() -> None:
    profile = normalize(replace(BASE, display_name="Jane | 555.010.2030"))

    assert profile.display_name == "Jane | [phone]"
    assert "display_name_has_phone" in profile.quality_flags
    assert profile.bio_has_phone is False


def test_normalize_strips_at_from_handle() -> None:
    assert normalize(replace(BASE, handle=" @Mara_Bakes ")).handle == "mara_bakes"


def test_normalize_invalid_counts_become_none_with_flags() -> None:
    profile = normalize(replace(BASE, followers="-3", likes="many"))

    assert profile.followers is None
    assert profile.likes is None
    assert profile.following == 300
    assert "invalid_count:followers" in profile.quality_flags
    assert "invalid_count:likes" in profile.quality_flags
    assert "low_followers" not in profile.quality_flags


def test_normalize_string_counts() -> None:
    profile = normalize(replace(BASE, followers="317.4K", following="1,204", posts="88", likes="4.5M"))

    assert (profile.followers, profile.following, profile.posts, profile.likes) == (317400, 1204, 88, 4500000)


@pytest.mark.parametrize(
    ("changes", "flag"),
    [
        ({"bio": "   "}, "no_bio"),
        ({"bio": None}, "no_bio"),
        ({"display_name": ""}, "no_display_name"),
        ({"handle": None}, "no_handle"),
        ({"is_private": True}, "private_account"),
        ({"followers": 99}, "low_followers"),
        ({"handle": "user8812345"}, "default_handle"),
        ({"handle": "larry40912377"}, "default_handle"),
        ({"website": "https://linktr.ee/jane"}, "website_is_link_hub"),
        ({"website": "https://bit.ly/jane"}, "website_is_shortener"),
        ({"language": "english please"}, "invalid_language"),
    ],
)
def test_normalize_quality_flags(changes: dict[str, object], flag: str) -> None:
    profile = normalize(replace(BASE, **changes))  # type: ignore[arg-type]

    assert flag in profile.quality_flags


@pytest.mark.parametrize(
    ("changes", "flag"), [({"followers": 100}, "low_followers"), ({"handle": "jane2024"}, "default_handle")]
)
def test_normalize_flag_thresholds(changes: dict[str, object], flag: str) -> None:
    profile = normalize(replace(BASE, **changes))  # type: ignore[arg-type]

    assert flag not in profile.quality_flags


def test_normalize_flags_are_sorted() -> None:
    profile = normalize(replace(BASE, bio=None, display_name=None, is_private=True, followers=3))

    assert profile.quality_flags == ("low_followers", "no_bio", "no_display_name", "private_account")


@pytest.mark.parametrize(
    ("raw", "expected"), [("EN", "en"), ("en_GB", "en-gb"), ("pt-BR", "pt-br"), ("", None), (None, None)]
)
def test_normalize_language(raw: str | None, expected: str | None) -> None:
    assert normalize(replace(BASE, language=raw)).language == expected


def test_normalize_unknown_verified_is_false() -> None:
    assert normalize(replace(BASE, verified=None)).verified is False


def test_normalize_handle_identity_without_id() -> None:
    profile = normalize(replace(BASE, platform=Platform.THREADS, platform_user_id=None, handle="@Olivia.Writes"))

    assert profile.identity_key == "handle:olivia.writes"


def test_normalized_examples_hold_no_pii() -> None:
    normalized = [
        normalize(record.result)
        for path in sorted(EXAMPLES.iterdir())
        for record in read_profiles(path)
        if isinstance(record.result, SourceProfile)
    ]

    assert len(normalized) > 20
    assert sum(profile.bio_has_email for profile in normalized) >= 3
    assert sum(profile.bio_has_phone for profile in normalized) >= 3
    for profile in normalized:
        assert not contains_pii(profile.bio or "")
        assert not contains_pii(profile.display_name or "")
