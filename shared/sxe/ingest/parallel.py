"""Ingest files with reading and the per-record Python work spread over worker processes.

The workers cut each file into chunks with the reader `ingest_file` uses, and send
each finished chunk, then the file's end, to the calling process. One worker reads
and sends the whole of a file up to SMALL_FILE_BYTES, and such files take turns
between the workers. The workers take turns on the chunks of a larger file
(`_Turns`). In a JSON Lines, JSON array or CSV file, the worker that reads a chunk
hands the position where it stopped to the worker of the next chunk before it
finishes its own (`_Handovers`), so each record is decoded once. A larger gzip file
of those layouts is first decompressed, once, by the worker of its first chunk into
a private temporary folder, and the workers read that copy under the gzip file's
name (`_Copies`). Every worker reads a larger file of another layout whole, decoding
the chunks it leaves to the others.

Finishing a chunk (`_finish_chunk`) means hashing its records and looking up which
raw contents are stored already. Those are duplicates, and the worker only counts
them. It parses the others, normalizes the profiles among them, redacts their
payloads and finds the contact points of their bios.

The calling process takes the finished chunks from the workers in file and record
order and makes every database write: the suppression screen, quarantine, raw
records, profiles and observations. The stored rows and the counts are therefore
the same as ingesting the files one after the other in one process, and an error
stops ingest after the same records.

Each worker runs at most `READ_AHEAD_PER_JOB` chunks ahead of the caller, so memory
stays bounded whatever the input size.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import queue
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID

import psycopg
from psycopg.conninfo import make_conninfo

from sxe.compliance.suppression import IngestScreen
from sxe.db import connect, sql, transaction
from sxe.errors import SxeError, UsageError
from sxe.ingest import ChunkStart, ParsedRecord, PendingRecord, ReadOptions, read_chunk, read_items
from sxe.ingest.compressed import is_gzip, is_nested_gzip
from sxe.ingest.formats.csv_followers import CSV_FORMAT_NAME
from sxe.ingest.reader import (
    CSV_LAYOUT,
    RESUMABLE_LAYOUTS,
    DecodedRecord,
    DecompressedCopy,
    choose_layout,
    decompress_copy,
)
from sxe.ingest.store import (
    CHUNK_RECORDS,
    Attribution,
    FileResult,
    PoolRecords,
    PreparedRecord,
    PrepareItem,
    chunks,
    close_batch,
    find_stored,
    ingest_file,
    open_batch,
    prepare_records,
    record_pools,
    store_chunk,
)
from sxe.models import Platform, SourceProfile

READ_AHEAD_PER_JOB = 2
# A file up to this size is read by one worker only (see _Turns).
SMALL_FILE_BYTES = 1024 * 1024
# How often the caller checks that a worker it waits for is still alive.
POLL_SECONDS = 1.0
# How long the caller waits for a worker whose pipe ended to exit, before it reports the loss.
WORKER_EXIT_SECONDS = 5.0
# The start of the name of each folder of decompressed copies, before its creator's pid.
COPIES_PREFIX = "sxe-ingest-"
# Allocations between two collections of the youngest generation while ingesting (Python's default is 700).
INGEST_GC_THRESHOLD = 10_000


class WorkerLost(SxeError):
    """An ingest worker process ended without sending the part of a file the caller waited for."""


class _Chunk(NamedTuple):
    """A finished chunk: the records to store, the work done for them, and the duplicates left out.

    `prepared` holds the work done for each profile record, by position, and those
    records come without their payload. `duplicates` counts the records whose raw
    content was stored, and `format_name` is their format. `joined` lists, one per such
    record, the profiles that the files' pool has not ingested yet.
    """

    file_index: int
    records: list[ParsedRecord]
    prepared: dict[int, PreparedRecord]
    duplicates: int
    format_name: str
    joined: list[UUID]


class _FileEnd(NamedTuple):
    file_index: int


class _Failed(NamedTuple):
    """The exception that stopped a worker, raised again in the caller when its turn comes."""

    error: BaseException


_Message = _Chunk | _FileEnd | _Failed


def ingest_files(
    conn: psycopg.Connection[Any],
    files: list[Path],
    *,
    run_id: UUID,
    jobs: int,
    format_name: str | None = None,
    column_map: dict[str, str] | None = None,
    platform: Platform | None = None,
    screen: IngestScreen | None = None,
    track_profiles: bool = True,
    source: Source | None = None,
    on_chunk: Callable[[FileResult], None] | None = None,
) -> Iterator[FileResult]:
    """Ingest and normalize each file like `ingest_file`; yield each file's result in file order.

    `column_map` and `platform` apply to CSV files, as in `ingest_file`. `source`
    sets the source name, collection time and URL kept on each observation; by
    default the source is "file", collected when the file was last modified.
    `on_chunk` is called with the file's result so far after each stored chunk.
    With `jobs` of 1 the files are ingested one after the other in this process.
    Raises UsageError for a file whose format cannot be detected, after the files
    before it are stored, and WorkerLost when a worker process dies.
    """
    if not files:
        # No worker is started for nothing: one ended right after its start could be cut
        # off while Python still sets up the new process.
        return
    screen = screen or IngestScreen.from_environment()
    source = source or Source()
    with fewer_collections():
        yield from _ingest_each(
            conn, files, run_id, jobs, format_name, column_map, platform, screen, track_profiles, source, on_chunk
        )


def _ingest_each(
    conn: psycopg.Connection[Any],
    files: list[Path],
    run_id: UUID,
    jobs: int,
    format_name: str | None,
    column_map: dict[str, str] | None,
    platform: Platform | None,
    screen: IngestScreen,
    track_profiles: bool,
    source: Source,
    on_chunk: Callable[[FileResult], None] | None,
) -> Iterator[FileResult]:
    if jobs <= 1:
        for path in files:
            yield ingest_file(
                conn,
                path,
                run_id=run_id,
                format_name=format_name,
                source_name=source.name,
                collected_at=source.collected_at,
                source_url=source.url,
                pool=source.pool,
                column_map=column_map,
                platform=platform,
                screen=screen,
                track_profiles=track_profiles,
                on_chunk=on_chunk,
            )
        return

    options = ReadOptions(format_name, column_map, platform)
    storing = _Storing(run_id, format_name, screen, track_profiles, source, on_chunk)
    turns = _Turns.plan(files, jobs, format_name)
    with (
        _Copies.for_turns(turns) as copies,
        _Workers(files, turns, copies, options, _conninfo(conn), source.pool) as workers,
    ):
        for file_index, path in enumerate(files):
            result = storing.store_file(conn, path, workers.messages_of(file_index))
            # Every worker that reads the copy opened it before the file's last message.
            copies.remove(file_index)
            yield result


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the garbage collector's first threshold to INGEST_GC_THRESHOLD for the block, then restore it.

    A chunk keeps thousands of decoded payloads' dicts and lists alive at once. With
    Python's default threshold of 700 allocations, the collector walked them again and
    again: 15 % of an ingest worker's CPU per record. Ingest makes few reference cycles,
    so collecting less often keeps almost no garbage longer.
    """
    previous = gc.get_threshold()
    gc.set_threshold(INGEST_GC_THRESHOLD, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


class Source(NamedTuple):
    """The origin of the files that each observation keeps; `collected_at` None means the file's mtime.

    `pool` is the audience pool the files are ingested for, as in `Attribution`.
    """

    name: str = "file"
    collected_at: datetime | None = None
    url: str | None = None
    pool: str | None = None


class _Storing(NamedTuple):
    """The settings with which the calling process stores every file of one `ingest_files` call."""

    run_id: UUID
    format_name: str | None
    screen: IngestScreen
    track_profiles: bool
    source: Source
    on_chunk: Callable[[FileResult], None] | None

    def store_file(self, conn: psycopg.Connection[Any], path: Path, messages: Iterator[_Message]) -> FileResult:
        """Store one file's chunks as they arrive, each in its own transaction, and return the file's result.

        The batch opens with the first message, so a file that fails to read before its
        first chunk, a missing one for instance, leaves no batch behind, as in one process.
        """
        message = next(messages)
        attribution = self.attribution(path)
        batch_id = open_batch(conn, attribution, self.format_name or "detecting")
        result = FileResult(batch_id=batch_id, file=attribution.source_file)
        while isinstance(message, _Chunk):
            _count_duplicates(result, message)
            if message.records:
                with transaction(conn, role="sxe_worker"):
                    store_chunk(
                        conn,
                        message.records,
                        result,
                        attribution,
                        self.screen,
                        track_profiles=self.track_profiles,
                        prepared=message.prepared,
                        joined=message.joined,
                    )
            elif message.joined:
                with transaction(conn, role="sxe_worker"):
                    record_pools(conn, attribution.pool, PoolRecords(message.joined, [], []), result)
            if self.on_chunk is not None:
                self.on_chunk(result)
            message = next(messages)
        assert isinstance(message, _FileEnd), f"expected the end of {attribution.source_file}, got {message!r}"
        close_batch(conn, result, self.format_name)
        return result

    def attribution(self, path: Path) -> Attribution:
        collected_at = self.source.collected_at or datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        return Attribution(self.run_id, self.source.name, str(path), collected_at, self.source.url, self.source.pool)


def _count_duplicates(result: FileResult, chunk: _Chunk) -> None:
    """Count the records a worker left out, as `store_chunk` counts the duplicates it finds."""
    if chunk.duplicates:
        result.records += chunk.duplicates
        result.duplicates += chunk.duplicates
        result.format = result.format or chunk.format_name


class _Turns(NamedTuple):
    """The plan of which worker sends each message of each file.

    One worker sends every message of a file of at most SMALL_FILE_BYTES, and the
    others skip the file without reading it. Such files take turns between the
    workers. The workers take turns on the messages of a larger file. They read a
    `chained` one, JSON Lines, a JSON array or CSV, one chunk each from where the
    worker before stopped, and a larger JSON document whole. A chained gzip file is
    `copied`: decompressed once, and its copy read in its place.
    """

    workers: int
    small: list[bool]
    chained: list[bool]
    copied: list[bool]

    @classmethod
    def plan(cls, files: list[Path], workers: int, format_name: str | None) -> _Turns:
        small = [_size(path) <= SMALL_FILE_BYTES for path in files]
        forced = CSV_LAYOUT if format_name == CSV_FORMAT_NAME else None
        chained: list[bool] = []
        copied: list[bool] = []
        for path, is_small in zip(files, small, strict=True):
            resumable = not is_small and _layout(path, forced) in RESUMABLE_LAYOUTS
            gzipped = resumable and is_gzip(path)
            # A worker could resume a gzip file only by decompressing it from the start, so
            # the workers resume a plain copy. A gzip file whose content is gzip too is read
            # whole by every worker, because its copy would still be compressed.
            copied.append(gzipped and not is_nested_gzip(path))
            chained.append(resumable and (copied[-1] or not gzipped))
        return cls(workers, small, chained, copied)

    def sender(self, file_index: int, message_index: int) -> int:
        turn = file_index if self.small[file_index] else message_index
        return turn % self.workers

    def skips(self, worker: int, file_index: int) -> bool:
        return self.small[file_index] and self.sender(file_index, 0) != worker


class _Copies(NamedTuple):
    """The private folder in which the workers decompress the `copied` gzip files of one `ingest_files` call.

    `folder` is None when no file is copied. The calling process creates the folder
    before the workers start and removes it with every copy in it when ingest ends,
    also on an error or Ctrl-C. A calling process killed with SIGKILL leaves it, so the
    folder's name carries its creator's pid, and the next call that copies a file
    removes the folders whose creator no longer runs.
    """

    folder: Path | None

    @classmethod
    @contextmanager
    def for_turns(cls, turns: _Turns) -> Iterator[_Copies]:
        if not any(turns.copied):
            yield cls(None)
            return
        _remove_orphaned_copies(Path(tempfile.gettempdir()))
        # mkdtemp creates the folder readable by its owner only.
        folder = Path(tempfile.mkdtemp(prefix=f"{COPIES_PREFIX}{os.getpid()}-"))
        try:
            yield cls(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def path(self, file_index: int) -> Path:
        assert self.folder is not None, "a copied file has a folder for its copy"
        return self.folder / f"{file_index}.content"

    def remove(self, file_index: int) -> None:
        """Delete the copy of one file once it is stored, so that the copies of a run do not pile up."""
        if self.folder is not None:
            self.path(file_index).unlink(missing_ok=True)


def _remove_orphaned_copies(temporary: Path) -> None:
    """Remove this user's copy folders in `temporary` whose creating process has ended."""
    for folder in temporary.glob(f"{COPIES_PREFIX}*-*"):
        creator = folder.name.removeprefix(COPIES_PREFIX).split("-", 1)[0]
        if creator.isdigit() and folder.stat().st_uid == os.getuid() and not _running(int(creator)):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


class _Workers:
    """The worker processes of one `ingest_files` call, each with its own pipe of finished chunks.

    Each pipe's write end stays open in its worker only, so when a worker dies, even in
    the middle of a message, reading its pipe ends instead of waiting forever.
    """

    def __init__(
        self,
        files: list[Path],
        turns: _Turns,
        copies: _Copies,
        options: ReadOptions,
        conninfo: str,
        pool: str | None,
    ) -> None:
        context = _process_context()
        jobs = turns.workers
        self._files = files
        self._turns = turns
        pipes = [context.Pipe(duplex=False) for _ in range(jobs)]
        self._readers = [reader for reader, _ in pipes]
        self._writers = [writer for _, writer in pipes]
        self._handovers = _Handovers.between(context, jobs)
        self._processes: list[BaseProcess] = [
            context.Process(  # type: ignore[attr-defined]
                target=_work,
                args=(worker, turns, copies, files, options, conninfo, pool, self._writers, self._handovers),
                name=f"sxe-ingest-{worker}",
                daemon=True,
            )
            for worker in range(jobs)
        ]

    def __enter__(self) -> _Workers:
        # Frozen objects stay out of the collector's scans, so a worker's garbage
        # collections do not walk, and copy, every page it shares with this process.
        gc.freeze()
        try:
            for process in self._processes:
                process.start()
        finally:
            gc.unfreeze()
            for writer in self._writers:
                writer.close()
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Workers still running are ahead of the caller, blocked on a full pipe.
        for process in self._processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for reader in self._readers:
            reader.close()
        self._handovers.close()

    def messages_of(self, file_index: int) -> Iterator[_Message]:
        """Yield the messages of one file in order, ending with its _FileEnd. Raise a worker's exception in its turn."""
        message_index = 0
        while True:
            message = self._receive(file_index, message_index)
            if isinstance(message, _Failed):
                raise message.error
            if message.file_index != file_index:
                raise _changed(self._files[file_index])
            yield message
            message_index += 1

    def _receive(self, file_index: int, message_index: int) -> _Message:
        worker = self._turns.sender(file_index, message_index)
        reader, process = self._readers[worker], self._processes[worker]
        # The pipe becomes readable with a message, or with its end once the worker ended.
        while True:
            if reader.poll(POLL_SECONDS):
                try:
                    message: _Message = reader.recv()
                    return message
                except (EOFError, OSError):
                    break  # The worker ended, perhaps in the middle of this message.
            if not process.is_alive() and not reader.poll(0):
                break
        process.join(WORKER_EXIT_SECONDS)
        if process.exitcode == 0:
            raise _changed(self._files[file_index])
        raise WorkerLost(
            f"ingest worker process {process.name} (pid {process.pid}) exited with code "
            f"{process.exitcode} before sending part {message_index} of {self._files[file_index]}. "
            "The parts before it are stored. Run the same input again to store the rest: "
            "stored records are recognised and skipped"
        )


class _Handover(NamedTuple):
    """The start of message `message_index` of a chained file, or the news that the file ended.

    `start` is None once the file ended. Then `end` is the index of its _FileEnd
    message, and `finder` the worker that found the end, where passing on the news
    stops. `stamp` is the file's `_stamp` when its first chunk was read, and `copy`
    the decompressed copy of a `copied` gzip file.
    """

    file_index: int
    message_index: int
    start: ChunkStart | None
    stamp: tuple[int, ...]
    end: int = -1
    finder: int = -1
    copy: DecompressedCopy | None = None


class _Handovers:
    """The queues on which each worker hands the next chunk's start to the next worker.

    The worker of message i of a chained file is i % workers, so a worker only ever
    gets handovers from the worker before it, in file and message order.
    """

    def __init__(self, queues: list[Queue[_Handover]]) -> None:
        self._queues = queues

    @classmethod
    def between(cls, context: BaseContext, workers: int) -> _Handovers:
        return cls([context.Queue() for _ in range(workers)])

    def send(self, worker: int, handover: _Handover) -> None:
        """Send `handover` from `worker` to the next worker."""
        self._queues[(worker + 1) % len(self._queues)].put(handover)

    def receive(self, worker: int, file_index: int, message_index: int) -> _Handover:
        """Wait for the handover of a message, and give up if the calling process ends meanwhile."""
        while True:
            try:
                handover = self._queues[worker].get(timeout=POLL_SECONDS)
            except queue.Empty:
                parent = multiprocessing.parent_process()
                if parent is not None and not parent.is_alive():
                    raise WorkerLost("the calling process of this ingest worker ended") from None
                continue
            expected = (file_index, message_index)
            assert handover[:2] == expected, f"handover for {handover[:2]} arrived, expected {expected}"
            return handover

    def close(self) -> None:
        for handover_queue in self._queues:
            handover_queue.close()
            handover_queue.join_thread()


def _work(
    worker: int,
    turns: _Turns,
    copies: _Copies,
    files: list[Path],
    options: ReadOptions,
    conninfo: str,
    pool: str | None,
    writers: list[Connection],
    handovers: _Handovers,
) -> None:
    """Run one worker process: send the messages whose turn is `worker`'s, then end."""
    # The caller ends a worker with SIGTERM, which must end it at once, whatever the CLI set.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # A forked worker inherits the caller's threshold from `fewer_collections`, a spawned one does not.
    gc.set_threshold(INGEST_GC_THRESHOLD, *gc.get_threshold()[1:])
    for other, writer in enumerate(writers):
        if other != worker:
            writer.close()
    out = _Sender(writers[worker])
    try:
        with connect(conninfo, autocommit=True) as conn:
            for message in _own_messages(conn, worker, turns, copies, files, options, pool, handovers):
                out.put(message)
    except BaseException as error:
        out.put(_Failed(_picklable(error)))
    finally:
        out.close()
        handovers.close()


class _Sender:
    """Send a worker's messages from a thread, so that the worker prepares its next chunk while the caller reads one.

    At most READ_AHEAD_PER_JOB messages wait, besides the one being sent.
    """

    _END = None

    def __init__(self, writer: Connection) -> None:
        self._writer = writer
        self._waiting: queue.Queue[_Message | None] = queue.Queue(READ_AHEAD_PER_JOB)
        self._thread = threading.Thread(target=self._send_all, name="sxe-ingest-sender", daemon=True)
        self._thread.start()

    def put(self, message: _Message) -> None:
        self._waiting.put(message)

    def close(self) -> None:
        """Send the waiting messages, then close the pipe."""
        self._waiting.put(self._END)
        self._thread.join()
        self._writer.close()

    def _send_all(self) -> None:
        while (message := self._waiting.get()) is not self._END:
            try:
                self._writer.send(message)
            except OSError:
                # The caller closed its end after an error, and will end this process.
                return


def _own_messages(
    conn: psycopg.Connection[Any],
    worker: int,
    turns: _Turns,
    copies: _Copies,
    files: list[Path],
    options: ReadOptions,
    pool: str | None,
    handovers: _Handovers,
) -> Iterator[_Message]:
    """Read the files this worker has a turn in, and yield the chunks and file ends whose turn is its own."""
    for file_index, path in enumerate(files):
        if turns.skips(worker, file_index):
            continue
        if turns.chained[file_index]:
            yield from _chained_messages(conn, worker, turns, copies, file_index, options, pool, handovers, path)
            continue
        message_index = 0
        for chunk in chunks(
            read_items(path, options.format_name, column_map=options.column_map, platform=options.platform)
        ):
            if turns.sender(file_index, message_index) == worker:
                yield _finish_chunk(conn, file_index, chunk, pool)
            message_index += 1
        if turns.sender(file_index, message_index) == worker:
            yield _FileEnd(file_index)


def _chained_messages(
    conn: psycopg.Connection[Any],
    worker: int,
    turns: _Turns,
    copies: _Copies,
    file_index: int,
    options: ReadOptions,
    pool: str | None,
    handovers: _Handovers,
    path: Path,
) -> Iterator[_Message]:
    """Yield this worker's messages of a chained file: read each chunk on from the handover, pass on where it stopped.

    The next chunk's start is handed over before this chunk is finished, so the next
    worker reads while this one works. When a worker finds the end of the file, it
    passes that news once round the other workers. The _FileEnd message takes the
    next message index, and the worker that owns that index sends it. The worker of
    the first chunk of a `copied` gzip file decompresses it first, and the copy is
    handed over with each start.
    """
    message_index, start, stamp, copy = worker, None, _stamp(path), None
    while True:
        if message_index > 0:
            handover = handovers.receive(worker, file_index, message_index)
            if handover.start is None:
                if message_index == handover.end:
                    yield _FileEnd(file_index)
                if turns.sender(file_index, message_index + 1) != handover.finder:
                    handovers.send(worker, handover._replace(message_index=message_index + 1))
                return
            start, stamp, copy = handover.start, handover.stamp, handover.copy
            if _stamp(path) != stamp:
                raise _changed(path)
        elif turns.copied[file_index]:
            copy = _decompress(path, copies.path(file_index), stamp)
        pending, next_start = read_chunk(path, CHUNK_RECORDS, start, options, copy)
        if not pending:
            yield _FileEnd(file_index)
            handovers.send(worker, _Handover(file_index, message_index + 1, None, stamp, message_index, worker))
            return
        end = -1 if next_start is not None else message_index + 1
        handovers.send(worker, _Handover(file_index, message_index + 1, next_start, stamp, end, worker, copy))
        yield _finish_chunk(conn, file_index, pending, pool)
        if next_start is None:
            return
        message_index += turns.workers


def _decompress(path: Path, target: Path, stamp: tuple[int, ...]) -> DecompressedCopy:
    """Decompress the gzip file at `path` into `target`.

    Raises UsageError when `target` cannot be written, such as on a full disk, and when
    the file changed while it was decompressed.
    """
    try:
        copy = decompress_copy(path, target)
    except OSError as error:
        raise UsageError(
            f"cannot decompress {path} into {target.parent}: {error.strerror}. Free space there, or set TMPDIR "
            "to a folder with room for the decompressed file"
        ) from None
    if _stamp(path) != stamp:
        raise _changed(path)
    return copy


def _finish_chunk(
    conn: psycopg.Connection[Any], file_index: int, pending: list[PendingRecord], pool: str | None = None
) -> _Chunk:
    """Parse the chunk's records and prepare its profiles, leaving out the records whose raw content is stored.

    A stored record is a duplicate whatever it parses to, so it is only counted, with
    its profile when `pool` has not ingested that yet.
    """
    digests = [item.digest() for item in pending]
    return prepare_chunk(file_index, pending, digests, _stored(conn, pending, digests, pool))


def prepare_chunk(
    file_index: int, pending: list[PendingRecord], digests: list[str], stored: Mapping[str, UUID | None]
) -> _Chunk:
    """Do a worker's work on a chunk whose stored contents are known, which needs no database.

    `digests` are the content hashes of `pending`, and `stored` those of them found stored,
    each with its profile when the pool has not ingested that yet (`find_stored`).
    """
    records = [item.parse(digest) for item, digest in zip(pending, digests, strict=True) if digest not in stored]
    joined = [profile for digest in digests if (profile := stored.get(digest)) is not None]
    items = [
        PrepareItem(position, record.format, record.payload, record.result)
        for position, record in enumerate(records)
        if isinstance(record.result, SourceProfile)
    ]
    prepared = prepare_records(items)
    # The caller stores each prepared record's redacted payload, so the decoded one, the
    # largest part of a record to pickle and load, stays here.
    sent = [record.without_payload() if position in prepared else record for position, record in enumerate(records)]
    duplicates = len(pending) - len(records)
    return _Chunk(file_index, sent, prepared, duplicates, pending[0].format_name, joined)


def _stored(
    conn: psycopg.Connection[Any], pending: list[PendingRecord], digests: list[str], pool: str | None
) -> dict[str, UUID | None]:
    """Return the content hashes of the decoded records whose raw content is stored, as `find_stored` does.

    None are returned while the suppression list has rows: the caller's screen must
    see every record, because a suppressed person's record counts as suppressed even
    when it is stored.
    """
    decoded = [digest for item, digest in zip(pending, digests, strict=True) if isinstance(item.read, DecodedRecord)]
    if not decoded:
        return {}
    with transaction(conn, role="sxe_worker"):
        if conn.execute(sql("suppression_any")).fetchone() is not None:
            return {}
        return find_stored(conn, decoded, pool)


def _changed(path: Path) -> UsageError:
    # Workers that read a file whole cut it into different chunks, and a worker that
    # reads on from a handover finds the file's stamp changed.
    return UsageError(
        f"input file changed while it was ingested: {path}. The parts read before "
        "the change are stored. Ingest it again once it no longer changes: stored records are skipped"
    )


def _stamp(path: Path) -> tuple[int, ...]:
    """Return what changes when the file is written or replaced: its inode, size and modification time."""
    try:
        status = path.stat()
    except OSError:
        return ()
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def _layout(path: Path, forced: str | None) -> str | None:
    # A file that cannot be read has no layout: its one reader reports the error in turn.
    try:
        return choose_layout(path, forced)
    except SxeError:
        return None


def _size(path: Path) -> int:
    # A file that cannot be read counts as small: its one reader reports the error.
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _picklable(error: BaseException) -> BaseException:
    """Return the error itself when it survives pickling, else a RuntimeError with its type and message."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def _conninfo(conn: psycopg.Connection[Any]) -> str:
    """Return a connection string for the caller's server and database, with the password the caller used."""
    password = conn.info.password
    return make_conninfo(conn.info.dsn, password=password) if password else conn.info.dsn


def _process_context() -> BaseContext:
    # Forked workers start at once with every module loaded. They never touch the
    # parent's database connection, and a forked process exits without closing it.
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
