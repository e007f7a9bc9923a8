"""The printed and JSON run summary of `sxe run`."""

from __future__ import annotations

import uuid

from sxe.commands.run import render_summary
from sxe.pipeline import RunSummary


def test_summary_json_counts_merges_and_splits() -> None:
    summary = RunSummary(run_id=str(uuid.uuid4()), merged_cards=3, split_cards=1)

    data = summary.to_json()

    assert data["merged_cards"] == 3
    assert data["split_cards"] == 1


def test_printed_summary_shows_merges_and_splits() -> None:
    summary = RunSummary(run_id=str(uuid.uuid4()), new_lead_cards=5, merged_cards=2, split_cards=1)

    lines = render_summary(summary).splitlines()

    assert "  identity    2 cards merged, 1 split" in lines
