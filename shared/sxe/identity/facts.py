"""The identity facts of one Tier 1 profile: what it can be matched on across platforms.

Facts come from public profile fields only: the handle, the display name, the
website domain, link-in-bio targets and explicit cross-links in the bio. Generic
domains (link hubs, shorteners, the big social, video and mail sites) name a
service and not a person, so they never become a website fact.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from uuid import UUID

from sxe.models import Platform
from sxe.normalize.website import LINK_HUB_HOSTS, SHORTENER_HOSTS, is_media_host

# Sites shared by millions of unrelated people. A profile that links one of them
# tells nothing about who it is.
PLATFORM_HOSTS = frozenset(
    {
        "x.com",
        "twitter.com",
        "tiktok.com",
        "vm.tiktok.com",
        "instagram.com",
        "threads.net",
        "threads.com",
        "facebook.com",
        "fb.com",
        "youtube.com",
        "youtu.be",
        "linkedin.com",
        "twitch.tv",
        "snapchat.com",
        "pinterest.com",
        "reddit.com",
        "discord.gg",
        "discord.com",
        "t.me",
        "wa.me",
        "whatsapp.com",
        "spotify.com",
        "open.spotify.com",
        "apple.com",
        "podcasts.apple.com",
        "medium.com",
        "substack.com",
        "patreon.com",
        "onlyfans.com",
        "paypal.me",
        "amazon.com",
        "etsy.com",
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "yahoo.com",
        "icloud.com",
        "proton.me",
        "google.com",
        "calendly.com",
        "github.com",
    }
)
GENERIC_HOSTS = PLATFORM_HOSTS | LINK_HUB_HOSTS | SHORTENER_HOSTS

# Profile URLs on other platforms: the host names the platform, the path the handle.
_PROFILE_URL_HOSTS: dict[str, Platform] = {
    "tiktok.com": Platform.TIKTOK,
    "x.com": Platform.X,
    "twitter.com": Platform.X,
    "threads.net": Platform.THREADS,
    "threads.com": Platform.THREADS,
    # Threads accounts are Instagram accounts and share their username.
    "instagram.com": Platform.THREADS,
}

# Words that name a platform in a bio ("also on TikTok @mara", "IG: mara").
_PLATFORM_WORDS: dict[str, Platform] = {
    "tiktok": Platform.TIKTOK,
    "tik tok": Platform.TIKTOK,
    "tt": Platform.TIKTOK,
    "x": Platform.X,
    "twitter": Platform.X,
    "threads": Platform.THREADS,
    "ig": Platform.THREADS,
    "insta": Platform.THREADS,
    "instagram": Platform.THREADS,
}

_HANDLE = r"[a-z0-9_][a-z0-9_.]{0,29}"
_URL = re.compile(r"(?:https?://)?(?:www\.)?((?:[a-z0-9-]+\.)+[a-z]{2,24})(/[^\s,;)]*)?", re.IGNORECASE)
# "TikTok: @mara", "IG - mara", "also on tiktok @mara". A handle without "@" needs a
# separator, so "x marks the spot" or "tiktok creator" is not a cross-link.
_PLATFORM_MENTION = re.compile(
    r"(?<![\w@])(" + "|".join(sorted((re.escape(w) for w in _PLATFORM_WORDS), key=len, reverse=True)) + r")"
    rf"(?:\s*[:|\-–—]\s*@?|\s+@)({_HANDLE})(?![\w@])",
    re.IGNORECASE,
)
# File and framework names ("node.js", "notes.md") look like hosts in free text.
_NOT_WEB_SUFFIXES = frozenset({"js", "ts", "py", "rb", "md", "sh", "txt", "pdf", "png", "jpg", "jpeg", "gif", "exe"})
_NAME_CUT = re.compile(r"\s[|•·–—-]\s|[|•·,(\[]")

# Handles that platforms assign, or that many people could hold on their own.
_DEFAULT_HANDLE = re.compile(r"user\d{5,}|.*\D\d{6,}|\d{6,}")
DISTINCTIVE_HANDLE_LENGTH = 8
"""A handle this long, or one of 5+ characters with '_', '.' or a digit, is specific to one person."""


@dataclass(frozen=True, slots=True)
class IdentityFacts:
    """The values one profile can be matched on, all lowercase."""

    profile_id: UUID
    platform: Platform
    handle: str | None
    name_key: str | None
    name_words: int
    domains: frozenset[str] = field(default_factory=frozenset)
    link_targets: frozenset[str] = field(default_factory=frozenset)
    cross_links: frozenset[tuple[Platform, str]] = field(default_factory=frozenset)
    # The profile's `platform:identity_key`, which orders equally strong links the same
    # way in every run, where profile ids are random. Empty when unknown.
    stable_key: str = ""

    @property
    def handle_is_distinctive(self) -> bool:
        """Whether the handle is long or structured enough to name one person across platforms."""
        handle = self.handle or ""
        if len(handle) >= DISTINCTIVE_HANDLE_LENGTH:
            return True
        return len(handle) >= 5 and any(character in "_." or character.isdigit() for character in handle)


def profile_facts(
    profile_id: UUID,
    platform: Platform,
    handle: str | None,
    display_name: str | None,
    bio: str | None,
    website_domain: str | None,
    website_url: str | None = None,
    *,
    identity_key: str | None = None,
) -> IdentityFacts:
    """Extract the identity facts of one profile.

    `website_url` is the full website link when known; it adds the link-in-bio
    target (such as `linktr.ee/mara`) that the Tier 1 website domain leaves out.
    `identity_key` is the profile's stored identity key, for the stable order of links.
    """
    domains: set[str] = set()
    targets: set[str] = set()
    crosses: set[tuple[Platform, str]] = set()

    own = _clean_host(website_domain)
    if own and own not in GENERIC_HOSTS and not is_media_host(own):
        domains.add(own)
    for url_text in (website_url or "", bio or ""):
        _read_urls(url_text, domains, targets, crosses)
    crosses |= _platform_mentions(bio or "")

    clean_handle = _clean_handle(handle)
    crosses.discard((platform, clean_handle or ""))
    name_key = name_key_of(display_name)
    return IdentityFacts(
        profile_id=profile_id,
        platform=platform,
        handle=clean_handle,
        name_key=name_key,
        name_words=len(name_key.split()) if name_key else 0,
        domains=frozenset(domains),
        link_targets=frozenset(targets),
        cross_links=frozenset(crosses),
        stable_key=f"{platform.value}:{identity_key}" if identity_key else "",
    )


def name_key_of(display_name: str | None) -> str | None:
    """Return the display name reduced for comparison: no title after '|', no accents, emoji or case.

    "Rina Alvarez | Strength Coach" and "rina álvarez 💪" both become "rina alvarez".
    """
    if not display_name:
        return None
    head = _NAME_CUT.split(display_name, maxsplit=1)[0]
    decomposed = unicodedata.normalize("NFKD", head)
    kept = "".join(
        character if unicodedata.category(character)[0] in "LN" else " "
        for character in decomposed
        if not unicodedata.combining(character)
    )
    words = kept.casefold().split()
    return " ".join(words) or None


def _read_urls(text: str, domains: set[str], targets: set[str], crosses: set[tuple[Platform, str]]) -> None:
    for match in _URL.finditer(text):
        if match.start() > 0 and text[match.start() - 1] == "@":
            continue  # the domain part of a redacted or obfuscated email address
        host = _clean_host(match.group(1))
        if host is None:
            continue
        path = (match.group(2) or "").strip("/").split("/")
        first_segment = path[0].lower() if path and path[0] else ""

        platform = _PROFILE_URL_HOSTS.get(host)
        if platform is not None:
            handle = _clean_handle(first_segment)
            if handle:
                crosses.add((platform, handle))
        elif host in LINK_HUB_HOSTS:
            if first_segment:
                targets.add(f"{host}/{first_segment.lstrip('@')}")
        elif host not in GENERIC_HOSTS and not is_media_host(host) and host.rsplit(".", 1)[-1] not in _NOT_WEB_SUFFIXES:
            domains.add(host)


def _platform_mentions(bio: str) -> set[tuple[Platform, str]]:
    found: set[tuple[Platform, str]] = set()
    for match in _PLATFORM_MENTION.finditer(bio):
        word = " ".join(match.group(1).lower().split())
        handle = _clean_handle(match.group(2).rstrip("."))
        if handle:
            found.add((_PLATFORM_WORDS[word], handle))
    return found


def _clean_handle(handle: str | None) -> str | None:
    if not handle:
        return None
    text = handle.strip().lstrip("@").lower()
    if not text or _DEFAULT_HANDLE.fullmatch(text):
        return None
    return text


def _clean_host(host: str | None) -> str | None:
    if not host:
        return None
    text = host.strip().lower().rstrip(".").removeprefix("www.")
    return text or None
