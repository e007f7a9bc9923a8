"""Tests that the Rust format checks of is_valid_native accept no string that FORMAT_CHECKER rejects."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sxe import contracts
from sxe.contracts import LEAD_CARD_V1, LEAD_CARD_V2

# Where a lead-card.v2 record has a value of each format. The checks run on a whole record,
# so they go through the guarded schema copy that the bundle writer uses.
FORMAT_PATHS: dict[str, tuple[str | int, ...]] = {
    "date-time": ("updated_at",),
    "email": ("contact", "emails", 0, "address"),
    "uuid": ("card_id",),
}
EXAMPLE_PATH = contracts.find_contracts_dir() / "examples" / "handoff" / "lead-card.v2.example.json"
EXAMPLE: dict[str, Any] = json.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))


def native_accepts(format_name: str, value: str) -> bool:
    """Return whether is_valid_native accepts the v2 example with `value` at the format's path."""
    document = copy.deepcopy(EXAMPLE)
    target: Any = document
    path = FORMAT_PATHS[format_name]
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return contracts.load_contracts().is_valid_native(document, LEAD_CARD_V2)


def reference_accepts(format_name: str, value: str) -> bool:
    function, raises = contracts.FORMAT_CHECKER.checkers[format_name]
    try:
        return bool(function(value))
    except raises:
        return False


# (value, whether is_valid_native accepts it)
DATE_TIMES = [
    ("2026-12-04T09:20:00Z", True),
    ("2026-12-04t09:20:00z", True),
    ("2026-12-04T09:20:00.123456789+05:30", True),
    ("2024-02-29T00:00:00Z", True),
    ("2026-12-04T09:20:00-00:00", True),
    ("2026-12-31T23:59:60Z", False),
    ("2026-12-31T23:59:60.5Z", False),
    ("2026-12-04T22:59:60-01:00", False),
    ("0000-01-01T00:00:00Z", False),
    ("2026-02-29T00:00:00Z", False),
    ("2026-12-04T24:00:00Z", False),
    ("2026-12-04T09:60:00Z", False),
    ("2026-12-04T09:20:00+24:00", False),
    ("2026-12-04T09:20:00+23:60", False),
    ("2026-12-04T09:20:00", False),
    ("2026-12-04T09:20:00+0100", False),
    ("2026-12-04 09:20:00Z", False),
    ("2026-12-04T09:20:00Z\n", False),
    ("２０２６-12-04T09:20:00Z", False),
]


EMAILS = [
    ("ada@example.com", True),
    ("a+b@sub.example.org", True),
    ("a@example.123", True),
    ('"a b"@example.com', False),
    ('"a@b"@example.com', False),
    ("Ada <ada@example.com>", False),
    ("ada@localhost", False),
    ("ada@[192.0.2.1]", False),
    ("ada@example.com ", False),
    ("a\u00a0b@example.com", False),
    ("a@b@example.com", False),
    ("a(comment)@example.com", False),
]

EDGES = [("date-time", value, native) for value, native in DATE_TIMES] + [
    ("email", value, native) for value, native in EMAILS
]


@pytest.mark.parametrize(("format_name", "value", "native"), EDGES)
def test_format_edges(format_name: str, value: str, native: bool) -> None:
    assert native_accepts(format_name, value) is native
    if native:
        assert reference_accepts(format_name, value)


def two_digits() -> st.SearchStrategy[str]:
    return st.integers(min_value=0, max_value=99).map(lambda number: f"{number:02d}")


DATE_TIME_PARTS = st.tuples(
    st.sampled_from(["0000", "0001", "1970", "2024", "2026", "9999"]),
    two_digits(),
    two_digits(),
    st.sampled_from(["T", "t", " ", "_"]),
    two_digits(),
    two_digits(),
    two_digits(),
    st.sampled_from(["", ".5", ".123456", ".1234567891", "."]),
    st.one_of(st.sampled_from(["Z", "z", "", "+0100"]), st.tuples(st.sampled_from("+-"), two_digits(), two_digits())),
)


@settings(max_examples=500, deadline=None)
@given(parts=DATE_TIME_PARTS)
def test_native_date_time_accepts_subset(parts: tuple[Any, ...]) -> None:
    year, month, day, separator, hour, minute, second, fraction, offset = parts
    if isinstance(offset, tuple):
        offset = f"{offset[0]}{offset[1]}:{offset[2]}"
    value = f"{year}-{month}-{day}{separator}{hour}:{minute}:{second}{fraction}{offset}"

    if native_accepts("date-time", value):
        assert reference_accepts("date-time", value), value


EMAIL_TEXT = st.text(alphabet='ab.-_+@"() <>[]\t\u00e4\u00a01', min_size=1, max_size=16)


@settings(max_examples=500, deadline=None)
@given(local=EMAIL_TEXT, domain=st.sampled_from(["example.com", "a.b", "localhost", "[192.0.2.1]", "ex ample.com"]))
def test_native_email_accepts_subset(local: str, domain: str) -> None:
    for value in (f"{local}@{domain}", local):
        if native_accepts("email", value):
            assert reference_accepts("email", value), value


@pytest.mark.parametrize("schema_id", [LEAD_CARD_V1, LEAD_CARD_V2])
def test_lead_card_formats_have_native_checks(schema_id: str) -> None:
    # is_valid_native gives False for every document of a schema with another format,
    # which would send every bundle line down the slow path.
    formats: set[str] = set()
    contracts._native_schema(contracts.load_contracts().schema(schema_id), formats)

    assert formats <= contracts.NATIVE_FORMATS
