"""X API v1.1 user objects, as returned by users/show, users/lookup and followers/list.

Accepted values:

- a bare user object with `id` (a number), `id_str`, `screen_name` and counts at the top level;
- a followers/list or friends/list page `{"users": [user, ...], "next_cursor": ...}`;
- an error body `{"errors": [{"code": 50, "message": "User not found."}]}`, whose
  every element becomes an `api_error` rejection.

The user id is required, read from `id_str` and else from `id`: a user with neither
is a `missing_identity` rejection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sxe.ingest.formats.base import Envelope, Fields, SourceFormat, first_expanded_url
from sxe.models import Platform, Rejection, SourceProfile

# Meanings of the v1.1 error codes that user lookups return.
ERROR_CODE_MEANINGS = {
    17: "no user matches the lookup",
    32: "authentication failed",
    50: "user not found",
    63: "user suspended",
    88: "rate limit exceeded",
    89: "invalid or expired token",
    215: "bad authentication data",
}


class XApiV11(SourceFormat):
    name = "x-api-v1.1"
    label = "X API v1.1"
    platform = Platform.X

    def sniff(self, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        if _looks_like_user(value) or _is_error_body(value):
            return True
        users = value.get("users")
        return isinstance(users, list) and any(isinstance(user, dict) and _looks_like_user(user) for user in users)

    def expand(self, value: Any) -> Iterator[tuple[Any, Envelope | None]]:
        if isinstance(value, dict) and _is_error_body(value):
            for error in value["errors"]:
                yield error, {}
            return
        if isinstance(value, dict) and isinstance(value.get("users"), list) and "screen_name" not in value:
            envelope = {key: item for key, item in value.items() if key != "users"}
            for user in value["users"]:
                yield user, envelope
            return
        yield value, None

    def parse_object(self, item: dict[str, Any], envelope: Envelope | None) -> SourceProfile | Rejection:
        if _is_error(item):
            return self.api_error(_describe_error(item))

        fields = Fields(item)
        user_id = fields.identifier("id_str") or fields.identifier("id")
        if user_id is None:
            return self.missing_identity("user id (fields id_str and id)")

        handle = fields.text("screen_name")
        return SourceProfile(
            platform=self.platform,
            platform_user_id=user_id,
            handle=handle,
            display_name=fields.text("name"),
            bio=fields.text("description"),
            followers=fields.count("followers_count"),
            following=fields.count("friends_count"),
            posts=fields.count("statuses_count"),
            likes=fields.count("favourites_count"),
            verified=fields.flag("verified"),
            website=first_expanded_url(fields.nested("entities")) or fields.text("url") or None,
            language=fields.text("lang"),
            location=fields.text("location"),
            is_private=fields.flag("protected"),
            created_at=fields.text("created_at"),
            profile_url=f"https://x.com/{handle}" if handle else None,
        )


def _looks_like_user(value: dict[str, Any]) -> bool:
    return "screen_name" in value and ("id_str" in value or "id" in value)


def _is_error(value: Any) -> bool:
    return isinstance(value, dict) and "code" in value and "message" in value and "screen_name" not in value


def _is_error_body(value: dict[str, Any]) -> bool:
    errors = value.get("errors")
    if "data" in value or not isinstance(errors, list) or not errors:
        return False
    return all(_is_error(error) for error in errors)


def _describe_error(error: dict[str, Any]) -> str:
    code = error.get("code")
    meaning = ERROR_CODE_MEANINGS.get(code) if isinstance(code, int) else None
    text = f"code {code}"
    if meaning:
        text += f" ({meaning})"
    return f"{text}: {error.get('message')}"
