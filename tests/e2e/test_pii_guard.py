"""The PII guard: run the whole corpus with planted contact data and secrets, then find none where none may be.

Scanned: every text, text[] and jsonb column of Tier 1 (`social`), Tier 3
(`execution`) and `ops` (events and the audit log included), the structured log
lines on stderr, and the error bodies of the function handlers. Searched for:
the planted values, every email and phone number Tier 2 holds, the configured
secrets, and anything the redactor itself still reads as an email or phone.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from sxe import functions, logs
from sxe.compliance.functions import erase as erase_function
from sxe.config import Settings, load_settings
from sxe.pii import contains_pii
from sxe.pipeline import run

ROOT = Path(__file__).resolve().parents[2]
SIGNING_KEY = "sign-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"
ERASE_TOKEN = "erase-1f2e3d4c5b6a79880a1b2c3d4e5f6a7b"

PLANTED_EMAILS = ["planted.person@leaky-example.com", "INFO@Shop-Planted.example"]
PLANTED_PHONES = ["+1 415 555 0142", "(212) 555-0199", "+44 7700 900123"]
PLANTED_SECRETS = [
    "sk_live_51HxQ2eKp9ZbVwYtR8mN3aBcD",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789ab",
    "Zx81kPq0Lw22Tt",
]
PLANTED_USERS = [
    {
        "id_str": "900000001",
        "screen_name": "planted_one",
        "name": "Pat Planted",
        "description": f"Founder. Mail {PLANTED_EMAILS[0]} or call {PLANTED_PHONES[0]}. "
        f"my key {PLANTED_SECRETS[0]} oops",
        "location": f"SF · {PLANTED_PHONES[1]}",
        "followers_count": 5400,
        "friends_count": 10,
        "statuses_count": 100,
    },
    {
        "id_str": "900000002",
        "screen_name": "planted_two",
        "name": f"Shop {PLANTED_EMAILS[1]}",
        "description": f"aws {PLANTED_SECRETS[1]} gh {PLANTED_SECRETS[2]} api_key={PLANTED_SECRETS[3]} "
        f"WhatsApp {PLANTED_PHONES[2]}",
        "followers_count": 120,
        "friends_count": 4,
        "statuses_count": 9,
    },
]


PROVIDER_FIXTURES = {"apollo", "dealmachine"}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(ROOT / "examples", folder / "examples")
    for source in (ROOT / "tests" / "fixtures").iterdir():
        # Format fixtures only: provider replies and helper scripts are not audience input.
        if source.is_dir() and source.name not in PROVIDER_FIXTURES:
            shutil.copytree(source, folder / source.name)
    planted = "\n".join(json.dumps(user) for user in PLANTED_USERS)
    (folder / "planted.jsonl").write_text(planted + "\nnot json {" + PLANTED_EMAILS[0] + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def settings(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_SIGNING_KEY", SIGNING_KEY)
    monkeypatch.setenv("SXE_ERASE_TOKEN", ERASE_TOKEN)
    return load_settings()


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Every structured log line, at DEBUG level, as the logger's stderr handler writes it."""
    handlers = [handler for handler in logging.getLogger("sxe").handlers if isinstance(handler, logging.StreamHandler)]
    assert handlers, "the structured logger should write through a stream handler"
    stream = io.StringIO()
    previous = [handler.setStream(stream) for handler in handlers]
    logs.configure("DEBUG")
    yield stream
    logs.configure("WARNING")
    for handler, original in zip(handlers, previous, strict=True):
        handler.setStream(original)


def scanned_columns(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    rows = conn.execute(
        """
        SELECT table_schema, table_name, column_name FROM information_schema.columns
         WHERE table_schema IN ('social', 'execution', 'ops')
           AND data_type IN ('text', 'jsonb', 'ARRAY', 'character varying')
         ORDER BY 1, 2, 3
        """
    ).fetchall()
    return [(row["table_schema"], row["table_name"], row["column_name"]) for row in rows]


def database_texts(conn: psycopg.Connection) -> Iterator[tuple[str, str]]:
    for schema, table, column in scanned_columns(conn):
        query = f'SELECT "{column}"::text AS value FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL'
        for row in conn.execute(query):
            yield f"{schema}.{table}.{column}", row["value"]


def forbidden_values(conn: psycopg.Connection) -> list[str]:
    tier2 = [row["value"] for row in conn.execute("SELECT value FROM contact.contact_points")]
    assert tier2, "the run should have enriched some cards"
    return [*PLANTED_EMAILS, *PLANTED_PHONES, *PLANTED_SECRETS, *tier2, SIGNING_KEY, ERASE_TOKEN]


def findings(place: str, text: str, forbidden: list[str], *, match_patterns: bool = True) -> list[str]:
    lowered = text.lower()
    found = [f"{place}: contains {value!r}" for value in forbidden if value.lower() in lowered]
    if match_patterns and contains_pii(text):
        found.append(f"{place}: reads as an email or phone: {text[:200]!r}")
    return found


def test_nothing_leaks_anywhere(
    settings: Settings, corpus: Path, conn: psycopg.Connection, log_stream: io.StringIO
) -> None:
    summary = run([corpus], settings)
    errors = [
        functions.import_file({"content": "{ broken " + PLANTED_EMAILS[0], "name": "upload.json"}),
        functions.import_file({"path": str(corpus / "missing.json")}),
        erase_function({"email": PLANTED_PHONES[0], "http": {"headers": {"authorization": f"Bearer {ERASE_TOKEN}"}}}),
        erase_function({"phone": PLANTED_EMAILS[0], "http": {"headers": {"authorization": f"Bearer {ERASE_TOKEN}"}}}),
        erase_function({"subject": "x:planted_one", "http": {"headers": {"authorization": "Bearer wrong"}}}),
    ]
    log_text = log_stream.getvalue()

    forbidden = forbidden_values(conn)
    problems: list[str] = []
    for place, text in database_texts(conn):
        problems += findings(place, text, forbidden)
    for number, line in enumerate(log_text.splitlines()):
        problems += findings(f"log line {number}", line, forbidden, match_patterns=False)
        # The timestamp's digit groups read like a phone number to the redactor's matcher.
        fields = {key: value for key, value in json.loads(line).items() if key != "timestamp"}
        problems += findings(f"log line {number} fields", json.dumps(fields), [])
    for number, body in enumerate(errors):
        problems += findings(f"error body {number}", json.dumps(body), forbidden)

    assert summary.to_json()["ingested"] > 30
    assert [body["statusCode"] for body in errors] == [200, 400, 400, 400, 401]
    assert log_text.count('"event"') > 10
    assert problems == []


def test_planted_bios_are_redacted_in_tier1(settings: Settings, corpus: Path, conn: psycopg.Connection) -> None:
    run([corpus], settings)

    rows = conn.execute(
        "SELECT handle, bio, display_name, bio_has_email, bio_has_phone FROM social.profiles "
        "WHERE handle LIKE 'planted_%%' ORDER BY handle"
    ).fetchall()

    assert [row["handle"] for row in rows] == ["planted_one", "planted_two"]
    assert "[email]" in rows[0]["bio"] and "[phone]" in rows[0]["bio"] and "[secret]" in rows[0]["bio"]
    assert rows[1]["bio"].count("[secret]") == 3
    assert rows[1]["display_name"] == "Shop [email]"
    assert rows[0]["bio_has_email"] is True
    assert rows[0]["bio_has_phone"] is True
