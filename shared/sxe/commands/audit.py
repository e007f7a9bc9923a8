"""`sxe audit-verify`: recompute the audit log's hash chain."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sxe import audit
from sxe.config import load_settings
from sxe.db import connect, database_url

EXIT_BROKEN_CHAIN = 1


def register(commands: Any) -> None:
    parser = commands.add_parser("audit-verify", help="check the audit log's hash chain")
    parser.set_defaults(handler=_audit_verify)


def _audit_verify(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn:
        report = audit.verify(conn)
    if report.ok:
        print(f"audit chain intact: {report.rows_checked} rows checked")
        return 0
    print(f"audit chain broken at seq {report.first_broken_seq}: {report.problem}", file=sys.stderr)
    return EXIT_BROKEN_CHAIN
