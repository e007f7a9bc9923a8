"""Card heuristics beside the labels: bio language, business signals, engagement and growth.

- `language`: the detected language of the card's longest bio that a language
  can be told from (see `sxe.intelligence.language`), with its profile.
- `business`: an own website (not a link hub or social site), a booking page,
  "DM for" phrases and contact details present in a bio (only whether they are
  present, never the values).
- `engagement_rate`: likes received per post divided by followers, for TikTok
  and Threads, whose counts are likes received. X reports likes given, so X
  profiles have none.
- `follower_growth`: the change between the first and last follower observation
  of a profile at least one day apart, as a fraction of the first count and per
  30 days; the profile with the largest audience is reported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sxe.identity.facts import GENERIC_HOSTS
from sxe.intelligence.language import detect_language
from sxe.models import Platform, Profile

BOOKING_HOSTS = frozenset(
    {
        "calendly.com",
        "cal.com",
        "acuityscheduling.com",
        "setmore.com",
        "booksy.com",
        "vagaro.com",
        "fresha.com",
        "squareup.com",
        "schedulicity.com",
        "simplybook.me",
        "zcal.co",
        "tidycal.com",
    }
)
_DM_FOR = re.compile(
    r"\b(?:dm|message|inbox)(?:\s+me)?\s+(?:for|para|pra|pour)\b|\bdm\s+['\"“]?\w+['\"”]?\s+to\b", re.I
)
_RECEIVED_LIKES = frozenset({Platform.TIKTOK, Platform.THREADS})
_MIN_GROWTH_DAYS = 1.0


@dataclass(frozen=True, slots=True)
class Observation:
    """One follower count of one profile at one time."""

    observed_at: datetime
    followers: int


def card_signals(
    profiles: Sequence[Profile], observations: Sequence[Sequence[Observation]] | None = None
) -> tuple[str | None, dict[str, Any]]:
    """Return the card's bio language code (or None) and its signals document.

    `observations[i]` are the follower observations of `profiles[i]`, in any order.
    """
    language = _language(profiles)
    signals: dict[str, Any] = {
        "language": language,
        "business": _business(profiles),
        "engagement_rate": _engagement(profiles),
        "follower_growth": _growth(profiles, observations or [()] * len(profiles)),
    }
    return (language["code"] if language else None), signals


def _source(profile: Profile) -> str:
    return f"{profile.platform.value}:{profile.handle}"


def _language(profiles: Sequence[Profile]) -> dict[str, Any] | None:
    for profile in sorted(profiles, key=lambda item: -len(item.bio or "")):
        detected = detect_language(profile.bio)
        if detected is not None:
            return {"code": detected.code, "confidence": detected.confidence, "profile": _source(profile)}
    return None


def _business(profiles: Sequence[Profile]) -> dict[str, Any]:
    domains = {profile.website_domain for profile in profiles if profile.website_domain}
    own = sorted(domain for domain in domains if domain not in GENERIC_HOSTS and domain not in BOOKING_HOSTS)
    booking = sorted(domain for domain in domains if domain in BOOKING_HOSTS)
    dm_for = [_source(profile) for profile in profiles if profile.bio and _DM_FOR.search(profile.bio)]
    return {
        "website": own[0] if own else None,
        "booking_link": booking[0] if booking else None,
        "dm_for": bool(dm_for),
        "contact_in_bio": any(profile.bio_has_email or profile.bio_has_phone for profile in profiles),
    }


def _engagement(profiles: Sequence[Profile]) -> dict[str, Any] | None:
    best: dict[str, Any] | None = None
    for profile in profiles:
        if profile.platform not in _RECEIVED_LIKES or not profile.likes or not profile.posts or not profile.followers:
            continue
        rate = round(profile.likes / profile.posts / profile.followers, 4)
        if best is None or profile.followers > best["followers"]:
            best = {"rate": rate, "profile": _source(profile), "followers": profile.followers}
    return best


def _growth(profiles: Sequence[Profile], observations: Sequence[Sequence[Observation]]) -> dict[str, Any] | None:
    best: dict[str, Any] | None = None
    for profile, seen in zip(profiles, observations, strict=True):
        ordered = sorted(seen, key=lambda item: item.observed_at)
        if len(ordered) < 2 or ordered[0].followers <= 0:
            continue
        first, last = ordered[0], ordered[-1]
        days = (last.observed_at - first.observed_at).total_seconds() / 86400
        if days < _MIN_GROWTH_DAYS:
            continue
        change = (last.followers - first.followers) / first.followers
        growth = {
            "profile": _source(profile),
            "from": first.followers,
            "to": last.followers,
            "days": round(days, 1),
            "change": round(change, 4),
            "per_30_days": round(change * 30 / days, 4),
        }
        if best is None or last.followers > best["to"]:
            best = growth
    return best
