"""Content hashes that identify a record by its content, not by where it was read."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import orjson

# A float in exponent form: orjson writes "1e-7" where the json module writes "1e-07".
# orjson always writes a lowercase "e" and a sign, so the regex runs only on payloads
# whose text contains "e-" or "e+".
_EXPONENT = re.compile(rb"\de[-+]\d")


def canonical_json(payload: Any) -> bytes:
    """Encode a JSON value as UTF-8 with sorted keys and no whitespace.

    Two payloads that differ only in key order or formatting encode to the same bytes.
    The bytes are those of `json.dumps(payload, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`, so hashes stay stable. orjson writes the same bytes faster for
    everything but floats in exponent form and integers beyond 64 bits, which go
    through the json module. NaN and infinities, which PostgreSQL's jsonb rejects
    anyway, are written as null.
    """
    try:
        encoded = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        encoded = b""
    if encoded and not _has_exponent(encoded):
        return encoded
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def _has_exponent(encoded: bytes) -> bool:
    return (b"e-" in encoded or b"e+" in encoded) and _EXPONENT.search(encoded) is not None


def content_hash(payload: Any) -> str:
    """Return the hex SHA-256 of the payload's canonical JSON."""
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def bytes_hash(data: bytes) -> str:
    """Return the hex SHA-256 of raw bytes, for input that is not valid JSON."""
    return hashlib.sha256(data).hexdigest()
