"""Ingest over worker processes stores exactly what ingest in one process stores."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import TEMPLATE_DATABASE, scratch_database

from sxe.db import connect
from sxe.errors import UsageError
from sxe.ingest.parallel import ingest_files
from sxe.ingest.store import CHUNK_RECORDS
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


def _ingest(url: str, files: list[Path], jobs: int) -> list[tuple[Any, ...]]:
    with connect(url, autocommit=True) as conn:
        results = list(ingest_files(conn, files, run_id=uuid.uuid4(), jobs=jobs))
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
