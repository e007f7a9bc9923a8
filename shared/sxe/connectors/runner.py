"""Run a pull: fetch pages from a connector, ingest each, and keep a resumable cursor in Postgres.

The cursor advances in its own transaction after a page's records are stored. A
pull that stops (a crash, a rate limit longer than the caller waits) continues
from the first page not yet recorded. A page fetched twice is harmless, because
stored records are recognised by their hashes.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from psycopg.types.json import Jsonb

from sxe.connectors.base import Connector, Page, PullRequest, RateLimited, RateLimitedClient, utc_now
from sxe.db import sql, transaction
from sxe.ingest import ParsedRecord, parse_decoded
from sxe.ingest.detect import detect_format
from sxe.ingest.formats import JSON_FORMATS, SourceFormat, get_format
from sxe.ingest.hashing import canonical_json
from sxe.ingest.reader import DecodedRecord
from sxe.ingest.store import Attribution, ingest_records
from sxe.logs import Event, log
from sxe.models import RecordLocation
from sxe.orchestrator import controls


@dataclass(slots=True)
class PullResult:
    """Counts of one pull. `rate_limited_seconds` is set when the pull stopped early to resume later."""

    connector: str
    pull_key: str
    run_id: uuid.UUID
    pool: str
    pages: int = 0
    records: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    resumed: bool = False
    done: bool = False
    rate_limited_seconds: float | None = None
    batch_ids: list[str] = field(default_factory=list)


def run_pull(
    conn: psycopg.Connection[Any],
    connector: Connector,
    request: PullRequest,
    *,
    http: httpx.Client,
    pool: str,
    max_wait_seconds: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> PullResult:
    """Pull every page of `request`, or resume it, and ingest the records for `pool`; return the counts."""
    pull_key = connector.pull_key(request)
    result = PullResult(connector=connector.name, pull_key=pull_key, run_id=uuid.uuid4(), pool=pool)
    with transaction(conn, role="sxe_worker"):
        limit = connector.rate_limit
        controls.ensure_bucket(conn, connector.name, capacity=limit.capacity, refill_per_second=limit.refill_per_second)
        row = conn.execute(sql("pull_cursor_start"), {"connector": connector.name, "pull_key": pull_key}).fetchone()
    cursor: dict[str, Any] = dict(row["cursor"]) if row is not None else {}
    result.resumed = bool(cursor)

    client = RateLimitedClient(conn, http, connector.name, max_wait_seconds=max_wait_seconds, sleep=sleep)
    format_name = request.format_name or connector.format_name
    source_format = get_format(format_name) if format_name is not None else None
    try:
        for page in connector.pages(client, request, cursor):
            source_format = source_format or _detect(page)
            _ingest_page(conn, connector, page, source_format, result)
            _advance(conn, connector.name, pull_key, page)
            result.done = page.cursor is None
    except RateLimited as limited:
        result.rate_limited_seconds = limited.wait_seconds

    log(logging.INFO, Event.PULL_FINISHED, "pull finished", stage="pull", provider=connector.name, count=result.records)
    return result


def _detect(page: Page) -> SourceFormat:
    return detect_format(page.records, JSON_FORMATS)


def _ingest_page(
    conn: psycopg.Connection[Any], connector: Connector, page: Page, source_format: SourceFormat, result: PullResult
) -> None:
    source_file = f"pull:{connector.name}/{result.pull_key}"
    attribution = Attribution(
        run_id=result.run_id,
        source_name=connector.name,
        source_file=source_file,
        collected_at=utc_now(),
        source_url=page.source_url,
        pool=result.pool,
    )
    parsed: list[ParsedRecord] = []
    for index, record in enumerate(page.records):
        location = RecordLocation(file=f"{source_file} page {result.pages + 1}", index=index)
        decoded = DecodedRecord(location, record, canonical_json(record))
        parsed.extend(parse_decoded(decoded, source_format))

    stored = ingest_records(conn, parsed, attribution, format_name=source_format.name)
    result.pages += 1
    result.records += stored.records
    result.accepted += stored.accepted
    result.duplicates += stored.duplicates
    result.quarantined += stored.quarantined_total
    result.batch_ids.append(str(stored.batch_id))
    log(logging.INFO, Event.PULL_PAGE_FETCHED, "page stored", stage="pull", batch_id=str(stored.batch_id))


def _advance(conn: psycopg.Connection[Any], connector: str, pull_key: str, page: Page) -> None:
    with transaction(conn, role="sxe_worker"):
        conn.execute(
            sql("pull_cursor_advance"),
            {
                "connector": connector,
                "pull_key": pull_key,
                "cursor": Jsonb(page.cursor or {}),
                "records": len(page.records),
                "done": page.cursor is None,
            },
        )
