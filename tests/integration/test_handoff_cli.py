"""`sxe consumer` and `sxe handoff` on the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from handoff_support import seed_card

from sxe.cli import main
from sxe.handoff.consumers import hash_key


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))


@pytest.mark.usefixtures("environment")
def test_consumer_add_prints_key_once(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["consumer", "add", "crm", "--pool", "makers", "--fields", "emails"])
    output = capsys.readouterr().out
    key = re.search(r"sxe_[A-Za-z0-9_-]{43}", output)
    main(["consumer", "list"])
    listing = capsys.readouterr().out

    assert status == 0
    assert key is not None
    row = conn.execute("SELECT key_sha256, contact_fields FROM ops.api_consumers").fetchone()
    assert row["key_sha256"] == hash_key(key.group())
    assert row["contact_fields"] == ["emails"]
    assert key.group() not in listing
    assert "crm  active" in listing


@pytest.mark.usefixtures("environment")
def test_consumer_add_rejects_unknown_field(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["consumer", "add", "crm", "--pool", "makers", "--fields", "sms"])

    assert status == 2
    assert "'sms'" in capsys.readouterr().err


@pytest.mark.usefixtures("environment")
def test_handoff_command_exports_v2(conn: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    seed_card(conn, "makers", 0)

    status = main(["handoff", "--pool", "makers", "--schema-version", "v2", "--fields", "emails", "--json"])
    result = json.loads(capsys.readouterr().out)

    assert status == 0
    assert result["records"] == 1
    assert result["schema_version"] == "lead-card.v2"
    assert result["contact_fields"] == ["emails"]
    assert "signature=" in result["url"]
