"""The store floor: ingest's database writes alone, from chunks whose Python work was done beforehand.

Ingest splits its work in two. The worker processes read, parse, normalize and redact
each chunk, and the calling process stores it: the suppression screen, quarantine, the
stored-hash lookup, bio sightings, the profile upserts, raw records and observations.
The floor runs only the second part, through the same `_Storing.store_file` that
`ingest_files` runs, on chunks that the workers' own `prepare_chunk` finished before
the clock started. They are kept pickled, as they arrive from a worker's pipe, so the
floor also pays for loading them.

The floor is the rate ingest would reach if the workers' work cost nothing. Its CPU per
record, in the calling process and the server, bounds ingest on this machine's cores
however the Python work is spread or sped up, as long as the same rows are written.
"""

from __future__ import annotations

import pickle
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import psycopg

from sxe.compliance.suppression import IngestScreen
from sxe.ingest import read_items
from sxe.ingest.parallel import Source, _Chunk, _FileEnd, _Storing, prepare_chunk
from sxe.ingest.store import chunks


def prepare_files(files: list[Path], processes: int) -> list[list[bytes]]:
    """Return each file's chunks, finished as a worker finishes them and pickled, in file order."""
    with ProcessPoolExecutor(processes) as pool:
        return list(pool.map(_prepare_file, files, range(len(files))))


def store_prepared(conn: psycopg.Connection[Any], files: list[Path], prepared: list[list[bytes]]) -> tuple[int, int]:
    """Store the prepared chunks of every file as ingest's calling process does; return (records read, accepted)."""
    storing = _Storing(
        run_id=uuid.uuid4(),
        format_name=None,
        screen=IngestScreen.from_environment(),
        track_profiles=True,
        source=Source(),
        on_chunk=None,
    )
    read = accepted = 0
    for file_index, path in enumerate(files):
        result = storing.store_file(conn, path, _messages(file_index, prepared[file_index]))
        read += result.records
        accepted += result.accepted
    return read, accepted


def _prepare_file(path: Path, file_index: int) -> list[bytes]:
    # Nothing is stored yet, so no record is a duplicate, as in a first ingest.
    finished = []
    for pending in chunks(read_items(path)):
        digests = [item.digest() for item in pending]
        chunk = prepare_chunk(file_index, pending, digests, stored={})
        finished.append(pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))
    return finished


def _messages(file_index: int, pickled: list[bytes]) -> Any:
    for message in pickled:
        chunk: _Chunk = pickle.loads(message)
        yield chunk
    yield _FileEnd(file_index)
