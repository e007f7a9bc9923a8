from __future__ import annotations

import json
from typing import Any

import pytest

from sxe.ingest.hashing import canonical_json

PAYLOADS: list[Any] = [
    {"b": 1, "a": [True, None, -5, 2**63 - 1], "é": "x", "Z": {}},
    {"text": '\x00\x1f\x7f\u2028 "quoted" back\\slash\n\t', "emoji": "\U0001f600"},
    {"small": 1e-7, "large": 1e22, "plain": 1.5, "negative_zero": -0.0},
    {"beyond_64_bits": 2**70, "negative": -(2**70)},
    {"bio": "3e5 followers", "count": 300000},
    {"bio": "e-mail me, 1e+3 fans", "rate": -2.5e-10, "top": 1.7976931348623157e308, "tiny": 5e-324},
    [1, 2.5, "a", {"nested": [{"z": 1, "y": 2}]}],
]


def _json_module_bytes(payload: Any) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_canonical_json_matches_json_module(payload: Any) -> None:
    assert canonical_json(payload) == _json_module_bytes(payload)


def test_canonical_json_ignores_key_order() -> None:
    assert canonical_json({"a": 1, "b": 2}) == canonical_json({"b": 2, "a": 1})
