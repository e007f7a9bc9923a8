"""TikTok Research API user info responses, with the username SXE's import adds.

The API returns `{"data": {"display_name", "bio_description", "avatar_url",
"is_verified", "follower_count", "following_count", "likes_count", "video_count",
"bio_url"}, "error": {"code": "ok", "message": "", "log_id": "..."}}`. The
response carries neither the username nor a user id, so SXE's import adds the
username it queried as a top-level `"username"` key beside `data`. One response is
one item: its hash covers `username`, `data` and `error`.

A response whose `error.code` is not `"ok"` (such as `rate_limit_exceeded`,
`invalid_params` or `internal_error`) is an `api_error` rejection. A successful
response without `username` is a `missing_identity` rejection, because nothing else
in it identifies the account.
"""

from __future__ import annotations

from typing import Any

from sxe.ingest.formats.base import Envelope, Fields, SourceFormat
from sxe.models import Platform, Rejection, SourceProfile

DATA_KEYS = frozenset(
    {
        "display_name",
        "bio_description",
        "avatar_url",
        "is_verified",
        "follower_count",
        "following_count",
        "likes_count",
        "video_count",
        "bio_url",
    }
)


class TikTokResearchApi(SourceFormat):
    name = "tiktok-research-api"
    label = "TikTok Research API"
    platform = Platform.TIKTOK

    def sniff(self, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        error = value.get("error")
        if isinstance(error, dict) and isinstance(error.get("code"), str) and ("data" in value or "log_id" in error):
            return True
        data = value.get("data")
        return isinstance(data, dict) and bool(DATA_KEYS.intersection(data))

    def parse_object(self, item: dict[str, Any], envelope: Envelope | None) -> SourceProfile | Rejection:
        fields = Fields(item)
        error = fields.nested("error")
        if error is not None and error.text("code") not in (None, "ok"):
            return self.api_error(_describe_error(error))

        data = fields.nested("data") or Fields({}, prefix="data.")
        handle = fields.text("username") or data.text("username")
        if not handle:
            return self.missing_identity(
                'username: add the queried username as a top-level "username" key beside "data"'
            )

        return SourceProfile(
            platform=self.platform,
            platform_user_id=None,
            handle=handle,
            display_name=data.text("display_name"),
            bio=data.text("bio_description"),
            followers=data.count("follower_count"),
            following=data.count("following_count"),
            posts=data.count("video_count"),
            likes=data.count("likes_count"),
            verified=data.flag("is_verified"),
            website=data.text("bio_url") or None,
            profile_url=f"https://www.tiktok.com/@{handle.lstrip('@')}",
        )


def _describe_error(error: Fields) -> str:
    text = f"{error.text('code')}: {error.text('message') or 'no message'}"
    log_id = error.text("log_id")
    if log_id:
        text += f" (log id {log_id})"
    return text
