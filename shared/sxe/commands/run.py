"""`sxe run`: the main job over files or folders."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sxe.config import load_settings
from sxe.ingest.formats import format_names
from sxe.pipeline import RunSummary, run


def register(commands: Any) -> None:
    parser = commands.add_parser("run", help="run the whole pipeline over audience files and write a bundle")
    parser.add_argument("paths", nargs="+", type=Path, help="files or folders of .json/.jsonl/.ndjson files")
    parser.add_argument(
        "--format",
        dest="format_name",
        metavar="NAME",
        help=f"source format of every file, instead of detecting it: {', '.join(format_names())}",
    )
    parser.add_argument("--pool", help="audience pool the cards belong to (default SXE_POOL or 'default')")
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="processes that read, normalize and redact records during ingest "
        "(default SXE_INGEST_JOBS or the number of cores, at most 4)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {"pool": args.pool} if args.pool else {}
    if args.jobs is not None:
        overrides["ingest_jobs"] = args.jobs
    summary = run(args.paths, load_settings(**overrides), format_name=args.format_name)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2, default=str))
    else:
        print(render_summary(summary))
    return 0


def render_summary(summary: RunSummary) -> str:
    """Format a run summary for people: counts per stage, quarantine reasons, the bundle."""
    data = summary.to_json()
    lines = [
        f"SXE run {data['run_id']}",
        "",
        f"  ingest      {data['ingested']} records stored, {data['duplicates']} duplicates, "
        f"{data['quarantined']} quarantined ({_count(len(data['files']), 'file')})",
        f"  normalize   {data['profiles']} profiles touched, {data['new_profiles']} new",
        f"  lead cards  {data['lead_cards']} in pool, {data['new_lead_cards']} new, {data['tagged']} tagged",
        f"  identity    {data['merged_cards']} cards merged, {data['split_cards']} split",
        f"  enrichment  {data['enrichment_enqueued']} lookups allowed, {data['lookups']} made, "
        f"{data['enriched']} matched, {data['credits_spent']} credits"
        + (" (provider simulator)" if data["simulated_provider"] else ""),
    ]
    if data["enrichment_skipped"]:
        skipped = ", ".join(f"{reason} {count}" for reason, count in sorted(data["enrichment_skipped"].items()))
        lines.append(f"              skipped: {skipped}")
    lines.append("  readiness   " + ", ".join(f"{state} {count}" for state, count in sorted(data["readiness"].items())))

    if data["quarantine"]:
        lines += ["", "Quarantined records:"]
        lines += [f"  {item['location']}  {item['kind']}: {item['reason']}" for item in data["quarantine"]]

    bundle = data["bundle"]
    if bundle:
        lines += [
            "",
            f"Bundle {bundle['id']}: {bundle['records']} lead cards",
            f"  folder        {bundle['path']}",
            f"  download URL  {bundle['url']}",
            f"  manifest URL  {bundle['manifest_url']}",
        ]
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
