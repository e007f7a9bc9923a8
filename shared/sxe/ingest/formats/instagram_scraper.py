"""Instagram profiles exported by the Apify actor apify/instagram-profile-scraper.

Each item is one profile: `inputUrl`, `id`, `username`, `fullName`, `biography`,
`externalUrl` (and `externalUrls`), `followersCount`, `followsCount`, `postsCount`,
`verified`, `private`, `isBusinessAccount`, `businessCategoryName`, `url`. Items
for inputs that could not be scraped are error items such as
`{"inputUrl": "https://www.instagram.com/gone", "error": "not_found",
"errorDescription": "..."}` (also `"no_items"`); they are `api_error` rejections.

The identity is the user id when given and else the handle.
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

PROFILE_KEYS = frozenset(
    {"followersCount", "followsCount", "postsCount", "isBusinessAccount", "businessCategoryName", "igtvVideoCount"}
)


class InstagramScraper(SourceFormat):
    name = "instagram-scraper"
    label = "Instagram scraper"
    platform = Platform.INSTAGRAM

    def sniff(self, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        if is_scraper_error_item(value):
            return error_item_platform(value) == Platform.INSTAGRAM
        if "username" not in value:
            return False
        if (
            url_platform(value.get("url")) == Platform.THREADS
            or url_platform(value.get("inputUrl")) == Platform.THREADS
        ):
            return False
        if url_platform(value.get("inputUrl")) == Platform.INSTAGRAM:
            return True
        return bool(PROFILE_KEYS.intersection(value))

    def parse_object(self, item: dict[str, Any], envelope: Envelope | None) -> SourceProfile | Rejection:
        if is_scraper_error_item(item):
            return self.api_error(describe_error_item(item))

        fields = Fields(item)
        user_id = fields.identifier("id")
        handle = fields.text("username")
        if user_id is None and not handle:
            return self.missing_identity("user id or handle (fields id and username)")

        return SourceProfile(
            platform=self.platform,
            platform_user_id=user_id,
            handle=handle,
            display_name=fields.text("fullName"),
            bio=fields.text("biography"),
            followers=fields.count("followersCount"),
            following=fields.count("followsCount"),
            posts=fields.count("postsCount"),
            verified=fields.flag("verified"),
            website=fields.text("externalUrl") or _first_external_url(fields),
            is_private=fields.flag("private"),
            profile_url=fields.text("url") or (f"https://www.instagram.com/{handle}/" if handle else None),
        )


def _first_external_url(fields: Fields) -> str | None:
    for index, element in enumerate(fields.array("externalUrls")):
        if not isinstance(element, dict):
            raise ShapeError(f"externalUrls[{index}]", "an object", element)
        url = Fields(element, prefix=f"externalUrls[{index}].").text("url")
        if url:
            return url
    return None
