"""`sxe retention run`: delete rows past their tier's retention period."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sxe.compliance.retention import run_retention
from sxe.config import load_settings
from sxe.db import connect, database_url
from sxe.db.migrate import migrate

ACTOR = "sxe_worker:cli"


def register(commands: Any) -> None:
    parser = commands.add_parser("retention", help="apply the per-tier retention periods")
    actions = parser.add_subparsers(dest="retention_command", metavar="ACTION", required=True)
    run = actions.add_parser(
        "run",
        help="delete expired rows in batches and audit the counts",
        description="Periods: SXE_RETENTION_TIER1_DAYS, SXE_RETENTION_TIER2_DAYS, SXE_RETENTION_TIER3_DAYS (days).",
    )
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    with connect(database_url(settings), autocommit=True) as conn:
        migrate(conn)
        report = run_retention(conn, settings, actor=ACTOR)
    print(json.dumps(report.to_json(), indent=2))
    return 0
