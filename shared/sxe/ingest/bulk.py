"""Bulk imports: stream one local file or `imports/` object into Tier 1, once.

A local file larger than SMALL_FILE_BYTES is read by `SXE_INGEST_JOBS` worker
processes, as `sxe run` reads its files (see `sxe.ingest.parallel`), while this
process stores each chunk. An `imports/` object, and a small file, are streamed and
stored by this process alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import psycopg

from sxe.config import Settings
from sxe.ingest.objects import ImportSource, is_object_key, open_import
from sxe.ingest.parallel import SMALL_FILE_BYTES, Source, ingest_files
from sxe.ingest.store import Attribution, FileResult, ingest_stream
from sxe.models import Platform

StreamWrapper = Callable[[ImportSource], AbstractContextManager[IO[bytes]]]
ChunkCallback = Callable[[FileResult], None]


def import_object(
    conn: psycopg.Connection[Any],
    settings: Settings,
    target: str,
    *,
    pool: str,
    format_name: str | None = None,
    column_map: dict[str, str] | None = None,
    platform: Platform | None = None,
    source_name: str = "import",
    source_url: str | None = None,
    wrap: StreamWrapper | None = None,
    on_chunk: ChunkCallback | None = None,
) -> FileResult:
    """Import `target` for the audience pool `pool` in constant memory and return its counts.

    Re-running an import stores nothing twice, because each stored record and
    each quarantined record is recognised by its hash. Profile ids are not
    collected, so memory does not grow with the number of records. Progress goes
    to `wrap`, which may wrap the byte stream of a file read by this process, or
    to `on_chunk`, called with the counts so far after each chunk that worker
    processes read.
    """
    if _read_by_workers(target, settings):
        source = Source(source_name, datetime.now(UTC), source_url, pool)
        (result,) = ingest_files(
            conn,
            [Path(target)],
            run_id=uuid.uuid4(),
            jobs=settings.ingest_jobs,
            format_name=format_name,
            column_map=column_map,
            platform=platform,
            track_profiles=False,
            source=source,
            on_chunk=on_chunk,
        )
        return result

    with open_import(target, settings) as opened:
        attribution = Attribution(
            run_id=uuid.uuid4(),
            source_name=source_name,
            source_file=opened.name,
            collected_at=datetime.now(UTC),
            source_url=source_url,
            pool=pool,
        )
        wrapped = wrap(opened) if wrap is not None else nullcontext(opened.stream)
        with wrapped as stream:
            return ingest_stream(
                conn,
                stream,
                attribution,
                format_name=format_name,
                column_map=column_map,
                platform=platform,
                track_profiles=False,
            )


def _read_by_workers(target: str, settings: Settings) -> bool:
    """Tell whether `target` is a local file large enough to share among the ingest workers."""
    if is_object_key(target) or settings.ingest_jobs <= 1:
        return False
    path = Path(target)
    return path.is_file() and path.stat().st_size > SMALL_FILE_BYTES
