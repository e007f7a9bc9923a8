"""Normalize one SourceProfile into a PII-free Tier 1 Profile."""

from __future__ import annotations

import re

from sxe.models import Profile, SourceProfile
from sxe.normalize.counts import InvalidCount, parse_count
from sxe.normalize.website import website_domain
from sxe.pii import redact_text

LOW_FOLLOWERS_THRESHOLD = 100
COUNT_FIELDS = ("followers", "following", "posts", "likes")

# Platform-assigned handles: "user" plus digits (TikTok) or a name plus a long digit run (X).
_DEFAULT_HANDLE = re.compile(r"user\d{5,}|.*\D\d{6,}|\d{6,}")
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")


def normalize(source: SourceProfile) -> Profile:
    """Build a Tier 1 profile: redact free text, parse counts, reduce the website to a domain.

    - Handle: trimmed, lowercased, without a leading "@".
    - Display name and bio: emails and phone numbers replaced by `[email]` and
      `[phone]`. `bio_has_email` and `bio_has_phone` record what the bio contained.
    - Counts: see `parse_count`. An invalid count becomes None.
    - Website: see `website_domain`.
    - Language: lowercased BCP 47-style tag with "_" turned into "-", else None.
    - Verified: False when the source gives no value.

    Quality flags, sorted:

    - `no_handle`, `no_display_name`, `no_bio`: the field is missing or blank;
    - `display_name_has_email`, `display_name_has_phone`: the display name was redacted;
    - `invalid_count:<field>`: the source count for followers, following, posts or
      likes was negative, fractional or not a number;
    - `low_followers`: fewer than 100 followers;
    - `private_account`: the account is protected or private;
    - `default_handle`: the handle looks platform-assigned ("user" plus 5 or more
      digits, or ending in 6 or more digits);
    - `invalid_language`: the language was given but is not a language tag;
    - the website flags of `website_domain`.
    """
    flags: set[str] = set()
    handle = _normalize_handle(source.handle, flags)
    display_name = _redact_display_name(source.display_name, flags)
    bio, bio_has_email, bio_has_phone = _redact_bio(source.bio, flags)
    counts = {field: _count(field, getattr(source, field), flags) for field in COUNT_FIELDS}
    website = website_domain(source.website)
    flags.update(website.flags)

    followers = counts["followers"]
    if followers is not None and followers < LOW_FOLLOWERS_THRESHOLD:
        flags.add("low_followers")
    if source.is_private:
        flags.add("private_account")

    return Profile(
        platform=source.platform,
        platform_user_id=_strip_or_none(source.platform_user_id),
        handle=handle,
        display_name=display_name,
        bio=bio,
        followers=followers,
        following=counts["following"],
        posts=counts["posts"],
        likes=counts["likes"],
        verified=bool(source.verified),
        website_domain=website.domain,
        language=_normalize_language(source.language, flags),
        bio_has_email=bio_has_email,
        bio_has_phone=bio_has_phone,
        quality_flags=tuple(sorted(flags)),
    )


def normalize_handle(handle: str | None) -> str | None:
    """Return the handle trimmed, lowercased and without a leading "@", or None if blank."""
    if handle is None:
        return None
    return handle.strip().lstrip("@").strip().lower() or None


def _normalize_handle(handle: str | None, flags: set[str]) -> str | None:
    normalized = normalize_handle(handle)
    if normalized is None:
        flags.add("no_handle")
    elif _DEFAULT_HANDLE.fullmatch(normalized):
        flags.add("default_handle")
    return normalized


def _redact_display_name(display_name: str | None, flags: set[str]) -> str | None:
    text = _strip_or_none(display_name)
    if text is None:
        flags.add("no_display_name")
        return None

    redacted = redact_text(text)
    if redacted.has_email:
        flags.add("display_name_has_email")
    if redacted.has_phone:
        flags.add("display_name_has_phone")
    return redacted.text


def _redact_bio(bio: str | None, flags: set[str]) -> tuple[str | None, bool, bool]:
    text = _strip_or_none(bio)
    if text is None:
        flags.add("no_bio")
        return None, False, False

    redacted = redact_text(text)
    return redacted.text, redacted.has_email, redacted.has_phone


def _count(field: str, value: int | str | None, flags: set[str]) -> int | None:
    try:
        return parse_count(value)
    except InvalidCount:
        flags.add(f"invalid_count:{field}")
        return None


def _normalize_language(language: str | None, flags: set[str]) -> str | None:
    text = _strip_or_none(language)
    if text is None:
        return None

    tag = text.lower().replace("_", "-")
    if not _LANGUAGE_TAG.fullmatch(tag):
        flags.add("invalid_language")
        return None
    return tag


def _strip_or_none(text: str | None) -> str | None:
    if text is None:
        return None
    return text.strip() or None
