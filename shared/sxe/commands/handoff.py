"""`sxe handoff`: write a bundle of a pool's cards in a chosen contract version and print its URLs."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from sxe.config import load_settings
from sxe.db import connect, database_url
from sxe.db.migrate import migrate
from sxe.handoff.export import EXPORT_STATES, HandoffRequest, hand_off
from sxe.handoff.records import CONTACT_FIELDS, RecordFormat
from sxe.handoff.storage import build_store, download_url

ACTOR = "sxe_worker:cli"


def register(commands: Any) -> None:
    parser = commands.add_parser("handoff", help="write a bundle of a pool's lead cards and print signed URLs")
    parser.add_argument("--pool", help="audience pool (default SXE_POOL or 'default')")
    parser.add_argument(
        "--schema-version", default="v1", choices=["v1", "v2"], help="lead-card contract version (default v1)"
    )
    parser.add_argument(
        "--state",
        default="ready",
        choices=EXPORT_STATES,
        help="ready: new cards, marked handed off afterwards; handed_off: export sent cards again (default ready)",
    )
    parser.add_argument("--persona", help="only cards with this persona label")
    parser.add_argument("--tribe", help="only cards with this tribe label")
    parser.add_argument(
        "--fields",
        default=",".join(CONTACT_FIELDS),
        help="comma-separated contact fields to include: emails, phones, or '' for none (default both)",
    )
    parser.add_argument(
        "--expires-in", type=int, metavar="SECONDS", help="URL lifetime in seconds (default SXE_SIGNED_URL_SECONDS)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(handler=_handoff)


def _handoff(args: argparse.Namespace) -> int:
    settings = load_settings(option_names={"pool": "--pool"}, **({"pool": args.pool} if args.pool else {}))
    record_format = RecordFormat.parse(args.schema_version, args.fields.split(","))
    store = build_store(settings)
    request = HandoffRequest(
        pool=settings.pool,
        environment=settings.environment,
        created_at=datetime.now(UTC),
        retention_days=settings.bundle_retention_days,
        actor=ACTOR,
        record_format=record_format,
        state=args.state,
        persona=args.persona,
        tribe=args.tribe,
    )
    expires_in = args.expires_in or settings.signed_url_seconds
    with connect(database_url(settings), autocommit=True) as conn:
        migrate(conn)
        bundle = hand_off(conn, store, request)

    result: dict[str, Any] = {
        "bundle_id": bundle.bundle_id,
        "records": bundle.record_count,
        "schema_version": record_format.schema_version,
        "contact_fields": sorted(record_format.contact_fields),
        "filters": request.filters,
        "manifest_key": bundle.manifest_key,
        "url": download_url(settings, store, bundle.data_key, expires_in),
        "manifest_url": download_url(settings, store, bundle.manifest_key, expires_in),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"Bundle {result['bundle_id']}: {result['records']} lead cards ({result['schema_version']})")
    print(f"  contact fields  {', '.join(result['contact_fields']) or 'none'}")
    print(f"  manifest key    {result['manifest_key']}")
    print(f"  download URL    {result['url']}")
    print(f"  manifest URL    {result['manifest_url']}")
    return 0
