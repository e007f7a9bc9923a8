"""`sxe access`: print everything SXE holds on one person, for an access request."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sxe.commands.erase import identifier_from
from sxe.compliance.access import access_report, render
from sxe.compliance.suppression import suppression_key
from sxe.config import load_settings
from sxe.db import connect, database_url
from sxe.db.migrate import migrate


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "access",
        help="print everything SXE holds on a person, for an access request",
        description="Report one person, named by exactly one of: PLATFORM:HANDLE, a profile URL, --email or "
        "--phone. The report holds their personal data; hand it only to the person who asked.",
    )
    parser.add_argument("subject", nargs="?", help="PLATFORM:HANDLE (such as x:dana_w) or a profile URL")
    parser.add_argument("--email", help="an email address the person was enriched with")
    parser.add_argument("--phone", help="a phone number, E.164 (+12125550142) or national in --region")
    parser.add_argument("--region", default="US", help="region of a phone number without '+' (default US)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(handler=_access)


def _access(args: argparse.Namespace) -> int:
    identifier = identifier_from(args)
    settings = load_settings()
    with connect(database_url(settings), autocommit=True) as conn:
        migrate(conn)
        report = access_report(conn, identifier, key=suppression_key(settings))
    print(json.dumps(report.to_json(), indent=2, default=str) if args.json else render(report))
    return 0
