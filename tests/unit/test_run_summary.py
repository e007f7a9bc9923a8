"""The printed and JSON run summary of `sxe run`."""

from __future__ import annotations

import uuid

from sxe.commands.run import render_summary
from sxe.ingest.store import FileError, FileResult
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


def test_printed_enrichment_uses_the_json_words() -> None:
    summary = RunSummary(run_id=str(uuid.uuid4()), simulated_provider=False)
    summary.sweep.enqueued = 9
    summary.sweep.skipped["cooldown_matched"] = 2
    summary.work.lookups = 8
    summary.work.matched = 5
    summary.work.credits_spent = 1

    lines = render_summary(summary).splitlines()

    assert "  enrichment  9 lookups enqueued, 8 made, 7 cards enriched, 1 credit spent" in lines


def test_summary_spent_budget_next_step() -> None:
    decided = RunSummary(run_id=str(uuid.uuid4()))
    decided.sweep.skipped["budget_exhausted"] = 2
    cancelled = RunSummary(run_id=str(uuid.uuid4()))
    cancelled.work.outcomes["budget_exhausted"] = 3

    for summary in (decided, cancelled):
        assert "a budget ran out: raise SXE_POOL_BUDGET_CREDITS" in render_summary(summary)
    assert "a budget ran out" not in render_summary(RunSummary(run_id=str(uuid.uuid4())))


def test_summary_names_dead_lookup_jobs() -> None:
    summary = RunSummary(run_id=str(uuid.uuid4()))
    summary.work.outcomes["dead"] = 3

    data = summary.to_json()
    text = render_summary(summary)

    assert data["dead_jobs"] == 3
    assert "3 lookup jobs failed for good; `sxe jobs list --state dead` shows why" in text


def test_summary_without_dead_jobs_omits_the_line() -> None:
    text = render_summary(RunSummary(run_id=str(uuid.uuid4())))

    assert "failed for good" not in text


def test_printed_summary_lists_skipped_files() -> None:
    skipped = [f"/in/notes-{number}.txt" for number in range(6)]
    summary = RunSummary(run_id=str(uuid.uuid4()), skipped_files=skipped)

    lines = render_summary(summary).splitlines()

    names = ", ".join(f"notes-{number}.txt" for number in range(5))
    assert f"              skipped 6 files with another suffix: {names} and 1 more" in lines


def test_printed_summary_without_cards_says_so() -> None:
    lines = render_summary(RunSummary(run_id=str(uuid.uuid4()))).splitlines()

    assert "  readiness   no cards" in lines


def test_printed_summary_names_files_without_records() -> None:
    summary = RunSummary(run_id=str(uuid.uuid4()))
    summary.files = [
        FileResult(batch_id=uuid.uuid4(), file="/in/notes.txt"),
        FileResult(batch_id=uuid.uuid4(), file="/in/a.jsonl", records=3),
    ]

    lines = render_summary(summary).splitlines()

    assert "              no records in 1 file: notes.txt" in lines


def test_printed_summary_counts_suppressed_records() -> None:
    summary = RunSummary(run_id=str(uuid.uuid4()))
    summary.files = [FileResult(batch_id=uuid.uuid4(), file="/in/a.jsonl", records=29, duplicates=27, suppressed=2)]

    lines = render_summary(summary).splitlines()

    assert "  ingest      0 records stored, 27 duplicates, 0 quarantined, 2 withheld as suppressed (1 file)" in lines


def test_printed_summary_leaves_out_zero_suppressed() -> None:
    summary = RunSummary(run_id=str(uuid.uuid4()))
    summary.files = [FileResult(batch_id=uuid.uuid4(), file="/in/a.jsonl", records=3, accepted=3)]

    assert "suppressed" not in render_summary(summary)


def test_printed_summary_names_new_pool_and_others() -> None:
    summary = RunSummary(run_id=str(uuid.uuid4()), pool="growht", pool_created=True, other_pools=["default", "growth"])

    lines = render_summary(summary).splitlines()

    at = lines.index("              pool growht was created by this run, with the default intent policy")
    assert lines[at + 1] == (
        "              existing pools: default, growth; check --pool and SXE_POOL if you meant one of them"
    )
    assert lines[at + 2] == "              `sxe pool set growht --intent FILE` sets its intent policy"


def test_printed_summary_of_first_pool_lists_no_others() -> None:
    summary = RunSummary(run_id=str(uuid.uuid4()), pool="default", pool_created=True)

    text = render_summary(summary)

    assert "pool default was created by this run" in text
    assert "existing pools" not in text


def test_printed_summary_lists_at_most_ten_pools() -> None:
    others = [f"pool-{number:02d}" for number in range(12)]
    summary = RunSummary(run_id=str(uuid.uuid4()), pool="new", pool_created=True, other_pools=others)

    text = render_summary(summary)

    assert f"existing pools: {', '.join(others[:10])} and 2 more;" in text


def test_printed_summary_of_existing_pool_says_nothing() -> None:
    summary = RunSummary(run_id=str(uuid.uuid4()), pool="default", other_pools=["growth"])

    assert "pool" not in render_summary(summary).replace("in pool", "")


def test_summary_json_has_pool_keys() -> None:
    summary = RunSummary(run_id=str(uuid.uuid4()), pool="growht", pool_created=True, other_pools=["default"])

    data = summary.to_json()

    assert data["pool"] == "growht"
    assert data["pool_created"] is True
    assert data["other_pools"] == ["default"]


def test_printed_file_error_names_the_cut_record() -> None:
    summary = RunSummary(run_id=str(uuid.uuid4()))
    damaged = FileResult(batch_id=uuid.uuid4(), file="/in/users.jsonl.gz", records=9, quarantined_total=4)
    damaged.file_errors = [FileError(file="/in/users.jsonl.gz", offset=120, reason="file is a damaged gzip file")]
    summary.files = [damaged, FileResult(batch_id=uuid.uuid4(), file="/in/a.jsonl", records=3, quarantined_total=1)]

    lines = render_summary(summary).splitlines()

    assert "              file error in users.jsonl.gz: file is a damaged gzip file" in lines
    expected = (
        "                the 4 records quarantined from this file may include the record "
        "cut where the file ends, which is not a fault of the source"
    )
    assert expected in lines


def test_corrupt_file_is_named_once() -> None:
    summary = RunSummary(run_id=str(uuid.uuid4()))
    corrupt = FileResult(batch_id=uuid.uuid4(), file="/in/users.jsonl.gz")
    corrupt.file_errors = [FileError(file="/in/users.jsonl.gz", offset=0, reason="corrupt gzip file")]
    summary.files = [corrupt, FileResult(batch_id=uuid.uuid4(), file="/in/notes.txt")]

    text = render_summary(summary)

    assert "file error in users.jsonl.gz: corrupt gzip file" in text
    assert "no records in 1 file: notes.txt" in text
