from __future__ import annotations

import pytest

from sxe.pii import contains_pii, redact_text, redact_value

REDACTED_CASES = [
    ("Orders: mara.orders@example.com", "Orders: [email]", True, False),
    ("ops+leads@mail.example.co.uk.", "[email].", True, False),
    ("Pitches: olivia [at] example [dot] com", "Pitches: [email]", True, False),
    ("write to jane(at)example.com today", "write to [email] today", True, False),
    ("jane at example dot com", "[email]", True, False),
    ("Book a call: +1 212 555 0100", "Book a call: [phone]", False, True),
    ("Same-day: (555) 010-2030.", "Same-day: [phone].", False, True),
    ("Reservations 555.010.2030 \U0001f525", "Reservations [phone] \U0001f525", False, True),
    ("Ring +44 20 7946 0958", "Ring [phone]", False, True),
    ("UK: +44 (0)20 7946 0958", "UK: [phone]", False, True),
    ("+33 6 12 34 56 78", "[phone]", False, True),
    ("WhatsApp:+1-212-555-0100", "WhatsApp:[phone]", False, True),
    ("text 555-0100", "text [phone]", False, True),
    ("tel. 020 7946 0958", "tel. [phone]", False, True),
    ("call 2125550100", "call [phone]", False, True),
    ("+442079460958", "[phone]", False, True),
    ("Since 2010. 555.010.2030", "Since 2010. [phone]", False, True),
    ("a@example.com or 212-555-0100", "[email] or [phone]", True, True),
]

NOT_PII = [
    "open 24/7",
    "100k followers",
    "1,234,567 fans",
    "10 000 000 views",
    "Teaching 1.2M devs",
    "est. 2019-2024",
    "Born 1990, 2000s kid",
    "Born 12.05.1990",
    "2024-01-15",
    "Wed May 23 06:01:13 +0000 2007",
    "2007-05-23T06:01:13.000Z",
    "id 2244994945",
    "192.168.100.200",
    "v1.2.3",
    "Open 7-7, 24/7 wifi",
    "120+ brands since 2018",
    "@mara_bakes",
    "coach at example.com",
    "x@localhost",
    "https://example.com/p/2125550100",
    "https://cdn.example/a.jpeg?x-expires=1700000000&sig=abc",
    "log 202501060930000000000042",
]


@pytest.mark.parametrize(("text", "expected", "has_email", "has_phone"), REDACTED_CASES)
def test_redact_text_replaces_contact_points(text: str, expected: str, has_email: bool, has_phone: bool) -> None:
    redacted = redact_text(text)

    assert redacted.text == expected
    assert redacted.has_email is has_email
    assert redacted.has_phone is has_phone


@pytest.mark.parametrize("text", NOT_PII)
def test_redact_text_keeps_numbers_that_are_not_phones(text: str) -> None:
    redacted = redact_text(text)

    assert redacted.text == text
    assert not redacted.has_email
    assert not redacted.has_phone


@pytest.mark.parametrize(("text", "expected", "has_email", "has_phone"), REDACTED_CASES)
def test_contains_pii_true_for_contact_points(text: str, expected: str, has_email: bool, has_phone: bool) -> None:
    assert contains_pii(text)
    assert not contains_pii(expected)


@pytest.mark.parametrize("text", NOT_PII)
def test_contains_pii_false_for_ordinary_text(text: str) -> None:
    assert not contains_pii(text)


def test_redact_value_walks_nested_json() -> None:
    payload = {
        "description": "mail a@example.com",
        "entities": {"notes": ["call +1 212 555 0100", 42, None, True]},
        "a@example.com": "key kept",
        "count": 3,
    }

    redacted = redact_value(payload)

    assert redacted == {
        "description": "mail [email]",
        "entities": {"notes": ["call [phone]", 42, None, True]},
        "a@example.com": "key kept",
        "count": 3,
    }
    assert payload["description"] == "mail a@example.com"


def test_redact_value_turns_tuples_into_lists() -> None:
    assert redact_value(("b@example.com",)) == ["[email]"]


@pytest.mark.parametrize("value", [None, 7, 2.5, False])
def test_redact_value_returns_scalars_unchanged(value: object) -> None:
    assert redact_value(value) == value


INTERNATIONAL_PHONES = [
    ("+55 11 91234-5678", "[phone]"),
    ("Pedidos: +91 98765 43210", "Pedidos: [phone]"),
    ("+971 50 123 4567 for bookings", "[phone] for bookings"),
    ("+49 (0) 30 901820", "[phone]"),
    ("+86 138 0013 8000", "[phone]"),
    ("+351 912 345 678", "[phone]"),
    ("+1.212.555.0100", "[phone]"),
    ("ligue 0044 20 7946 0958", "ligue [phone]"),
    ("Mobile 07911 123456", "Mobile [phone]"),
    ("\u0644\u0644\u062d\u062c\u0632 +966 50 123 4567", "\u0644\u0644\u062d\u062c\u0632 [phone]"),
    ("chat: wa.me/447946095800", "chat: wa.me/[phone]"),
    ("https://api.whatsapp.com/send?phone=5511912345678", "https://api.whatsapp.com/send?phone=[phone]"),
]

OBFUSCATED_EMAILS = [
    "jane @ example . com",
    "jane\uff20example.com",
    "jane [@] example [.] com",
    "jane (@) example (.) org",
    "jane {at} example {dot} com",
    "JANE AT EXAMPLE DOT COM",
]


@pytest.mark.parametrize(("text", "expected"), INTERNATIONAL_PHONES)
def test_international_phone_formats_are_redacted(text: str, expected: str) -> None:
    redacted = redact_text(text)

    assert redacted.text == expected
    assert redacted.has_phone


@pytest.mark.parametrize("text", OBFUSCATED_EMAILS)
def test_obfuscated_emails_are_redacted(text: str) -> None:
    redacted = redact_text(f"Bookings: {text}")

    assert redacted.text == "Bookings: [email]"
    assert redacted.has_email


@pytest.mark.parametrize("text", ["follow @jane . she rocks", "meet me @ the cafe. Come by", "id 2244994945"])
def test_mentions_and_ids_are_not_contact_points(text: str) -> None:
    assert not contains_pii(text)


def test_redacted_repr_hides_contacts() -> None:
    redacted = redact_text("mail jane@example.com or +44 20 7946 0958")

    assert [contact.kind for contact in redacted.contacts] == ["email", "phone"]
    assert "jane@example.com" not in repr(redacted)
    assert "+442079460958" not in repr(redacted)
    assert repr(redacted).startswith("RedactedText(text='mail [email] or [phone]'")
