"""Threads profiles exported by web scrapers, in snake_case and camelCase variants.

Threads' web app serves Instagram-style user objects, and scrapers export them
either as received or with camelCase keys:

- snake_case: `pk` or `id`, `username`, `full_name`, `biography`, `follower_count`,
  `is_verified`, `text_post_app_is_private` or `is_private`, `bio_links` (objects
  with a `url`), `profile_pic_url`;
- camelCase: `id` or `pk`, `username`, `fullName`, `biography` or `bio`,
  `followerCount` or `followersCount`, `isVerified`, `isPrivate`, `bioLinks`,
  `profilePicUrl`, `url` or `profileUrl`.

A value counts as a Threads scraper export when it carries a Threads-only key
(`text_post_app_is_private`, `followerCount`, `isThreadsOnlyUser`, ...) or a
threads.net URL. Error items such as `{"url": "https://www.threads.net/@x",
"error": "not_found"}` are `api_error` rejections. The identity is the user id
when given and else the handle.
"""

from __future__ import annotations

from typing import Any

from sxe.ingest.formats.base import (
    Envelope,
    Fields,
    ShapeError,
    SourceFormat,
    describe_error_item,
    error_item_platform,
    is_scraper_error_item,
    url_platform,
)
from sxe.models import Platform, Rejection, SourceProfile

SNAKE_MARKERS = frozenset({"text_post_app_is_private", "text_post_app_badge_label", "full_name"})
CAMEL_MARKERS = frozenset({"followerCount", "isThreadsOnlyUser", "threadsOnlyUser", "textPostAppIsPrivate"})
URL_KEYS = ("url", "profileUrl", "profile_url", "inputUrl")


class ThreadsScraper(SourceFormat):
    name = "threads-scraper"
    label = "Threads scraper"
    platform = Platform.THREADS

    def sniff(self, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        if is_scraper_error_item(value):
            return error_item_platform(value) == Platform.THREADS
        if "username" not in value or "authorMeta" in value:
            return False
        if any(url_platform(value.get(key)) == Platform.THREADS for key in URL_KEYS):
            return True
        if CAMEL_MARKERS.intersection(value):
            return True
        # "full_name" alone also marks Instagram's private API objects; Threads ones add the pk.
        return bool(SNAKE_MARKERS.intersection(value)) and ("pk" in value or "follower_count" in value)

    def parse_object(self, item: dict[str, Any], envelope: Envelope | None) -> SourceProfile | Rejection:
        if is_scraper_error_item(item):
            return self.api_error(describe_error_item(item))

        fields = Fields(item)
        user_id = fields.identifier("pk") or fields.identifier("id")
        handle = fields.text("username")
        if user_id is None and not handle:
            return self.missing_identity("user id or handle (fields pk, id and username)")

        return SourceProfile(
            platform=self.platform,
            platform_user_id=user_id,
            handle=handle,
            display_name=_first_text(fields, "full_name", "fullName", "name"),
            bio=_first_text(fields, "biography", "bio"),
            followers=_first_count(fields, "follower_count", "followerCount", "followersCount", "followers"),
            following=_first_count(fields, "following_count", "followingCount"),
            verified=_first_flag(fields, "is_verified", "isVerified", "verified"),
            website=_first_link(fields),
            is_private=_first_flag(fields, "text_post_app_is_private", "is_private", "isPrivate", "private"),
            profile_url=_first_text(fields, "profileUrl", "profile_url", "url")
            or (f"https://www.threads.net/@{handle}" if handle else None),
        )


def _first_text(fields: Fields, *keys: str) -> str | None:
    for key in keys:
        value = fields.text(key)
        if value:
            return value
    return None


def _first_count(fields: Fields, *keys: str) -> int | str | None:
    for key in keys:
        if fields.raw(key) is not None:
            return fields.count(key)
    return None


def _first_flag(fields: Fields, *keys: str) -> bool | None:
    for key in keys:
        value = fields.flag(key)
        if value is not None:
            return value
    return None


def _first_link(fields: Fields) -> str | None:
    """Return the first bio link: `bio_links`/`bioLinks` objects with a `url`, or an `external_url`."""
    for key in ("bio_links", "bioLinks"):
        for index, element in enumerate(fields.array(key)):
            if isinstance(element, str) and element:
                return element
            if not isinstance(element, dict):
                raise ShapeError(f"{fields.path(key)}[{index}]", "an object or a string", element)
            url = Fields(element, prefix=f"{fields.path(key)}[{index}].").text("url")
            if url:
                return url
    return _first_text(fields, "external_url", "externalUrl")
