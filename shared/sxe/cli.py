"""The `sxe` command line: the main job, migrations, the download server and audit verification.

Exit status: 0 on success (quarantined records included), 2 for an unusable
argument or setting, 3 when the database cannot be reached, 1 for any other
failure. Errors print one line to stderr; secrets and contact data never appear.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sxe import __version__, audit
from sxe.config import load_settings
from sxe.db import connect, database_url
from sxe.db.migrate import migrate
from sxe.errors import DatabaseUnavailable, SxeError, UsageError
from sxe.handoff.download_server import DownloadServer
from sxe.handoff.store import LocalObjectStore
from sxe.ingest.formats import format_names
from sxe.logs import configure
from sxe.pipeline import RunSummary, run, signing_secret

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    configure(args.log_level)
    try:
        return int(args.handler(args))
    except UsageError as exc:
        print(f"sxe: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseUnavailable as exc:
        print(f"sxe: error: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except SxeError as exc:
        print(f"sxe: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sxe", description="Social XPress Engine: audience files in, lead cards out.")
    parser.add_argument("--version", action="version", version=f"sxe {__version__}")
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="JSON log lines on stderr at this level and above (default WARNING)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run_parser = commands.add_parser("run", help="run the whole pipeline over audience files and write a bundle")
    run_parser.add_argument("paths", nargs="+", type=Path, help="files or folders of .json/.jsonl/.ndjson files")
    run_parser.add_argument(
        "--format",
        dest="format_name",
        metavar="NAME",
        help=f"source format of every file, instead of detecting it: {', '.join(format_names())}",
    )
    run_parser.add_argument("--pool", help="audience pool the cards belong to (default SXE_POOL or 'default')")
    run_parser.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    run_parser.set_defaults(handler=_run)

    migrate_parser = commands.add_parser("migrate", help="apply pending database migrations")
    migrate_parser.set_defaults(handler=_migrate)

    serve_parser = commands.add_parser("serve", help="serve signed bundle downloads from the local object store")
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    serve_parser.set_defaults(handler=_serve)

    verify_parser = commands.add_parser("audit-verify", help="check the audit log's hash chain")
    verify_parser.set_defaults(handler=_audit_verify)
    return parser


def _run(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {"pool": args.pool} if args.pool else {}
    summary = run(args.paths, load_settings(**overrides), format_name=args.format_name)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2, default=str))
    else:
        print(render_summary(summary))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn:
        applied = migrate(conn)
    print(f"applied {len(applied)} migrations" + (f": {', '.join(applied)}" if applied else " (already up to date)"))
    return 0


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    server = DownloadServer((args.host, args.port), LocalObjectStore(settings.objects_dir), signing_secret(settings))
    print(f"serving signed downloads from {settings.objects_dir} on http://{args.host}:{args.port} (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn:
        report = audit.verify(conn)
    if report.ok:
        print(f"audit chain intact: {report.rows_checked} rows checked")
        return 0
    print(f"audit chain broken at seq {report.first_broken_seq}: {report.problem}", file=sys.stderr)
    return EXIT_FAILURE


def render_summary(summary: RunSummary) -> str:
    """Format a run summary for people: counts per stage, quarantine reasons, the bundle."""
    data = summary.to_json()
    lines = [
        f"SXE run {data['run_id']}",
        "",
        f"  ingest      {data['ingested']} records stored, {data['duplicates']} duplicates, "
        f"{data['quarantined']} quarantined ({len(data['files'])} files)",
        f"  normalize   {data['profiles']} profiles touched, {data['new_profiles']} new",
        f"  lead cards  {data['lead_cards']} in pool, {data['new_lead_cards']} new, {data['tagged']} tagged",
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


if __name__ == "__main__":
    sys.exit(main())
