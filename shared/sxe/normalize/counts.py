"""Parse follower, post and like counts as sources write them."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

SUFFIX_MULTIPLIERS = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
# The largest value of PostgreSQL's bigint, the type of every stored count.
MAX_COUNT = 2**63 - 1

# An unsigned number with optional thousands separators, an optional decimal part
# and an optional K, M or B suffix, such as "1,234", "12.3K" or "4.5 M".
_COUNT = re.compile(
    r"""
    (?P<number> \d{1,3}(?:,\d{3})+(?:\.\d+)? | \d+(?:\.\d+)? | \.\d+ )
    \s*
    (?P<suffix> [kmb]? )
    """,
    re.VERBOSE | re.IGNORECASE,
)


class InvalidCount(ValueError):
    """A count is negative, fractional, too large to store or not a number."""


def parse_count(value: int | str | None) -> int | None:
    """Return a count as a non-negative int, or None when the source gave none.

    Accepts ints and strings such as "1234", "1,234", "12.3K", "4.5M" and "1.2B"
    (suffixes in either case). A suffixed value is rounded down to a whole number.
    An empty string reads as None. Raises InvalidCount for negative numbers, numbers
    above MAX_COUNT, booleans, fractions without a suffix ("12.5") and any other text.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidCount("a boolean is not a count")
    if isinstance(value, int):
        return _in_range(value)
    return _parse_count_text(value)


def _parse_count_text(text: str) -> int | None:
    stripped = text.strip().replace("\u00a0", " ")
    if not stripped:
        return None

    match = _COUNT.fullmatch(stripped)
    if match is None:
        raise InvalidCount("not a count")

    try:
        number = Decimal(match["number"].replace(",", ""))
    except InvalidOperation as error:
        raise InvalidCount("not a count") from error

    multiplier = SUFFIX_MULTIPLIERS[match["suffix"].lower()]
    if multiplier == 1 and number != number.to_integral_value():
        raise InvalidCount("a count without a K, M or B suffix must be a whole number")
    return _in_range(int(number * multiplier))


def _in_range(count: int) -> int:
    if count < 0:
        raise InvalidCount("a count cannot be negative")
    if count > MAX_COUNT:
        raise InvalidCount(f"a count cannot exceed {MAX_COUNT}")
    return count
