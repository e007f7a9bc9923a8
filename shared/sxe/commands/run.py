"""`sxe run`: the main job over files or folders."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sxe.commands import counted, report_file_errors
from sxe.commands.import_file import add_csv_options, csv_options, file_error_lines, ingest_jobs
from sxe.config import MAX_INGEST_JOBS, load_settings
from sxe.ingest.formats import format_names
from sxe.pipeline import RunSummary, run

# File names a summary line lists before it gives the count of the others.
SHOWN_FILES = 5
# Pool names the line about a new pool lists before it gives the count of the others.
SHOWN_POOLS = 10


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "run",
        help="run the whole pipeline over audience files and write a bundle",
        description="Run the whole pipeline over audience files and write a bundle. The database is "
        "SXE_DATABASE_URL, or an embedded PostgreSQL under SXE_STATE_DIR (default .sxe), which also "
        "holds the local object store and the signing key.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="files, or folders of .json, .jsonl, .ndjson, .jsonlines, .csv and .tsv files, gzipped or not; "
        "with none, the run builds, enriches and hands off the profiles already stored for the pool",
    )
    parser.add_argument(
        "--format",
        dest="format_name",
        metavar="NAME",
        help=f"source format of every file, instead of detecting it: {', '.join(format_names())}",
    )
    add_csv_options(parser, note=". Every CSV file of the run must have COLUMN")
    parser.add_argument("--pool", help="audience pool the cards belong to (default SXE_POOL or 'default')")
    parser.add_argument(
        "--jobs",
        type=ingest_jobs,
        metavar="N",
        help=f"processes that read, normalize and redact records during ingest, 1 to {MAX_INGEST_JOBS} "
        "(default SXE_INGEST_JOBS or the number of cores, at most 4)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    column_map, platform = csv_options(args)
    overrides: dict[str, Any] = {"pool": args.pool} if args.pool else {}
    if args.jobs is not None:
        overrides["ingest_jobs"] = args.jobs
    summary = run(
        args.paths,
        load_settings(option_names={"pool": "--pool"}, **overrides),
        format_name=args.format_name,
        column_map=column_map,
        platform=platform,
    )
    if args.json:
        print(json.dumps(summary.to_json(), indent=2, default=str))
    else:
        print(render_summary(summary))
    return report_file_errors(sum(len(result.file_errors) for result in summary.files))


def _suppressed(count: int) -> str:
    """Return ", N withheld as suppressed" when records of erased people were withheld, else nothing."""
    return f", {count} withheld as suppressed" if count else ""


def render_summary(summary: RunSummary) -> str:
    """Format a run summary for people: counts per stage, quarantine reasons, the bundle."""
    data = summary.to_json()
    lines = [
        f"SXE run {data['run_id']}",
        "",
        f"  ingest      {counted(data['ingested'], 'record')} stored, {counted(data['duplicates'], 'duplicate')}, "
        f"{data['quarantined']} quarantined{_suppressed(data['suppressed'])} ({counted(len(data['files']), 'file')})",
        *_skipped_files(data["skipped_files"]),
        *_empty_files(data["files"], data["file_errors"]),
        *file_error_lines(data["file_errors"], "              ", _quarantined_by_file(summary)),
        f"  normalize   {counted(data['profiles'], 'profile')} touched, {data['new_profiles']} new",
        f"  lead cards  {data['lead_cards']} in pool, {data['new_lead_cards']} new, {data['tagged']} tagged",
        *_carded_elsewhere(data),
        *_new_pool(data),
        f"  identity    {counted(data['merged_cards'], 'card')} merged, {data['split_cards']} split",
        # The same words as the --json keys: enrichment_enqueued, lookups, enriched, credits_spent.
        f"  enrichment  {counted(data['enrichment_enqueued'], 'lookup')} enqueued, {data['lookups']} made, "
        f"{counted(data['enriched'], 'card')} enriched, {counted(data['credits_spent'], 'credit')} spent"
        + (" (provider simulator)" if data["simulated_provider"] else ""),
    ]
    if data["enrichment_skipped"]:
        skipped = ", ".join(f"{reason} {count}" for reason, count in sorted(data["enrichment_skipped"].items()))
        lines.append(f"              skipped: {skipped}")
    if data["enrichment_skipped"].get("budget_exhausted") or summary.work.outcomes.get("budget_exhausted"):
        lines.append(
            "              a budget ran out: raise SXE_POOL_BUDGET_CREDITS or the pool's pool_budget_credits "
            "and run again; `sxe explain CARD` names the budget"
        )
    if data["dead_jobs"]:
        lines.append(
            f"              {counted(data['dead_jobs'], 'lookup job')} failed for good; "
            "`sxe jobs list --state dead` shows why, docs/operations.md how to recover"
        )
    states = ", ".join(f"{state} {count}" for state, count in sorted(data["readiness"].items()))
    lines.append(f"  readiness   {states or 'no cards'}")

    if data["quarantine"]:
        lines += ["", "Quarantined records:"]
        lines += [f"  {item['location']}  {item['kind']}: {item['reason']}" for item in data["quarantine"]]

    bundle = data["bundle"]
    if bundle:
        lines += [
            "",
            f"Bundle {bundle['id']}: {counted(bundle['records'], 'lead card')}{_empty_bundle_note(data)}",
            f"  folder        {bundle['path']}",
            f"  download URL  {bundle['url']}",
            f"  manifest URL  {bundle['manifest_url']}",
        ]
    return "\n".join(lines)


def _quarantined_by_file(summary: RunSummary) -> dict[str, int]:
    return {result.file: result.quarantined_total for result in summary.files}


def _carded_elsewhere(data: dict[str, Any]) -> list[str]:
    """Return the summary line counting the pool's profiles that other pools carded first, or none."""
    count = data["carded_in_other_pool"]
    if not count:
        return []
    return [
        f"              {counted(count, 'profile')} of pool {data['pool']} already on cards of other pools "
        "and not carded here: a profile has one card, and the first pool to build takes it"
    ]


def _empty_bundle_note(data: dict[str, Any]) -> str:
    """Return the reason an empty bundle contains no card, or nothing when the bundle contains cards."""
    if data["bundle"]["records"]:
        return ""
    return f" (empty: no card of pool {data['pool']} became ready since the last handoff)"


def _new_pool(data: dict[str, Any]) -> list[str]:
    """Return the summary lines saying that the run created its pool, with the other pools, or none.

    A mistyped --pool or SXE_POOL creates a pool too, so the lines list the pools that
    existed to make the typo show.
    """
    if not data["pool_created"]:
        return []
    pool, others = data["pool"], data["other_pools"]
    lines = [f"              pool {pool} was created by this run, with the default intent policy"]
    if others:
        listed = ", ".join(others[:SHOWN_POOLS])
        more = f" and {len(others) - SHOWN_POOLS} more" if len(others) > SHOWN_POOLS else ""
        lines.append(
            f"              existing pools: {listed}{more}; check --pool and SXE_POOL if you meant one of them"
        )
    lines.append(f"              `sxe pool set {pool} --intent FILE` sets its intent policy")
    return lines


def _skipped_files(skipped: list[str]) -> list[str]:
    """Return the summary line naming the folder files left unread, or none."""
    names = [Path(name).name for name in skipped]
    return _files_line(f"skipped {counted(len(names), 'file')} with another suffix", names)


def _empty_files(files: list[dict[str, Any]], file_errors: list[dict[str, Any]]) -> list[str]:
    """Return the summary line naming the files that held no record, or none; a file error names its file already."""
    faulty = {error["file"] for error in file_errors}
    names = [Path(item["file"]).name for item in files if not item["records"] and item["file"] not in faulty]
    return _files_line(f"no records in {counted(len(names), 'file')}", names)


def _files_line(what: str, names: list[str]) -> list[str]:
    """Return a summary line of `what` and up to SHOWN_FILES names, or none when there are no names."""
    if not names:
        return []
    listed = ", ".join(names[:SHOWN_FILES])
    more = f" and {len(names) - SHOWN_FILES} more" if len(names) > SHOWN_FILES else ""
    return [f"              {what}: {listed}{more}"]
