"""Structured JSON logs with a closed key set and a redaction step.

Every line is one JSON object from the Powertools Logger. Callers pass an
`Event` and keys from `ALLOWED_KEYS`; anything else is a programming error.
Functions bind `function`, `activation_id` and `correlation_id` for the length of
an invocation with `bind`, so every line of that invocation carries them.

The formatter masks emails, phone numbers, credentials in URLs, bearer tokens and
signed-URL signatures (`signature=`, `X-Amz-Signature=`, `X-Amz-Credential=`,
`X-Amz-Security-Token=`) in every string value of the line, as a last line of
defence; code must still never pass them in.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import IO, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

ALLOWED_KEYS = frozenset(
    {
        "stage",
        "event",
        "job_id",
        "batch_id",
        "bundle_id",
        "provider",
        "attempt",
        "correlation_id",
        "count",
        "reason",
        "object_key",
        "status",
        "function",
        "activation_id",
        "run_id",
        "card_id",
        "trigger",
        "alarm",
        "value",
        "threshold",
        "consumer",
        "pool",
        "pid",
    }
)
# Bound per invocation by `bind`; callers may also pass them to `log`.
BOUND_KEYS = frozenset({"function", "activation_id", "correlation_id"})

REDACTED = "[redacted]"
# Keys the formatter itself fills; a timestamp would otherwise look like a phone number.
_FORMATTER_KEYS = frozenset({"level", "location", "timestamp", "service", "event", "sampling_rate"})
_SECRET_PATTERNS = (
    # Signed-URL query values: the local store's HMAC and S3 SigV4 presigning.
    re.compile(r"(?i)\b((?:x-amz-)?signature|x-amz-credential|x-amz-security-token)=[^&\s\"']+"),
    # The password in a URL such as postgresql://user:password@host/db.
    re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]+):[^@\s]+(?=@)"),
    re.compile(r"(?i)\b(bearer) [A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)\b(api[_-]?key|token|password|secret)=[^&\s\"']+"),
)


class Event(StrEnum):
    RUN_STARTED = "run.started"
    RUN_FINISHED = "run.finished"
    DATABASE_STARTED = "database.started"
    MIGRATION_APPLIED = "migration.applied"
    FILE_INGESTED = "file.ingested"
    RECORD_QUARANTINED = "record.quarantined"
    PROFILES_NORMALIZED = "profiles.normalized"
    CARDS_TAGGED = "cards.tagged"
    ENRICHMENT_DECIDED = "enrichment.decided"
    JOB_RETRY_SCHEDULED = "job.retry_scheduled"
    JOB_FAILED = "job.failed"
    BREAKER_OPENED = "breaker.opened"
    JOB_COMPLETED = "job.completed"
    JOB_LEASE_LOST = "job.lease_lost"
    BUNDLE_WRITTEN = "bundle.written"
    DOWNLOAD_SERVED = "download.served"
    DOWNLOAD_REJECTED = "download.rejected"
    FUNCTION_FAILED = "function.failed"
    TRIGGER_FIRED = "trigger.fired"
    TRIGGER_FAILED = "trigger.failed"
    SERVER_STARTED = "server.started"
    SERVER_STOPPED = "server.stopped"
    ALARM_RAISED = "alarm.raised"
    ALARM_CLEARED = "alarm.cleared"
    DOWNLOAD_URL_ISSUED = "download.url_issued"
    RECORD_SUPPRESSED = "record.suppressed"
    ERASURE_COMPLETED = "erasure.completed"
    ERASURE_SHARED_VALUES = "erasure.shared_values"
    RETENTION_FINISHED = "retention.finished"
    AUDIT_EXPORTED = "audit.exported"
    WEBHOOK_ACCEPTED = "webhook.accepted"
    WEBHOOK_DUPLICATE = "webhook.duplicate"
    WEBHOOK_REJECTED = "webhook.rejected"
    WEBHOOK_BATCH_INVALID = "webhook.batch_invalid"
    WEBHOOK_NORMALIZED = "webhook.normalized"
    IMPORT_FINISHED = "import.finished"
    PULL_PAGE_FETCHED = "pull.page_fetched"
    PULL_RATE_LIMITED = "pull.rate_limited"
    PULL_FINISHED = "pull.finished"

    API_SERVED = "api.served"
    API_REJECTED = "api.rejected"
    API_FAILED = "api.failed"

    # Facts that sxe.events.EventType also records in ops.events under the same name.
    CARD_ENRICHED = "card.enriched"
    CARD_READINESS_CHANGED = "card.readiness_changed"
    CARD_ERASED = "card.erased"
    POOL_CREATED = "pool.created"


def redact_secrets(text: str) -> str:
    """Replace signed-URL signatures, URL passwords, bearer tokens and `key=secret` values with [redacted]."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda match: f"{match.group(1)}{_separator(match)}{REDACTED}", text)
    return text


def _separator(match: re.Match[str]) -> str:
    return match.group(0)[len(match.group(1))]


def redact_log_value(value: Any) -> Any:
    """Return `value` with contact points and secrets masked in every string it contains."""
    from sxe.pii import redact_text

    if isinstance(value, str):
        return redact_secrets(redact_text(value).text)
    if isinstance(value, dict):
        return {key: redact_log_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_log_value(item) for item in value]
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools JSON formatter that masks contact points and secrets in every value of a line."""

    def serialize(self, log: Any) -> str:
        redacted = {key: value if key in _FORMATTER_KEYS else redact_log_value(value) for key, value in log.items()}
        return str(super().serialize(log=redacted))


# Logs go to stderr so that stdout carries only the command's own output (the summary or --json).
_logger = Logger(
    service="sxe",
    logger_formatter=RedactingFormatter(),
    logger_handler=logging.StreamHandler(sys.stderr),
    level="WARNING",
)
# The standard library logger that Powertools configured above. `log` takes a level
# number, which Powertools' Logger has no typed method for.
_stdlib_logger = logging.getLogger(_logger.name)

# httpx logs every request URL at INFO, and provider URLs carry lookup names and
# Apollo's webhook token in their query. Its records stop at WARNING whatever the
# root logger's level, as do httpcore's.
for _library in ("httpx", "httpcore"):
    logging.getLogger(_library).setLevel(logging.WARNING)


@contextmanager
def copy_to(stream: IO[str]) -> Iterator[None]:
    """Also write every line, formatted and redacted the same way, to `stream` inside the block."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_logger.registered_formatter)
    _stdlib_logger.addHandler(handler)
    try:
        yield
    finally:
        _stdlib_logger.removeHandler(handler)


def configure(level: str) -> None:
    """Set the log level (DEBUG, INFO, WARNING, ERROR) for every SXE log line."""
    _logger.setLevel(level.upper())


@contextmanager
def bind(**keys: str) -> Iterator[None]:
    """Add `keys` (from BOUND_KEYS) to every line this thread logs inside the block."""
    unknown = set(keys) - BOUND_KEYS
    if unknown:
        raise ValueError(f"bind keys {sorted(unknown)} are not in sxe.logs.BOUND_KEYS")
    # Nested binds (a tick running stage functions) restore the outer values on exit.
    previous = {key: value for key, value in _logger.thread_safe_get_current_keys().items() if key in keys}
    _logger.thread_safe_append_keys(**keys)
    try:
        yield
    finally:
        _logger.thread_safe_remove_keys(list(keys))
        if previous:
            _logger.thread_safe_append_keys(**previous)


def bound_value(key: str) -> str | None:
    """Return the value that `bind` gave `key` in this thread, or None outside such a block."""
    value = _logger.thread_safe_get_current_keys().get(key)
    return None if value is None else str(value)


def log(level: int, event: Event, message: str, **keys: Any) -> None:
    """Write one log line; raise ValueError on a key outside the closed set."""
    unknown = set(keys) - ALLOWED_KEYS
    if unknown:
        raise ValueError(f"log keys {sorted(unknown)} are not in sxe.logs.ALLOWED_KEYS; add them there first")

    _stdlib_logger.log(level, message, extra={"event": event.value, **keys})
