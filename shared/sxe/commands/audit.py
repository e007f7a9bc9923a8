"""`sxe audit verify` and `sxe audit export`: check the audit log's hash chain and anchor it outside the database."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from sxe import audit
from sxe.config import load_settings
from sxe.db import connect, database_url, transaction
from sxe.errors import UsageError
from sxe.handoff.store import LocalObjectStore

EXIT_BROKEN_CHAIN = 1
ACTOR = "sxe_analyst:cli"


def register(commands: Any) -> None:
    parser = commands.add_parser("audit", help="verify or export the audit log")
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    verify = actions.add_parser("verify", help="recompute the hash chain and name the first broken row")
    verify.set_defaults(handler=_verify)

    export = actions.add_parser("export", help="write a period as JSONL with the chain head to audit-logs/")
    export.add_argument(
        "--since", required=True, type=parse_time, help="start of the period, ISO 8601 (UTC if no zone)"
    )
    export.add_argument("--until", type=parse_time, help="end of the period, exclusive, ISO 8601 (default: now)")
    export.set_defaults(handler=_export)


def parse_time(text: str) -> datetime:
    """Read an ISO 8601 date or time; a value without a zone is UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time; use a form such as 2026-12-01 or 2026-12-01T09:30:00+00:00"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _verify(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn, transaction(conn, role="sxe_analyst"):
        report = audit.verify(conn)
    if report.ok:
        print(f"audit chain intact: {report.rows_checked} rows checked")
        return 0
    print(f"audit chain broken at seq {report.first_broken_seq}: {report.problem}", file=sys.stderr)
    return EXIT_BROKEN_CHAIN


def _export(args: argparse.Namespace) -> int:
    settings = load_settings()
    until = args.until or datetime.now(UTC)
    if until <= args.since:
        raise UsageError(f"--until ({until.isoformat()}) must be later than --since ({args.since.isoformat()})")
    store = LocalObjectStore(settings.objects_dir)
    with connect(database_url(settings), autocommit=True) as conn:
        result = audit.export(conn, store, since=args.since, until=until, environment=settings.environment, actor=ACTOR)
    print(json.dumps(result.to_json(), indent=2))
    return 0
