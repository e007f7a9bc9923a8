"""The identity bridge: what a provider can match a card on, derived before any paid call.

A people-match provider finds a person by a LinkedIn profile URL, or by a person's
name plus the domain of their own website. The bridge reads the card's best
profile (display name, website domain) and every URL in its profiles' bios and
raw records (Tier 1 bios are redacted, but their URLs are kept). Link hubs,
shorteners, social platforms and the CDNs that serve their pictures are never
taken for a person's own domain, and neither is a link to an image file. A source keyed on
profiles (public_bio) matches on the card's profile identities instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from sxe.adapters.base import LookupRequest
from sxe.identity.facts import PLATFORM_HOSTS
from sxe.normalize.website import LINK_HUB_HOSTS, SHORTENER_HOSTS, is_media_host

# Link hubs and shorteners tell nothing about where a person works.
LINK_HUB_DOMAINS = frozenset(
    {"linktr.ee", "beacons.ai", "lnk.bio", "bio.link", "linkin.bio", "t.co", "bit.ly", "tiktok.com", "x.com"}
)
# Platforms that host the person's page, not the person's own site.
PLATFORM_DOMAINS = frozenset(
    {
        "twitter.com",
        "instagram.com",
        "threads.net",
        "youtube.com",
        "youtu.be",
        "facebook.com",
        "linkedin.com",
        "wa.me",
        "whatsapp.com",
        "t.me",
        "github.com",
        "medium.com",
        "substack.com",
        "patreon.com",
        "onlyfans.com",
        "twitch.tv",
        "pinterest.com",
        "snapchat.com",
        "spotify.com",
        "apple.com",
        "amzn.to",
    }
)
# Every link hub, shortener and platform host the ingest and identity code know as well.
NOT_OWN_DOMAINS = LINK_HUB_DOMAINS | PLATFORM_DOMAINS | LINK_HUB_HOSTS | SHORTENER_HOSTS | PLATFORM_HOSTS
# Paths of picture and video files: such a link is an image, not a website.
_MEDIA_PATH = re.compile(r"\.(?:jpe?g|png|gif|webp|heic|avif|svg|bmp|ico|mp4|mov|webm)$", re.IGNORECASE)

_LINKEDIN_PERSON = re.compile(r"(?:^|[/.])linkedin\.com/in/([A-Za-z0-9_%-]{3,100})", re.IGNORECASE)
_NAME_SEPARATORS = re.compile(r"\s[|•·–—-]\s|[|•·,(\[]")
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'.-]*$")

# Providers that match on profile identities rather than on a person's name.
PROFILE_KEYED_PROVIDERS = frozenset({"public_bio"})


class BridgeKind(StrEnum):
    LINKEDIN_URL = "linkedin_url"
    NAME_DOMAIN = "name_domain"
    PROFILE = "profile"


@dataclass(frozen=True, slots=True)
class Bridge:
    """The match key chosen for one card and provider, and the request built on it."""

    kind: BridgeKind
    request: LookupRequest


@dataclass(frozen=True, slots=True)
class NoBridge:
    """Why a card has nothing a provider could match on; `missing` names the absent keys."""

    missing: str


def derive(
    display_name: str | None,
    website_domain: str | None,
    links: tuple[str, ...],
    profile_keys: tuple[str, ...],
    provider: str,
) -> Bridge | NoBridge:
    """Return the strongest match key for `provider`: a LinkedIn URL, else name plus own domain.

    A LinkedIn request keeps the name and domain when they exist, as the provider
    uses them to confirm the match.
    """
    if provider in PROFILE_KEYED_PROVIDERS:
        if not profile_keys:
            return NoBridge("the card has no social profile")
        return Bridge(BridgeKind.PROFILE, LookupRequest(profiles=",".join(sorted(profile_keys))))

    name = person_name(display_name)
    domain = own_domain(website_domain, links)
    linkedin = linkedin_url(links)
    first, last, full = name if name else (None, None, None)
    if linkedin is not None:
        request = LookupRequest(first_name=first, last_name=last, name=full, domain=domain, linkedin_url=linkedin)
        return Bridge(BridgeKind.LINKEDIN_URL, request)
    if name is not None and domain is not None:
        return Bridge(BridgeKind.NAME_DOMAIN, LookupRequest(first_name=first, last_name=last, name=full, domain=domain))
    if name is None and domain is None:
        return NoBridge("no person's name, no own website domain and no LinkedIn URL")
    if name is None:
        return NoBridge("the display name is not a person's name and no LinkedIn URL was found")
    return NoBridge("no own website domain (link hubs do not count) and no LinkedIn URL was found")


def person_name(display_name: str | None) -> tuple[str, str, str] | None:
    """Return (first, last, full) from a display name such as "Dana Whitfield | Coach".

    Returns None unless the name part is two to four plain words, because a brand
    name or a single word cannot identify a person.
    """
    if not display_name:
        return None
    name_part = _NAME_SEPARATORS.split(display_name, maxsplit=1)[0]
    words = [word for word in name_part.split() if _NAME_WORD.match(word)]
    if len(words) != len(name_part.split()) or not 2 <= len(words) <= 4:
        return None
    return words[0], words[-1], " ".join(words)


def own_domain(website_domain: str | None, links: tuple[str, ...]) -> str | None:
    """Return the profile's website domain, else the first bio or record link's domain.

    Link hubs, shorteners, platforms, their picture CDNs and links to image or video
    files never count.
    """
    for candidate in (website_domain, *(_host(link) for link in links if not _is_media_link(link))):
        domain = _bare(candidate)
        if domain is not None and not _is_not_own(domain):
            return domain
    return None


def linkedin_url(links: tuple[str, ...]) -> str | None:
    """Return the first LinkedIn person URL among `links` as `https://www.linkedin.com/in/<slug>`."""
    for link in links:
        found = _LINKEDIN_PERSON.search(link)
        if found:
            return f"https://www.linkedin.com/in/{found.group(1).lower()}"
    return None


def _host(link: str) -> str | None:
    text = link if "://" in link else f"https://{link}"
    try:
        return urlsplit(text).hostname
    except ValueError:
        return None


def _bare(domain: str | None) -> str | None:
    if not domain:
        return None
    domain = domain.strip().lower().rstrip(".")
    domain = domain.removeprefix("www.")
    return domain if "." in domain else None


def _is_media_link(link: str) -> bool:
    text = link if "://" in link else f"https://{link}"
    try:
        path = urlsplit(text).path
    except ValueError:
        return False
    return _MEDIA_PATH.search(path) is not None


def _is_not_own(domain: str) -> bool:
    if is_media_host(domain):
        return True
    return any(domain == blocked or domain.endswith(f".{blocked}") for blocked in NOT_OWN_DOMAINS)
