"""Bulk imports: stream one local file or `imports/` object into Tier 1, once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import IO, Any

import psycopg

from sxe.config import Settings
from sxe.ingest.objects import ImportSource, open_import
from sxe.ingest.store import Attribution, FileResult, ingest_stream
from sxe.models import Platform

StreamWrapper = Callable[[ImportSource], AbstractContextManager[IO[bytes]]]


def import_object(
    conn: psycopg.Connection[Any],
    settings: Settings,
    target: str,
    *,
    format_name: str | None = None,
    column_map: dict[str, str] | None = None,
    platform: Platform | None = None,
    source_name: str = "import",
    source_url: str | None = None,
    wrap: StreamWrapper | None = None,
) -> FileResult:
    """Import `target` in constant memory and return its counts.

    Re-running an import stores nothing twice, because each stored record and
    each quarantined record is recognised by its hash. `wrap` may wrap the byte
    stream, for a progress bar. Profile ids are not collected, so memory does
    not grow with the number of records.
    """
    with open_import(target, settings) as source:
        attribution = Attribution(
            run_id=uuid.uuid4(),
            source_name=source_name,
            source_file=source.name,
            collected_at=datetime.now(UTC),
            source_url=source_url,
        )
        wrapped = wrap(source) if wrap is not None else nullcontext(source.stream)
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
