"""`sxe erase`: erase one person and print the receipt as text, or as JSON with `--json`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sxe.compliance.erasure import ErasureReceipt, erase, parse_subject
from sxe.compliance.suppression import Identifier, email_identifier, phone_identifier, suppression_key
from sxe.config import load_settings
from sxe.db import connect, database_url
from sxe.db.migrate import migrate
from sxe.errors import UsageError
from sxe.handoff.store import LocalObjectStore

ACTOR = "sxe_worker:cli"
# Ids printed per line of the text receipt; the JSON receipt lists them all.
MAX_IDS_SHOWN = 20


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "erase",
        help="erase a person: delete their data, suppress them and revoke bundles holding them",
        description="Erase one person, named by exactly one of: PLATFORM:HANDLE, a profile URL, --email or --phone.",
    )
    parser.add_argument("subject", nargs="?", help="PLATFORM:HANDLE (such as x:dana_w) or a profile URL")
    parser.add_argument("--email", help="an email address the person was enriched with")
    parser.add_argument("--phone", help="a phone number, E.164 (+12125550142) or national in --region")
    parser.add_argument("--region", default="US", help="region of a phone number without '+' (default US)")
    parser.add_argument("--json", action="store_true", help="print the receipt as one JSON object instead of text")
    parser.set_defaults(handler=_erase)


def identifier_from(args: argparse.Namespace) -> Identifier:
    """Return the one identifier the arguments name; raise UsageError unless exactly one was given."""
    given = [name for name in ("subject", "email", "phone") if getattr(args, name)]
    if len(given) != 1:
        raise UsageError(
            "name exactly one person: PLATFORM:HANDLE, a profile URL, --email ADDRESS or --phone NUMBER "
            f"(got {len(given)})"
        )
    if args.email:
        return email_identifier(args.email)
    if args.phone:
        return phone_identifier(args.phone, args.region)
    return parse_subject(args.subject)


def _erase(args: argparse.Namespace) -> int:
    identifier = identifier_from(args)
    settings = load_settings()
    with connect(database_url(settings), autocommit=True) as conn:
        migrate(conn)
        receipt = erase(
            conn,
            LocalObjectStore(settings.objects_dir),
            identifier,
            key=suppression_key(settings),
            actor=ACTOR,
        )
    if args.json:
        print(json.dumps({**receipt.to_json(), "objects_deleted": receipt.objects_deleted}, indent=2))
    else:
        print(render(receipt))
    return 0


def render(receipt: ErasureReceipt) -> str:
    """Return the receipt as text for the operator, leaving out the counts that are zero."""
    completed = receipt.completed_at.isoformat() if receipt.completed_at else "not completed"
    lines = [
        f"Erasure {receipt.request_id} ({receipt.requested_kind}, identifier HMAC {receipt.requested_hmac})",
        f"Received {receipt.received_at.isoformat()}, completed {completed}",
    ]

    lines += _count_section("Rows removed", receipt.removed, "none: SXE held nothing more on this person")
    lines += _count_section("Jobs closed", receipt.jobs_closed, "none")
    lines += _count_section("Rows scrubbed, kept with the person's values cleared", receipt.scrubbed, "none")

    lines.append("")
    lines.append(_id_line("Cards suppressed", receipt.cards_suppressed))
    lines.append(_id_line("Bundles revoked", receipt.bundles_revoked))
    lines.append(_id_line("Other cards of revoked bundles, back to ready", receipt.cards_reissued))
    lines.append(_id_line("Suppressed identifier HMACs", receipt.suppressed_hmacs))
    lines.append(f"Bundle objects deleted: {receipt.objects_deleted}")
    lines += _shared_values_note(receipt.profiles_sharing_values)
    return "\n".join(lines)


def _shared_values_note(profiles: int) -> list[str]:
    """Return the warning about other profiles whose bios showed a suppressed value, or nothing when none did."""
    if not profiles:
        return []
    return [
        "",
        f"Other profiles sharing a suppressed email or phone: {profiles}",
        "  Their bios showed one of this person's emails or phone numbers. Their sightings of it",
        "  were deleted, and ingest now withholds each of their later records whose bio still",
        "  shows it (counted as suppressed, audited as ingest.suppressed). Before erasing,",
        "  `sxe access PLATFORM:HANDLE` lists these sightings, and `sxe access --email ADDRESS`",
        "  or `--phone NUMBER` shows whether the value is suppressed.",
    ]


def _count_section(title: str, counts: dict[str, int], empty: str) -> list[str]:
    """Return a heading with the total and one line per non-zero count, or `empty` under it when all are zero."""
    shown = {name: count for name, count in sorted(counts.items()) if count}
    lines = [f"\n{title} ({sum(shown.values())}):"]
    width = max((len(name) for name in shown), default=0)
    lines.extend(f"  {name.ljust(width)}  {count}" for name, count in shown.items())
    if not shown:
        lines.append(f"  {empty}")
    return lines


def _id_line(title: str, ids: list[str]) -> str:
    """Return the title, the count and the first MAX_IDS_SHOWN ids, then how many more the JSON receipt lists."""
    listed = ", ".join(ids[:MAX_IDS_SHOWN]) or "none"
    if len(ids) > MAX_IDS_SHOWN:
        listed += f" and {len(ids) - MAX_IDS_SHOWN} more (all in --json)"
    return f"{title} ({len(ids)}): {listed}"
