"""Work the `normalize` queue: turn stored webhook batches into Tier 1 profiles and lead cards.

Each job names one `social.webhook_batches` row, whose records wait as received in
`intake.webhook_records`. They are stored through `sxe.ingest.store.ingest_records`,
as an imported file's are. A record of a person on the suppression list is withheld,
by handle, user id or an email or phone number in the bio. The emails and phones of
bios are kept as bio sightings, and the rest of each record is redacted before Tier 1
stores it. A job that dies part-way and runs again recognises what it already stored.
The transaction that marks the batch normalized deletes its intake row, so an erasure
or retention that deletes raw records leaves no copy behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg

from sxe import jobs
from sxe.cards import build_cards, create_pool_recorded
from sxe.db import sql, transaction
from sxe.errors import SxeError
from sxe.ingest import parse_decoded
from sxe.ingest.formats import get_format
from sxe.ingest.reader import DecodedRecord
from sxe.ingest.store import Attribution, ingest_records
from sxe.logs import Event, log
from sxe.models import RecordLocation
from sxe.webhooks.handler import NORMALIZE_QUEUE

ACTOR = "sxe_worker:normalize"
LEASE_SECONDS = 300
RETRY_DELAY_SECONDS = 60


@dataclass(slots=True)
class NormalizeResult:
    """Counts of normalize jobs: `claimed` jobs, of which `batches` were normalized and `failed` retry later.

    `pools` are the pools the normalized batches named.
    """

    claimed: int = 0
    batches: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    suppressed: int = 0
    failed: int = 0
    pools: set[str] = field(default_factory=set)


def normalize_webhook_batches(conn: psycopg.Connection[Any], *, limit: int = 10) -> NormalizeResult:
    """Claim up to `limit` normalize jobs and work each; a failing job is retried later, the others go on."""
    total = NormalizeResult()
    with transaction(conn, role="sxe_worker"):
        claimed = jobs.claim(conn, NORMALIZE_QUEUE, limit=limit, lease_seconds=LEASE_SECONDS)

    total.claimed = len(claimed)
    for job in claimed:
        try:
            _work(conn, job, total)
        except SxeError as error:
            total.failed += 1
            with transaction(conn, role="sxe_worker"):
                jobs.retry(conn, job, delay_seconds=RETRY_DELAY_SECONDS, error={"type": type(error).__name__})
            log(
                logging.ERROR,
                Event.JOB_FAILED,
                f"normalize job failed: {error}",
                stage="normalize",
                job_id=str(job.id),
            )
    return total


def normalize_waiting(conn: psycopg.Connection[Any]) -> NormalizeResult:
    """Work the normalize queue until no job is due; return the counts of every job worked.

    A job that fails is retried after RETRY_DELAY_SECONDS, so it is not due again in this call.
    """
    total = NormalizeResult()
    while True:
        result = normalize_webhook_batches(conn)
        if result.claimed == 0:
            return total
        for name in ("claimed", "batches", "accepted", "duplicates", "quarantined", "suppressed", "failed"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        total.pools |= result.pools


def _work(conn: psycopg.Connection[Any], job: jobs.Job, total: NormalizeResult) -> None:
    batch_id = UUID(str(job.payload["webhook_batch_id"]))
    with transaction(conn, role="sxe_worker"):
        row = conn.execute(sql("webhook_load_batch"), {"id": batch_id}).fetchone()
    if row is None:
        with transaction(conn, role="sxe_worker"):
            jobs.fail(conn, job, error={"type": "batch_not_found", "batch_id": str(batch_id)})
        return

    source_format = get_format(row["format"])
    source_file = row["source_file"]
    attribution = Attribution(
        run_id=batch_id,
        source_name=row["source"],
        source_file=source_file,
        collected_at=row["collected_at"],
        source_url=job.payload.get("source_url"),
        pool=row["pool"],
    )
    # Records quarantined on receipt are null here, so each index is the record's place in the delivery.
    decoded = (
        DecodedRecord(RecordLocation(file=source_file, index=index), record, b"")
        for index, record in enumerate(row["records"])
        if record is not None
    )
    parsed = (item for record in decoded for item in parse_decoded(record, source_format))
    result = ingest_records(conn, parsed, attribution, format_name=row["format"], batch_id=batch_id)

    with transaction(conn, role="sxe_worker"):
        detail = {"webhook_batch_id": str(batch_id), "source": row["source"], "intent": "default"}
        if create_pool_recorded(conn, row["pool"], actor=ACTOR, detail=detail, batch_id=batch_id):
            _log_pool_created(row["pool"], batch_id)
        build_cards(conn, row["pool"])
        conn.execute(sql("webhook_mark_normalized"), {"id": batch_id})
        jobs.complete(conn, job)

    total.batches += 1
    total.pools.add(row["pool"])
    total.accepted += result.accepted
    total.duplicates += result.duplicates
    total.quarantined += result.quarantined_total
    total.suppressed += result.suppressed
    log(
        logging.INFO,
        Event.WEBHOOK_NORMALIZED,
        "webhook batch normalized",
        stage="normalize",
        batch_id=str(batch_id),
        count=result.accepted,
    )


def _log_pool_created(pool: str, batch_id: UUID) -> None:
    """Warn that a webhook batch created its pool, since a mistyped name creates one too."""
    log(
        logging.WARNING,
        Event.POOL_CREATED,
        f"webhook batch named pool {pool!r}, which did not exist: created it with the default intent policy; "
        f"set its policy with `sxe pool set {pool} --intent FILE`",
        stage="normalize",
        batch_id=str(batch_id),
    )
