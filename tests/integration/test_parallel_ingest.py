"""Ingest over worker processes stores exactly what ingest in one process stores."""

from __future__ import annotations

import gc
import gzip
import json
import multiprocessing
import os
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import TEMPLATE_DATABASE, scratch_database
from gzip_support import gzip_split_at

from sxe.compliance import suppression
from sxe.compliance.suppression import IngestScreen, handle_identifier
from sxe.db import connect
from sxe.errors import UsageError
from sxe.ingest import parallel, read_items, reader, store
from sxe.ingest.parallel import WorkerLost, ingest_files
from sxe.ingest.parallel import read_chunk as parallel_read_chunk
from sxe.ingest.store import CHUNK_RECORDS, PrepareItem
from sxe.models import Platform
from sxe.pipeline import collect_inputs

BENCH = Path(__file__).resolve().parents[2] / "bench"
FILE_TIME = datetime(2026, 1, 5, 10, 0, tzinfo=UTC).timestamp()

PROFILES = """
    SELECT platform, identity_key, handle, display_name, bio, followers, bio_has_email, bio_has_phone,
           quality_flags, content_sha256, source_file
    FROM social.profiles ORDER BY platform, identity_key
"""
RAW_RECORDS = "SELECT content_hash, format, location, payload FROM social.raw_records ORDER BY content_hash"
OBSERVATIONS = """
    SELECT raw.content_hash, profiles.identity_key, observations.followers
    FROM social.profile_observations AS observations
    JOIN social.raw_records AS raw ON raw.id = observations.raw_record_id
    JOIN social.profiles AS profiles ON profiles.id = observations.profile_id
    ORDER BY raw.content_hash
"""
QUARANTINE = "SELECT location, kind, reason, content_hash FROM ops.quarantine ORDER BY content_hash, kind"
SIGHTINGS = "SELECT platform, identity_key, kind, value FROM contact.bio_sightings ORDER BY 1, 2, 3, 4"


@pytest.fixture(scope="module")
def input_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Generated files of every bench format, plus files whose profiles repeat and change across files."""
    folder = tmp_path_factory.mktemp("parallel-input")
    sys.path.insert(0, str(BENCH))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(BENCH))
    generate(1500, folder / "generated", 5)

    changing = folder / "changing"
    changing.mkdir()
    for number in range(3):
        users = [_x_user(index, followers=100 * number + index) for index in range(CHUNK_RECORDS + 50)]
        users.append({"title": "Not Found Error", "detail": "Could not find user"})
        (changing / f"page-{number}.jsonl").write_text("".join(json.dumps(user) + "\n" for user in users))
    (changing / "page-3.jsonl").write_text('{"id": "1", "username": "broken"\n')

    files = collect_inputs([folder])
    for path in files:
        os.utime(path, (FILE_TIME, FILE_TIME))
    return files


def _x_user(index: int, followers: int) -> dict[str, Any]:
    return {
        "id": str(1000 + index),
        "username": f"user_{index}",
        "name": f"User {index}",
        "description": f"Bakery {index}. Text +1 212 555 {index % 10000:04d} or shop{index}@example.com",
        "public_metrics": {"followers_count": followers, "following_count": 1, "tweet_count": 2, "like_count": 3},
    }


@pytest.fixture
def second_database_url(server_url: str, template_url: str) -> Iterator[str]:
    with scratch_database(server_url, "sxe_parallel", TEMPLATE_DATABASE) as url:
        yield url


def _ingest(url: str, files: list[Path], jobs: int, **options: Any) -> list[tuple[Any, ...]]:
    with connect(url, autocommit=True) as conn:
        results = list(ingest_files(conn, files, run_id=uuid.uuid4(), jobs=jobs, **options))
    return [
        (result.file, result.format, result.records, result.accepted, result.duplicates, result.quarantined_total)
        for result in results
    ]


def _stored(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as conn:
        return {
            name: [tuple(row) for row in conn.execute(query).fetchall()]
            for name, query in {
                "profiles": PROFILES,
                "raw_records": RAW_RECORDS,
                "observations": OBSERVATIONS,
                "quarantine": QUARANTINE,
                "sightings": SIGHTINGS,
            }.items()
        }


@pytest.fixture(params=["small files whole", "every file in turns", "every file in turns, read whole"])
def file_turns(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a test with the generated files each read by one worker, and again with the workers taking turns on
    every file: reading on from each other's handovers, or each reading every file whole."""
    if request.param != "small files whole":
        monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)
    if request.param == "every file in turns, read whole":
        monkeypatch.setattr(parallel, "RESUMABLE_LAYOUTS", frozenset())


@pytest.mark.usefixtures("file_turns")
def test_parallel_ingest_matches_one_process(
    database_url: str, second_database_url: str, input_files: list[Path]
) -> None:
    one_process = _ingest(database_url, input_files, jobs=1)
    two_processes = _ingest(second_database_url, input_files, jobs=2)
    stored_once = _stored(database_url)
    stored_twice = _stored(second_database_url)

    assert two_processes == one_process
    assert sum(accepted for _, _, _, accepted, _, _ in one_process) > 1000
    assert sum(quarantined for *_, quarantined in one_process) > 0
    for table in stored_once:
        assert stored_twice[table] == stored_once[table], table
    assert len(stored_once["sightings"]) > 0


@pytest.mark.usefixtures("file_turns")
def test_parallel_reingest_matches_one_process(
    database_url: str, second_database_url: str, input_files: list[Path]
) -> None:
    _ingest(database_url, input_files, jobs=1)
    _ingest(second_database_url, input_files, jobs=2)
    one_process = _ingest(database_url, input_files, jobs=1)
    two_processes = _ingest(second_database_url, input_files, jobs=2)

    assert two_processes == one_process
    assert sum(duplicates for *_, duplicates, _ in two_processes) > 1000
    assert _stored(second_database_url) == _stored(database_url)


def test_parallel_ingest_stores_files_before_undetectable_one(database_url: str, tmp_path: Path) -> None:
    good = tmp_path / "a.jsonl"
    good.write_text(json.dumps(_x_user(1, followers=5)) + "\n")
    unknown = tmp_path / "b.jsonl"
    unknown.write_text(json.dumps({"something": "else"}) + "\n")

    with connect(database_url, autocommit=True) as conn:
        stored: list[Any] = []
        with pytest.raises(UsageError):
            for result in ingest_files(conn, [good, unknown], run_id=uuid.uuid4(), jobs=2):
                stored.append(result)
        count = conn.execute("SELECT count(*) AS n FROM social.profiles").fetchone()

    assert [result.accepted for result in stored] == [1]
    assert count is not None
    assert count["n"] == 1


def _users_file(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps(_x_user(index, followers=index)) + "\n" for index in range(count)))
    return path


def _failing_at(username: str, failure: Callable[[], None]) -> Callable[[list[PrepareItem]], Any]:
    """Return prepare_records that calls `failure` in the worker that gets the chunk holding `username`."""

    def prepare(items: list[PrepareItem]) -> Any:
        if any(item.payload["username"] == username for item in items):
            failure()
        return store.prepare_records(items)

    return prepare


def _profile_count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) AS n FROM social.profiles").fetchone()
    assert row is not None
    return int(row["n"])


def test_killed_worker_keeps_earlier_chunks(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    users = _users_file(tmp_path / "users.jsonl", 3 * CHUNK_RECORDS)

    def die_once_first_chunk_stored() -> None:
        # The caller stores a chunk only after reading all of it, so the first worker's
        # first chunk is fully sent before this worker dies. On a loaded machine it
        # could otherwise die while still sending it, and lose part 0 instead.
        with connect(database_url, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while _profile_count(conn) < CHUNK_RECORDS and time.monotonic() < deadline:
                time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGKILL)

    # The workers take turns on the file's chunks. The third belongs to the first of
    # two workers, which dies with SIGKILL.
    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)
    monkeypatch.setattr(parallel, "prepare_records", _failing_at("user_1000", die_once_first_chunk_stored))

    with connect(database_url, autocommit=True) as conn:
        with pytest.raises(WorkerLost, match=f"exited with code -9 before sending part 2 of {users}"):
            list(ingest_files(conn, [users], run_id=uuid.uuid4(), jobs=2))
        stored_before_rerun = _profile_count(conn)
        monkeypatch.undo()
        [rerun] = ingest_files(conn, [users], run_id=uuid.uuid4(), jobs=2)

    assert stored_before_rerun == 2 * CHUNK_RECORDS
    assert rerun.accepted == CHUNK_RECORDS
    assert rerun.duplicates == 2 * CHUNK_RECORDS


class _DyingSender(parallel._Sender):
    """Send like _Sender, except that the first worker writes half of its first message and dies."""

    def put(self, message: Any) -> None:
        if multiprocessing.current_process().name != "sxe-ingest-0":
            super().put(message)
            return
        data = ForkingPickler.dumps(message)
        os.write(self._writer.fileno(), struct.pack("!i", len(data)) + bytes(data[: len(data) // 2]))
        os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.timeout(60)
def test_worker_killed_mid_message_is_lost_not_awaited(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = _users_file(tmp_path / "users.jsonl", 2 * CHUNK_RECORDS)
    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)
    monkeypatch.setattr(parallel, "_Sender", _DyingSender)

    with connect(database_url, autocommit=True) as conn:
        with pytest.raises(WorkerLost, match=f"exited with code -9 before sending part 0 of {users}"):
            list(ingest_files(conn, [users], run_id=uuid.uuid4(), jobs=2))
        assert _profile_count(conn) == 0


def test_worker_error_keeps_earlier_chunks(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    users = _users_file(tmp_path / "users.jsonl", 3 * CHUNK_RECORDS)

    def fail() -> None:
        raise ValueError("normalizer failed on purpose")

    monkeypatch.setattr(parallel, "prepare_records", _failing_at(f"user_{CHUNK_RECORDS}", fail))

    with connect(database_url, autocommit=True) as conn:
        with pytest.raises(ValueError, match="normalizer failed on purpose"):
            list(ingest_files(conn, [users], run_id=uuid.uuid4(), jobs=2))
        assert _profile_count(conn) == CHUNK_RECORDS


def test_closing_early_stops_the_workers(database_url: str, tmp_path: Path) -> None:
    files = [_users_file(tmp_path / f"users-{number}.jsonl", 2 * CHUNK_RECORDS) for number in range(3)]

    with connect(database_url, autocommit=True) as conn:
        results = ingest_files(conn, files, run_id=uuid.uuid4(), jobs=2)
        first = next(results)
        results.close()

    assert first.accepted == 2 * CHUNK_RECORDS
    assert multiprocessing.active_children() == []


def test_stored_record_of_suppressed_person_counts_suppressed(database_url: str, tmp_path: Path) -> None:
    users = _users_file(tmp_path / "users.jsonl", 20)
    key = b"k" * 32
    screen = IngestScreen(lambda: key)

    with connect(database_url, autocommit=True) as conn:
        list(ingest_files(conn, [users], run_id=uuid.uuid4(), jobs=2, screen=screen))
        suppression.add(conn, [handle_identifier("x", "user_3")], key, uuid.uuid4())
        [again] = ingest_files(conn, [users], run_id=uuid.uuid4(), jobs=2, screen=screen)

    assert again.records == 20
    assert again.suppressed == 1
    assert again.duplicates == 19


def _shorter_for_second_worker(path: Path, *args: Any, **options: Any) -> Iterator[Any]:
    """Read like read_items, but let the second worker see the file one chunk shorter, as if it changed."""
    items = list(read_items(path, *args, **options))
    if multiprocessing.current_process().name == "sxe-ingest-1":
        return iter(items[:-CHUNK_RECORDS])
    return iter(items)


@pytest.mark.parametrize("followed_by_another_file", [True, False])
def test_file_read_differently_by_workers_is_an_error(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, followed_by_another_file: bool
) -> None:
    users = _users_file(tmp_path / "users.jsonl", 3 * CHUNK_RECORDS)
    files = [users, _users_file(tmp_path / "more.jsonl", 10)] if followed_by_another_file else [users]
    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)
    # Every worker then reads the JSON Lines file whole, as it reads large CSV files.
    monkeypatch.setattr(parallel, "RESUMABLE_LAYOUTS", frozenset())
    monkeypatch.setattr(parallel, "read_items", _shorter_for_second_worker)

    with connect(database_url, autocommit=True) as conn:
        with pytest.raises(UsageError, match=f"input file changed while it was ingested: {users}"):
            list(ingest_files(conn, files, run_id=uuid.uuid4(), jobs=2))
        assert _profile_count(conn) == 3 * CHUNK_RECORDS


def _logging_read_chunk(log: Path) -> Callable[..., Any]:
    """Return read_chunk that appends the worker's name and the items it read to `log`."""

    def read_and_log(*args: Any, **kwargs: Any) -> Any:
        items, start = parallel_read_chunk(*args, **kwargs)
        with log.open("a") as out:
            out.write(f"{multiprocessing.current_process().name} {len(items)}\n")
        return items, start

    return read_and_log


@pytest.mark.parametrize("jobs", [2, 3])
def test_chained_workers_decode_each_record_once(
    database_url: str, second_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    # Files that end after a whole chunk, inside a chunk, a JSON array, and CSV with rows over two lines.
    exact = _users_file(tmp_path / "exact.jsonl", 2 * CHUNK_RECORDS)
    short = _users_file(tmp_path / "short.jsonl", 2 * CHUNK_RECORDS + 50)
    array = tmp_path / "array.json"
    array.write_text(json.dumps([_x_user(5000 + index, followers=index) for index in range(CHUNK_RECORDS + 7)]))
    rows = tmp_path / "followers.csv"
    rows.write_text(
        "Platform,Handle,Full Name,Bio,Followers\n"
        + "".join(f'tiktok,maker_{n},Maker {n},"Prints,\nframes {n}",{n}\n' for n in range(CHUNK_RECORDS + 3))
    )
    files = [exact, short, array, rows]
    log = tmp_path / "reads.log"
    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)
    monkeypatch.setattr(parallel, "read_chunk", _logging_read_chunk(log))

    one_process = _ingest(database_url, files, jobs=1)
    in_turns = _ingest(second_database_url, files, jobs=jobs)

    assert in_turns == one_process
    assert _stored(second_database_url) == _stored(database_url)
    reads = [line.split() for line in log.read_text().splitlines()]
    assert sum(int(items) for _, items in reads) == 6 * CHUNK_RECORDS + 60
    assert {worker for worker, _ in reads} == {f"sxe-ingest-{worker}" for worker in range(jobs)}


def test_csv_options_reach_every_chunk(
    database_url: str, second_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = tmp_path / "fans.csv"
    rows.write_text("Account Handle,Fan Total\n" + "".join(f"fan_{n},{n}\n" for n in range(3 * CHUNK_RECORDS)))
    options = {"column_map": {"Account Handle": "handle", "Fan Total": "followers"}, "platform": Platform.TIKTOK}
    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)

    one_process = _ingest(database_url, [rows], jobs=1, **options)
    in_turns = _ingest(second_database_url, [rows], jobs=2, **options)

    assert in_turns == one_process
    assert one_process[0][3] == 3 * CHUNK_RECORDS
    stored = _stored(second_database_url)
    assert stored == _stored(database_url)
    assert {platform for platform, *_ in stored["profiles"]} == {"tiktok"}


def test_gzip_file_in_turns_matches_one_process(
    database_url: str, second_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _users_file(tmp_path / "users.jsonl", 2 * CHUNK_RECORDS + 9)
    compressed = tmp_path / "users.jsonl.gz"
    compressed.write_bytes(gzip.compress(plain.read_bytes()))
    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)

    one_process = _ingest(database_url, [compressed], jobs=1)
    in_turns = _ingest(second_database_url, [compressed], jobs=2)

    assert in_turns == one_process
    assert one_process[0][3] == 2 * CHUNK_RECORDS + 9
    assert _stored(second_database_url) == _stored(database_url)


def _counting_gzip_reads(log: Path) -> type[reader.GzipContent]:
    """Return a GzipContent that appends the process name and the gzip file to `log` once it reads to the end."""

    class CountingContent(reader.GzipContent):
        def __init__(self, compressed: Any) -> None:
            super().__init__(compressed)
            self.file = getattr(compressed, "name", "stream")
            self.ended = False

        def read(self, size: int = -1) -> bytes:
            data = super().read(size)
            if size != 0 and not data and not self.ended:
                self.ended = True
                with log.open("a") as out:
                    out.write(f"{multiprocessing.current_process().name} {self.file}\n")
            return data

    return CountingContent


def _worker_reads_to_end(log: Path) -> dict[str, int]:
    """Count, per gzip file, the worker processes that decompressed it to its end."""
    counts: dict[str, int] = {}
    for line in log.read_text().splitlines() if log.exists() else []:
        process, file = line.split(" ", 1)
        if process.startswith("sxe-ingest-"):
            counts[file] = counts.get(file, 0) + 1
    return counts


def _with_gz_names(stored: dict[str, list[tuple[Any, ...]]], names: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    """Return the stored rows with each plain file's path replaced by its gzip file's path."""

    def renamed(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        for plain, compressed in names.items():
            value = value.replace(plain, compressed)
        return value

    return {table: [tuple(renamed(value) for value in row) for row in rows] for table, rows in stored.items()}


@pytest.fixture
def third_database_url(server_url: str, template_url: str) -> Iterator[str]:
    with scratch_database(server_url, "sxe_parallel_plain", TEMPLATE_DATABASE) as url:
        yield url


def test_gzip_decoded_once_matches_plain(
    database_url: str,
    second_database_url: str,
    third_database_url: str,
    input_files: list[Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gz_files = []
    for plain in input_files:
        compressed = tmp_path / plain.parent.name / f"{plain.name}.gz"
        compressed.parent.mkdir(exist_ok=True)
        compressed.write_bytes(gzip.compress(plain.read_bytes()))
        os.utime(compressed, (FILE_TIME, FILE_TIME))
        gz_files.append(compressed)
    log = tmp_path / "gzip-reads.log"
    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)
    monkeypatch.setattr(reader, "GzipContent", _counting_gzip_reads(log))

    in_turns = _ingest(second_database_url, gz_files, jobs=2)
    reads_to_end = _worker_reads_to_end(log)
    one_process = _ingest(database_url, gz_files, jobs=1)
    plain_in_turns = _ingest(third_database_url, input_files, jobs=2)

    names = {str(plain): str(compressed) for plain, compressed in zip(input_files, gz_files, strict=True)}
    assert in_turns == one_process
    assert [(names[file], *counts) for file, *counts in plain_in_turns] == one_process
    stored = _stored(second_database_url)
    assert stored == _stored(database_url)
    assert _with_gz_names(_stored(third_database_url), names) == stored
    assert sum(quarantined for *_, quarantined in one_process) > 0
    # A worker decompresses a JSON Lines or array file once for all workers, and reads
    # a larger JSON document whole, as every worker does.
    resumable = [reader.choose_layout(path) in reader.RESUMABLE_LAYOUTS for path in gz_files]
    assert {str(path): 1 if once else 2 for path, once in zip(gz_files, resumable, strict=True)} == reads_to_end
    assert 0 < sum(resumable) < len(gz_files)


def _damaged_gzip(path: Path, damage: str) -> Path:
    """Write a gzip file of 3 chunks of users to `path`, cut short or with an invalid deflate block at two thirds.

    The invalid block makes zlib raise, which loses the content decompressed in the same
    call, so how much is lost depends on the sizes the content is read in.
    """
    lines = _users_file(path.with_suffix(""), 3 * CHUNK_RECORDS).read_bytes()
    cut = lines.index(b"\n", len(lines) * 2 // 3) + 1
    compressed, block_start = gzip_split_at(lines, cut)
    if damage == "truncated":
        del compressed[len(compressed) * 2 // 3 :]
    elif damage == "corrupted":
        # A last block of the reserved type 11.
        compressed[block_start] = 0xFF
    path.write_bytes(bytes(compressed))
    return path


def _scratch_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make `tempfile` create its folders in a new folder under `tmp_path`, and return that folder."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return scratch


def _modes_in(folder: Path) -> set[tuple[str, int]]:
    return {("folder" if path.is_dir() else "file", stat.S_IMODE(path.stat().st_mode)) for path in folder.rglob("*")}


@pytest.mark.parametrize("damage", ["intact", "truncated", "corrupted"])
def test_gzip_copy_read_in_turns_and_removed(
    database_url: str, second_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    compressed = _damaged_gzip(tmp_path / "users.jsonl.gz", damage)
    scratch = _scratch_folder(tmp_path, monkeypatch)
    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)
    modes_seen: set[tuple[str, int]] = set()

    one_process = _ingest(database_url, [compressed], jobs=1)
    in_turns = _ingest(
        second_database_url, [compressed], jobs=2, on_chunk=lambda _: modes_seen.update(_modes_in(scratch))
    )

    assert in_turns == one_process
    stored = _stored(second_database_url)
    assert stored == _stored(database_url)
    assert modes_seen == {("folder", 0o700), ("file", 0o600)}
    assert list(scratch.iterdir()) == []
    damage_rows = [row for row in stored["quarantine"] if "gzip file: " in row[2]]
    accepted = one_process[0][3]
    if damage == "intact":
        assert accepted == 3 * CHUNK_RECORDS
        assert damage_rows == []
    elif damage == "truncated":
        assert CHUNK_RECORDS < accepted < 3 * CHUNK_RECORDS
        assert [location for location, *_ in damage_rows] == [str(compressed)]
    else:
        assert one_process == [(str(compressed), "unknown", 0, 0, 0, 0)]
        assert [location for location, *_ in damage_rows] == [str(compressed)]
        assert damage_rows[0][2].startswith(f"{compressed} is a corrupt gzip file: ")
        assert "invalid block type" in damage_rows[0][2]


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("copied", [False, True], ids=["read whole", "copied"])
def test_corrupt_gzip_leaves_other_files_stored(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int, copied: bool
) -> None:
    # Both files hold the same users, so a record stored from the corrupt one would make its twin a duplicate.
    corrupt = _damaged_gzip(tmp_path / "corrupt.jsonl.gz", "corrupted")
    good = _damaged_gzip(tmp_path / "good.jsonl.gz", "intact")
    if copied:
        monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)

    results = _ingest(database_url, [corrupt, good], jobs=jobs)

    assert results[0] == (str(corrupt), "unknown", 0, 0, 0, 0)
    assert results[1] == (str(good), "x-api-v2", 3 * CHUNK_RECORDS, 3 * CHUNK_RECORDS, 0, 0)
    quarantine = _stored(database_url)["quarantine"]
    assert [(location, kind) for location, kind, *_ in quarantine] == [(str(corrupt), "unparseable")]
    with connect(database_url, autocommit=True) as conn:
        assert _profile_count(conn) == 3 * CHUNK_RECORDS


def test_gzip_copy_removed_once_its_file_is_stored(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [_damaged_gzip(tmp_path / f"users-{number}.jsonl.gz", "intact") for number in range(2)]
    scratch = _scratch_folder(tmp_path, monkeypatch)
    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)
    copies_seen: dict[str, set[str]] = {}

    def look(result: Any) -> None:
        copies_seen.setdefault(Path(result.file).name, set()).update(path.name for path in scratch.glob("*/*"))

    _ingest(database_url, files, jobs=2, on_chunk=look)

    assert "0.content" in copies_seen["users-0.jsonl.gz"]
    assert copies_seen["users-1.jsonl.gz"] == {"1.content"}
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("error", [RuntimeError("stopped on purpose"), KeyboardInterrupt()])
def test_gzip_copy_removed_when_ingest_stops(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    compressed = _damaged_gzip(tmp_path / "users.jsonl.gz", "intact")
    scratch = _scratch_folder(tmp_path, monkeypatch)
    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)
    modes_seen: set[tuple[str, int]] = set()

    def stop(_: Any) -> None:
        modes_seen.update(_modes_in(scratch))
        raise error

    with connect(database_url, autocommit=True) as conn:
        with pytest.raises(type(error)):
            list(ingest_files(conn, [compressed], run_id=uuid.uuid4(), jobs=2, on_chunk=stop))
        assert _profile_count(conn) == CHUNK_RECORDS

    assert modes_seen == {("folder", 0o700), ("file", 0o600)}
    assert list(scratch.iterdir()) == []
    assert multiprocessing.active_children() == []


def _appending_after_first_chunk(path: Path) -> Callable[..., Any]:
    """Return read_chunk that appends a line to `path` once the first chunk is read, as a writer might."""

    def read_then_append(file: Path, size: int, start: Any = None, *options: Any) -> Any:
        read = parallel_read_chunk(file, size, start, *options)
        if start is None:
            with path.open("a") as out:
                out.write(json.dumps(_x_user(9999, followers=1)) + "\n")
        return read

    return read_then_append


def test_file_changed_between_handovers_is_an_error(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = _users_file(tmp_path / "users.jsonl", 3 * CHUNK_RECORDS)
    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)
    monkeypatch.setattr(parallel, "read_chunk", _appending_after_first_chunk(users))

    with connect(database_url, autocommit=True) as conn:
        with pytest.raises(UsageError, match=f"input file changed while it was ingested: {users}"):
            list(ingest_files(conn, [users], run_id=uuid.uuid4(), jobs=2))
        assert _profile_count(conn) == CHUNK_RECORDS


def test_missing_file_raises_usage_error(database_url: str, tmp_path: Path) -> None:
    users = _users_file(tmp_path / "users.jsonl", 10)
    missing = tmp_path / "missing.jsonl"

    with connect(database_url, autocommit=True) as conn:
        stored: list[Any] = []
        with pytest.raises(UsageError, match=f"input file not found: {missing}"):
            for result in ingest_files(conn, [users, missing], run_id=uuid.uuid4(), jobs=2):
                stored.append(result)

    assert [result.accepted for result in stored] == [10]


def test_worker_sends_profiles_without_payload(database_url: str, tmp_path: Path) -> None:
    users = _users_file(tmp_path / "users.jsonl", 2)
    with users.open("a") as out:
        out.write(json.dumps({"title": "Not Found Error", "detail": "Could not find user"}) + "\n")

    with connect(database_url, autocommit=True) as conn:
        chunk = parallel._finish_chunk(conn, 0, list(read_items(users)))

    *profiles, error_body = chunk.records
    assert sorted(chunk.prepared) == [0, 1]
    assert [record.payload for record in profiles] == [None, None]
    assert ["[email]" in chunk.prepared[position].payload_json for position in (0, 1)] == [True, True]
    assert error_body.payload == {"title": "Not Found Error", "detail": "Could not find user"}


def test_worker_leaves_repeated_profile_unredacted(database_url: str, tmp_path: Path) -> None:
    user = _x_user(1, followers=5)
    users = tmp_path / "users.jsonl"
    users.write_text("".join(json.dumps(record) + "\n" for record in (user, {**user, "pinned_tweet_id": "7"})))

    with connect(database_url, autocommit=True) as conn:
        chunk = parallel._finish_chunk(conn, 0, list(read_items(users)))

    first, repeat = chunk.prepared[0], chunk.prepared[1]
    assert first.payload_json is not None
    assert "[email]" in first.payload_json
    assert repeat.payload_json is None
    assert repeat.unredacted_json is not None
    assert json.loads(repeat.unredacted_json)["pinned_tweet_id"] == "7"


def test_record_left_unredacted_is_redacted_when_stored(database_url: str, tmp_path: Path) -> None:
    # The worker leaves the repeat unredacted, but another ingest stores the first record
    # and changes the profile before this chunk is stored, so the repeat is stored after all.
    user = _x_user(1, followers=5)
    users = tmp_path / "users.jsonl"
    users.write_text("".join(json.dumps(record) + "\n" for record in (user, {**user, "pinned_tweet_id": "7"})))
    meanwhile = tmp_path / "meanwhile.jsonl"
    meanwhile.write_text(json.dumps(user) + "\n" + json.dumps(_x_user(1, followers=999)) + "\n")

    with connect(database_url, autocommit=True) as conn:
        chunk = parallel._finish_chunk(conn, 0, list(read_items(users)))
        list(ingest_files(conn, [meanwhile], run_id=uuid.uuid4(), jobs=1))
        messages = iter([chunk, parallel._FileEnd(0)])
        storing = parallel._Storing(uuid.uuid4(), None, IngestScreen(lambda: b"k" * 32), True, parallel.Source(), None)
        result = storing.store_file(conn, users, messages)
        row = conn.execute("SELECT payload FROM social.raw_records WHERE payload->>'pinned_tweet_id' = '7'").fetchone()

    assert chunk.prepared[1].payload_json is None
    assert result.accepted == 1
    assert row is not None
    assert "[email]" in row["payload"]["description"]
    assert "[phone]" in row["payload"]["description"]
    assert "@example.com" not in json.dumps(row["payload"])


def test_no_files_start_no_worker(conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    def no_workers(*arguments: Any) -> None:
        raise AssertionError("ingest_files started workers for no files")

    monkeypatch.setattr(parallel, "_Workers", no_workers)

    results = list(ingest_files(conn, [], run_id=uuid.uuid4(), jobs=2))

    assert results == []


@pytest.mark.parametrize("jobs", [1, 2])
def test_ingest_collects_garbage_less_often(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    users = _users_file(tmp_path / "users.jsonl", 2 * CHUNK_RECORDS)
    prepare = parallel.prepare_records
    before = gc.get_threshold()
    seen_by_caller: list[int] = []

    def prepare_checked(items: list[PrepareItem]) -> Any:
        # A worker's failure reaches the caller as the error of its turn.
        if gc.get_threshold()[0] != parallel.INGEST_GC_THRESHOLD:
            raise RuntimeError(f"ingest ran with the collector threshold {gc.get_threshold()}")
        return prepare(items)

    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)
    monkeypatch.setattr(parallel, "prepare_records", prepare_checked)
    with connect(database_url, autocommit=True) as conn:
        results = list(
            ingest_files(
                conn,
                [users],
                run_id=uuid.uuid4(),
                jobs=jobs,
                on_chunk=lambda result: seen_by_caller.append(gc.get_threshold()[0]),
            )
        )

    assert results[0].accepted == 2 * CHUNK_RECORDS
    assert seen_by_caller and set(seen_by_caller) == {parallel.INGEST_GC_THRESHOLD}
    assert gc.get_threshold() == before


def test_copy_folders_of_ended_processes_are_removed(tmp_path: Path) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    orphan = tmp_path / f"{parallel.COPIES_PREFIX}{ended.pid}-abc"
    live = tmp_path / f"{parallel.COPIES_PREFIX}{os.getpid()}-def"
    unrelated = tmp_path / f"{parallel.COPIES_PREFIX}notes"
    for folder in (orphan, live, unrelated):
        folder.mkdir()
        (folder / "0.content").write_bytes(b"{}")

    parallel._remove_orphaned_copies(tmp_path)

    assert not orphan.exists()
    assert live.exists()
    assert unrelated.exists()


def test_ingest_removes_copy_folders_left_by_killed_callers(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    orphan = temporary / f"{parallel.COPIES_PREFIX}{ended.pid}-abc"
    orphan.mkdir()
    users = _users_file(tmp_path / "users.jsonl", CHUNK_RECORDS)
    packed = tmp_path / "users.jsonl.gz"
    packed.write_bytes(gzip.compress(users.read_bytes()))
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    monkeypatch.setattr(parallel, "SMALL_FILE_BYTES", 0)

    with connect(database_url, autocommit=True) as conn:
        [result] = ingest_files(conn, [packed], run_id=uuid.uuid4(), jobs=2)

    assert result.accepted == CHUNK_RECORDS
    assert list(temporary.iterdir()) == []
