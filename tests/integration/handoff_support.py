"""Shared helpers of the handoff tests: seed ready lead cards with contact points, call web functions."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from sxe.cards import DEFAULT_INTENT


@dataclass(frozen=True)
class SeededCard:
    card_id: uuid.UUID
    email: str
    phone: str


def value_sha256(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def seed_card(
    conn: psycopg.Connection[Any],
    pool: str,
    index: int,
    *,
    readiness: str = "ready",
    persona: str = "founder",
    tribe: str | None = "indie-hackers",
    dnc_status: str = "clear",
) -> SeededCard:
    """Insert one card of `pool` with a profile, labels, an email, a mobile phone and an enrichment decision."""
    conn.execute(
        "INSERT INTO execution.pools (name, intent) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (pool, Jsonb(DEFAULT_INTENT)),
    )
    profile = conn.execute(
        """INSERT INTO social.profiles (platform, identity_key, handle, display_name, profile_url, followers,
                                        source_format, source_file, collected_at, language)
           VALUES ('x', %s, %s, %s, %s, %s, 'x-api-v2', 'imports/x.jsonl', '2026-12-03T18:00:00Z', 'en')
           RETURNING id""",
        (f"{pool}-{index}", f"maker_{index}", f"Maker {index}", f"https://x.com/maker_{index}", 1000 + index),
    ).fetchone()
    contact = conn.execute("INSERT INTO contact.contacts DEFAULT VALUES RETURNING id").fetchone()
    card = conn.execute(
        """INSERT INTO execution.lead_cards (pool, readiness, readiness_reason, contact_id, ruleset_version)
           VALUES (%s, %s, 'matched', %s, 'personas-v1') RETURNING id""",
        (pool, readiness, contact["id"]),
    ).fetchone()
    conn.execute("INSERT INTO execution.card_profiles VALUES (%s, %s)", (card["id"], profile["id"]))
    labels = [("persona", persona, 0.8)] + ([("tribe", tribe, 0.6)] if tribe else [])
    for kind, value, score in labels:
        conn.execute(
            """INSERT INTO execution.card_labels (card_id, kind, value, score, rule_id, ruleset_version, evidence)
               VALUES (%s, %s, %s, %s, %s, 'personas-v1', '{}')""",
            (card["id"], kind, value, score, f"{kind}.{value}"),
        )

    email, phone = f"maker{index}@example.com", f"+1555555{index:04d}"
    for kind, value, line_type, dnc in (("email", email, None, None), ("phone", phone, "mobile", dnc_status)):
        conn.execute(
            """INSERT INTO contact.contact_points (contact_id, kind, value, value_sha256, status, line_type,
                                                   dnc_status, scrubbed_at, source, adapter_version, simulated)
               VALUES (%s, %s, %s, %s, 'verified', %s, %s, '2026-12-04T09:15:00Z', 'apollo', '1.0', true)""",
            (contact["id"], kind, value, value_sha256(value), line_type, dnc),
        )
    conn.execute(
        """INSERT INTO ops.enrichment_decisions (card_id, provider, decision, reason, fingerprint, simulated)
           VALUES (%s, 'apollo', 'enqueue', 'allowed', 'apollo:1.0:abc', true)""",
        (card["id"],),
    )
    return SeededCard(card["id"], email, phone)


def suppress(conn: psycopg.Connection[Any], kind: str, value: str) -> None:
    conn.execute(
        "INSERT INTO contact.suppressions (kind, value_sha256, reason) VALUES (%s, %s, 'opt_out')",
        (kind, value_sha256(value)),
    )


def web_event(
    method: str,
    *,
    key: str | None = None,
    path: str = "",
    query: str = "",
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Return a DO `web: raw` event."""
    all_headers = {"content-type": "application/json", **(headers or {})}
    if key is not None:
        all_headers["authorization"] = f"Bearer {key}"
    return {
        "http": {
            "method": method,
            "path": path,
            "headers": all_headers,
            "queryString": query,
            "body": "" if body is None else json.dumps(body),
            "isBase64Encoded": False,
        }
    }


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
