"""The finders return exactly what redaction removes, in a form Tier 2 can store."""

from __future__ import annotations

import pytest

from sxe.pii import FoundContact, find_contacts, redact_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Book: Dana@Example.com", [FoundContact("email", "dana@example.com")]),
        ("jane [at] example [dot] com", [FoundContact("email", "jane@example.com")]),
        ("jane at example dot co dot uk", [FoundContact("email", "jane@example.co.uk")]),
        ("call +1 (512) 555-0142 today", [FoundContact("phone", "+15125550142")]),
        ("tel 020 7946 0958", [FoundContact("phone", "+442079460958")]),
        ("chat wa.me/447911123456", [FoundContact("phone", "+447911123456")]),
        ("100k followers since 2019-2024, 24/7", []),
        ("coach at example.com", []),
    ],
)
def test_finds_plain_and_obfuscated_contacts(text: str, expected: list[FoundContact]) -> None:
    assert find_contacts(text) == expected


def test_repeated_contact_found_once() -> None:
    text = "a@b.io or A@B.io, +1 512 555 0142 / +15125550142"

    assert find_contacts(text) == [FoundContact("email", "a@b.io"), FoundContact("phone", "+15125550142")]


def test_secret_digits_are_not_phones() -> None:
    text = "token=abcd1234567890123456 call +44 7911 123456"

    assert find_contacts(text) == [FoundContact("phone", "+447911123456")]
    assert "[secret]" in redact_text(text).text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("access_token=EAAB123secret&x=1", "access_token=[secret]&x=1"),
        ("client_secret: 9f8e7d6c5b4a", "client_secret: [secret]"),
        ("Authorization: Bearer abcdef123456", "Authorization: Bearer [secret]"),
        (
            "https://cdn.example/a.jpg?X-Amz-Signature=deadbeef0123",
            "https://cdn.example/a.jpg?X-Amz-Signature=[secret]",
        ),
        ("mytoken=abcdefghij stays", "mytoken=abcdefghij stays"),
        ("standard bearer of the cause", "standard bearer of the cause"),
    ],
)
def test_labelled_credentials_become_secret(text: str, expected: str) -> None:
    assert redact_text(text).text == expected
