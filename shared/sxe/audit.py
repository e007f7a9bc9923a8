"""The append-only, hash-chained audit log: append, verify and export.

An audit row records who acted, what they did to which subject, why, and the
SHA-256 of any payload involved; never the payload itself. Appends run inside
the caller's transaction, so when the audit insert fails the audited action
rolls back with it.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.types.json import Jsonb

from sxe.db import sql, transaction

if TYPE_CHECKING:
    from sxe.handoff.store import ObjectStore

EXPORT_PREFIX = "audit-logs"
EXPORT_FETCH_ROWS = 1000


@dataclass(frozen=True, slots=True)
class ChainReport:
    rows_checked: int
    first_broken_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None


def append(
    conn: psycopg.Connection[Any],
    *,
    actor: str,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
    payload_sha256: str | None = None,
) -> None:
    """Append one audit row in the current transaction."""
    conn.execute(
        sql("audit_append"),
        {
            "actor": actor,
            "action": action,
            "subject": subject,
            "detail": Jsonb(detail or {}),
            "payload_sha256": payload_sha256,
        },
    )


def verify(conn: psycopg.Connection[Any]) -> ChainReport:
    """Recompute the chain and name the first broken link, if any."""
    broken = conn.execute(sql("audit_verify")).fetchone()
    if broken is not None:
        return ChainReport(int(broken["rows_checked"]), int(broken["seq"]), str(broken["problem"]))
    total = conn.execute(sql("audit_count")).fetchone()
    return ChainReport(int(total["rows_checked"]) if total else 0)


@dataclass(frozen=True, slots=True)
class ExportResult:
    """Where a period went and the hashes that anchor it: `period_head` is the last exported row's hash."""

    data_key: str
    head_key: str
    rows: int
    first_seq: int | None
    last_seq: int | None
    period_head: str | None
    chain_head_seq: int | None
    chain_head: str | None
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "data_key": self.data_key,
            "head_key": self.head_key,
            "rows": self.rows,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "period_head": self.period_head,
            "chain_head": {"seq": self.chain_head_seq, "row_hash": self.chain_head},
            "sha256": self.sha256,
        }


def export(
    conn: psycopg.Connection[Any],
    store: ObjectStore,
    *,
    since: datetime,
    until: datetime,
    environment: str,
    actor: str,
) -> ExportResult:
    """Write the rows of [since, until) as JSONL under `audit-logs/`, with a head document, and audit the export.

    `audit.jsonl` contains one row per line with every hashed field, so anyone can
    recompute each `row_hash` (see `row_hash`) and follow `prev_hash` across
    periods. `head.json` holds the period's first and last sequence numbers, the
    last row's hash, the whole chain's head at export time and the SHA-256 of the
    JSONL file; storing it outside the database anchors the log there. The rows
    are read as sxe_analyst, in one snapshot.
    """
    prefix = f"{EXPORT_PREFIX}/{environment}/{since:%Y%m%dT%H%M%S%fZ}--{until:%Y%m%dT%H%M%S%fZ}"
    data_key, head_key = f"{prefix}/audit.jsonl", f"{prefix}/head.json"

    with tempfile.TemporaryDirectory(prefix="sxe-audit-") as folder:
        path = Path(folder) / "audit.jsonl"
        with transaction(conn, role="sxe_analyst", repeatable_read=True):
            rows, first_seq, last_seq, period_head, digest = _write_rows(conn, path, since, until)
            head = conn.execute(sql("audit_head")).fetchone()
        store.put_file(data_key, path, "application/x-ndjson")

    result = ExportResult(
        data_key=data_key,
        head_key=head_key,
        rows=rows,
        first_seq=first_seq,
        last_seq=last_seq,
        period_head=period_head,
        chain_head_seq=int(head["seq"]) if head else None,
        chain_head=str(head["row_hash"]) if head else None,
        sha256=digest,
    )
    head_document = {"since": since.isoformat(), "until": until.isoformat(), **result.to_json()}
    store.put_bytes(head_key, json.dumps(head_document, indent=2).encode(), "application/json")

    with transaction(conn, role="sxe_worker"):
        append(
            conn,
            actor=actor,
            action="audit.exported",
            subject=f"object:{data_key}",
            detail=result.to_json(),
            payload_sha256=digest,
        )
    return result


def _write_rows(
    conn: psycopg.Connection[Any], path: Path, since: datetime, until: datetime
) -> tuple[int, int | None, int | None, str | None, str]:
    digest = hashlib.sha256()
    rows, first_seq, last_seq, period_head = 0, None, None, None
    with path.open("wb") as output, conn.cursor(name="audit_export") as cursor:
        cursor.itersize = EXPORT_FETCH_ROWS
        cursor.execute(sql("audit_period"), {"since": since, "until": until})
        for row in cursor:
            line = (json.dumps(export_row(row), sort_keys=True, ensure_ascii=False) + "\n").encode()
            output.write(line)
            digest.update(line)
            rows += 1
            first_seq = first_seq if first_seq is not None else int(row["seq"])
            last_seq, period_head = int(row["seq"]), str(row["row_hash"])
    return rows, first_seq, last_seq, period_head, digest.hexdigest()


def export_row(row: dict[str, Any]) -> dict[str, Any]:
    """Return an audit row as exported: `at` in UTC with microseconds, as the hash reads it."""
    return {**row, "at": row["at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}


def row_hash(row: dict[str, Any]) -> str:
    """Recompute an exported row's hash without the database, exactly as `ops.audit_row_hash` does.

    `detail` is hashed in PostgreSQL's jsonb text form, which sorts keys by length
    and then bytewise and writes ", " and ": " between items; `jsonb_text` rebuilds it.
    """
    at = datetime.strptime(row["at"], "%Y-%m-%dT%H:%M:%S.%fZ").strftime("%Y-%m-%dT%H:%M:%S.%f")
    fields = [
        row["prev_hash"],
        str(row["seq"]),
        at,
        row["actor"],
        row["action"],
        row["subject"] or "",
        jsonb_text(row["detail"]),
        row["payload_sha256"] or "",
    ]
    return hashlib.sha256("|".join(fields).encode("utf-8")).hexdigest()


def jsonb_text(value: Any) -> str:
    """Render a decoded JSON value as PostgreSQL prints a jsonb value."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode("utf-8")), key.encode("utf-8")))
        return "{" + ", ".join(f"{json.dumps(key, ensure_ascii=False)}: {jsonb_text(value[key])}" for key in keys) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(jsonb_text(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)
