"""`sxe consumer add|list|update|backfill|revoke`: manage the API consumers of the handoff."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from sxe.cards import pool_names
from sxe.commands import counted
from sxe.config import load_settings
from sxe.db import connect, database_url
from sxe.db.migrate import migrate
from sxe.handoff.consumers import (
    DEFAULT_BURST,
    DEFAULT_RATE_PER_SECOND,
    backfill_consumer,
    create_consumer,
    list_consumers,
    revoke_consumer,
    update_consumer,
)

ACTOR = "sxe_worker:cli"


def register(commands: Any) -> None:
    parser = commands.add_parser("consumer", help="add, list, update, backfill or revoke handoff API consumers")
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

    update = actions.add_parser("update", help="change a consumer's pools, fields, version or rate; its key stays")
    update.add_argument("name")
    update.add_argument("--pool", action="append", help="pool it may read, replacing the list; repeat for several")
    update.add_argument("--fields", help="comma-separated contact fields, replacing the list; '' for none")
    update.add_argument("--schema-version", choices=["v1", "v2"], help="default lead-card version")
    update.add_argument("--rate", type=float, help="sustained calls per second")
    update.add_argument("--burst", type=int, help="calls allowed at once")
    update.set_defaults(handler=_update)

    backfill = actions.add_parser(
        "backfill", help="queue for a consumer the cards handed off before it could read them"
    )
    backfill.add_argument("name")
    backfill.add_argument("--pool", action="append", help="only this pool of the consumer's; repeat for several")
    backfill.set_defaults(handler=_backfill)

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
        existing = pool_names(conn)
    fields = ", ".join(sorted(consumer.record_format.contact_fields)) or "none"
    print(f"consumer {consumer.name} created: pools {', '.join(consumer.pools)}; contact fields {fields}")
    print(f"API key (shown once, store it now): {key}")
    print(f"its queue gets the cards handed off from now on; `sxe consumer backfill {consumer.name}` adds earlier ones")
    _note_missing_pools(consumer.name, consumer.pools, existing)
    return 0


def _note_missing_pools(name: str, pools: Sequence[str], existing: Sequence[str]) -> None:
    """Name the consumer's pools that do not exist yet, since a misspelt one never gets a card."""
    listed = ", ".join(existing) or "none"
    for pool in pools:
        if pool not in existing:
            print(
                f"note: pool {pool!r} does not exist yet (existing pools: {listed}); its cards come once a run "
                f"creates it. If it is misspelt, `sxe consumer update {name} --pool ...` sets the pools"
            )


def _update(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn:
        migrate(conn)
        change = update_consumer(
            conn,
            args.name,
            pools=args.pool,
            contact_fields=None if args.fields is None else args.fields.split(","),
            schema_version=args.schema_version,
            rate_per_second=args.rate,
            burst=args.burst,
            actor=ACTOR,
        )
        existing = pool_names(conn)
    before, after = change["before"], change["after"]
    changed = [key for key in after if after[key] != before[key]]
    print(f"consumer {args.name} updated" + ("" if changed else ": nothing changed"))
    for key in changed:
        print(f"  {key}: {_setting(before[key])} -> {_setting(after[key])}")
    if set(after["pools"]) - set(before["pools"]):
        print(f"cards handed off before to the new pools are not queued; `sxe consumer backfill {args.name}` adds them")
    if set(after["pools"]) != set(before["pools"]):
        print(
            "the consumer's feed cursors were issued for its old pools, so the feeds answer 400 to them: "
            "page each feed again from the start, without a cursor"
        )
        added = [pool for pool in after["pools"] if pool not in before["pools"]]
        _note_missing_pools(args.name, added, existing)
    return 0


def _backfill(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn:
        migrate(conn)
        queued = backfill_consumer(conn, args.name, pools=args.pool, actor=ACTOR)
    print(f"consumer {args.name}: {counted(queued, 'handed-off card')} queued")
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


def _setting(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(value) or "none"
    return str(value)
