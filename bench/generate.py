"""Write seeded, invented audience profiles in the five source formats that SXE reads.

The records follow the shapes in `examples/`. X API v2 users come in pages with
`data`, `includes`, `errors` and `meta`. X API v1.1 user objects and Threads API
profiles are JSONL. TikTok Research API user info has the queried `username` added
beside `data`, and TikTok scraper video items carry their author in `authorMeta`.

As in real exports, X API v1.1 users carry their profile settings and images and, for
70 % of them, their latest tweet, and TikTok scraper items carry music and video
metadata. A record averages about 1.1 KB of compact JSON: from about 350 bytes for
Threads to about 1.9 KB for X API v1.1 and the TikTok scraper.

Every person is invented. Emails use `example.com`, phone numbers use the 555
range, and websites use the reserved `.example` top-level domain. About 1% of the
records are API error bodies, which SXE quarantines.

Usage: python bench/generate.py --records 5000 --out DIR --seed 7
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FORMAT_NAMES = ("x-api-v2", "x-api-v1.1", "threads-api", "tiktok-research-api", "tiktok-scraper")
X_V2_PAGE_USERS = 100
ERROR_FRACTION = 0.01
PHONE_FRACTION = 0.12
EMAIL_FRACTION = 0.15
OWN_SITE_FRACTION = 0.55
LINK_HUB_FRACTION = 0.12
PRIVATE_FRACTION = 0.03
VERIFIED_FRACTION = 0.05

FIRST_NAMES = (
    "Mara",
    "Devon",
    "Rina",
    "Kenji",
    "Lucía",
    "Priya",
    "Omar",
    "Tom",
    "Zoë",
    "Felix",
    "Anika",
    "Sam",
    "Olivia",
    "Jonas",
    "Amara",
    "Noah",
    "Leila",
    "Mateo",
    "Hana",
    "Ravi",
    "Chloe",
    "Tariq",
    "Ingrid",
    "Diego",
    "Yuki",
    "Grace",
    "Emeka",
    "Sofia",
    "Lars",
    "Nadia",
    "Ben",
    "Aisha",
    "Marco",
    "Elena",
    "Kofi",
    "Julia",
    "Arjun",
    "Maya",
    "Pavel",
    "Camille",
)
LAST_NAMES = (
    "Lindqvist",
    "Okafor",
    "Alvarez",
    "Mori",
    "Fernández",
    "Raman",
    "Haddad",
    "Becker",
    "Brandt",
    "Grant",
    "Whitfield",
    "Nakamura",
    "Osei",
    "Rossi",
    "Kowalski",
    "Dubois",
    "Silva",
    "Chen",
    "Patel",
    "Novak",
    "Jensen",
    "Moreau",
    "Adeyemi",
    "Costa",
    "Schmidt",
    "Larsen",
    "Reyes",
    "Ibrahim",
    "Walsh",
    "Tanaka",
)
BRAND_WORDS = (
    "Greenleaf",
    "Copper",
    "Northside",
    "Maple",
    "Harbor",
    "Bluebird",
    "Oakline",
    "Sunrise",
    "Juniper",
    "Ember",
    "Little",
    "Golden",
    "Riverbend",
    "Wildflower",
    "Summit",
)
LINK_HUBS = ("linktr.ee", "beacons.ai", "lnk.bio")
CITIES = ("Portland, OR", "Austin, TX", "Leeds, UK", "Berlin", "Lisbon", "Toronto", "Melbourne", "Miami, FL", "")
LANGUAGES = ("en", "en", "en", "es", "de", "fr", "pt", "ja")
REGIONS = ("US", "US", "GB", "DE", "ES", "CA", "AU", "BR")


@dataclass(frozen=True, slots=True)
class Persona:
    """A kind of account: its bio lines, how its display name reads and its business noun."""

    bios: tuple[str, ...]
    title: str
    business: str | None


PERSONAS: tuple[Persona, ...] = (
    Persona(
        (
            "Certified life coach. I help new managers lead with confidence. Book a free call",
            "Fitness coach for busy parents 💪 1:1 sessions and online programs",
            "Mindset coaching for founders. Work with me #coach",
        ),
        "Coach",
        None,
    ),
    Persona(
        (
            "Founder of {brand}. Building tools for small clinics. Ex-payments.",
            "2x founder, now building {brand}. Angel investor. Writing about B2B SaaS.",
            "Co-founder & CEO @{brand_handle}. Hiring engineers.",
        ),
        "Founder",
        None,
    ),
    Persona(
        (
            "Neighbourhood bakery on Main St. Sourdough daily, open 7 days 🍞",
            "Family bakery & cafe downtown since 2009. Custom cakes.",
            "Small-batch bakery. Pre-orders open every Thursday.",
        ),
        "Bakery",
        "Bakery",
    ),
    Persona(
        (
            "Handmade ceramics shop. Restocks every 1st Friday ✨",
            "Online shop for clean skincare, shipped in 48h",
            "Curated vintage finds. New drops in the shop Thursdays. Free shipping over $50",
        ),
        "Shop",
        "Shop",
    ),
    Persona(
        (
            "Content creator 🎥 recipes, travel and bad jokes. New video daily",
            "Creator | 60-second coding lessons 💻",
            "UGC creator & storyteller. Collabs open",
        ),
        "Creator",
        None,
    ),
    Persona(
        (
            "Full-service social media agency for restaurants. We grow local brands.",
            "Performance marketing agency. Paid social, SEO, content.",
            "Boutique design agency for DTC brands",
        ),
        "Agency",
        "Studio",
    ),
    Persona(
        (
            "Realtor in {city}. Helping first-time buyers find home 🏡",
            "Real estate agent | luxury listings | open houses every weekend",
            "Licensed broker. Homes for sale and rentals.",
        ),
        "Realtor",
        None,
    ),
    Persona(
        (
            "Dad, runner, coffee enthusiast.",
            "Opinions are my own. Mostly about football.",
            "Reading, hiking, and the occasional hot take.",
            "",
        ),
        "",
        None,
    ),
)


TWEETS = (
    "New dates are up, link in bio!",
    "Thank you all for 10 years of support. More soon.",
    "Working on something new this week, stay tuned",
    "Open house this Saturday 11-2, come say hi",
    "Fresh batch out of the oven at 7am tomorrow",
)


@dataclass(frozen=True, slots=True)
class Person:
    """One invented account owner, shared by the format writers."""

    handle: str
    display_name: str
    bio: str
    website: str | None
    followers: int
    following: int
    posts: int
    likes: int
    verified: bool
    private: bool
    location: str
    language: str
    created_at: datetime


class PersonFactory:
    """Draw invented people from one seeded random generator, with unique handles."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.count = 0

    def person(self) -> Person:
        self.count += 1
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        persona = rng.choice(PERSONAS)
        brand = f"{rng.choice(BRAND_WORDS)} {persona.business or rng.choice(('Labs', 'Co', 'Works'))}"
        handle = f"{_ascii_slug(first)}_{_ascii_slug(last)}{self.count}"
        followers = int(10 ** rng.uniform(1.3, 6.6))
        return Person(
            handle=handle,
            display_name=self._display_name(first, last, persona, brand),
            bio=self._bio(first, last, persona, brand),
            website=self._website(handle, first, last, brand),
            followers=followers,
            following=rng.randint(20, 3000),
            posts=rng.randint(5, 40_000),
            likes=rng.randint(0, followers * 20 + 100),
            verified=rng.random() < VERIFIED_FRACTION,
            private=rng.random() < PRIVATE_FRACTION,
            location=rng.choice(CITIES),
            language=rng.choice(LANGUAGES),
            created_at=datetime(2009, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 15 * 365 * 86400)),
        )

    def _display_name(self, first: str, last: str, persona: Persona, brand: str) -> str:
        roll = self.rng.random()
        if persona.business and roll < 0.6:
            return brand
        if persona.title and roll < 0.35:
            return f"{first} {last} | {persona.title}"
        if roll < 0.1:
            return first
        return f"{first} {last}"

    def _bio(self, first: str, last: str, persona: Persona, brand: str) -> str:
        rng = self.rng
        bio = rng.choice(persona.bios).format(brand=brand, brand_handle=_ascii_slug(brand), city=rng.choice(CITIES))
        if rng.random() < EMAIL_FRACTION:
            bio += f" Collabs: {_ascii_slug(first)}.{_ascii_slug(last)}@example.com"
        if rng.random() < PHONE_FRACTION:
            bio += rng.choice((" Text 555-01{:02d}", " Call +1 212 555 01{:02d}", " Bookings 646.555.01{:02d}")).format(
                rng.randint(0, 99)
            )
        return bio

    def _website(self, handle: str, first: str, last: str, brand: str) -> str | None:
        roll = self.rng.random()
        if roll < OWN_SITE_FRACTION:
            stem = self.rng.choice((_ascii_slug(brand), f"{_ascii_slug(first)}{_ascii_slug(last)}"))
            return f"https://{stem.replace('_', '')}.example/"
        if roll < OWN_SITE_FRACTION + LINK_HUB_FRACTION:
            return f"https://{self.rng.choice(LINK_HUBS)}/{handle}"
        return None


def _ascii_slug(text: str) -> str:
    folded = text.lower().translate(str.maketrans("áéíóúëöü", "aeioueou"))
    return "".join(ch if ch.isalnum() else "_" for ch in folded).strip("_")


def _tco(rng: random.Random) -> str:
    return "https://t.co/" + "".join(rng.choices("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789", k=10))


def _x_url_entity(person: Person, short: str, with_indices: bool) -> list[dict[str, Any]]:
    if person.website is None:
        return []
    display = person.website.removeprefix("https://").rstrip("/")
    entity: dict[str, Any] = {"url": short, "expanded_url": person.website, "display_url": display}
    if with_indices:
        entity["indices"] = [0, 23]
    else:
        entity = {"start": 0, "end": 23, **entity}
    return [entity]


def _compact_count(value: int) -> str | int:
    """Return a count the way older scraper exports write it, such as "317.4K", for large values."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1_000:.1f}K"
    return value


def x_v2_user(person: Person, user_id: int, rng: random.Random) -> dict[str, Any]:
    short = _tco(rng) if person.website else ""
    user: dict[str, Any] = {
        "id": str(user_id),
        "username": person.handle,
        "name": person.display_name,
        "description": person.bio,
        "location": person.location,
        "url": short,
        "public_metrics": {
            "followers_count": person.followers,
            "following_count": person.following,
            "tweet_count": person.posts,
            "listed_count": person.followers // 120,
            "like_count": person.likes,
            "media_count": person.posts // 10,
        },
        "verified": person.verified,
        "verified_type": "blue" if person.verified else "none",
        "protected": person.private,
        "created_at": person.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{user_id}/avatar_normal.jpg",
    }
    if person.website:
        user["entities"] = {"url": {"urls": _x_url_entity(person, short, with_indices=False)}}
    if rng.random() < 0.3:
        user["pinned_tweet_id"] = str(1_790_000_000_000_000_000 + user_id % 1_000_000_000)
    user["most_recent_tweet_id"] = str(1_860_000_000_000_000_000 + user_id % 1_000_000_000)
    user["subscription_type"] = "None"
    user["parody"] = False
    user["verified_followers_count"] = person.followers // 200
    return user


def x_v2_error(handle: str, rng: random.Random) -> dict[str, Any]:
    suspended = rng.random() < 0.5
    return {
        "value": handle,
        "detail": f"User has been suspended: [{handle}]."
        if suspended
        else f"Could not find user with usernames: [{handle}].",
        "title": "Forbidden" if suspended else "Not Found Error",
        "resource_type": "user",
        "parameter": "usernames",
        "resource_id": handle,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


def x_v2_page(users: list[dict[str, Any]], errors: list[dict[str, Any]], page: int) -> dict[str, Any]:
    tweets = [
        {
            "id": user["pinned_tweet_id"],
            "text": "New dates are up, link in bio!",
            "edit_history_tweet_ids": [user["pinned_tweet_id"]],
        }
        for user in users
        if "pinned_tweet_id" in user
    ]
    document: dict[str, Any] = {"data": users, "includes": {"tweets": tweets}}
    if errors:
        document["errors"] = errors
    document["meta"] = {"result_count": len(users), "next_token": f"page{page + 1:04d}token"}
    return document


def x_v11_user(person: Person, user_id: int, rng: random.Random) -> dict[str, Any]:
    short = _tco(rng) if person.website else None
    user: dict[str, Any] = {
        "id": user_id,
        "id_str": str(user_id),
        "name": person.display_name,
        "screen_name": person.handle,
        "location": person.location,
        "description": person.bio,
        "url": short,
        "entities": {
            "url": {"urls": _x_url_entity(person, short or "", with_indices=True)},
            "description": {"urls": []},
        },
        "protected": person.private,
        "followers_count": person.followers,
        "friends_count": person.following,
        "listed_count": person.followers // 120,
        "created_at": person.created_at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "favourites_count": person.likes // 3,
        "verified": person.verified,
        "statuses_count": person.posts,
        "lang": person.language,
        "default_profile": False,
        "default_profile_image": False,
        **_x_v11_profile_settings(user_id, rng),
    }
    if rng.random() < 0.7:
        user["status"] = _x_v11_status(person, user_id, rng)
    return user


def _x_v11_profile_settings(user_id: int, rng: random.Random) -> dict[str, Any]:
    """Return the account settings and profile images that every v1.1 user object carries."""
    return {
        "profile_location": None,
        "utc_offset": None,
        "time_zone": None,
        "geo_enabled": rng.random() < 0.3,
        "contributors_enabled": False,
        "is_translator": False,
        "is_translation_enabled": False,
        "profile_background_color": "F5F8FA",
        "profile_background_image_url": None,
        "profile_background_image_url_https": None,
        "profile_background_tile": False,
        "profile_image_url": f"http://pbs.twimg.com/profile_images/{user_id}/avatar_normal.jpg",
        "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{user_id}/avatar_normal.jpg",
        "profile_banner_url": f"https://pbs.twimg.com/profile_banners/{user_id}/{1_600_000_000 + user_id % 99_999_999}",
        "profile_link_color": "1DA1F2",
        "profile_sidebar_border_color": "C0DEED",
        "profile_sidebar_fill_color": "DDEEF6",
        "profile_text_color": "333333",
        "profile_use_background_image": True,
        "has_extended_profile": True,
        "following": False,
        "follow_request_sent": False,
        "notifications": False,
        "translator_type": "none",
        "withheld_in_countries": [],
    }


def _x_v11_status(person: Person, user_id: int, rng: random.Random) -> dict[str, Any]:
    """Return the embedded latest tweet of a v1.1 user object."""
    tweet_id = 1_850_000_000_000_000_000 + user_id
    created = person.created_at + timedelta(days=rng.randint(30, 5000))
    return {
        "created_at": created.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "id": tweet_id,
        "id_str": str(tweet_id),
        "text": rng.choice(TWEETS),
        "truncated": False,
        "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "in_reply_to_status_id": None,
        "in_reply_to_status_id_str": None,
        "in_reply_to_user_id": None,
        "in_reply_to_user_id_str": None,
        "in_reply_to_screen_name": None,
        "geo": None,
        "coordinates": None,
        "place": None,
        "contributors": None,
        "is_quote_status": False,
        "retweet_count": rng.randint(0, 50),
        "favorite_count": rng.randint(0, 400),
        "favorited": False,
        "retweeted": False,
        "lang": person.language,
    }


def threads_profile(person: Person, user_id: int, rng: random.Random) -> dict[str, Any]:
    bio = person.bio if person.website is None else f"{person.bio} {person.website.removeprefix('https://')}"
    if rng.random() < 0.3:
        return {
            "id": str(user_id),
            "username": person.handle,
            "name": person.display_name,
            "threads_profile_picture_url": f"https://scontent.cdninstagram.example/v/{person.handle}.jpg",
            "threads_biography": bio,
            "is_verified": person.verified,
        }
    return {
        "username": person.handle,
        "name": person.display_name,
        "profile_picture_url": f"https://scontent.cdninstagram.example/v/{person.handle}.jpg",
        "biography": bio,
        "is_verified": person.verified,
        "follower_count": person.followers,
        "likes_count": person.likes,
        "quotes_count": person.posts // 50,
        "replies_count": person.posts // 4,
        "reposts_count": person.posts // 20,
        "views_count": person.followers * 25,
    }


def tiktok_research_user(person: Person, log_id: str) -> dict[str, Any]:
    return {
        "username": person.handle,
        "data": {
            "display_name": person.display_name,
            "bio_description": person.bio,
            "avatar_url": f"https://p16-sign.tiktokcdn.example/{person.handle}~c5_100x100.jpeg?x-expires=1735689600",
            "is_verified": person.verified,
            "follower_count": person.followers,
            "following_count": person.following,
            "likes_count": person.likes,
            "video_count": person.posts % 2000,
            "bio_url": person.website or "",
        },
        "error": {"code": "ok", "message": "", "log_id": log_id},
    }


def tiktok_video(person: Person, author_id: int, video_id: int, rng: random.Random) -> dict[str, Any]:
    created = person.created_at + timedelta(days=rng.randint(30, 3000))
    fans: int | str = _compact_count(person.followers) if rng.random() < 0.2 else person.followers
    plays = rng.randint(200, max(300, person.followers * 3))
    return {
        "id": str(video_id),
        "text": rng.choice(("Day in the life #fyp", "Quick tip you can use today #tips", "Behind the scenes ✨")),
        "textLanguage": person.language,
        "createTime": int(created.timestamp()),
        "createTimeISO": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "isAd": False,
        "authorMeta": {
            "id": str(author_id),
            "name": person.handle,
            "profileUrl": f"https://www.tiktok.com/@{person.handle}",
            "nickName": person.display_name,
            "verified": person.verified,
            "signature": person.bio,
            "bioLink": person.website or "",
            "originalAvatarUrl": f"https://p16-sign-va.tiktokcdn.example/{person.handle}~tplv-tiktokx-cropcenter:1080:1080.jpeg",
            "avatar": f"https://p16-sign-va.tiktokcdn.example/{person.handle}.jpeg",
            "commerceUserInfo": {"commerceUser": False},
            "privateAccount": person.private,
            "region": rng.choice(REGIONS),
            "roomId": "",
            "ttSeller": rng.random() < 0.05,
            "following": person.following,
            "friends": 0,
            "fans": fans,
            "heart": person.likes,
            "video": person.posts % 2000,
            "digg": rng.randint(0, 5000),
        },
        "musicMeta": {
            "musicName": "original sound",
            "musicAuthor": person.display_name,
            "musicOriginal": True,
            "musicId": str(video_id + 11),
            "playUrl": f"https://sf16-ies-music-va.tiktokcdn.example/obj/musically-maliva-obj/{video_id + 11}.mp3",
            "coverMediumUrl": f"https://p16-sign-va.tiktokcdn.example/{person.handle}~c5_720x720.jpeg",
            "originalCoverMediumUrl": f"https://p16-sign-va.tiktokcdn.example/{person.handle}~tplv-720.jpeg",
        },
        "webVideoUrl": f"https://www.tiktok.com/@{person.handle}/video/{video_id}",
        "videoMeta": {
            "height": 1024,
            "width": 576,
            "duration": rng.randint(7, 180),
            "coverUrl": f"https://p16-sign-va.tiktokcdn.example/obj/tos-maliva-p-0068/{video_id}~tplv-dmt-logom.image",
            "originalCoverUrl": f"https://p16-sign-va.tiktokcdn.example/obj/tos-maliva-p-0068/{video_id}.image",
            "definition": "540p",
            "format": "mp4",
            "subtitleLinks": [],
        },
        "diggCount": plays // 20,
        "shareCount": plays // 400,
        "playCount": plays,
        "collectCount": plays // 300,
        "commentCount": plays // 900,
        "hashtags": [{"name": "fyp"}],
        "isSlideshow": False,
        "isPinned": False,
        "isSponsored": False,
        "mentions": [],
        "detailedMentions": [],
        "mediaUrls": [],
        "effectStickers": [],
    }


def write_x_v2(factory: PersonFactory, count: int, out: Path) -> list[Path]:
    """Write `count` users and user errors as pages of up to 100, one file per page."""
    rng = factory.rng
    paths: list[Path] = []
    written = 0
    while written < count:
        size = min(X_V2_PAGE_USERS, count - written)
        users: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for offset in range(size):
            person = factory.person()
            if rng.random() < ERROR_FRACTION:
                errors.append(x_v2_error(person.handle, rng))
            else:
                users.append(x_v2_user(person, 1_400_000_000_000_000_000 + (written + offset) * 1009, rng))
        page = len(paths) + 1
        path = out / f"x-api-v2-followers-{page:04d}.json"
        path.write_text(json.dumps(x_v2_page(users, errors, page), ensure_ascii=False, indent=2), encoding="utf-8")
        paths.append(path)
        written += size
    return paths


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> list[Path]:
    with path.open("w", encoding="utf-8") as stream:
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    return [path]


def write_x_v11(factory: PersonFactory, count: int, out: Path) -> list[Path]:
    records: list[dict[str, Any]] = []
    for index in range(count):
        person = factory.person()
        if factory.rng.random() < ERROR_FRACTION:
            records.append({"errors": [{"code": 50, "message": "User not found."}]})
        else:
            records.append(x_v11_user(person, 3_000_000_000 + index * 7, factory.rng))
    return write_jsonl(out / "x-api-v1.1-users.jsonl", records)


def write_threads(factory: PersonFactory, count: int, out: Path) -> list[Path]:
    records: list[dict[str, Any]] = []
    for index in range(count):
        person = factory.person()
        if factory.rng.random() < ERROR_FRACTION:
            records.append(
                {
                    "error": {
                        "message": "Invalid parameter",
                        "type": "THApiException",
                        "code": 100,
                        "error_subcode": 4279009,
                        "error_user_title": "Profile not found",
                        "fbtrace_id": f"Ab{index:014d}",
                    }
                }
            )
        else:
            records.append(threads_profile(person, 24_000_000_000_000_000 + index * 13, factory.rng))
    return write_jsonl(out / "threads-profiles.jsonl", records)


def write_tiktok_research(factory: PersonFactory, count: int, out: Path) -> list[Path]:
    records: list[dict[str, Any]] = []
    for index in range(count):
        person = factory.person()
        log_id = f"20250102093{index:013d}"
        if factory.rng.random() < ERROR_FRACTION:
            records.append(
                {
                    "username": person.handle,
                    "data": {},
                    "error": {
                        "code": "rate_limit_exceeded",
                        "message": "API rate limit exceeded. Please retry later.",
                        "log_id": log_id,
                    },
                }
            )
        else:
            records.append(tiktok_research_user(person, log_id))
    path = out / "tiktok-research-users.json"
    path.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    return [path]


def write_tiktok_scraper(factory: PersonFactory, count: int, out: Path) -> list[Path]:
    """Write `count` video items, with one to four videos per author as in scraper exports."""
    rng = factory.rng
    items: list[dict[str, Any]] = []
    while len(items) < count:
        person = factory.person()
        author_id = 6_800_000_000_000_000_000 + factory.count * 31
        for _ in range(min(rng.randint(1, 4), count - len(items))):
            if rng.random() < ERROR_FRACTION:
                items.append(
                    {
                        "error": "not_found",
                        "errorDescription": "Profile or video not found or private.",
                        "url": f"https://www.tiktok.com/@{person.handle}",
                    }
                )
            else:
                items.append(tiktok_video(person, author_id, 7_300_000_000_000_000_000 + len(items), rng))
    path = out / "tiktok-scraper-videos.json"
    path.write_text(json.dumps(items, ensure_ascii=False, indent=2), encoding="utf-8")
    return [path]


WRITERS: dict[str, Callable[[PersonFactory, int, Path], list[Path]]] = {
    "x-api-v2": write_x_v2,
    "x-api-v1.1": write_x_v11,
    "threads-api": write_threads,
    "tiktok-research-api": write_tiktok_research,
    "tiktok-scraper": write_tiktok_scraper,
}


def generate(records: int, out: Path, seed: int) -> dict[str, list[Path]]:
    """Write `records` records split evenly over the five formats into `out`, and return the files per format."""
    factory = PersonFactory(random.Random(seed))
    out.mkdir(parents=True, exist_ok=True)
    share, extra = divmod(records, len(FORMAT_NAMES))
    files: dict[str, list[Path]] = {}
    for position, name in enumerate(FORMAT_NAMES):
        count = share + int(position < extra)
        files[name] = WRITERS[name](factory, count, out) if count else []
    return files


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Write invented profiles in the five source formats SXE reads.")
    parser.add_argument("--records", type=int, default=5000, help="total records over all formats (default 5000)")
    parser.add_argument("--out", type=Path, required=True, help="output folder, created when missing")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7). Equal seeds write equal files")
    args = parser.parse_args()
    if args.records < 1:
        parser.error(f"--records must be at least 1, got {args.records}")
    return args


def main() -> None:
    args = parse_args()
    files = generate(args.records, args.out, args.seed)
    for name, paths in files.items():
        size = sum(path.stat().st_size for path in paths)
        print(f"{name:<20} {len(paths):>4} files {size / 1024:>9.1f} KiB")


if __name__ == "__main__":
    main()
