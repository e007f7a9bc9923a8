"""Ingest files with the per-record Python work spread over worker processes.

Normalizing a record, redacting its payload and finding the contact points of its
bio take most of ingest's CPU time and need no database, so `ingest_files` sends
each chunk's profile records to a process pool (`prepare_records`). Everything
else stays in the calling process and runs in file and record order: reading,
hashing, the suppression screen, quarantine and every database write. The stored
rows and the counts are therefore the same as ingesting the files one after the
other, and a record that fails to parse is quarantined as before.

The calling process reads ahead by at most `READ_AHEAD_PER_JOB` chunks per worker,
so memory stays bounded whatever the input size. Records whose raw content is
already stored are not sent to a worker, because `store_chunk` will count them as
duplicates without normalizing them or looking them up again.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from sxe.compliance.suppression import IngestScreen
from sxe.db import transaction
from sxe.ingest import ParsedRecord, read_profiles
from sxe.ingest.store import (
    Attribution,
    FileResult,
    PreparedRecord,
    PrepareItem,
    chunks,
    close_batch,
    ingest_file,
    open_batch,
    prepare_records,
    store_chunk,
    stored_content_hashes,
)
from sxe.models import SourceProfile

READ_AHEAD_PER_JOB = 2


@dataclass(slots=True)
class _OpenFile:
    attribution: Attribution
    result: FileResult
    format_name: str | None


@dataclass(slots=True)
class _Pending:
    """A chunk waiting to be stored, or with `chunk` None, the end of its file.

    `stored` are the chunk's content hashes found stored when it was read.
    """

    file: _OpenFile
    chunk: list[ParsedRecord] | None = None
    prepared: Future[dict[int, PreparedRecord]] | None = None
    stored: frozenset[str] = frozenset()


def ingest_files(
    conn: psycopg.Connection[Any],
    files: list[Path],
    *,
    run_id: UUID,
    jobs: int,
    format_name: str | None = None,
    screen: IngestScreen | None = None,
    track_profiles: bool = True,
) -> Iterator[FileResult]:
    """Ingest and normalize each file like `ingest_file`; yield each file's result in file order.

    With `jobs` of 1 the files are ingested one after the other in this process.
    Raises UsageError for a file whose format cannot be detected, after the files
    before it are stored.
    """
    screen = screen or IngestScreen.from_environment()
    if jobs <= 1:
        for path in files:
            yield ingest_file(
                conn, path, run_id=run_id, format_name=format_name, screen=screen, track_profiles=track_profiles
            )
        return

    executor = ProcessPoolExecutor(max_workers=jobs, mp_context=_process_context())
    pending: deque[_Pending] = deque()
    try:
        for path in files:
            try:
                records = read_profiles(path, format_name)
            except Exception:
                # The files before this one are stored first, as one process would have.
                while pending:
                    yield from _store_next(conn, pending, screen, track_profiles)
                raise
            attribution = Attribution(run_id, "file", str(path), datetime.fromtimestamp(path.stat().st_mtime, tz=UTC))
            batch_id = open_batch(conn, attribution, format_name or "detecting")
            opened = _OpenFile(attribution, FileResult(batch_id=batch_id, file=str(path)), format_name)
            for chunk in chunks(records):
                unstored, stored = _unstored(conn, chunk)
                prepared = executor.submit(prepare_records, unstored) if unstored else None
                pending.append(_Pending(opened, chunk, prepared, stored))
                while len(pending) > jobs * READ_AHEAD_PER_JOB:
                    yield from _store_next(conn, pending, screen, track_profiles)
            pending.append(_Pending(opened))
        while pending:
            yield from _store_next(conn, pending, screen, track_profiles)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _store_next(
    conn: psycopg.Connection[Any], pending: deque[_Pending], screen: IngestScreen, track_profiles: bool
) -> Iterator[FileResult]:
    item = pending.popleft()
    opened = item.file
    if item.chunk is None:
        close_batch(conn, opened.result, opened.format_name)
        yield opened.result
        return
    prepared = item.prepared.result() if item.prepared is not None else {}
    with transaction(conn, role="sxe_worker"):
        store_chunk(
            conn,
            item.chunk,
            opened.result,
            opened.attribution,
            screen,
            track_profiles=track_profiles,
            prepared=prepared,
            known_stored=item.stored,
        )


def _unstored(conn: psycopg.Connection[Any], chunk: list[ParsedRecord]) -> tuple[list[PrepareItem], frozenset[str]]:
    """Return what a worker needs of the chunk's profile records whose raw content is not stored yet,
    and the content hashes that are stored."""
    items = [
        PrepareItem(position, record.format, record.payload, record.result)
        for position, record in enumerate(chunk)
        if isinstance(record.result, SourceProfile)
    ]
    stored = stored_content_hashes(conn, [chunk[item.position].content_hash for item in items])
    unstored = [item for item in items if chunk[item.position].content_hash not in stored]
    return unstored, frozenset(stored)


def _process_context() -> multiprocessing.context.BaseContext:
    # Forked workers start at once with every module loaded. They never touch the
    # parent's database connection and exit without closing it.
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
