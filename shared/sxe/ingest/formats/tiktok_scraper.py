"""Video items exported by the Apify actor clockworks/tiktok-scraper.

Each item is one video. Its author sits in `authorMeta`: `id`, `name` (the handle),
`nickName`, `signature` (the bio), `bioLink`, `verified`, `privateAccount`,
`region`, `following`, `fans`, `heart`, `video`, `digg` and `profileUrl`. Older
exports give counts as strings such as "317.4K", which pass through as strings for
normalization. Many items share one author and each parses to the same profile, so
deduplication happens downstream.

Error items such as `{"error": "not_found", "errorDescription": "...", "url": "..."}`
are `api_error` rejections. The author id is required: an item without
`authorMeta.id` is a `missing_identity` rejection.
"""

from __future__ import annotations

from typing import Any

from sxe.ingest.formats.base import Envelope, Fields, SourceFormat, error_item_platform
from sxe.models import Platform, Rejection, SourceProfile


class TikTokScraper(SourceFormat):
    name = "tiktok-scraper"
    label = "TikTok scraper"
    platform = Platform.TIKTOK

    def sniff(self, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        return isinstance(value.get("authorMeta"), dict) or _is_error_item(value)

    def parse_object(self, item: dict[str, Any], envelope: Envelope | None) -> SourceProfile | Rejection:
        if _is_error_item(item):
            return self.api_error(_describe_error(item))

        author = Fields(item).nested("authorMeta")
        author_id = author.identifier("id") if author else None
        if author is None or author_id is None:
            return self.missing_identity("author id (field authorMeta.id)")

        handle = author.text("name")
        return SourceProfile(
            platform=self.platform,
            platform_user_id=author_id,
            handle=handle,
            display_name=author.text("nickName"),
            bio=author.text("signature"),
            followers=author.count("fans"),
            following=author.count("following"),
            posts=author.count("video"),
            likes=author.count("heart"),
            verified=author.flag("verified"),
            website=_bio_link(author),
            location=author.text("region"),
            is_private=author.flag("privateAccount"),
            profile_url=author.text("profileUrl") or (f"https://www.tiktok.com/@{handle}" if handle else None),
        )


def _is_error_item(value: dict[str, Any]) -> bool:
    if not isinstance(value.get("error"), str) or "authorMeta" in value:
        return False
    # Error items of other platforms' scrapers have the same shape, so their URL decides.
    return error_item_platform(value) in (None, Platform.TIKTOK)


def _describe_error(item: dict[str, Any]) -> str:
    text = str(item["error"])
    if item.get("errorDescription"):
        text += f": {item['errorDescription']}"
    return text


def _bio_link(author: Fields) -> str | None:
    """Read `bioLink`, given as a string or as an object with a `link` string."""
    link_object = author.nested("bioLink") if isinstance(author.raw("bioLink"), dict) else None
    if link_object is not None:
        return link_object.text("link") or None
    return author.text("bioLink") or None
