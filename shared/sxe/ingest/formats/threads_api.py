"""Threads Graph API user profiles.

Accepted values:

- the `/me` shape `{"id", "username", "name", "threads_profile_picture_url",
  "threads_biography", "is_verified"}`;
- the `profile_lookup` shape `{"username", "name", "profile_picture_url", "biography",
  "is_verified", "follower_count", "likes_count", "quotes_count", "replies_count",
  "reposts_count", "views_count"}`, which carries no id;
- either shape inside `{"data": [profile, ...]}`;
- a Graph API error body `{"error": {"message", "type", "code", "error_subcode", ...}}`,
  which becomes an `api_error` rejection.

The identity is the user id when given and else the handle. A profile with neither
is a `missing_identity` rejection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sxe.ingest.formats.base import Envelope, Fields, SourceFormat
from sxe.models import Platform, Rejection, SourceProfile

PROFILE_KEYS = frozenset(
    {
        "threads_biography",
        "threads_profile_picture_url",
        "biography",
        "profile_picture_url",
        "is_verified",
        "follower_count",
        "likes_count",
        "quotes_count",
        "replies_count",
        "reposts_count",
        "views_count",
    }
)

# Keys of TikTok, X, Instagram and Threads scraper records that share some profile key names with the API.
FOREIGN_KEYS = frozenset(
    {
        "authorMeta",
        "screen_name",
        "public_metrics",
        "data",
        "pk",
        "full_name",
        "fullName",
        "text_post_app_is_private",
        "followerCount",
        "followersCount",
        "bio_links",
        "bioLinks",
        "inputUrl",
        "uniqueId",
    }
)


class ThreadsApi(SourceFormat):
    name = "threads-api"
    label = "Threads API"
    platform = Platform.THREADS

    def sniff(self, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        if _is_error_body(value) or _looks_like_profile(value):
            return True
        data = value.get("data")
        return isinstance(data, list) and any(isinstance(item, dict) and _looks_like_profile(item) for item in data)

    def expand(self, value: Any) -> Iterator[tuple[Any, Envelope | None]]:
        if isinstance(value, dict) and isinstance(value.get("data"), list) and "username" not in value:
            envelope = {key: item for key, item in value.items() if key != "data"}
            for profile in value["data"]:
                yield profile, envelope
            return
        yield value, None

    def parse_object(self, item: dict[str, Any], envelope: Envelope | None) -> SourceProfile | Rejection:
        if _is_error_body(item):
            return self.api_error(_describe_error(item["error"]))

        fields = Fields(item)
        user_id = fields.identifier("id")
        handle = fields.text("username")
        if user_id is None and not handle:
            return self.missing_identity("user id or handle (fields id and username)")

        bio = fields.text("threads_biography") if fields.has("threads_biography") else fields.text("biography")
        return SourceProfile(
            platform=self.platform,
            platform_user_id=user_id,
            handle=handle,
            display_name=fields.text("name"),
            bio=bio,
            followers=fields.count("follower_count"),
            likes=fields.count("likes_count"),
            verified=fields.flag("is_verified"),
            profile_url=f"https://www.threads.net/@{handle}" if handle else None,
        )


def _looks_like_profile(value: dict[str, Any]) -> bool:
    if "username" not in value and "id" not in value:
        return False
    return bool(PROFILE_KEYS.intersection(value)) and not FOREIGN_KEYS.intersection(value)


def _is_error_body(value: dict[str, Any]) -> bool:
    """Return whether a dict is a Graph API error body, whose `error.code` is an integer."""
    error = value.get("error")
    return isinstance(error, dict) and isinstance(error.get("code"), int) and "data" not in value


def _describe_error(error: dict[str, Any]) -> str:
    text = f"code {error.get('code')}"
    if "error_subcode" in error:
        text += f", subcode {error['error_subcode']}"
    if "type" in error:
        text += f" ({error['type']})"
    return f"{text}: {error.get('message', 'no message')}"
