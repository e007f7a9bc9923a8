"""Content hashes that identify a record by its content, not by where it was read."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(payload: Any) -> bytes:
    """Encode a JSON value as UTF-8 with sorted keys and no whitespace.

    Two payloads that differ only in key order or formatting encode to the same bytes.
    """
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def content_hash(payload: Any) -> str:
    """Return the hex SHA-256 of the payload's canonical JSON."""
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def bytes_hash(data: bytes) -> str:
    """Return the hex SHA-256 of raw bytes, for input that is not valid JSON."""
    return hashlib.sha256(data).hexdigest()
