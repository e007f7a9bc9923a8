"""Find and drop one person's webhook records that still wait for normalization.

Webhook records wait whole in `intake.webhook_records` until their normalize job
takes them in (see `sxe.webhooks.handler`). An access request reports the waiting
records of the person it names, and an erasure replaces them by null, so that a
batch whose normalization failed keeps no copy of them until retention. A record
names the person when it shows one of their identifiers: a handle, a platform user
id, or an email or phone number in its bio, as the suppression screen reads them.
A container record, such as an API response with several users, names everyone in it.

Runs as sxe_worker, in the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from sxe.compliance.suppression import Identifier, source_identifiers
from sxe.db import sql
from sxe.ingest import parse_decoded
from sxe.ingest.formats import get_format
from sxe.ingest.formats.base import SourceFormat
from sxe.ingest.reader import DecodedRecord
from sxe.models import RecordLocation, SourceProfile


@dataclass(frozen=True, slots=True)
class WaitingRecord:
    """A webhook record waiting for normalization: its delivery, its index there, and the record as received."""

    batch_id: UUID
    index: int
    source: str
    received_at: datetime
    record: Any

    def to_json(self) -> dict[str, Any]:
        return {
            "batch_id": str(self.batch_id),
            "index": self.index,
            "source": self.source,
            "received_at": self.received_at.isoformat(),
            "record": self.record,
        }


def waiting_records(conn: psycopg.Connection[Any], identifiers: Collection[Identifier]) -> list[WaitingRecord]:
    """Return the waiting records that show any of `identifiers`, oldest delivery first; lock their deliveries."""
    sought = set(identifiers)
    found = []
    for batch in conn.execute(sql("intake_waiting_batches")).fetchall():
        source_format = get_format(batch["format"])
        row = conn.execute(sql("intake_batch_records"), {"batch_id": batch["batch_id"]}).fetchone()
        for index, record in enumerate(row["records"] if row else []):
            if record is not None and sought.intersection(_identifiers(record, index, source_format)):
                found.append(WaitingRecord(batch["batch_id"], index, batch["source"], batch["received_at"], record))
    return found


def drop_records(conn: psycopg.Connection[Any], records: list[WaitingRecord]) -> int:
    """Replace each of `records` by null in its delivery, keeping the others at their indexes; return how many."""
    indexes: dict[UUID, list[int]] = defaultdict(list)
    for record in records:
        indexes[record.batch_id].append(record.index)
    for batch_id, dropped in indexes.items():
        conn.execute(sql("intake_drop_records"), {"batch_id": batch_id, "indexes": dropped})
    return len(records)


def _identifiers(record: Any, index: int, source_format: SourceFormat) -> set[Identifier]:
    decoded = DecodedRecord(RecordLocation(file="intake", index=index), record, b"")
    profiles = (parsed.result for parsed in parse_decoded(decoded, source_format))
    return {
        identifier
        for profile in profiles
        if isinstance(profile, SourceProfile)
        for identifier in source_identifiers(profile)
    }
