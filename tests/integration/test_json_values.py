"""json and jsonb values read through SXE's connections, including those orjson cannot decode."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from sxe.db.connection import load_json

WIDE = 2**70 + 1
# Integers just past what a signed and an unsigned 64-bit field hold.
EDGES = [2**64, -(2**63) - 1, 2**63, -(10**18)]


def test_jsonb_values_come_back_as_python_objects(conn: psycopg.Connection[Any]) -> None:
    row = conn.execute(
        """SELECT '{"name": "Ana", "tags": ["a", "b"], "n": 3, "x": 1.5, "ok": true, "none": null}'::jsonb AS doc"""
    ).fetchone()

    assert row == {"doc": {"name": "Ana", "tags": ["a", "b"], "n": 3, "x": 1.5, "ok": True, "none": None}}


@pytest.mark.parametrize("cast", ["json", "jsonb"])
def test_integers_beyond_64_bits_survive(conn: psycopg.Connection[Any], cast: str) -> None:
    row = conn.execute(f"SELECT %s::{cast} AS doc", (f'{{"id": {WIDE}, "list": [{-WIDE}]}}',)).fetchone()

    assert row == {"doc": {"id": WIDE, "list": [-WIDE]}}


def test_integers_at_the_64_bit_edges_stay_exact() -> None:
    for number in EDGES:
        decoded = load_json(f'{{"n": {number}, "inside": [{number}]}}'.encode())
        assert decoded == {"n": number, "inside": [number]}
        assert type(decoded["n"]) is int


def test_load_json_reads_every_buffer_type() -> None:
    text = f'{{"id": {WIDE}, "name": "Zoë"}}'
    expected = {"id": WIDE, "name": "Zoë"}

    assert load_json(text) == expected
    assert load_json(text.encode()) == expected
    assert load_json(bytearray(text.encode())) == expected
    assert load_json(memoryview(text.encode())) == expected
    assert load_json(b'{"n": 1}') == {"n": 1}


def test_load_json_still_rejects_broken_text() -> None:
    with pytest.raises(ValueError):
        load_json(b'{"n": ')
