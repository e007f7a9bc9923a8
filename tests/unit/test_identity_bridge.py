"""What the identity bridge lets a provider match on, and what it refuses."""

from __future__ import annotations

import pytest

from sxe.orchestrator.bridge import Bridge, BridgeKind, NoBridge, derive, own_domain


def test_linkedin_url_beats_name_and_domain() -> None:
    found = derive("Dana Whitfield", "danawhitfield.com", ("linkedin.com/in/Dana-W?trk=bio",), (), "apollo")

    assert isinstance(found, Bridge)
    assert found.kind is BridgeKind.LINKEDIN_URL
    assert found.request.linkedin_url == "https://www.linkedin.com/in/dana-w"
    assert (found.request.name, found.request.domain) == ("Dana Whitfield", "danawhitfield.com")


def test_company_page_is_no_linkedin_bridge() -> None:
    found = derive("Bloomhaus", None, ("https://www.linkedin.com/company/bloomhaus",), (), "apollo")

    assert isinstance(found, NoBridge)
    assert "LinkedIn" in found.missing


@pytest.mark.parametrize(
    ("website", "links", "expected"),
    [
        ("www.DanaWhitfield.com", (), "danawhitfield.com"),
        ("linktr.ee", ("https://linktr.ee/dana", "https://shop.danawhitfield.com/x"), "shop.danawhitfield.com"),
        (None, ("https://m.youtube.com/@dana", "https://instagram.com/dana"), None),
        ("beacons.ai", ("https://t.co/abc",), None),
    ],
)
def test_own_domain_skips_hubs_and_platforms(website: str | None, links: tuple[str, ...], expected: str | None) -> None:
    assert own_domain(website, links) == expected


@pytest.mark.parametrize(
    "host",
    [
        "pbs.twimg.com",
        "scontent.cdninstagram.example",
        "scontent-lax3-1.cdninstagram.com",
        "scontent-lax3-1.xx.fbcdn.net",
        "p16-sign.tiktokcdn.example",
        "p16-sign-va.tiktokcdn-us.com",
        "media.licdn.com",
        "lh3.googleusercontent.com",
        "secure.gravatar.com",
        "threads.com",
        "tinyurl.com",
        "stan.store",
    ],
)
def test_own_domain_skips_cdn_hosts(host: str) -> None:
    assert own_domain(host, ()) is None
    assert own_domain(None, (f"https://{host}/v/mara",)) is None


def test_own_domain_skips_image_links() -> None:
    links = ("https://marabakes.example/avatar.JPG", "https://cdn.marabakes.example/a.webp?w=100")

    assert own_domain(None, links) is None
    assert own_domain(None, (*links, "https://marabakes.example/shop")) == "marabakes.example"


def test_brand_name_with_domain_has_no_bridge() -> None:
    found = derive("Bloom Studio 2024", "bloomstudio.com", (), (), "apollo")

    assert isinstance(found, NoBridge)
    assert found.missing.startswith("the display name is not a person's name")


def test_public_bio_matches_on_profiles() -> None:
    found = derive(None, None, (), ("x:id:2", "tiktok:handle:dana"), "public_bio")

    assert isinstance(found, Bridge)
    assert (found.kind, found.request.profiles) == (BridgeKind.PROFILE, "tiktok:handle:dana,x:id:2")
    assert isinstance(derive(None, None, (), (), "public_bio"), NoBridge)


def test_linkedin_bridge_changes_fingerprint() -> None:
    plain = derive("Dana Whitfield", "danawhitfield.com", (), (), "apollo")
    linked = derive("Dana Whitfield", "danawhitfield.com", ("https://linkedin.com/in/dana",), (), "apollo")

    assert isinstance(plain, Bridge) and isinstance(linked, Bridge)
    assert plain.request.fingerprint("apollo", "1") != linked.request.fingerprint("apollo", "1")
