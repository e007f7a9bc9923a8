"""Ingest screens bios too: a record whose bio holds an erased email address or phone number is not stored."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import psycopg

from sxe.compliance import suppression
from sxe.compliance.suppression import IngestScreen, bio_identifiers, email_identifier, phone_identifier
from sxe.db import transaction
from sxe.ingest.store import ingest_file

KEY = b"b" * 32


def write_users(folder: Path, bios: list[str]) -> Path:
    path = folder / "users.jsonl"
    lines = [
        json.dumps(
            {
                "id": 9000 + index,
                "id_str": str(9000 + index),
                "name": f"User {index}",
                "screen_name": f"user_{index}",
                "description": bio,
                "followers_count": 10,
            }
        )
        for index, bio in enumerate(bios)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def suppress(conn: psycopg.Connection[Any], *identifiers: suppression.Identifier) -> list[str]:
    with transaction(conn, role="sxe_worker"):
        return suppression.add(conn, identifiers, KEY, uuid.uuid4())


def test_bio_email_suppressed_at_ingest(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    [email_hash] = suppress(conn, email_identifier("Dana.W@Example.org"))
    path = write_users(tmp_path, ["Booking: dana.w [at] example [dot] org", "Potter in Leeds"])

    result = ingest_file(conn, path, run_id=uuid.uuid4(), screen=IngestScreen(lambda: KEY))

    handles = [row["handle"] for row in conn.execute("SELECT handle FROM social.profiles ORDER BY handle")]
    audited = conn.execute("SELECT detail FROM ops.audit_log WHERE action = 'ingest.suppressed'").fetchall()
    assert result.suppressed == 1
    assert result.accepted == 1
    assert handles == ["user_1"]
    assert [(row["detail"]["matched"], row["detail"]["identifier_hmac"]) for row in audited] == [("email", email_hash)]


def test_bio_phone_suppressed_at_ingest(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    suppress(conn, phone_identifier("+1 212 555 0142"))
    path = write_users(tmp_path, ["Text me on (212) 555-0142 for orders", "Call +44 20 7946 0958"])

    result = ingest_file(conn, path, run_id=uuid.uuid4(), screen=IngestScreen(lambda: KEY))

    handles = [row["handle"] for row in conn.execute("SELECT handle FROM social.profiles ORDER BY handle")]
    assert result.suppressed == 1
    assert handles == ["user_1"]


def test_bio_identifiers_skip_years_and_counts() -> None:
    found = bio_identifiers("Since 2019, 12,400 customers. Mail SHOP@Example.com or +1 212 555 0142")

    assert [(item.kind.value, item.value) for item in found] == [
        ("email", "shop@example.com"),
        ("phone", "+12125550142"),
    ]


def test_every_record_sharing_suppressed_email_withheld(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    suppress(conn, email_identifier("dana.w@example.org"))
    bios = [
        "Orders: dana.w@example.org",
        "Potter in Leeds",
        "dana.w@example.org for commissions",
        "Mail dana.w@example.org",
    ]
    path = write_users(tmp_path, bios)

    result = ingest_file(conn, path, run_id=uuid.uuid4(), screen=IngestScreen(lambda: KEY))

    handles = [row["handle"] for row in conn.execute("SELECT handle FROM social.profiles ORDER BY handle")]
    assert result.suppressed == 3
    assert handles == ["user_1"]
