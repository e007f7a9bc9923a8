"""Find and redact email addresses, phone numbers and credentials in free text.

Tier 1 stores no personal contact data, so every bio, display name and raw payload
passes through `redact_text` or `redact_value` before it is stored. Matches are
replaced by the placeholders `[email]` and `[phone]`.

Emails are found as written and in obfuscated forms: "jane [at] example [dot] com",
"jane(at)example.com", "jane at example dot com", "jane @ example . com" and the
fullwidth "＠".

Phone numbers are found in three passes. First, `phonenumbers` (Google's
libphonenumber metadata) finds every valid number written with its country code,
in any international format ("+44 20 7946 0958", "+55 11 91234-5678"). Second, it
finds valid national numbers of `NATIONAL_REGIONS` ("020 7946 0958", "0044 ...")
that also pass the heuristic below. Third, a heuristic matcher favours recall on
text that reads like a phone number, so fictional and unlisted ranges are caught
too. It skips the numbers that bios are full of: follower counts ("100k",
"1,234,567"), years and year ranges ("2019-2024"), dates, "24/7", IP addresses and
bare digit runs such as user ids. A bare run of 10 to 15 digits counts only after
"+" or a phone word ("call", "tel", "whatsapp", ...). WhatsApp click-to-chat links
(wa.me/<number>) lose their number.

Running `phonenumbers` is by far the most expensive step, so a pass runs only on text
where it could find a number that the pass keeps. Its matches are substrings of the
candidates its own pattern finds, and a national match is kept only when `_is_phone`
accepts it. A pass is therefore skipped when no candidate could hold a kept match: no
"+" followed by a digit other than 0 (country codes never start with 0), no
"555-0100"-style local number where the region has 7-digit numbers, and fewer than 10
digits, or a bare digit run longer than 15 digits or without a phone word before it.
That skips user ids, ISO timestamps and numeric URL paths without losing a match.
Strings made only of ASCII digits, or shorter than the shortest email, are returned as
they are, and results are cached per string, so a bio read from both the payload and
the profile is scanned once.

Credentials people paste into bios (API keys, access tokens, private keys) become
`[secret]`. They are recognised by the fixed prefixes their issuers use, and by a
`key=`/`token:`/`signature=` label or `Bearer` followed by a long value; an unlabelled
random string is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import phonenumbers
from phonenumbers import phonenumbermatcher

EMAIL_PLACEHOLDER = "[email]"
PHONE_PLACEHOLDER = "[phone]"
SECRET_PLACEHOLDER = "[secret]"

# Token formats with a fixed issuer prefix, as published by each issuer.
_SECRET_TOKENS = re.compile(
    r"""
    \b(?:AKIA|ASIA)[0-9A-Z]{16}\b                              # AWS access key id
    | \bgh[pousr]_[A-Za-z0-9]{30,}\b                           # GitHub tokens
    | \bgithub_pat_[A-Za-z0-9_]{22,}\b                         # GitHub fine-grained token
    | \b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\b                 # Stripe secret and restricted keys
    | \bxox[abprs]-[A-Za-z0-9-]{10,}\b                         # Slack tokens
    | \bAIza[0-9A-Za-z_-]{35}\b                                # Google API key
    | \bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}                    # OpenAI and Anthropic style keys
    | \beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}  # JSON Web Token
    | -----BEGIN[A-Z ]*PRIVATE\ KEY-----[\s\S]*?(?:-----END[A-Z ]*PRIVATE\ KEY-----|$)
    """,
    re.VERBOSE,
)

# "api_key=…", "access_token: …", "password = …", "Bearer …": the label stays, the value up to a
# space, quote, comma, semicolon or "&" goes.
# A label may end a longer name ("access_token", "client_secret"), but not a word ("mytoken").
_LABELLED_SECRET = re.compile(
    r"""
    (?P<label>
        (?<![^\W_])
        (?: (?:api[_-]?key|secret|token|password|passwd|access[_-]?key|signature) \s*[:=]\s*
          | bearer\s+ )
    )
    [\"']?[^\s\"',;&]{8,}
    """,
    re.IGNORECASE | re.VERBOSE,
)

_EMAIL = re.compile(
    r"""
    (?<![\w.+%-])
    [\w.+%-]+ @ [^\W_](?:[\w-]*[^\W_])? (?:\.[^\W_](?:[\w-]*[^\W_])?)* \.[^\W\d_]{2,63}
    (?![\w-])
    """,
    re.VERBOSE,
)

# "jane [at] example [dot] com", "jane(at)example.com": the bracketed "at" is enough
# evidence, so a plain dot may follow it.
_EMAIL_BRACKETED = re.compile(
    r"""
    (?<![\w.+-])
    [\w.+-]+ \s* [\[({] \s* at \s* [\])}] \s*
    [\w-]+ (?: \s* (?: [\[({] \s* dot \s* [\])}] | \. ) \s* [\w-]+ )+
    """,
    re.VERBOSE | re.IGNORECASE,
)

# "jane @ example . com", "jane＠example.com", "jane [@] example [.] com": an at sign
# with spaces on both sides or brackets around it, written to dodge scrapers. A
# space on one side only is an @mention ("follow @jane").
_EMAIL_SPACED = re.compile(
    r"""
    (?<![\w.+-])
    [\w.+-]+ (?: \s+@\s+ | \s*\uff20\s* | \s*[\[(]\s*@\s*[\])]\s* )
    [^\W_][\w-]* (?: \s* (?: \. | [\[(]\s*\.\s*[\])] | [\[({]\s*dot\s*[\])}] ) \s* [^\W_][\w-]* )*
    \s* (?: \. | [\[(]\s*\.\s*[\])] | [\[({]\s*dot\s*[\])}] ) \s* [^\W\d_]{2,24}
    (?![\w-])
    """,
    re.VERBOSE | re.IGNORECASE,
)

# "jane at example dot com": plain words need both "at" and "dot", because
# "coach at example.com" is a job title, not an address.
_EMAIL_SPELLED = re.compile(
    r"(?<![\w.+-])[\w.+-]+ at [\w-]+(?: dot [\w-]+)+(?![\w-])",
    re.IGNORECASE,
)

# A run of digit groups joined by one separator each: a space, dot, hyphen or " - ".
# A group may start with a bracketed area code or trunk prefix, as in "(0)20".
# A dot followed by a space ends a sentence, so it never joins two groups.
_PHONE_CANDIDATE = re.compile(
    r"""
    (?<![\w/@$#=&?~%+])
    (?<!\d[.,])
    (?:\+\s?)?
    (?:\(\d{1,5}\)\d*|\d+)
    (?:(?:[ .\-\u00a0]|\s-\s)(?:\(\d{1,5}\)\d*|\d+))*
    (?![\w/@]|[.,\-]\d)
    """,
    re.VERBOSE,
)

# WhatsApp click-to-chat links carry the number in the path or the query.
# A UUID's digit groups can read as a phone number ("4960-4033-9399"), so phone passes
# see each UUID as one private-use character and the UUID is put back afterwards.
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_UUID_HYPHENS = 4
# Every UUID contains this, and a search for it skips from hyphen to hyphen.
_UUID_MIDDLE_GROUP = re.compile("-[0-9a-fA-F]{4}-")
_UUID_MASK_FIRST = 0xE000
_UUID_MASK_COUNT = 0x1900
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")

_WHATSAPP_LINK = re.compile(
    r"(?P<prefix>\bwa\.me/|\bwhatsapp\.com/send/?\?phone=)\+?\d{6,15}",
    re.IGNORECASE,
)

# Regions whose national formats (without a country code) are recognised by phonenumbers.
NATIONAL_REGIONS = ("US", "GB", "DE", "FR", "IN", "BR", "AU")
MIN_LIBRARY_DIGITS = 7

_PHONE_CONTEXT = re.compile(
    r"(?:call|phone|tel|text|sms|whats\s?app|wa|mobile|mob|cell|contact|\u260e|\U0001f4de|\U0001f4f1)\W{0,4}$",
    re.IGNORECASE,
)
# The maximum length of a `_PHONE_CONTEXT` match: "whats app" and four non-word characters.
_PHONE_CONTEXT_REACH = len("whats app") + 4

_THOUSANDS = re.compile(r"\d{1,3}(?:[ .,\u00a0]\d{3})+")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_YEAR = re.compile(r"(?:19|20)\d{2}")
_LOCAL_NUMBER = re.compile(r"\d{3}[.\-]\d{4}")
_LOCAL_NUMBER_DIGITS = 7

MIN_INTERNATIONAL_DIGITS = 8
MIN_NATIONAL_DIGITS = 10
MAX_PHONE_DIGITS = 15

# The candidate pattern of phonenumbers' own matcher (checked with phonenumbers 9.0): every
# match it returns lies inside one of these candidates. It is a private name, so a
# release without it makes every pass run, which is slower but finds the same numbers.
_LIBRARY_CANDIDATE: re.Pattern[str] | None = getattr(phonenumbermatcher, "_PATTERN", None)
# From the first to the last digit of a run of digits and the separators phonenumbers
# allows inside one number (its private punctuation class, checked with phonenumbers
# 9.0), plus any whitespace. Without that name every text takes the library passes.
_PHONE_PUNCTUATION: str | None = getattr(phonenumbers.phonenumberutil, "_VALID_PUNCTUATION", None)
_DIGIT_SPAN: re.Pattern[str] | None = (
    None if _PHONE_PUNCTUATION is None else re.compile(rf"\d(?:[{_PHONE_PUNCTUATION}\d\s]*\d)?")
)
# The text phonenumbers' candidate pattern accepts between a number and its extension digits.
_EXTENSION_JOIN = re.compile(
    r";ext=|[- ]+"
    r"|[ \xa0\t,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo|[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[ \xa0\t,-]*",
    re.IGNORECASE,
)
# A "+" whose first digit is not 0 can start a country code.
_INTERNATIONAL_START = re.compile(r"[+\uff0b]\D*(?!0)\d")
_DIGIT = re.compile(r"\d")
_DIGIT_RUN = re.compile(r"\d+")
# A phonenumbers candidate of digit runs joined only by slashes, as in URL paths.
_SLASHED_RUNS = re.compile(r"\d+(?:/+\d+)+")
# "2024-05-01T12:30:00.000Z", "2024-05-01", and "Wed Oct 10 20:19:24 +0000 2018".
_UTC_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|\+00:?00)?)?"
    r"|[A-Z][a-z]{2} [A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \+0000 [0-9]{4}"
)
# "a@b.co" is the shortest text any pattern here redacts.
MIN_REDACTABLE_LENGTH = 6
# Distinct strings whose redaction is kept: bios, names and repeated payload values.
REDACTION_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class FoundContact:
    """An email address (lowercased) or phone number (E.164) found in free text."""

    kind: str
    value: str = field(repr=False)


class RedactedText(NamedTuple):
    """Text with emails and phone numbers replaced, which of the two were found, and the contact points removed.

    `contacts` contains the distinct emails and phone numbers (E.164) that the redaction
    removed, emails first, in the order the passes found them (see `find_contacts`).
    It is left out of the repr, so logging a RedactedText shows no contact data.

    A named tuple, because one is built for every string of every payload, and a tuple
    builds several times faster than a frozen dataclass.
    """

    text: str
    has_email: bool
    has_phone: bool
    has_secret: bool = False
    contacts: tuple[FoundContact, ...] = ()

    def __repr__(self) -> str:
        return (
            f"RedactedText(text={self.text!r}, has_email={self.has_email}, "
            f"has_phone={self.has_phone}, has_secret={self.has_secret})"
        )


@lru_cache(maxsize=REDACTION_CACHE_SIZE)
def redact_text(text: str) -> RedactedText:
    """Replace every email with `[email]` and every phone number with `[phone]`.

    Credentials go first, then emails, so the digits of a key or an address are never read as a phone.
    Credentials become `[secret]`. Results are cached per string.
    """
    return redact_text_uncached(text)


def redact_text_uncached(text: str) -> RedactedText:
    """Redact like `redact_text`, without its cache."""
    if cannot_hold_pii(text):
        return RedactedText(text, False, False)
    secret_count = 0
    emails: list[str] = []
    if _may_hold_more_than_phones(text):
        text, secret_count = _replace_secrets(text)
        text, emails = _replace_emails(text)
    elif _digit_count(text) < MIN_LIBRARY_DIGITS or _is_utc_timestamp(text):
        return RedactedText(text, False, False)
    text, phone_count, phones = _replace_phones(text)
    if not (secret_count or emails or phone_count):
        return RedactedText(text, False, False)
    contacts = [FoundContact("email", email) for email in emails] + [FoundContact("phone", phone) for phone in phones]
    return RedactedText(
        text=text,
        has_email=bool(emails),
        has_phone=phone_count > 0,
        has_secret=secret_count > 0,
        contacts=tuple(dict.fromkeys(contacts)),
    )


def cannot_hold_pii(text: str) -> bool:
    """Return True for text no pattern can match: shorter than an email, or only ASCII digits.

    A bare digit run is no email or credential, and with nothing before it no phone
    word either, so `_is_phone` rejects it in every pass.
    """
    return len(text) < MIN_REDACTABLE_LENGTH or (text.isascii() and text.isdigit())


def _may_hold_more_than_phones(text: str) -> bool:
    """Return False when only the phone passes could change the text: no credential, email or WhatsApp link fits it.

    Most payload strings are names, colours, URLs and dates, and for them these few
    substring tests replace the prechecks of the credential, email and link passes.
    Each test looks for a part that every match of a pattern contains: a token
    prefix, a label word, an at sign, a bracketed or spelled "at", or a
    click-to-chat prefix. Casefolding keeps every case the patterns' IGNORECASE accepts.
    """
    if _may_hold_at_sign_email(text) or "\uff20" in text or _SECRET_TOKEN_LITERAL.search(text) is not None:
        return True
    folded = text.casefold()
    for word in _NOT_ONLY_PHONES_WORDS:
        if word in folded:
            return True
    return ("(" in text or "[" in text or "{" in text) and _BRACKETED_AT.search(text) is not None


def _is_utc_timestamp(text: str) -> bool:
    """Return True for an ISO 8601 timestamp in UTC, or one in the format of X API v1.1's `created_at`.

    Payloads carry a few of these each, and they have seven digits or more. No phone
    pass keeps any of their digit groups: ":", "T" and "Z" end a candidate, and no
    offset starts with a digit other than 0. The seconds, with at most six decimals,
    have fewer than the ten digits a national number needs.
    """
    return _UTC_TIMESTAMP.fullmatch(text) is not None


def _may_hold_at_sign_email(text: str) -> bool:
    """Return False when no at sign in the text can be the one of an email, as in "tiktok.com/@jane".

    The two patterns with a plain at sign need a local-part character, a space or an
    opening bracket right before it. So an at sign that starts the text or follows a
    slash cannot start an email match. Profile and video URLs contain such handles.
    """
    at_signs = text.count("@")
    return at_signs > 0 and at_signs != text.count("/@") + text.startswith("@")


def contains_pii(text: str) -> bool:
    """Return whether the text contains an email address or a phone number."""
    redacted = redact_text(text)
    return redacted.has_email or redacted.has_phone


def redact_value(value: Any) -> Any:
    """Return a copy of a decoded JSON value with every string value redacted.

    Dicts, lists and tuples are walked to any depth and come back as dicts and lists.
    Dict keys are field names and stay as they are. Numbers, booleans and None are
    returned unchanged.
    """
    if isinstance(value, str):
        return redact_text(value).text
    if isinstance(value, dict):
        return _redact_dict(value)
    if isinstance(value, (list, tuple)):
        return [redact_value(item) for item in value]
    return value


def _redact_dict(value: dict[Any, Any]) -> dict[Any, Any]:
    # Most values of a decoded payload are strings, numbers, booleans and None, and
    # settling them by exact type here saves a call and several isinstance checks each.
    redacted: dict[Any, Any] = {}
    for key, item in value.items():
        kind = type(item)
        if kind is str:
            redacted[key] = redact_text(item).text
        elif kind is dict:
            redacted[key] = _redact_dict(item)
        elif kind is int or kind is bool or item is None:
            redacted[key] = item
        else:
            redacted[key] = redact_value(item)
    return redacted


def _replace_secrets(text: str) -> tuple[str, int]:
    token_count = labelled_count = 0
    if _may_hold_secret_token(text):
        text, token_count = _SECRET_TOKENS.subn(SECRET_PLACEHOLDER, text)
    if _may_hold_secret_label(text):
        text, labelled_count = _LABELLED_SECRET.subn(lambda match: match["label"] + SECRET_PLACEHOLDER, text)
    return text, token_count + labelled_count


def _may_hold_secret_token(text: str) -> bool:
    return _SECRET_TOKEN_LITERAL.search(text) is not None


def _may_hold_secret_label(text: str) -> bool:
    folded = text.casefold()
    for word in _SECRET_LABEL_WORDS:
        if word in folded:
            return True
    return False


# A literal that every match of `_SECRET_TOKENS` contains, one per alternative, so
# text without any of them skips the pattern. One search for these literals costs far
# less than running the pattern over every string of every payload, and half as much
# as testing them one by one with `in`.
_SECRET_TOKEN_PREFIXES = (
    "AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
    "k_live_", "k_test_", "xox", "AIza", "sk-", "eyJ", "-----BEGIN",
)  # fmt: skip
_SECRET_TOKEN_LITERAL = re.compile("|".join(map(re.escape, _SECRET_TOKEN_PREFIXES)))
# Every label of `_LABELLED_SECRET` contains one of these, compared casefolded as the
# pattern's IGNORECASE does (the Kelvin sign matches "k", the long s matches "s").
_SECRET_LABEL_WORDS = ("key", "secret", "token", "passw", "signature", "bearer")
# Casefolded words of which every spelled email or WhatsApp link, and every label of a
# labelled credential, contains one.
_NOT_ONLY_PHONES_WORDS = (*_SECRET_LABEL_WORDS, " at ", "wa.me/", "whatsapp.com/send")


def _replace_emails(text: str) -> tuple[str, list[str]]:
    """Replace every email; return the text and each removed address in plain lowercase form.

    An obfuscated address comes back plain ("jane [at] example [dot] com" gives
    "jane@example.com"). One whose plain form is still no valid address is replaced
    but not returned.
    """
    emails: list[str] = []

    def remove(match: re.Match[str]) -> str:
        plain = _OBFUSCATED_DOT.sub(".", _OBFUSCATED_AT.sub("@", match.group())).replace(" ", "")
        if _EMAIL.fullmatch(plain):
            emails.append(plain.lower())
        return EMAIL_PLACEHOLDER

    for pattern in _email_patterns(text):
        text = pattern.sub(remove, text)
    return text, emails


# Every email pattern, in the order redaction applies them.
ALL_EMAIL_PATTERNS = (_EMAIL, _EMAIL_BRACKETED, _EMAIL_SPACED, _EMAIL_SPELLED)
_BRACKETED_AT = re.compile(r"[\[({]\s*at\s*[\])}]", re.IGNORECASE)
_SPELLED_AT = re.compile(" at ", re.IGNORECASE)
_SPELLED_DOT = re.compile(" dot ", re.IGNORECASE)
# Undo the obfuscations the email patterns accept, to get an address back in plain form.
_OBFUSCATED_AT = re.compile(r"\s*(?:[\[({]\s*(?:at|@)\s*[\])}]|\s@\s|\uff20|\s+at\s+)\s*", re.IGNORECASE)
_OBFUSCATED_DOT = re.compile(r"\s*(?:[\[({]\s*(?:dot|\.)\s*[\])}]|\s+dot\s+|\s\.\s|\s\.|\.\s)\s*", re.IGNORECASE)


def _email_patterns(text: str) -> list[re.Pattern[str]]:
    """Return the email patterns, in redaction order, whose required characters occur in the text.

    Each check is a part every match of its pattern contains, so a skipped pattern could not have matched.
    """
    has_at_sign = "@" in text or "\uff20" in text
    patterns = []
    if has_at_sign:
        patterns.append(_EMAIL)
    if ("(" in text or "[" in text or "{" in text) and _BRACKETED_AT.search(text):
        patterns.append(_EMAIL_BRACKETED)
    if has_at_sign:
        patterns.append(_EMAIL_SPACED)
    if " " in text and _SPELLED_AT.search(text) and _SPELLED_DOT.search(text):
        patterns.append(_EMAIL_SPELLED)
    return patterns


def _replace_phones(text: str) -> tuple[str, int, list[str]]:
    """Replace every phone number; return the text, how many were replaced and the E.164 form of each that has one."""
    text, uuids = _mask_uuids(text)
    phones: list[str] = []
    text, count = _replace_unmasked_phones(text, phones)
    return _unmask_uuids(text, uuids), count, phones


def _mask_uuids(text: str) -> tuple[str, list[str]]:
    """Return the text with each UUID replaced by a private-use character, and the UUIDs in order.

    Text that already contains a private-use character is returned unchanged, so that
    putting the UUIDs back cannot change it.
    """
    # NOTE: a UUID in such text is not masked, so its digit groups can still be redacted as a phone.
    if text.count("-") < _UUID_HYPHENS or _UUID_MIDDLE_GROUP.search(text) is None or _PRIVATE_USE.search(text):
        return text, []
    uuids: list[str] = []

    def hide(match: re.Match[str]) -> str:
        uuids.append(match.group())
        return chr(_UUID_MASK_FIRST + len(uuids) - 1)

    return _UUID.sub(hide, text, count=_UUID_MASK_COUNT), uuids


def _unmask_uuids(text: str, uuids: list[str]) -> str:
    for index, value in enumerate(uuids):
        text = text.replace(chr(_UUID_MASK_FIRST + index), value)
    return text


def _replace_unmasked_phones(text: str, phones: list[str]) -> tuple[str, int]:
    link_count = 0
    if _may_hold_whatsapp_link(text):
        text, link_count = _WHATSAPP_LINK.subn(lambda match: _remove_whatsapp_number(match, phones), text)
    if _digit_count(text) < MIN_LIBRARY_DIGITS or not _may_hold_kept_phone(text):
        return text, link_count
    text, library_count = _replace_library_phones(text, phones)
    text, heuristic_count = _replace_heuristic_phones(text)
    return text, link_count + library_count + heuristic_count


def _may_hold_whatsapp_link(text: str) -> bool:
    if "/" not in text:
        return False
    folded = text.casefold()
    return "wa.me/" in folded or "whatsapp.com/send" in folded


def _remove_whatsapp_number(match: re.Match[str], phones: list[str]) -> str:
    prefix = match["prefix"]
    phones += _e164("+" + re.sub(r"\D", "", match.group()[len(prefix) :]), None)
    return prefix + PHONE_PLACEHOLDER


def _replace_library_phones(text: str, phones: list[str]) -> tuple[str, int]:
    """Replace the numbers phonenumbers finds: international ones always, national ones only when plausible.

    Each replaced number is appended to `phones` in E.164, in text order within a pass.
    """
    count = 0
    needed = library_regions(text)
    for region in (None, *NATIONAL_REGIONS):
        if region not in needed:
            continue
        spans: list[tuple[int, int]] = []
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            international = match.raw_string.lstrip().startswith("+")
            if region is None or international or _is_phone(match.raw_string, text[: match.start]):
                spans.append((match.start, match.end))
                phones.append(phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164))
        for start, end in reversed(spans):
            text = text[:start] + PHONE_PLACEHOLDER + text[end:]
        count += len(spans)
        if spans:
            needed = library_regions(text)
    return text, count


def _may_hold_kept_phone(text: str) -> bool:
    """Return False when neither the library passes nor the heuristic pass could replace anything in the text.

    Both passes replace a number only when it starts with "+" and a digit other than
    0, is a "555-0100" local number, or has at least 10 digits. Otherwise 10 digits
    must lie in one candidate. A candidate of either pass is one run of digits and
    the separators phonenumbers allows, optionally followed by an extension whose
    joining text (" ext. ", " x ", ";ext=") `_EXTENSION_JOIN` matches. So the digits
    of two runs add up only when such text joins them. Timestamps, numeric URL paths
    and image sizes end here without running phonenumbers' candidate pattern. So do
    URL paths and query values whose 10 digits lie only in bare runs, which
    `_url_digits_hold_no_phone` checks.
    """
    if _DIGIT_SPAN is None or _may_start_international(text):
        return True
    joined_digits = 0
    previous_end = -1
    for span in _DIGIT_SPAN.finditer(text):
        group = span.group()
        digits = len(group) if group.isdigit() else sum(map(str.isdigit, group))
        # A local number's digits and separator are all span characters, so it lies in one span.
        if digits >= _LOCAL_NUMBER_DIGITS and _LOCAL_NUMBER.search(group):
            return True
        if (
            joined_digits + digits >= MIN_NATIONAL_DIGITS
            and previous_end >= 0
            and _EXTENSION_JOIN.fullmatch(text, previous_end, span.start()) is not None
        ):
            return True
        if digits >= MIN_NATIONAL_DIGITS and not _url_digits_hold_no_phone(text, span):
            return True
        joined_digits = digits
        previous_end = span.end()
    return False


def _may_start_international(text: str) -> bool:
    """Return whether a "+" in the text has a digit other than 0 as its next digit, as a country code does."""
    return ("+" in text or "\uff0b" in text) and _INTERNATIONAL_START.search(text) is not None


def _digit_count(text: str) -> int:
    """Return how many characters of the text `str.isdigit` accepts, with a byte count for ASCII text."""
    if text.isascii():
        return len(text) - len(text.encode("ascii").translate(None, _ASCII_DIGITS))
    return sum(map(str.isdigit, text))


_ASCII_DIGITS = b"0123456789"


def _url_digits_hold_no_phone(text: str, span: re.Match[str]) -> bool:
    """Return True for a span of bare digit runs, alone or joined by slashes, in which no pass keeps a number.

    Such spans are ids and timestamps in URLs: "?x-expires=1735689600",
    "/profile_banners/3000003661/1600003691". phonenumbers' candidate for the span is
    the span itself, unless an opening bracket or "+" right before it starts the
    candidate there. A candidate contains at most 21 blocks of up to 20 digits, so
    one of at most 10 runs of up to 20 digits is never cut inside a run.
    `_slashed_runs_may_hold_phone` then decides for the library passes. The heuristic
    pass keeps no more, because its candidates end before a slash and start after
    none: each is one bare run, which needs a phone word before it.
    """
    start = span.start()
    if _CANDIDATE_LEAD.search(text, max(0, start - _LEAD_REACH), start):
        return False
    group = span.group()
    if group.isdigit():
        # phonenumbers cannot split a bare run, so only the whole run could be kept. A
        # piece that it cuts off a run of over 21 blocks follows digits, not a phone word.
        return len(group) > MAX_PHONE_DIGITS or not _ends_with_phone_word(text, start)
    return _URL_DIGITS.fullmatch(group) is not None and not _slashed_runs_may_hold_phone(text, span)


# Digit runs joined only by slashes, few and short enough to make one phonenumbers candidate.
_URL_DIGITS = re.compile(r"\d{1,20}(?:/+\d{1,20}){0,9}")
# Opening brackets and plus signs: phonenumbers starts a candidate with up to two of
# them, each followed by up to four separators.
_CANDIDATE_LEAD = re.compile("[(\\[\uff08\uff3b+\uff0b]")
_LEAD_REACH = 10


def library_regions(text: str) -> frozenset[str | None]:
    """Return the phonenumbers passes (None for the pass without a region) that could find a number to keep.

    A pass without a region keeps every match, and phonenumbers reads a number without
    a region only after a "+". A national pass keeps such international matches, and
    other matches only when `_is_phone` accepts them: 10 or more digits, or exactly a
    "555-0100" local number, which only regions with 7-digit numbers can validate.
    Each check below is implied by those conditions, so a pass left out would find
    nothing to keep.
    """
    if _LIBRARY_CANDIDATE is None:
        return _ALL_PASSES
    local_only = False
    for candidate in _LIBRARY_CANDIDATE.finditer(text):
        raw = candidate.group()
        if _INTERNATIONAL_START.search(raw):
            return _ALL_PASSES
        digits = len(_DIGIT.findall(raw))
        if digits < MIN_NATIONAL_DIGITS:
            local_only = local_only or _LOCAL_NUMBER.search(raw) is not None
            continue
        if _SLASHED_RUNS.fullmatch(raw) and not _slashed_runs_may_hold_phone(text, candidate):
            continue
        if not raw.isdigit():
            return _NATIONAL_PASSES
        # A bare run has no separator to split a shorter match off, so the whole
        # run must pass `_is_phone`: at most 15 digits, after a phone word.
        if digits <= MAX_PHONE_DIGITS and _ends_with_phone_word(text, candidate.start()):
            return _NATIONAL_PASSES
    return _LOCAL_NUMBER_PASSES if local_only else frozenset()


def _slashed_runs_may_hold_phone(text: str, candidate: re.Match[str]) -> bool:
    """Return whether a national pass could keep a number inside a candidate of digit runs joined by slashes.

    Such candidates are URL paths, such as "3000003661/1600003691". phonenumbers splits
    a candidate with no other separator only at its slashes, so every match it can
    return is one run, or neighbouring runs with the slashes between them. `_is_phone`
    keeps one with 10 to 15 digits, and a single run, which is a bare run, only after a
    phone word.
    """
    end = candidate.end()
    if end < len(text) and text[end].isdigit():
        return True  # phonenumbers' length limit cut a run, so a match could start inside it
    runs = list(_DIGIT_RUN.finditer(candidate.group()))
    for first, run in enumerate(runs):
        digits = 0
        for last in range(first, len(runs)):
            digits += len(runs[last].group())
            if digits > MAX_PHONE_DIGITS:
                break
            if digits < MIN_NATIONAL_DIGITS:
                continue
            if last > first or _ends_with_phone_word(text, candidate.start() + run.start()):
                return True
    return False


def _shortest_national_number(region: str) -> int:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    general = metadata.general_desc if metadata is not None else None
    if general is None or not general.possible_length:
        return 0
    return min(general.possible_length)


_ALL_PASSES: frozenset[str | None] = frozenset((None, *NATIONAL_REGIONS))
_NATIONAL_PASSES: frozenset[str | None] = frozenset(NATIONAL_REGIONS)
# A "555-0100" local number has 7 digits, so only regions with numbers that short can read it.
_LOCAL_NUMBER_PASSES: frozenset[str | None] = frozenset(
    region for region in NATIONAL_REGIONS if _shortest_national_number(region) <= len("5550100")
)


def _replace_heuristic_phones(text: str) -> tuple[str, int]:
    pieces: list[str] = []
    position = 0
    count = 0

    for match in _PHONE_CANDIDATE.finditer(text):
        if not _is_phone(match.group(), text[: match.start()]):
            continue
        pieces.append(text[position : match.start()])
        pieces.append(PHONE_PLACEHOLDER)
        position = match.end()
        count += 1

    pieces.append(text[position:])
    return "".join(pieces), count


def _is_phone(candidate: str, preceding: str) -> bool:
    """Decide whether a digit run found by `_PHONE_CANDIDATE` is a phone number."""
    digits = re.sub(r"\D", "", candidate)
    if len(digits) > MAX_PHONE_DIGITS:
        return False

    if candidate.startswith("+"):
        # Country codes never start with 0, which rules out UTC offsets like "+0000".
        return len(digits) >= MIN_INTERNATIONAL_DIGITS and digits[0] != "0"

    if _LOCAL_NUMBER.fullmatch(candidate):
        return True
    if len(digits) < MIN_NATIONAL_DIGITS:
        return False
    if _THOUSANDS.fullmatch(candidate) or _IPV4.fullmatch(candidate):
        return False
    if _is_year_list(candidate):
        return False
    if candidate.isdigit():
        return _ends_with_phone_word(preceding, len(preceding))
    return True


def _ends_with_phone_word(text: str, end: int) -> bool:
    """Return whether text[:end] ends with a phone word ("call", "tel", ...) and up to four non-word characters.

    The search starts where the longest such ending could, because a regex search for
    an ending anchored with `$` would otherwise try every position of the text.
    """
    return _PHONE_CONTEXT.search(text, max(0, end - _PHONE_CONTEXT_REACH), end) is not None


def _is_year_list(candidate: str) -> bool:
    groups = re.findall(r"\d+", candidate)
    return all(_YEAR.fullmatch(group) for group in groups)


def find_contacts(text: str) -> list[FoundContact]:
    """Return the distinct emails and phone numbers that `redact_text` removes, emails first.

    Obfuscated emails come back in plain form ("jane [at] example [dot] com" gives
    "jane@example.com"). Phone numbers come back in E.164 when phonenumbers can parse
    them with a country code or as a number of `NATIONAL_REGIONS`. A digit run that only
    the heuristic matcher calls a phone has no country, so it is left out: it cannot be
    dialled or checked against a Do-Not-Call list. The result is the `contacts` of the
    cached redaction, so finding the contacts of text already redacted costs nothing.
    """
    return list(redact_text(text).contacts)


def _e164(candidate: str, region: str | None) -> list[str]:
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return []
    if not phonenumbers.is_possible_number(number):
        return []
    return [phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)]
