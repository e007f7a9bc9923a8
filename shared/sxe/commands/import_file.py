"""`sxe import`: stream one file or `imports/` object into Tier 1, with progress on stderr."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sxe.arguments import whole_number
from sxe.cards import count_profiles_to_build, create_pool_recorded
from sxe.commands import counted, report_file_errors
from sxe.config import MAX_INGEST_JOBS, load_settings
from sxe.db import connect, database_url, transaction
from sxe.db.migrate import migrate
from sxe.errors import UsageError
from sxe.ingest.bulk import import_object
from sxe.ingest.formats import format_names, get_format
from sxe.ingest.formats.csv_followers import CSV_FORMAT_NAME, parse_column_map
from sxe.ingest.objects import ImportSource
from sxe.ingest.store import FileResult
from sxe.logs import Event, log
from sxe.models import Platform

ACTOR = "sxe_worker:cli"

SHOWN_QUARANTINE = 20
# The `--jobs` type of `sxe import` and `sxe run`.
ingest_jobs = whole_number("--jobs", 1, MAX_INGEST_JOBS)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "import",
        help="stream a file or an imports/ object into Tier 1 profiles (safe to re-run)",
        description="Read PATH, or KEY under imports/ in the object store, in constant memory. "
        "Every record is stored once: re-running the same import stores nothing new.",
    )
    parser.add_argument("source", metavar="PATH|imports/KEY", help="local file, or object key starting with imports/")
    parser.add_argument(
        "--format",
        dest="format_name",
        metavar="NAME",
        help=f"source format instead of detecting it: {', '.join(format_names())}",
    )
    add_csv_options(parser)
    parser.add_argument(
        "--pool",
        help="audience pool the profiles are imported for (default SXE_POOL or 'default'); "
        "only that pool's `sxe run` and normalize task build them into cards",
    )
    parser.add_argument("--source-name", default="import", help="source name kept on every observation")
    parser.add_argument("--source-url", help="where the file was fetched, kept on every observation")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="draw a progress bar in bytes on stderr (default: only when stderr is a terminal)",
    )
    parser.add_argument(
        "--jobs",
        type=ingest_jobs,
        metavar="N",
        help=f"processes that read, normalize and redact a local file over 1 MiB, 1 to {MAX_INGEST_JOBS} "
        "(default SXE_INGEST_JOBS or the number of cores, at most 4); imports/ keys are read by one",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    parser.set_defaults(handler=_import)


def add_csv_options(parser: argparse.ArgumentParser, *, note: str = "") -> None:
    """Add `--map` and `--platform`, which `csv_options` reads back; `note` ends the `--map` help."""
    parser.add_argument(
        "--map",
        dest="column_map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help=f"CSV only: read COLUMN as FIELD (repeatable), such as --map 'Fans=followers'{note}",
    )
    parser.add_argument(
        "--platform",
        choices=[platform.value for platform in Platform],
        help="CSV only: platform of rows with no platform column or profile URL",
    )


def csv_options(args: argparse.Namespace) -> tuple[dict[str, str], Platform | None]:
    """Return the column map and platform of `add_csv_options`; raise UsageError for `--map` with a JSON format."""
    if args.format_name is not None:
        get_format(args.format_name)
    column_map = parse_column_map(args.column_map)
    if column_map and args.format_name not in (None, CSV_FORMAT_NAME):
        raise UsageError(f"--map applies to CSV files only; drop it or use --format {CSV_FORMAT_NAME}")
    return column_map, Platform(args.platform) if args.platform else None


def _import(args: argparse.Namespace) -> int:
    column_map, platform = csv_options(args)

    overrides: dict[str, Any] = {"pool": args.pool} if args.pool else {}
    if args.jobs is not None:
        overrides["ingest_jobs"] = args.jobs
    settings = load_settings(option_names={"pool": "--pool"}, **overrides)
    progress = _Progress(args.source, disable=None if args.progress is None else not args.progress)

    with connect(database_url(settings), autocommit=True) as conn, progress:
        migrate(conn)
        with transaction(conn, role="sxe_worker"):
            detail = {"source": args.source, "intent": "default"}
            pool_created = create_pool_recorded(conn, settings.pool, actor=ACTOR, detail=detail)
        result = import_object(
            conn,
            settings,
            args.source,
            pool=settings.pool,
            format_name=args.format_name,
            column_map=column_map,
            platform=platform,
            source_name=args.source_name,
            source_url=args.source_url,
            wrap=progress.wrap,
            on_chunk=progress.chunk_stored,
        )
        with transaction(conn, role="sxe_worker"):
            to_build = count_profiles_to_build(conn, settings.pool)

    log(logging.INFO, Event.IMPORT_FINISHED, "import finished", stage="import", batch_id=str(result.batch_id))
    summary = {**import_summary(result, settings.pool), "pool_created": pool_created, "profiles_to_build": to_build}
    print(json.dumps(summary, indent=2) if args.json else render(summary))
    return report_file_errors(len(result.file_errors))


class _Progress:
    """The progress bar on stderr: bytes read when this process reads the file, records stored when workers do."""

    def __init__(self, name: str, *, disable: bool | None) -> None:
        self._name = name
        self._disable = disable
        self._records: tqdm[Any] | None = None

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._records is not None:
            self._records.close()

    def wrap(self, source: ImportSource) -> Any:
        return tqdm.wrapattr(
            source.stream, "read", total=source.size, desc=source.name, file=sys.stderr, disable=self._disable
        )

    def chunk_stored(self, result: FileResult) -> None:
        if self._records is None:
            self._records = tqdm(desc=self._name, unit=" records", file=sys.stderr, disable=self._disable)
        self._records.update(result.records - self._records.n)


def import_summary(result: FileResult, pool: str) -> dict[str, Any]:
    """Return the `--json` output of one import for `pool`."""
    return {
        "batch_id": str(result.batch_id),
        "pool": pool,
        "source": result.file,
        "format": result.format,
        "records": result.records,
        "stored": result.accepted,
        "new_profiles": result.new_profiles,
        "duplicates": result.duplicates,
        "quarantined": result.quarantined_total,
        "suppressed": result.suppressed,
        "file_errors": [asdict(error) for error in result.file_errors],
        "joined_pool": result.joined_pool,
        "carded_in_other_pool": result.carded_elsewhere,
        "quarantine": [
            {"location": record.location, "kind": record.kind, "reason": record.reason}
            for record in result.quarantined[:SHOWN_QUARANTINE]
        ],
    }


def file_error_lines(errors: list[dict[str, Any]], indent: str, quarantined: dict[str, int]) -> list[str]:
    """Return the summary lines of each file error, or none. The reason names the byte offset and the fix.

    `quarantined` maps a file to its count of quarantined records. Of a gzip file cut
    short, one of them may be the record cut where the file ends, not a fault of the
    source. A corrupt gzip file has none, because none of its records is read.
    """
    lines = []
    for error in errors:
        lines.append(f"{indent}file error in {Path(error['file']).name}: {error['reason']}")
        count = quarantined.get(error["file"], 0)
        if count:
            lines.append(
                f"{indent}  the {counted(count, 'record')} quarantined from this file may include the record "
                "cut where the file ends, which is not a fault of the source"
            )
    return lines


def _build_hint(summary: dict[str, Any]) -> str:
    """Return the line naming the `sxe run` that cards the pool's profiles, or saying that no profile waits for one."""
    pool, to_build = summary["pool"], summary["profiles_to_build"]
    if not to_build:
        return f"  pool {pool} has no profile waiting for a lead card, so `sxe run --pool {pool}` builds no new card"
    return (
        f"  for pool {pool}: `sxe run --pool {pool}` builds its {counted(to_build, 'profile')} "
        "on no card yet into lead cards"
    )


def render(summary: dict[str, Any]) -> str:
    lines = [
        f"Imported {summary['source']} as {summary['format'] or 'nothing'} (batch {summary['batch_id']})",
        f"  {summary['records']} records: {summary['stored']} stored ({summary['new_profiles']} new profiles), "
        f"{summary['duplicates']} duplicates, {summary['quarantined']} quarantined"
        + (f", {summary['suppressed']} withheld as suppressed" if summary["suppressed"] else ""),
        *file_error_lines(summary["file_errors"], "  ", {summary["source"]: summary["quarantined"]}),
        _build_hint(summary),
    ]
    if summary["joined_pool"]:
        lines.append(
            f"  {summary['joined_pool']} profiles stored before for other pools joined pool {summary['pool']} "
            "through duplicate records"
        )
    if summary["carded_in_other_pool"]:
        lines.append(
            f"  {summary['carded_in_other_pool']} records belong to profiles already on a lead card of another pool; "
            f"a profile has one card, so pool {summary['pool']} does not card them"
        )
    if summary.get("pool_created"):
        lines.append(
            f"  pool {summary['pool']} was created by this import, with the default intent policy; "
            f"`sxe pool set {summary['pool']} --intent FILE` sets it"
        )
    if summary["quarantine"]:
        lines.append("Quarantined records:")
        lines += [f"  {item['location']}  {item['kind']}: {item['reason']}" for item in summary["quarantine"]]
        hidden = summary["quarantined"] - len(summary["quarantine"])
        if hidden > 0:
            lines.append(f"  ... and {hidden} more in ops.quarantine")
    return "\n".join(lines)
