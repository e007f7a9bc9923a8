"""TikTok profiles exported flat by profile scrapers, or as TikTok's own `userInfo` object.

Accepted items:

- the flat variant: `id`, `uniqueId` (the handle), `nickname`, `signature` (the bio),
  `bioLink` (a string or `{"link": ...}`), `verified`, `privateAccount`, `region`,
  `followerCount`, `followingCount`, `heartCount` (or `heart`), `videoCount`;
- the nested variant `{"user": {...}, "stats": {...}}` with the same field names
  split between the two objects;
- error items such as `{"error": "not_found", "errorDescription": "..."}`, which are
  `api_error` rejections.

Counts may be strings such as "12.3K" in older exports. The identity is the user
id when given and else the handle; an item with neither is `missing_identity`.
"""

from __future__ import annotations

from typing import Any

from sxe.ingest.formats.base import (
    Envelope,
    Fields,
    SourceFormat,
    describe_error_item,
    error_item_platform,
    is_scraper_error_item,
)
from sxe.models import Platform, Rejection, SourceProfile


class TikTokProfileScraper(SourceFormat):
    name = "tiktok-profile-scraper"
    label = "TikTok profile scraper"
    platform = Platform.TIKTOK

    def sniff(self, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        if is_scraper_error_item(value):
            return error_item_platform(value) in (None, Platform.TIKTOK)
        if "uniqueId" in value:
            return True
        user = value.get("user")
        return isinstance(user, dict) and "uniqueId" in user

    def parse_object(self, item: dict[str, Any], envelope: Envelope | None) -> SourceProfile | Rejection:
        if is_scraper_error_item(item):
            return self.api_error(describe_error_item(item))

        fields = Fields(item)
        user = fields.nested("user") if isinstance(item.get("user"), dict) else None
        stats = (fields.nested("stats") if isinstance(item.get("stats"), dict) else None) or user or fields
        user = user or fields

        user_id = user.identifier("id")
        handle = user.text("uniqueId")
        if user_id is None and not handle:
            return self.missing_identity("user id or handle (fields id and uniqueId)")

        return SourceProfile(
            platform=self.platform,
            platform_user_id=user_id,
            handle=handle,
            display_name=user.text("nickname"),
            bio=user.text("signature"),
            followers=stats.count("followerCount"),
            following=stats.count("followingCount"),
            posts=stats.count("videoCount"),
            likes=stats.count("heartCount") if stats.raw("heartCount") is not None else stats.count("heart"),
            verified=user.flag("verified"),
            website=_bio_link(user),
            location=user.text("region"),
            is_private=user.flag("privateAccount"),
            profile_url=f"https://www.tiktok.com/@{handle}" if handle else None,
        )


def _bio_link(user: Fields) -> str | None:
    if isinstance(user.raw("bioLink"), dict):
        link = user.nested("bioLink")
        return link.text("link") or None if link else None
    return user.text("bioLink") or None
