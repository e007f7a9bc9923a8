"""Ingestion against a real PostgreSQL: identity, change detection, history, attribution and quarantine."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sxe.db import connect
from sxe.ingest import read_profiles, store
from sxe.ingest.store import CHUNK_RECORDS, Attribution, FileResult, ingest_file, ingest_records
from sxe.pii import contains_pii

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Provider replies are fixtures too, but not audience input.
PROVIDER_FIXTURES = {"apollo", "dealmachine"}
CORPUS_FORMATS = sorted(
    path.name for path in FIXTURES.iterdir() if path.is_dir() and path.name not in PROVIDER_FIXTURES
)
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def write_jsonl(path: Path, values: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(value) + "\n" for value in values), encoding="utf-8")
    return path


def x_user(handle: str, followers: int, user_id: str = "42", **fields: Any) -> dict[str, Any]:
    metrics = {"followers_count": followers, "following_count": 10, "tweet_count": 5, "like_count": 7}
    return {"id": user_id, "username": handle, "name": "Mara", "public_metrics": metrics, **fields}


def ingest(conn: psycopg.Connection[Any], path: Path, **options: Any) -> FileResult:
    options.setdefault("run_id", uuid.uuid4())
    options.setdefault("collected_at", T0)
    return ingest_file(conn, path, **options)


def rows(conn: psycopg.Connection[Any], query: str) -> list[dict[str, Any]]:
    return list(conn.execute(query).fetchall())


def test_handle_change_keeps_same_profile(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    ingest(conn, write_jsonl(tmp_path / "a.jsonl", [x_user("mara_bakes", 100)]))
    ingest(conn, write_jsonl(tmp_path / "b.jsonl", [x_user("mara_bakery", 100)]), collected_at=T0 + timedelta(1))

    profiles = rows(conn, "SELECT handle, identity_key FROM social.profiles")

    assert profiles == [{"handle": "mara_bakery", "identity_key": "id:42"}]


def test_unchanged_content_stores_nothing(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    ingest(conn, write_jsonl(tmp_path / "a.jsonl", [x_user("mara", 100)]))
    # Same profile, different raw bytes: a scraper field that normalization ignores.
    second = ingest(conn, write_jsonl(tmp_path / "b.jsonl", [x_user("mara", 100, profile_image_url="https://i/2")]))

    assert second.accepted == 0
    assert second.duplicates == 1
    assert rows(conn, "SELECT count(*) AS n FROM social.raw_records") == [{"n": 1}]
    assert rows(conn, "SELECT count(*) AS n FROM social.profile_observations") == [{"n": 1}]


def test_redelivered_unchanged_record_skips_normalization(
    conn: psycopg.Connection[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(conn, write_jsonl(tmp_path / "a.jsonl", [x_user("mara", 100)]))
    unchanged = write_jsonl(tmp_path / "b.jsonl", [x_user("mara", 100, profile_image_url="https://i/2")])
    ingest(conn, unchanged)
    prepared: list[str] = []
    original = store._normalized_parts
    monkeypatch.setattr(store, "_normalized_parts", lambda *args: prepared.append(args[0]) or original(*args))

    again = ingest(conn, unchanged)

    assert (again.accepted, again.duplicates, prepared) == (0, 1, [])
    remembered = rows(conn, "SELECT profile_id FROM social.unchanged_deliveries")
    assert remembered == rows(conn, "SELECT id AS profile_id FROM social.profiles")


def test_repeat_in_chunk_is_not_redacted(
    conn: psycopg.Connection[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A scraper field that normalization ignores: the second record repeats the first's profile.
    records = [x_user("mara", 100), x_user("mara", 100, pinned_tweet_id="7")]
    redacted: list[Any] = []
    original = store.redact_value
    monkeypatch.setattr(store, "redact_value", lambda value: redacted.append(value) or original(value))

    result = ingest(conn, write_jsonl(tmp_path / "a.jsonl", records))

    assert (result.accepted, result.duplicates) == (1, 1)
    assert [value.get("pinned_tweet_id") for value in redacted] == [None]


def test_unchanged_delivery_goes_with_its_profile(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    ingest(conn, write_jsonl(tmp_path / "a.jsonl", [x_user("mara", 100), x_user("mara", 100, lang="en")]))
    assert rows(conn, "SELECT count(*) AS n FROM social.unchanged_deliveries") == [{"n": 1}]

    conn.execute("DELETE FROM social.profiles")

    assert rows(conn, "SELECT count(*) AS n FROM social.unchanged_deliveries") == [{"n": 0}]


def test_changed_content_appends_observation(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    first_run, second_run = uuid.uuid4(), uuid.uuid4()
    ingest(conn, write_jsonl(tmp_path / "a.jsonl", [x_user("mara", 100)]), run_id=first_run, source_name="scrape-a")
    ingest(
        conn,
        write_jsonl(tmp_path / "b.jsonl", [x_user("mara", 250)]),
        run_id=second_run,
        source_name="scrape-b",
        collected_at=T0 + timedelta(days=7),
        source_url="https://api.example/users?ids=42",
    )

    history = rows(
        conn,
        """SELECT followers, following, posts, likes, source_name, run_id, collected_at, source_url
             FROM social.profile_observations ORDER BY observed_at""",
    )
    profile = rows(conn, "SELECT followers FROM social.profiles")

    assert profile == [{"followers": 250}]
    assert [entry["followers"] for entry in history] == [100, 250]
    assert history[1]["likes"] == 7
    assert [entry["source_name"] for entry in history] == ["scrape-a", "scrape-b"]
    assert [entry["run_id"] for entry in history] == [first_run, second_run]
    assert history[1]["collected_at"] == T0 + timedelta(days=7)
    assert history[0]["source_url"] is None
    assert history[1]["source_url"] == "https://api.example/users?ids=42"


def test_rerun_of_file_stores_nothing(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [x_user("mara", 100), x_user("ben", 5, "43"), {"username": "noid"}])
    ingest(conn, path)
    tables = ("social.raw_records", "social.profile_observations", "ops.quarantine", "social.profiles")
    before = {table: rows(conn, f"SELECT count(*) AS n FROM {table}") for table in tables}

    again = ingest(conn, path)

    assert again.accepted == 0
    assert again.duplicates == 2
    assert {table: rows(conn, f"SELECT count(*) AS n FROM {table}") for table in tables} == before


def test_quarantine_keeps_raw_bytes_hash(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    bad = b'{"id": "9", "username": "cut'
    path = tmp_path / "a.jsonl"
    path.write_bytes(json.dumps(x_user("mara", 100)).encode() + b"\n" + bad)

    result = ingest(conn, path)
    [row] = rows(conn, "SELECT location, kind, reason, raw_sha256, source_file FROM ops.quarantine")

    assert result.quarantined_total == 1
    assert row["raw_sha256"] == hashlib.sha256(bad).hexdigest()
    assert row["location"] == f"{path}:2"
    assert row["kind"] == "unparseable"
    assert row["source_file"] == str(path)


def test_concurrent_ingest_of_same_profile_changes_once(database_url: str, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [x_user("mara", 100)])
    results: list[FileResult] = []

    def worker() -> None:
        with connect(database_url, autocommit=True) as own:
            results.append(ingest(own, path))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with connect(database_url, autocommit=True) as check:
        assert rows(check, "SELECT count(*) AS n FROM social.profile_observations") == [{"n": 1}]
    assert sum(result.accepted for result in results) == 1
    assert sum(result.duplicates for result in results) == 3


def test_whole_fixture_corpus_ingests(conn: psycopg.Connection[Any]) -> None:
    totals = {"records": 0, "accepted": 0, "duplicates": 0, "quarantined": 0}
    for format_name in CORPUS_FORMATS:
        for path in sorted((FIXTURES / format_name).iterdir()):
            result = ingest(conn, path)
            assert result.format == format_name, path.name
            totals["records"] += result.records
            totals["accepted"] += result.accepted
            totals["duplicates"] += result.duplicates
            totals["quarantined"] += result.quarantined_total

    assert totals == {"records": 47, "accepted": 25, "duplicates": 6, "quarantined": 16}
    platforms = rows(conn, "SELECT platform, count(*) AS n FROM social.profiles GROUP BY platform ORDER BY platform")
    assert {row["platform"] for row in platforms} == {"instagram", "threads", "tiktok", "x"}


def test_fixture_corpus_leaves_no_contact_data(conn: psycopg.Connection[Any]) -> None:
    for format_name in CORPUS_FORMATS:
        for path in sorted((FIXTURES / format_name).iterdir()):
            ingest(conn, path)

    columns = rows(
        conn,
        """SELECT table_schema, table_name, column_name FROM information_schema.columns
            WHERE table_schema IN ('social', 'ops')
              AND data_type IN ('text', 'jsonb', 'ARRAY')""",
    )
    leaks = []
    for column in columns:
        name = f'{column["table_schema"]}.{column["table_name"]}."{column["column_name"]}"'
        table = f"{column['table_schema']}.{column['table_name']}"
        for value in conn.execute(f"SELECT {name}::text AS v FROM {table}"):
            if value["v"] and contains_pii(value["v"]):
                leaks.append(name)

    assert leaks == []
    flagged = rows(conn, "SELECT count(*) AS n FROM social.profiles WHERE bio_has_email OR bio_has_phone")
    assert flagged[0]["n"] >= 8


def test_attribution_dataclass_names_the_source() -> None:
    attribution = Attribution(uuid.uuid4(), "apify", "imports/x.json", T0, "https://api.apify.example/v2/datasets/1")

    assert attribution.source_file == "imports/x.json"
    assert attribution.source_url is not None


def test_import_crash_then_rerun_stores_once(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "big.jsonl", [x_user(f"user{n}", n, str(1000 + n)) for n in range(700)])
    attribution = Attribution(uuid.uuid4(), "file", str(path), T0)

    def crashing() -> Any:
        for number, record in enumerate(read_profiles(path)):
            if number == 600:
                raise OSError("disk read failed")
            yield record

    with pytest.raises(OSError):
        ingest_records(conn, crashing(), attribution)
    committed = rows(conn, "SELECT count(*) AS n FROM social.profiles")[0]["n"]
    again = ingest(conn, path)

    assert committed == CHUNK_RECORDS
    assert again.duplicates == CHUNK_RECORDS
    assert again.accepted == 700 - CHUNK_RECORDS
    assert rows(conn, "SELECT count(*) AS n FROM social.profile_observations") == [{"n": 700}]


def test_older_record_keeps_newer_profile(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    ingest(conn, write_jsonl(tmp_path / "new.jsonl", [x_user("mara_bakery", 250)]), collected_at=T0 + timedelta(7))

    older = ingest(conn, write_jsonl(tmp_path / "old.jsonl", [x_user("mara_bakes", 100)]), collected_at=T0)
    profile = rows(conn, "SELECT handle, followers, collected_at FROM social.profiles")
    history = rows(conn, "SELECT followers, observed_at FROM social.profile_observations ORDER BY observed_at")

    assert profile == [{"handle": "mara_bakery", "followers": 250, "collected_at": T0 + timedelta(7)}]
    assert older.accepted == 1
    assert older.profiles_changed == 0
    assert older.profile_ids == set()
    assert history == [{"followers": 100, "observed_at": T0}, {"followers": 250, "observed_at": T0 + timedelta(7)}]


def test_older_rerun_stores_nothing(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    ingest(conn, write_jsonl(tmp_path / "new.jsonl", [x_user("mara", 250)]), collected_at=T0 + timedelta(7))
    old = write_jsonl(tmp_path / "old.jsonl", [x_user("mara", 100)])
    ingest(conn, old, collected_at=T0)

    again = ingest(conn, old, collected_at=T0)

    assert again.accepted == 0
    assert again.duplicates == 1
    assert rows(conn, "SELECT count(*) AS n FROM social.profile_observations") == [{"n": 2}]


def test_same_profile_twice_in_chunk(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    records = [x_user("mara", 100), x_user("mara", 100, profile_image_url="https://i/2"), x_user("mara", 250)]

    result = ingest(conn, write_jsonl(tmp_path / "a.jsonl", records))
    history = rows(conn, "SELECT followers FROM social.profile_observations ORDER BY id")

    assert result.accepted == 2
    assert result.duplicates == 1
    assert result.new_profiles == 1
    assert history == [{"followers": 100}, {"followers": 250}]
    assert rows(conn, "SELECT followers FROM social.profiles") == [{"followers": 250}]


def test_repeated_record_in_chunk_stored_once(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    records = [x_user("mara", 100), x_user("ben", 5, "43"), x_user("mara", 100)]

    result = ingest(conn, write_jsonl(tmp_path / "a.jsonl", records))

    assert result.accepted == 2
    assert result.duplicates == 1
    assert rows(conn, "SELECT count(*) AS n FROM social.raw_records") == [{"n": 2}]


def test_quarantine_chunk_keeps_good_neighbours(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"not json\n" + json.dumps(x_user("mara", 100)).encode() + b'\n{"username": "noid"}\nnope\n')

    first = ingest(conn, path)
    again = ingest(conn, path)
    quarantined = rows(conn, "SELECT location, kind FROM ops.quarantine ORDER BY location")

    assert first.accepted == 1
    assert first.quarantined_total == 3
    assert again.quarantined_total == 3
    assert [row["location"] for row in quarantined] == [f"{path}:1", f"{path}:3", f"{path}:4"]


def test_concurrent_chunks_in_opposite_orders(database_url: str, tmp_path: Path) -> None:
    users = [x_user(f"user{n}", n, str(5000 + n)) for n in range(60)]
    forward = write_jsonl(tmp_path / "forward.jsonl", users)
    backward = write_jsonl(tmp_path / "backward.jsonl", [{**user, "name": "Changed"} for user in reversed(users)])
    errors: list[BaseException] = []

    def worker(path: Path) -> None:
        try:
            with connect(database_url, autocommit=True) as own:
                ingest(own, path)
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(path,)) for path in (forward, backward, forward, backward)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with connect(database_url, autocommit=True) as check:
        assert rows(check, "SELECT count(*) AS n FROM social.profiles") == [{"n": 60}]
        assert rows(check, "SELECT count(*) AS n FROM social.raw_records") == [{"n": 120}]
        observations = rows(check, "SELECT count(*) AS n FROM social.profile_observations")
    assert errors == []
    # Each stored raw record has its observation. A profile may also flip back to
    # content stored before by a racing thread, which adds an observation but no raw record.
    assert 120 <= observations[0]["n"] <= 240


def test_huge_count_is_flagged(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [x_user("huge", 10**30, user_id="1"), x_user("mara", 100, user_id="2")])

    result = ingest(conn, path)
    stored = rows(conn, "SELECT handle, followers, quality_flags FROM social.profiles ORDER BY handle")

    assert result.accepted == 2
    assert stored[0]["handle"] == "huge"
    assert stored[0]["followers"] is None
    assert "invalid_count:followers" in stored[0]["quality_flags"]
    assert stored[1]["followers"] == 100
