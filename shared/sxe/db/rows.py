"""Database rows made ready for `json.dumps`."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID


def json_row(row: dict[str, Any]) -> dict[str, Any]:
    """Return `row` with UUIDs and times as strings, in lists too, as the JSON columns already are."""
    return {name: _json_value(value) for name, value in row.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    return value
