"""X API v2 user objects and the responses that carry them.

Accepted values:

- a users response `{"data": [user, ...], "includes": {...}, "errors": [...], "meta": {...}}`;
- the same with `data` as a single user object (user lookup by id or username);
- a twarc2 page, which is a users response plus a `__twarc` block;
- a bare user object, as in a JSONL file of users;
- a rate-limit body `{"title": "Too Many Requests", "type": "about:blank", "status": 429, ...}`.

Each element of `errors` becomes an `api_error` rejection, except errors about the
`includes` block (a pinned tweet that could not be found), which carry no
information about the user and are skipped. The user id is required: a user without `id` is a
`missing_identity` rejection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sxe.ingest.formats.base import Envelope, Fields, SourceFormat, first_expanded_url
from sxe.models import Platform, Rejection, SourceProfile

ENVELOPE_KEYS = ("includes", "meta", "__twarc")
PROBLEM_TYPE_PREFIX = "https://api.twitter.com/2/problems/"

# Keys that only Threads, Instagram and TikTok profiles carry; a value with any of them is not an X user.
THREADS_ONLY_KEYS = frozenset(
    {
        "threads_biography",
        "threads_profile_picture_url",
        "biography",
        "is_verified",
        "follower_count",
        "full_name",
        "fullName",
        "pk",
        "followerCount",
        "followersCount",
        "inputUrl",
        "uniqueId",
        "isBusinessAccount",
    }
)


class XApiV2(SourceFormat):
    name = "x-api-v2"
    label = "X API v2"
    platform = Platform.X

    def sniff(self, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        if "__twarc" in value or _is_problem(value):
            return True
        if _is_envelope(value):
            return _envelope_looks_like_v2(value)
        return _looks_like_user(value)

    def expand(self, value: Any) -> Iterator[tuple[Any, Envelope | None]]:
        if not isinstance(value, dict) or not _is_envelope(value):
            yield value, None
            return

        envelope = {key: value[key] for key in ENVELOPE_KEYS if key in value}
        data = value.get("data")
        if isinstance(data, list):
            for user in data:
                yield user, envelope
        elif data is not None:
            yield data, envelope

        errors = value.get("errors")
        if not isinstance(errors, list):
            if errors is not None:
                yield errors, envelope
            return
        for error in errors:
            if not _is_includes_error(error):
                yield error, envelope

    def parse_object(self, item: dict[str, Any], envelope: Envelope | None) -> SourceProfile | Rejection:
        if _is_problem(item):
            return self.api_error(_describe_problem(item))

        fields = Fields(item)
        user_id = fields.identifier("id")
        if user_id is None:
            return self.missing_identity("user id (field id)")

        handle = fields.text("username")
        metrics = fields.nested("public_metrics") or Fields({}, prefix="public_metrics.")
        return SourceProfile(
            platform=self.platform,
            platform_user_id=user_id,
            handle=handle,
            display_name=fields.text("name"),
            bio=fields.text("description"),
            followers=metrics.count("followers_count"),
            following=metrics.count("following_count"),
            posts=metrics.count("tweet_count"),
            likes=metrics.count("like_count"),
            verified=_verified(fields),
            website=first_expanded_url(fields.nested("entities")) or fields.text("url") or None,
            location=fields.text("location"),
            is_private=fields.flag("protected"),
            created_at=fields.text("created_at"),
            profile_url=f"https://x.com/{handle}" if handle else None,
        )


def _is_envelope(value: dict[str, Any]) -> bool:
    """Return whether a dict is a response envelope. An envelope with no `data` or `errors` has no items."""
    if "id" in value or "username" in value:
        return False
    return any(key in value for key in ("data", "errors", *ENVELOPE_KEYS))


def _envelope_looks_like_v2(value: dict[str, Any]) -> bool:
    data = value.get("data")
    users = data if isinstance(data, list) else [data]
    if any(isinstance(user, dict) and _looks_like_user(user) for user in users):
        return True

    errors = value.get("errors")
    if data is None and isinstance(errors, list):
        return any(isinstance(error, dict) and _is_problem(error) for error in errors)
    return False


def _looks_like_user(value: dict[str, Any]) -> bool:
    if "id" not in value or "username" not in value:
        return False
    if "screen_name" in value or THREADS_ONLY_KEYS.intersection(value):
        return False
    return True


def _is_problem(value: dict[str, Any]) -> bool:
    """Return whether a dict is an X API v2 problem object rather than a user."""
    return "title" in value and ("detail" in value or "type" in value) and "username" not in value


def _is_includes_error(error: Any) -> bool:
    if not isinstance(error, dict):
        return False
    return error.get("section") == "includes" or error.get("parameter") == "pinned_tweet_id"


def _describe_problem(problem: dict[str, Any]) -> str:
    """Describe a problem as "<type> (<title>) for <resource>: <detail>"."""
    problem_type = str(problem.get("type", "unknown"))
    text = problem_type.removeprefix(PROBLEM_TYPE_PREFIX)
    if "title" in problem:
        text += f" ({problem['title']})"

    resource_id = problem.get("resource_id", problem.get("value"))
    if resource_id is not None:
        text += f" for {problem.get('resource_type', 'resource')} {resource_id!r}"
    if "status" in problem:
        text += f", HTTP status {problem['status']}"
    if problem.get("detail"):
        text += f": {problem['detail']}"
    return text


def _verified(fields: Fields) -> bool | None:
    verified = fields.flag("verified")
    if verified is not None:
        return verified
    verified_type = fields.text("verified_type")
    if verified_type is None:
        return None
    return verified_type != "none"
