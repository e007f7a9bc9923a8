"""`sxe import` on local files and `imports/` objects, against a real PostgreSQL."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from gzip_support import gzip_split_at
from moto import mock_aws

from sxe.cli import main
from sxe.commands import EXIT_PARTLY_DONE
from sxe.db import connect

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Path:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("SXE_IMPORTS_BUCKET", raising=False)
    return tmp_path / "state"


def run_import(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    status = main(["import", *args, "--json"])
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    return status, {} if "error" in summary else summary, captured.err


def test_import_local_file(environment: Path, capsys: pytest.CaptureFixture[str], database_url: str) -> None:
    status, summary, _ = run_import(capsys, str(FIXTURES / "instagram-scraper" / "profiles.json"), "--no-progress")

    assert status == 0
    assert summary["format"] == "instagram-scraper"
    assert summary["records"] == 4
    assert summary["stored"] == 2
    assert summary["new_profiles"] == 2
    assert summary["quarantined"] == 2
    with connect(database_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) AS n FROM social.profiles").fetchone()["n"] == 2


def test_import_rerun_stores_nothing(environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = str(FIXTURES / "csv-followers" / "twarc-followers.csv")
    run_import(capsys, source, "--no-progress")

    status, again, _ = run_import(capsys, source, "--no-progress")

    assert status == 0
    assert again["stored"] == 0
    assert again["duplicates"] == 3
    assert again["quarantined"] == 0


def test_import_shows_progress_on_stderr(environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, stderr = run_import(capsys, str(FIXTURES / "threads-scraper" / "snake-case.json"), "--progress")

    assert status == 0
    assert "snake-case.json" in stderr
    assert "100%" in stderr


def write_users(path: Path, records: int) -> Path:
    """Write `records` invented X API v2 users as JSON Lines, about 330 bytes each."""
    with path.open("w", encoding="utf-8") as handle:
        for number in range(records):
            user = {
                "id": str(70_000_000 + number),
                "username": f"import_user_{number}",
                "name": f"Import User {number}",
                "description": "Potter and weaver, writing about clay and thread. " * 3,
                "public_metrics": {"followers_count": number, "following_count": 12, "tweet_count": 7},
            }
            handle.write(json.dumps(user) + "\n")
    return path


def test_import_large_file_uses_workers(
    environment: Path, capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path
) -> None:
    source = write_users(tmp_path / "users.jsonl", 4000)
    assert source.stat().st_size > 1024 * 1024
    options = ["--no-progress", "--jobs", "2", "--source-name", "crm-export", "--source-url", "https://crm.example/x"]

    status, summary, _ = run_import(capsys, str(source), *options)
    again_status, again, _ = run_import(capsys, str(source), *options)

    with connect(database_url, autocommit=True) as conn:
        profiles = conn.execute("SELECT count(*) AS n FROM social.profiles").fetchone()["n"]
        sources = conn.execute("SELECT DISTINCT source_name, source_url FROM social.profile_observations").fetchall()
    assert status == again_status == 0
    assert (summary["records"], summary["stored"], summary["new_profiles"]) == (4000, 4000, 4000)
    assert profiles == 4000
    assert sources == [{"source_name": "crm-export", "source_url": "https://crm.example/x"}]
    assert again["duplicates"] == 4000


def test_import_by_workers_counts_records_on_stderr(
    environment: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = write_users(tmp_path / "users.jsonl", 4000)

    status, _, stderr = run_import(capsys, str(source), "--progress", "--jobs", "2")

    assert status == 0
    assert "4000 records" in stderr


def test_import_rejects_zero_jobs(environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["import", str(FIXTURES / "threads-scraper" / "snake-case.json"), "--jobs", "0"])

    assert stopped.value.code == 2
    assert "give a whole number from 1 to 32" in capsys.readouterr().err


def test_import_key_from_local_store(environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = environment / "objects" / "imports" / "2026-12" / "followers.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes((FIXTURES / "csv-followers" / "mixed-export.csv").read_bytes())

    status, summary, _ = run_import(capsys, "imports/2026-12/followers.csv", "--platform", "threads")

    assert status == 0
    assert summary["source"] == "imports/2026-12/followers.csv"
    assert summary["stored"] == 3


def test_import_gzipped_key_from_local_store(environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = environment / "objects" / "imports" / "2026-12" / "followers.csv.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(gzip.compress((FIXTURES / "csv-followers" / "mixed-export.csv").read_bytes()))

    status, summary, _ = run_import(capsys, "imports/2026-12/followers.csv.gz", "--platform", "threads")

    assert status == 0
    assert summary["format"] == "csv-followers"
    assert summary["stored"] == 3


def write_cut_gzip(tmp_path: Path) -> Path:
    """Write 200 invented users as a gzip JSON Lines file cut to two thirds of its compressed size."""
    compressed = gzip.compress(write_users(tmp_path / "users.jsonl", 200).read_bytes())
    source = tmp_path / "users.jsonl.gz"
    source.write_bytes(compressed[: len(compressed) * 2 // 3])
    return source


def test_import_cut_gzip_reports_file_error(
    environment: Path, capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path
) -> None:
    source = write_cut_gzip(tmp_path)

    status, summary, _ = run_import(capsys, str(source), "--no-progress")

    with connect(database_url, autocommit=True) as conn:
        batch = conn.execute("SELECT records, quarantined FROM social.ingest_batches").fetchone()
        rows = conn.execute("SELECT location, kind FROM ops.quarantine ORDER BY location").fetchall()
    [error] = summary["file_errors"]
    assert status == EXIT_PARTLY_DONE
    assert 0 < summary["stored"] < 200
    assert summary["records"] == summary["stored"] + summary["quarantined"]
    assert all(item["location"] != str(source) for item in summary["quarantine"])
    assert error["file"] == str(source)
    assert error["offset"] > 0
    assert f"after decompressed byte {error['offset']} was not read" in error["reason"]
    assert error["reason"].endswith("so compress or download the file again")
    assert batch == {"records": summary["records"], "quarantined": summary["quarantined"]}
    assert len(rows) == summary["quarantined"] + 1
    assert {"location": str(source), "kind": "unparseable"} in rows


def write_corrupt_gzip(tmp_path: Path, records: int, corruption: str) -> Path:
    """Write invented users as a gzip JSON Lines file without compression, corrupt in the middle.

    Uncompressed deflate blocks contain the content as it is, so a changed digit
    decompresses without an error and only the CRC-32 check at the end fails. A block
    of the reserved type 11 makes zlib raise instead.
    """
    lines = write_users(tmp_path / "users.jsonl", records).read_bytes()
    compressed, block_start = gzip_split_at(lines, len(lines) // 2, compresslevel=0)
    if corruption == "invalid deflate data":
        compressed[block_start] = 0xFF
    else:
        digit = compressed.index(b"Import User ", block_start) + len(b"Import User ")
        compressed[digit] ^= 1  # 0 and 1, 2 and 3, and so on, swap, so the line still parses
    source = tmp_path / "users.jsonl.gz"
    source.write_bytes(bytes(compressed))
    return source


@pytest.mark.parametrize(
    ("records", "jobs"), [(200, "1"), (4000, "2")], ids=["small file", "file over 1 MiB in 2 workers"]
)
@pytest.mark.parametrize(
    ("corruption", "message"), [("changed content", "CRC check failed"), ("invalid deflate data", "invalid block type")]
)
def test_import_corrupt_gzip_stores_nothing(
    environment: Path,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    tmp_path: Path,
    records: int,
    jobs: str,
    corruption: str,
    message: str,
) -> None:
    source = write_corrupt_gzip(tmp_path, records, corruption)
    assert (source.stat().st_size > 1024 * 1024) == (records > 200)

    status, summary, stderr = run_import(capsys, str(source), "--no-progress", "--jobs", jobs)

    with connect(database_url, autocommit=True) as conn:
        profiles = conn.execute("SELECT count(*) AS n FROM social.profiles").fetchone()["n"]
        raw_records = conn.execute("SELECT count(*) AS n FROM social.raw_records").fetchone()["n"]
        rows = conn.execute("SELECT location, kind FROM ops.quarantine").fetchall()
    [error] = summary["file_errors"]
    assert status == EXIT_PARTLY_DONE
    assert "sxe: 1 file error" in stderr
    assert (summary["records"], summary["stored"], summary["duplicates"], summary["quarantined"]) == (0, 0, 0, 0)
    assert error["file"] == str(source)
    assert error["reason"].startswith(f"{source} is a corrupt gzip file: ")
    assert message in error["reason"]
    assert error["reason"].endswith("download or compress it again; nothing from this file was stored")
    assert (profiles, raw_records) == (0, 0)
    assert rows == [{"location": str(source), "kind": "unparseable"}]


def test_import_text_names_file_error(environment: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = write_cut_gzip(tmp_path)

    status = main(["import", str(source), "--no-progress"])

    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert status == EXIT_PARTLY_DONE
    assert "sxe: 1 file error: the records before each cut were stored" in captured.err
    assert any(line.startswith("  file error in users.jsonl.gz: file is a damaged gzip file: ") for line in lines)
    assert "    the 1 record quarantined from this file may include the record cut where the file ends" in captured.out
    assert not any(line.startswith(f"  {source}  unparseable") for line in lines)


def test_import_key_from_bucket(
    environment: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SXE_IMPORTS_BUCKET", "sxe-imports")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket="sxe-imports")
        body = (FIXTURES / "tiktok-profile-scraper" / "flat.json").read_bytes()
        client.put_object(Bucket="sxe-imports", Key="imports/tiktok.json", Body=body)

        status, summary, _ = run_import(capsys, "imports/tiktok.json", "--no-progress")

    assert status == 0
    assert summary["format"] == "tiktok-profile-scraper"
    assert summary["stored"] == 2


def test_import_from_missing_bucket_names_variable(
    environment: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SXE_IMPORTS_BUCKET", "no-such-bucket")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        status = main(["import", "imports/tiktok.json", "--no-progress"])

    error = capsys.readouterr().err
    assert status == 2
    assert "bucket 'no-such-bucket' (SXE_IMPORTS_BUCKET) does not exist" in error
    assert "Traceback" not in error


def test_import_without_credentials_names_variables(
    environment: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SXE_IMPORTS_BUCKET", "sxe-imports")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(environment / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(environment / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    status = main(["import", "imports/tiktok.json", "--no-progress"])

    assert status == 2
    assert "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in capsys.readouterr().err


def test_import_with_invalid_endpoint_names_variable(
    environment: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SXE_IMPORTS_BUCKET", "sxe-imports")
    monkeypatch.setenv("SXE_S3_ENDPOINT_URL", "127.0.0.1:5055")

    status = main(["import", "imports/tiktok.json", "--no-progress"])

    assert status == 2
    assert "invalid SXE_S3_ENDPOINT_URL '127.0.0.1:5055'" in capsys.readouterr().err


def test_import_missing_key_is_usage_error(environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["import", "imports/nothing-here.json"])

    assert status == 2
    assert "imports/nothing-here.json" in capsys.readouterr().err


def test_import_map_on_json_format_is_usage_error(environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["import", "x.json", "--format", "x-api-v2", "--map", "Fans=followers"])

    assert status == 2
    assert "--map applies to CSV files only" in capsys.readouterr().err


def test_import_directory_is_usage_error(environment: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "fans.csv").write_text("handle,platform\nana,x\n")

    status = main(["import", str(folder), "--no-progress"])

    error = capsys.readouterr().err
    assert status == 2
    assert f"import source {folder} is a directory, and sxe import reads one file" in error
    assert f"`sxe run {folder}`" in error


def test_import_directory_key_is_usage_error(environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (environment / "objects" / "imports" / "2026-12").mkdir(parents=True)

    status = main(["import", "imports/2026-12", "--no-progress"])

    assert status == 2
    assert "import source imports/2026-12 is a directory in the local object store" in capsys.readouterr().err


def test_import_error_prints_json_on_stdout(environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["import", "imports/nothing-here.json", "--json"])

    captured = capsys.readouterr()
    assert status == 2
    error = json.loads(captured.out)["error"]
    assert error["type"] == "UsageError"
    assert error["message"] == "import source not found: imports/nothing-here.json; check the path or key"
    assert "imports/nothing-here.json" in captured.err


def test_import_map_ignores_case_and_spaces(
    environment: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, database_url: str
) -> None:
    source = tmp_path / "fans.csv"
    source.write_text("Handle,FANS ,Platform\nmara_bakes,1200,tiktok\n")

    status, summary, _ = run_import(capsys, str(source), "--map", "fans=followers", "--no-progress")

    assert status == 0
    assert summary["stored"] == 1
    with connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT handle, followers FROM social.profiles").fetchone()
    assert (row["handle"], row["followers"]) == ("mara_bakes", 1200)


def test_import_header_without_handle_stores_nothing(
    environment: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, database_url: str
) -> None:
    source = tmp_path / "fans.csv"
    source.write_text("Creator,Fans\nmara_bakes,1200\ntessa_runs,880\n")

    status = main(["import", str(source), "--platform", "tiktok", "--no-progress", "--json"])

    captured = capsys.readouterr()
    assert status == 2
    message = json.loads(captured.out)["error"]["message"]
    assert f"CSV follower list {source} has no user id or handle column" in message
    assert "its columns are: Creator, Fans." in message
    assert "--map 'Their Column=handle'" in message
    with connect(database_url, autocommit=True) as conn:
        for table in ("social.ingest_batches", "social.raw_records", "social.profiles", "ops.quarantine"):
            assert conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"] == 0, table


def test_import_function_reads_object_key(
    environment: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    from sxe.functions import import_file

    target = environment / "objects" / "imports" / "users.jsonl"
    target.parent.mkdir(parents=True)
    target.write_bytes((FIXTURES / "x-api-v2" / "users.jsonl").read_bytes())

    result = import_file({"key": "imports/users.jsonl"})

    assert result["statusCode"] == 200
    assert result["body"]["ingested"] == 2


def test_import_function_takes_map_and_platform(environment: Path) -> None:
    from sxe.functions import import_file

    target = environment / "objects" / "imports" / "fans.csv"
    target.parent.mkdir(parents=True)
    target.write_text("creator,Fans\nmara_bakes,1200\ntessa_runs,880\n", encoding="utf-8")

    result = import_file(
        {"key": "imports/fans.csv", "map": {"creator": "handle", "Fans": "followers"}, "platform": "tiktok"}
    )

    assert result["statusCode"] == 200
    assert result["body"]["ingested"] == 2


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"map": ["creator=handle"]}, "'map' must be an object of COLUMN: FIELD"),
        ({"platform": "myspace"}, "'platform' 'myspace' is invalid"),
        ({"map": {"creator": "nickname"}}, "nickname"),
    ],
)
def test_import_function_rejects_bad_csv_options(environment: Path, event: dict[str, Any], message: str) -> None:
    from sxe.functions import import_file

    result = import_file({"key": "imports/fans.csv", **event})

    assert result["statusCode"] == 400
    assert message in result["body"]["detail"]


def test_quarantine_lists_import_rejects(environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_import(capsys, str(FIXTURES / "instagram-scraper" / "profiles.json"), "--no-progress")

    status = main(["quarantine", "--json", "--payload"])
    listing = json.loads(capsys.readouterr().out)

    assert status == 0
    assert listing["total"] == 2
    assert sum(listing["kinds"].values()) == 2
    assert all(row["location"].startswith(str(FIXTURES / "instagram-scraper")) for row in listing["records"])
    assert all(row["reason"] for row in listing["records"])
    assert all(row["payload"] is not None for row in listing["records"])


def test_quarantine_filters_and_limits(environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_import(capsys, str(FIXTURES / "instagram-scraper" / "profiles.json"), "--no-progress")
    main(["quarantine", "--json"])
    kind = next(iter(json.loads(capsys.readouterr().out)["kinds"]))

    main(["quarantine", "--kind", kind, "--limit", "1"])
    text = capsys.readouterr().out
    main(["quarantine", "--source", "no-such-file", "--json"])
    other = json.loads(capsys.readouterr().out)

    main(["quarantine", "--kind", "no_such_kind", "--json"])
    unknown = json.loads(capsys.readouterr().out)
    main(["quarantine", "--kind", "no_such_kind"])
    unknown_text = capsys.readouterr().out

    assert text.startswith("Quarantined records: 2")
    assert f"Of kind {kind}: " in text
    assert f"  {kind}  " in text
    assert unknown["total"] == 0
    assert f"Of kind no_such_kind: 0; the kinds present are {kind}" in unknown_text
    assert "payload:" not in text
    assert other == {"total": 0, "kinds": {}, "records": []}
