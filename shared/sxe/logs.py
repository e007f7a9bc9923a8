"""Structured JSON logs with a closed key set and a redaction step.

Every line is one JSON object from the Powertools Logger. Callers pass an
`Event` and keys from `ALLOWED_KEYS`; anything else is a programming error.
The formatter masks emails and phone numbers in the message as a last line of
defence; code must still never pass them in.
"""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from typing import Any

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
        "consumer",
    }
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
    JOB_COMPLETED = "job.completed"
    BUNDLE_WRITTEN = "bundle.written"
    DOWNLOAD_SERVED = "download.served"
    DOWNLOAD_REJECTED = "download.rejected"
    DOWNLOAD_URL_ISSUED = "download.url_issued"
    API_REJECTED = "api.rejected"
    API_FAILED = "api.failed"


class RedactingFormatter(LambdaPowertoolsFormatter):  # type: ignore[misc]
    """Powertools JSON formatter that masks contact points in the message."""

    def format(self, record: logging.LogRecord) -> str:
        from sxe.pii import redact_text

        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg).text
        return str(super().format(record))


# Logs go to stderr so that stdout carries only the command's own output (the summary or --json).
_logger = Logger(
    service="sxe",
    logger_formatter=RedactingFormatter(),
    logger_handler=logging.StreamHandler(sys.stderr),
    level="WARNING",
)


def configure(level: str) -> None:
    """Set the log level (DEBUG, INFO, WARNING, ERROR) for every SXE log line."""
    _logger.setLevel(level.upper())


def log(level: int, event: Event, message: str, **keys: Any) -> None:
    """Write one log line; raise ValueError on a key outside the closed set."""
    unknown = set(keys) - ALLOWED_KEYS
    if unknown:
        raise ValueError(f"log keys {sorted(unknown)} are not in sxe.logs.ALLOWED_KEYS; add them there first")

    _logger.log(level, message, extra={"event": event.value, **keys})
