"""`sxe consumer add|list|revoke`: manage the API consumers of the handoff."""

from __future__ import annotations

import argparse
from typing import Any

from sxe.config import load_settings
from sxe.db import connect, database_url
from sxe.db.migrate import migrate
from sxe.handoff.consumers import (
    DEFAULT_BURST,
    DEFAULT_RATE_PER_SECOND,
    create_consumer,
    list_consumers,
    revoke_consumer,
)

ACTOR = "sxe_worker:cli"


def register(commands: Any) -> None:
    parser = commands.add_parser("consumer", help="add, list or revoke handoff API consumers")
    actions = parser.add_subparsers(dest="action", required=True)

    add = actions.add_parser("add", help="create a consumer and print its API key once")
    add.add_argument("name", help="consumer name: lowercase letters, digits, '_' or '-'")
    add.add_argument("--pool", action="append", required=True, help="pool it may read; repeat for several")
    add.add_argument(
        "--fields", default="", help="comma-separated contact fields it may receive: emails, phones (default none)"
    )
    add.add_argument("--schema-version", default="v2", choices=["v1", "v2"], help="default lead-card version (v2)")
    add.add_argument("--rate", type=float, default=DEFAULT_RATE_PER_SECOND, help="sustained calls per second (5)")
    add.add_argument("--burst", type=int, default=DEFAULT_BURST, help="calls allowed at once (20)")
    add.set_defaults(handler=_add)

    listing = actions.add_parser("list", help="list consumers without their keys")
    listing.set_defaults(handler=_list)

    revoke = actions.add_parser("revoke", help="revoke a consumer's key at once")
    revoke.add_argument("name")
    revoke.set_defaults(handler=_revoke)


def _add(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn:
        migrate(conn)
        consumer, key = create_consumer(
            conn,
            args.name,
            args.pool,
            contact_fields=args.fields.split(","),
            schema_version=args.schema_version,
            rate_per_second=args.rate,
            burst=args.burst,
            actor=ACTOR,
        )
    fields = ", ".join(sorted(consumer.record_format.contact_fields)) or "none"
    print(f"consumer {consumer.name} created: pools {', '.join(consumer.pools)}; contact fields {fields}")
    print(f"API key (shown once, store it now): {key}")
    return 0


def _list(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn:
        migrate(conn)
        rows = list_consumers(conn)
    for row in rows:
        state = "revoked" if row["revoked_at"] else "active"
        fields = ",".join(row["contact_fields"]) or "none"
        print(f"{row['name']}  {state}  pools={','.join(row['pools'])}  fields={fields}  {row['schema_version']}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn:
        migrate(conn)
        revoke_consumer(conn, args.name, actor=ACTOR)
    print(f"consumer {args.name} revoked")
    return 0
