"""Logs carry no PII or secrets: a full pipeline run at DEBUG level, and the redaction step itself."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sxe import logs
from sxe.config import load_settings
from sxe.logs import Event, log, redact_secrets
from sxe.pii import contains_pii
from sxe.pipeline import run

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SIGNED_VALUE = re.compile(r"(?i)(signature|x-amz-credential|x-amz-security-token)=(?!\[redacted\])")


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[str]]]:
    """DEBUG-level log lines as the function logs print them."""
    stream = io.StringIO()
    logs.configure("DEBUG")
    with logs.copy_to(stream):
        yield lambda: stream.getvalue().splitlines()
    logs.configure("WARNING")


def test_full_run_logs_no_pii(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path, log_lines: Callable[[], list[str]]
) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path))

    summary = run([PROJECT_ROOT / "examples"], load_settings())
    lines = log_lines()

    assert summary.bundle is not None
    assert len(lines) > 10
    for line in lines:
        record = json.loads(line)
        assert record["service"] == "sxe"
        assert "event" in record, line
        assert not contains_pii(record["message"]), line
        assert not SIGNED_VALUE.search(line), line
        assert "secret" not in line.lower() or "[redacted]" in line, line
    tagged = [json.loads(line) for line in lines if '"cards.tagged"' in line]
    assert [record.get("pool") for record in tagged] == [summary.pool]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/download/k?expires=1&signature=ab12", "/download/k?expires=1&signature=[redacted]"),
        ("?X-Amz-Signature=ff&X-Amz-Credential=AK%2F1", "?X-Amz-Signature=[redacted]&X-Amz-Credential=[redacted]"),
        ("postgresql://sxe:pw@db:5432/sxe", "postgresql://sxe:[redacted]@db:5432/sxe"),
        ("Authorization: Bearer abcdefgh12345", "Authorization: Bearer [redacted]"),
        ("api_key=xyz&pool=default", "api_key=[redacted]&pool=default"),
        ("nothing to hide", "nothing to hide"),
    ],
)
def test_secrets_are_redacted(text: str, expected: str) -> None:
    assert redact_secrets(text) == expected


def test_log_line_masks_every_value(log_lines: Callable[[], list[str]]) -> None:
    url = "https://x/download/k?expires=1&signature=ab12"

    log(logging.INFO, Event.DOWNLOAD_SERVED, f"sent to jane@example.com at {url}", reason="call +1 415 555 0100")
    record = json.loads(log_lines()[-1])

    assert record["message"] == "sent to [email] at https://x/download/k?expires=1&signature=[redacted]"
    assert record["reason"] == "call [phone]"
    assert re.match(r"^\d{4}-\d{2}-\d{2} ", record["timestamp"])


def test_bound_keys_reach_every_line(log_lines: Callable[[], list[str]]) -> None:
    with logs.bind(function="ops/tick", activation_id="a1"):
        with logs.bind(function="normalize/batch"):
            log(logging.INFO, Event.RUN_STARTED, "inner")
        log(logging.INFO, Event.RUN_STARTED, "outer")
    log(logging.INFO, Event.RUN_STARTED, "after")
    inner, outer, after = (json.loads(line) for line in log_lines()[-3:])

    assert (inner["function"], inner["activation_id"]) == ("normalize/batch", "a1")
    assert outer["function"] == "ops/tick"
    assert "function" not in after
    assert "activation_id" not in after


def test_unknown_bind_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="BOUND_KEYS"):
        with logs.bind(email="x"):
            pass
