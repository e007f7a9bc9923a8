"""`sxe pull`: fetch public profiles from a platform API or an Apify dataset, by hand."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import httpx

from sxe.config import load_settings
from sxe.connectors import CONNECTORS, PullRequest, get_connector, run_pull
from sxe.db import connect, database_url
from sxe.db.migrate import migrate
from sxe.ingest.formats import format_names, get_format

TIMEOUT_SECONDS = 20.0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "pull",
        help="fetch profiles by handle or id from a platform API, or the items of an Apify dataset",
        description="x: X API v2 user lookup (SXE_X_BEARER_TOKEN); threads: Threads profile lookup "
        "(SXE_THREADS_ACCESS_TOKEN); tiktok: TikTok Research user info (SXE_TIKTOK_RESEARCH_TOKEN); "
        "apify DATASET_ID: the dataset's items (SXE_APIFY_TOKEN). An interrupted pull of the same "
        "targets continues where it stopped.",
    )
    parser.add_argument("platform", choices=list(CONNECTORS), help="where to pull from")
    parser.add_argument("targets", nargs="+", metavar="HANDLE", help="handles (or ids with --ids, or one dataset id)")
    parser.add_argument("--ids", action="store_true", help="x only: the targets are user ids, not handles")
    parser.add_argument(
        "--format",
        dest="format_name",
        metavar="NAME",
        help=f"apify only: format of the dataset items, instead of detecting it: {', '.join(format_names())}",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="maximum total wait for rate tokens, in seconds, before the pull stops to resume later (default 60)",
    )
    parser.add_argument(
        "--pool",
        help="audience pool the profiles are pulled for (default SXE_POOL or 'default'); "
        "only that pool builds them into lead cards",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    parser.set_defaults(handler=_pull)


def _pull(args: argparse.Namespace) -> int:
    if args.format_name is not None:
        get_format(args.format_name)
    connector = get_connector(args.platform)
    request = PullRequest(tuple(args.targets), by_id=args.ids, format_name=args.format_name)

    settings = load_settings(option_names={"pool": "--pool"}, **({"pool": args.pool} if args.pool else {}))
    with connect(database_url(settings), autocommit=True) as conn, httpx.Client(timeout=TIMEOUT_SECONDS) as http:
        migrate(conn)
        result = run_pull(conn, connector, request, http=http, pool=settings.pool, max_wait_seconds=args.max_wait)

    summary = {
        "connector": result.connector,
        "pool": result.pool,
        "pull_key": result.pull_key,
        "resumed": result.resumed,
        "done": result.done,
        "pages": result.pages,
        "records": result.records,
        "stored": result.accepted,
        "duplicates": result.duplicates,
        "quarantined": result.quarantined,
        "rate_limited_seconds": result.rate_limited_seconds,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0

    print(
        f"Pulled {summary['pages']} pages from {summary['connector']} for pool {summary['pool']}: "
        f"{summary['records']} records, "
        f"{summary['stored']} stored, {summary['duplicates']} duplicates, {summary['quarantined']} quarantined"
    )
    if not result.done:
        wait = result.rate_limited_seconds or 0
        print(f"Stopped by the rate limit for {wait:.0f} s; run the same command again to continue.", file=sys.stderr)
    return 0
