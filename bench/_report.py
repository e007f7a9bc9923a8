"""The JSON report every bench script writes with --json: figures, targets and notes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages as text, for a note next to the figures."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def describe_ratio(
    measured: str, unit: str, reference: str, *, reference_unit: str | None = None, reference_label: str | None = None
) -> dict[str, str]:
    """Return the keys a ratio target adds to name the two figures behind it, with their units.

    `measured` is SXE's figure and `reference` the figure it is compared with, both
    measured in the same run. `reference_unit` defaults to `unit`. `reference_label`
    names the reference in the report, for example "COPY", so a Targets row reads
    "2,400 records/s" against "COPY 20,400 rows/s".
    """
    keys = {
        "measured": measured,
        "measured_unit": unit,
        "reference": reference,
        "reference_unit": reference_unit or unit,
    }
    if reference_label:
        keys["reference_label"] = reference_label
    return keys


def write_report(path: Path | None, figures: dict[str, Any], targets: list[dict[str, Any]], notes: list[str]) -> None:
    """Write one report object to `path`; do nothing when `path` is None (no --json given)."""
    if path is None:
        return
    report = {"figures": figures, "targets": targets, "notes": notes}
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
