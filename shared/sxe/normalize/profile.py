"""Normalize one SourceProfile into a PII-free Tier 1 Profile."""

from __future__ import annotations

import html
import re
import unicodedata

from sxe.models import Profile, SourceProfile
from sxe.normalize.counts import InvalidCount, parse_count
from sxe.normalize.website import website_domain
from sxe.pii import EMAIL_PLACEHOLDER, PHONE_PLACEHOLDER, redact_text

LOW_FOLLOWERS_THRESHOLD = 100
COUNT_FIELDS = ("followers", "following", "posts", "likes")

# Platform-assigned handles: "user" plus digits (TikTok) or a name plus a long digit run (X).
_DEFAULT_HANDLE = re.compile(r"user\d{5,}|.*\D\d{6,}|\d{6,}")
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")

# C0 and C1 control characters other than tab and newline. PostgreSQL text cannot
# hold NUL, and the others only break displays. Zero-width joiners and the
# right-to-left marks are format characters, not controls, so emoji sequences and
# RTL text keep them.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def normalize(source: SourceProfile) -> Profile:
    """Build a Tier 1 profile: redact free text, parse counts, reduce the website to a domain.

    - Handle: trimmed, lowercased, without a leading "@".
    - Display name and bio: HTML entities decoded ("&amp;" becomes "&"), text in
      Unicode NFC with control characters removed, then emails and phone numbers
      replaced by `[email]` and `[phone]`. `bio_has_email` and `bio_has_phone`
      record what the bio contained, including placeholders an earlier redaction
      left (a source can send bios it already redacted).
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


def clean_text(text: str | None) -> str | None:
    """Decode HTML entities, apply NFC, drop control characters and trim; None when nothing is left."""
    if text is None:
        return None
    decoded = html.unescape(text)
    decoded = unicodedata.normalize("NFC", decoded)
    return _strip_or_none(_CONTROL_CHARACTERS.sub("", decoded))


def _redact_display_name(display_name: str | None, flags: set[str]) -> str | None:
    text = clean_text(display_name)
    if text is None:
        flags.add("no_display_name")
        return None

    redacted = redact_text(text)
    if redacted.has_email or EMAIL_PLACEHOLDER in text:
        flags.add("display_name_has_email")
    if redacted.has_phone or PHONE_PLACEHOLDER in text:
        flags.add("display_name_has_phone")
    return redacted.text


def _redact_bio(bio: str | None, flags: set[str]) -> tuple[str | None, bool, bool]:
    text = clean_text(bio)
    if text is None:
        flags.add("no_bio")
        return None, False, False

    redacted = redact_text(text)
    has_email = redacted.has_email or EMAIL_PLACEHOLDER in text
    has_phone = redacted.has_phone or PHONE_PLACEHOLDER in text
    return redacted.text, has_email, has_phone


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
