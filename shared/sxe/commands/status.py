"""`sxe status`: jobs by state, cards by readiness, and each provider's calls, breaker and budget."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sxe.cards import pool_names, unknown_pool
from sxe.config import load_settings
from sxe.db import connect, database_url
from sxe.db.migrate import migrate
from sxe.orchestrator import status


def register(commands: Any) -> None:
    parser = commands.add_parser("status", help="show jobs, card readiness and provider usage, breakers and budgets")
    parser.add_argument(
        "--pool",
        help="leave out other pools' cards, lookup jobs, lookups and budgets, and the lookup jobs of erased cards "
        "(default: every pool); shared queues, breakers and provider budgets stay",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.set_defaults(handler=_status)


def _status(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn:
        migrate(conn)
        existing = pool_names(conn)
        if args.pool is not None and args.pool not in existing:
            raise unknown_pool(args.pool, existing)
        report = status.collect(conn, pool=args.pool)
    print(json.dumps(report, indent=2) if args.json else status.render(report))
    return 0
