"""`sxe pool`: show or set the intent policy of an audience pool."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sxe.cards import create_pool_recorded, get_intent, pool_names, unknown_pool
from sxe.cards.intent import read_intent_file, set_intent
from sxe.config import load_settings
from sxe.db import connect, database_url, transaction
from sxe.db.migrate import migrate

ACTOR = "sxe_worker:cli"


def register(commands: Any) -> None:
    parser = commands.add_parser("pool", help="show or set an audience pool's intent policy")
    actions = parser.add_subparsers(dest="pool_action", required=True)

    setter = actions.add_parser("set", help="set the pool's intent policy from a JSON file")
    setter.add_argument("name", metavar="NAME", help="audience pool name")
    setter.add_argument(
        "--intent",
        required=True,
        type=Path,
        metavar="FILE",
        help="JSON file matching contracts/intelligence/intent-policy.v2.schema.json",
    )
    setter.set_defaults(handler=_set)

    shower = actions.add_parser("show", help="print the pool's intent policy as JSON")
    shower.add_argument("name", metavar="NAME", help="audience pool name")
    shower.set_defaults(handler=_show)


def _set(args: argparse.Namespace) -> int:
    policy = read_intent_file(args.intent)
    with connect(database_url(load_settings()), autocommit=True) as conn:
        migrate(conn)
        with transaction(conn, role="sxe_worker"):
            create_pool_recorded(conn, args.name, actor=ACTOR, detail={"intent": str(args.intent)})
            stored = set_intent(conn, args.name, policy)
    print(json.dumps({"pool": args.name, "intent": stored}, indent=2))
    return 0


def _show(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn:
        migrate(conn)
        with transaction(conn, role="sxe_worker"):
            intent = get_intent(conn, args.name)
            existing = pool_names(conn)
    if intent is None:
        raise unknown_pool(args.name, existing)
    print(json.dumps({"pool": args.name, "intent": intent}, indent=2))
    return 0
