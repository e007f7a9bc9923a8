"""Choose the source format of a file from its first decoded values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sxe.errors import UsageError
from sxe.ingest.formats import FORMATS, SourceFormat
from sxe.ingest.formats.base import json_type_name
from sxe.pii import redact_text

MAX_KEYS_SHOWN = 8


def detect_format(values: Iterable[Any], formats: Mapping[str, SourceFormat] = FORMATS) -> SourceFormat:
    """Return the one format of `formats` that every recognised value in `values` matches.

    Values that no format recognises are skipped, so a stray error body or empty
    page does not decide. Raises UsageError when no value is recognised or when
    more than one format fits, naming the evidence and telling the caller to pass
    `--format NAME`.
    """
    sample = list(values)
    candidates: set[str] | None = None
    for value in sample:
        matches = {name for name, source_format in formats.items() if source_format.sniff(value)}
        if not matches:
            continue
        candidates = matches if candidates is None else candidates & matches

    if candidates is None:
        raise UsageError(f"cannot detect the source format: {_describe_sample(sample)}; {_format_hint()}")
    if len(candidates) != 1:
        found = ", ".join(sorted(candidates)) or "no single format fits every value"
        raise UsageError(f"ambiguous source format ({found}): {_describe_sample(sample)}; {_format_hint()}")
    return formats[candidates.pop()]


def _format_hint() -> str:
    return f"pass --format NAME with one of: {', '.join(FORMATS)}"


def _describe_sample(sample: list[Any]) -> str:
    """Describe the first value by its JSON type and top-level keys, never its content."""
    if not sample:
        return "the file holds no readable JSON value"

    first = sample[0]
    if not isinstance(first, dict):
        return f"the first value is a JSON {json_type_name(first)}, not an object"
    keys = [redact_text(str(key)).text for key in list(first)[:MAX_KEYS_SHOWN]]
    more = ", ..." if len(first) > MAX_KEYS_SHOWN else ""
    return f"the first value is an object with keys [{', '.join(keys)}{more}]"
