"""bench/_report.py and the slice schedule of bench/token_throughput.py, without a database."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import _report  # noqa: E402
import token_throughput  # noqa: E402


def test_describe_ratio_names_figures_and_units() -> None:
    keys = _report.describe_ratio(
        "ingest.rate", "records/s", "copy.rate", reference_unit="rows/s", reference_label="COPY"
    )

    assert keys == {
        "measured": "ingest.rate",
        "measured_unit": "records/s",
        "reference": "copy.rate",
        "reference_unit": "rows/s",
        "reference_label": "COPY",
    }


def test_describe_ratio_reference_unit_default() -> None:
    keys = _report.describe_ratio("sxe.rate", "jobs/s", "bare.rate")

    assert keys["reference_unit"] == "jobs/s"
    assert "reference_label" not in keys


def test_write_report_keeps_target_keys(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    target = {"figure": "ratio", "at_least": 0.9, **_report.describe_ratio("a", "tokens/s", "b")}

    _report.write_report(path, {"a": 1.0, "b": 2.0, "ratio": 0.5}, [target], ["note"])

    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["targets"] == [target]
    assert written["notes"] == ["note"]


@pytest.mark.parametrize("slices", [1, 2, 3, 10])
def test_schedule_gives_each_variant_equal_slices(slices: int) -> None:
    names = ["bare", "sxe", "sxe_transaction"]

    order = token_throughput.schedule(names, slices)

    assert len(order) == slices * len(names)
    assert Counter(order) == dict.fromkeys(names, slices)


def test_schedule_rotates_first_variant() -> None:
    order = token_throughput.schedule(["bare", "sxe", "sxe_transaction"], 3)

    assert order[0::3] == ["bare", "sxe", "sxe_transaction"]
    assert order[:3] == ["bare", "sxe", "sxe_transaction"]
    assert order[3:6] == ["sxe", "sxe_transaction", "bare"]
