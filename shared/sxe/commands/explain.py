"""`sxe explain`: why a lead card has its profiles, labels, readiness and enrichment state."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sxe.cards.explain import explain, render
from sxe.config import load_settings
from sxe.db import connect, database_url, transaction
from sxe.db.migrate import migrate


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "explain",
        help="show why a lead card has its profiles, labels and readiness, with the evidence, "
        "and its enrichment decisions, jobs and breakers",
    )
    parser.add_argument("card", metavar="CARD", help="a card id, or PLATFORM:HANDLE such as x:jane_doe")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(handler=_explain)


def _explain(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn:
        migrate(conn)
        with transaction(conn, role="sxe_api"):
            report = explain(conn, args.card)
    print(json.dumps(report, indent=2, default=str) if args.json else render(report))
    return 0
