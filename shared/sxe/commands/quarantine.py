"""`sxe quarantine`: list the quarantined records, newest first, with their location and reason."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sxe.arguments import whole_number
from sxe.config import load_settings
from sxe.db import connect, database_url, sql, transaction
from sxe.db.migrate import migrate
from sxe.db.rows import json_row

DEFAULT_LIMIT = 50
MAX_LIMIT = 10_000


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "quarantine",
        help="list quarantined records, newest first, with their location, kind and reason",
        description="Every record that could not be stored is kept in ops.quarantine with its location in "
        "the source, the kind of problem and the reason. Payloads are stored redacted.",
    )
    parser.add_argument("--kind", help="only this kind, such as invalid_shape, api_error or invalid_batch")
    parser.add_argument("--source", metavar="TEXT", help="only records of source files whose name contains TEXT")
    parser.add_argument(
        "--limit",
        type=whole_number("--limit", 1, MAX_LIMIT),
        default=DEFAULT_LIMIT,
        help=f"records to list, 1 to {MAX_LIMIT} ({DEFAULT_LIMIT})",
    )
    parser.add_argument("--payload", action="store_true", help="also print each record's redacted payload")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object; its total counts the records --kind selects"
    )
    parser.set_defaults(handler=_quarantine)


def _quarantine(args: argparse.Namespace) -> int:
    params = {"kind": args.kind, "source": args.source, "limit": args.limit, "with_payload": args.payload}
    with connect(database_url(load_settings()), autocommit=True) as conn:
        migrate(conn)
        with transaction(conn, role="sxe_worker"):
            kinds = {row["kind"]: row["records"] for row in conn.execute(sql("quarantine_kinds"), params)}
            rows = [json_row(row) for row in conn.execute(sql("quarantine_list"), params)]

    if args.json:
        matching = kinds.get(args.kind, 0) if args.kind else sum(kinds.values())
        print(json.dumps({"total": matching, "kinds": kinds, "records": rows}, indent=2))
        return 0
    print(render(kinds, rows, args.kind))
    return 0


def render(kinds: dict[str, int], rows: list[dict[str, Any]], kind: str | None) -> str:
    """Return the listing: the count per kind, then one line per record and its payload when read."""
    per_kind = ", ".join(f"{name} {count}" for name, count in kinds.items())
    matching = kinds.get(kind, 0) if kind else sum(kinds.values())
    lines = [f"Quarantined records: {sum(kinds.values())}" + (f" ({per_kind})" if per_kind else "")]
    if kind is not None:
        known = f"; the kinds present are {', '.join(kinds)}" if kinds and kind not in kinds else ""
        lines.append(f"Of kind {kind}: {matching}{known}")
    for row in rows:
        lines.append(f"  {row['created_at']}  {row['kind']}  {row['location']}")
        lines.append(f"      {row['reason']}")
        if row["payload"] is not None:
            lines.append(f"      payload: {json.dumps(row['payload'], ensure_ascii=False)}")
    if len(rows) < matching:
        lines.append(f"  ... {matching - len(rows)} older records not listed; raise --limit to see them")
    return "\n".join(lines)
