"""The prefilter that skips phonenumbers passes finds every match the full scan finds."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sxe import pii
from sxe.pii import (
    NATIONAL_REGIONS,
    RedactedText,
    cannot_hold_pii,
    contains_pii,
    find_contacts,
    library_regions,
    redact_text,
    redact_value,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BENCH = Path(__file__).resolve().parents[2] / "bench"

# Text where a skip rule could wrongly drop a match: numbers next to ids, dates and
# URLs, extensions, numbers split across separators and obfuscated emails.
TRICKY_TEXTS = [
    "1234567890123456789",
    "id 1234567890123456789 call +1 212 555 0100",
    "call 2125550100",
    "call 123456789012345",
    "call 1234567890123456",
    "tel: 2125550100",
    "2125550100",
    "030 1234 ext 567",
    "+683 4002",
    "\uff0b683 4002",
    "+(0)44 20 7946 0958",
    "UK: +44 (0)20 7946 0958",
    "0044 20 7946 0958",
    "011 44 20 7946 0958",
    "2024-01-15T10:30:00.000Z",
    "https://www.tiktok.com/@jane_doe/video/7300000000000000000",
    "https://www.threads.net/@jane call +1 212 555 0100",
    "https://x.example/@jane jane@example.com",
    "/@jane@example.com",
    "@jane@example.com",
    "@jane_doe",
    "follow @jane or jane @ example . com",
    "x/@jane (@) example (.) com",
    "https://x.example/@jane jane [at] example [dot] com",
    "2024-05-01T12:30:00+00:00",
    "2024-05-01T12:30:00+14:00",
    "2024-05-01 12:30:00",
    "2024-05-01T1230",
    "Wed Oct 10 20:19:24 +0000 2018",
    "Wed Oct 10 20:19:24 +1000 2018",
    "9999-99-99T99:99:99.999999Z",
    "2024-05-01T12:30:00.123456789Z",
    "2024-01-15T10:30:00+05:30",
    "2024-01-15 10:30:00",
    "Mon Jul 15 12:34:56 +0000 2019",
    "https://pbs.twimg.com/profile_images/1234567890123456789/avatar_normal",
    "https://example.com/tel/2125550100",
    "https://example.com/p/+12125550100",
    "https://wa.me/15551234567",
    "text 555-0100",
    "Reservations 555.010.2030",
    "＋４４ ２０ ７９４６ ０９５８",
    "call ٠٢٠ ٧٩٤٦ ٠٩٥٨",
    "jane [at] example [dot] com",
    "jane at example dot com",
    "jane ＠ example . com",
    "jane @ example . com",
    "a@b.co",
    "DM 4 collabs 📩 hello@studio.example | 📞 (212) 555-0100",
    "Born 12.05.1990 · 1,234,567 fans · est. 2019-2024",
    "api_\u212aey=abcdefgh12345678 call 2125550100",
    "\u017fecret: abcdefghijkl",
    "PASSWD = hunter2hunter2",
    "access-key: 0123456789abcdef",
    "AKIAABCDEFGHIJKLMNOP and ASIAABCDEFGHIJKLMNOP",
    "access_token=EAAB123secret&signature=deadbeef0123 Bearer abcdef123456",
    "BEARER ABCDEF123456 and ſignature=abcdefgh12",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "github_pat_abcdefghijklmnopqrstuvwxyz",
    "sk_live_abcdefghijklmnop rk_test_abcdefghijklmnop",
    "xoxb-1234567890-abcdef",
    "AIzaabcdefghijklmnopqrstuvwxyz012345678",
    "sk-proj-abcdefghijklmnopqrstuvwx",
    "eyJhbGciOiJI.eyJzdWIiOiIx.SflKxwRJSMeK",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
    "WA.ME/15551234567",
    "https://api.WhatsApp.com/send?phone=447911123456",
    "555 0100,ext 123",
    "030 1234 x 567",
    "030 1234 EXT. 567",
    "2125550 ;ext=100",
    "030 12 доб 34567",
    "0301 anexo 234567",
    "030 1234 # 567",
    "07946 - 095812#",
    "12345\n-\n67890",
    "(212)\u00a0555\u20110100",
    "order 20 7946 0958",
    "+0000 2017 and +(0)44 20 7946 0958",
    "https://cdn.example/u/julia2308~c5_100x100.jpeg?x-expires=1735689600",
    "https://pbs.twimg.com/profile_banners/3000003661/1600003691",
    "https://p16.example/obj/tos-maliva-p-0068/7300000000000003527~tplv-dmt-logom.image",
    "call 3000003661/1600003691",
    "tel/212/555/0100",
    "https://x.example/2125550100/123",
    "https://x.example/call/2125550100/123456",
    "see 212//555//0100 or 2125550100/2125550100",
    "0" * 430 + "/2125550100",
    "https://cdn.example/a.jpeg?x-expires=1735689600&sig=2125550100",
    "(1735689600)",
    "see [ 2125550100/77",
    "ring (-2125550100",
    "phone: 2125550100/1",
    "1/2/3/4/5/6/7/8/9/10/11/2125550100",
    "12345678901234567890123/2125550100",
    "123456789012345678901/21255/50100",
    # phonenumbers ends a candidate after 21 digit blocks, here inside the long run,
    # and finds "21255/50100" in the rest.
    "1234567890123456/" * 20 + "9999999999999999999921255/50100",
]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _fixture_strings() -> list[str]:
    found: set[str] = set()
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix not in {".json", ".jsonl", ".ndjson"}:
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                found.update(_strings(json.loads(line)))
            except json.JSONDecodeError:
                continue
        try:
            found.update(_strings(json.loads(path.read_text(encoding="utf-8", errors="replace"))))
        except json.JSONDecodeError:
            continue
    return sorted(found)


def _generated_strings(folder: Path) -> list[str]:
    sys.path.insert(0, str(BENCH))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(BENCH))
    generate(300, folder, 11)
    found: set[str] = set()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            found.update(_file_strings(path))
    return sorted(found)


def _file_strings(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        return set(_strings(json.loads(text)))
    except json.JSONDecodeError:
        found: set[str] = set()
        for line in text.splitlines():
            try:
                found.update(_strings(json.loads(line)))
            except json.JSONDecodeError:
                continue
        return found


def _full_scan(text: str) -> tuple[RedactedText, list[pii.FoundContact]]:
    """Redact and find contacts with every skip rule turned off, as the code did before it had them."""
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(pii, "cannot_hold_pii", lambda text: False)
        patched.setattr(pii, "library_regions", lambda text: pii._ALL_PASSES)
        patched.setattr(pii, "_email_patterns", lambda text: list(pii.ALL_EMAIL_PATTERNS))
        prechecks = (
            "_may_hold_secret_token",
            "_may_hold_secret_label",
            "_may_hold_whatsapp_link",
            "_may_hold_kept_phone",
            "_may_hold_more_than_phones",
        )
        for precheck in prechecks:
            patched.setattr(pii, precheck, lambda text: True)
        patched.setattr(pii, "_is_utc_timestamp", lambda text: False)
        return pii.redact_text_uncached(text), find_contacts(text)


def _fast(text: str) -> tuple[RedactedText, list[pii.FoundContact]]:
    return pii.redact_text_uncached(text), find_contacts(text)


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_prefilter_matches_full_scan_on_tricky_text(text: str) -> None:
    assert _fast(text) == _full_scan(text)


def test_prefilter_matches_full_scan_on_fixtures() -> None:
    texts = _fixture_strings()

    assert len(texts) > 100
    for text in texts:
        assert _fast(text) == _full_scan(text), text


def test_prefilter_matches_full_scan_on_generated_records(tmp_path: Path) -> None:
    texts = _generated_strings(tmp_path)

    assert len(texts) > 500
    for text in texts:
        assert _fast(text) == _full_scan(text), text


PHONE_LIKE = st.text(alphabet="0123456789 +-().x/:", min_size=1, max_size=24)
WORDS = st.sampled_from(
    [
        "",
        "call ",
        "tel ",
        "ext ",
        "id ",
        "at ",
        "@",
        " dot ",
        "wa.me/",
        "T",
        "Z",
        "https://x.example/",
        "?t=",
        "(",
        "[ ",
    ]
)


SLASHED_RUNS = st.lists(st.text(alphabet="0123456789", min_size=1, max_size=20), min_size=2, max_size=4).map("/".join)


@settings(max_examples=300, deadline=None)
@given(prefix=WORDS, path=SLASHED_RUNS, suffix=st.sampled_from(["", "~x.jpeg", ".jpg", "/avatar", " call"]))
def test_prefilter_matches_full_scan_on_slashed_digit_runs(prefix: str, path: str, suffix: str) -> None:
    text = prefix + path + suffix

    assert _fast(text) == _full_scan(text)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.tuples(WORDS, PHONE_LIKE), min_size=1, max_size=3))
def test_prefilter_matches_full_scan_on_random_text(parts: list[tuple[str, str]]) -> None:
    text = "".join(word + digits for word, digits in parts)

    assert _fast(text) == _full_scan(text)


def test_numeric_id_is_not_a_phone() -> None:
    assert redact_value({"id": "1234567890123456789"}) == {"id": "1234567890123456789"}
    assert cannot_hold_pii("1234567890123456789")
    assert library_regions("1234567890123456789") == frozenset()


def test_id_after_phone_word_still_checked() -> None:
    assert library_regions("call 2125550100") == frozenset(NATIONAL_REGIONS)
    assert redact_text("call 2125550100").has_phone


def test_phone_in_bio_still_found() -> None:
    redacted = redact_text("Bakery since 2015 · orders 212-555-0100 · 1234567890123456789")

    assert redacted.text == "Bakery since 2015 · orders [phone] · 1234567890123456789"
    assert redacted.has_phone


def test_iso_timestamp_skips_library_passes() -> None:
    assert library_regions("2024-01-15T10:30:00.000Z") == frozenset()
    assert redact_text("2024-01-15T10:30:00.000Z").text == "2024-01-15T10:30:00.000Z"


def test_utc_offset_skips_international_pass() -> None:
    assert library_regions("Mon Jul 15 12:34:56 +0000 2019") == frozenset()


def test_media_url_id_skips_library_passes() -> None:
    url = "https://pbs.twimg.com/profile_images/1234567890123456789/avatar_normal.jpg"

    assert library_regions(url) == frozenset()
    assert redact_text(url).text == url


@pytest.mark.parametrize(
    "url",
    [
        "https://p16-sign.tiktokcdn.example/mara~c5_100x100.jpeg?x-expires=1735689600",
        "https://pbs.twimg.example/profile_banners/1600003691/1735689600",
    ],
)
def test_url_ids_skip_phone_passes(url: str) -> None:
    assert not pii._may_hold_kept_phone(url)
    assert redact_text(url).text == url


@pytest.mark.parametrize("text", ["call 1735689600", "(1735689600)", "1600003691/17356"])
def test_phone_like_runs_take_passes(text: str) -> None:
    assert pii._may_hold_kept_phone(text)


def test_plus_number_needs_international_pass() -> None:
    assert library_regions("Ring +44 20 7946 0958") == frozenset((None, *NATIONAL_REGIONS))


def test_extension_counts_toward_national_digits() -> None:
    assert library_regions("030 1234 ext 567") == frozenset(NATIONAL_REGIONS)


def test_local_number_needs_only_short_number_regions() -> None:
    assert library_regions("Text 555-0100") == frozenset({"GB", "DE", "AU"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jane [at] example [dot] com", "[email]"),
        ("jane(at)example.com", "[email]"),
        ("jane at example dot com", "[email]"),
        ("jane @ example . com", "[email]"),
        ("jane＠example.com", "[email]"),
    ],
)
def test_obfuscated_email_still_found(text: str, expected: str) -> None:
    redacted = redact_text(text)

    assert redacted.text == expected
    assert redacted.has_email


def test_redact_text_caches_per_string() -> None:
    redact_text.cache_clear()
    first = redact_text("Bookings: +44 20 7946 0958")
    second = redact_text("Bookings: +44 20 7946 0958")

    assert second is first
    assert redact_text.cache_info().hits == 1


@pytest.mark.parametrize(
    "identifier",
    ["b4a3ad3e-4960-4033-9399-a14844895780", "E80674C2-9581-4439-9236-DFEEA07603D1"],
)
def test_uuid_is_not_a_phone(identifier: str) -> None:
    assert not contains_pii(identifier)
    assert redact_text(f"card {identifier} moved").text == f"card {identifier} moved"
    assert find_contacts(identifier) == []


def test_phone_beside_uuid_is_redacted() -> None:
    text = "card b4a3ad3e-4960-4033-9399-a14844895780, call +1 212 555 0186"

    assert redact_text(text).text == "card b4a3ad3e-4960-4033-9399-a14844895780, call [phone]"
    assert [contact.value for contact in find_contacts(text)] == ["+12125550186"]


def test_private_use_characters_survive_redaction() -> None:
    text = "\ue000 b4a3ad3e-4960-4033-9399-a14844895780 \ue001"

    assert redact_text(text).text.startswith("\ue000 b4a3ad3e-")
    assert redact_text(text).text.endswith(" \ue001")


@settings(max_examples=300, deadline=None)
@given(text=st.from_regex(pii._UTC_TIMESTAMP, fullmatch=True))
def test_prefilter_matches_full_scan_on_timestamps(text: str) -> None:
    assert _fast(text) == _full_scan(text)
