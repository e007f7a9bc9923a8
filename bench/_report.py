"""The JSON report every bench script writes with --json: figures, targets and notes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages as text, for a note next to the figures."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def write_report(path: Path | None, figures: dict[str, Any], targets: list[dict[str, Any]], notes: list[str]) -> None:
    """Write one report object to `path`; do nothing when `path` is None (no --json given)."""
    if path is None:
        return
    report = {"figures": figures, "targets": targets, "notes": notes}
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
