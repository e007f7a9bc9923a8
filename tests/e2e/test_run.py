"""The main job end to end on the shipped examples, against a real PostgreSQL."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sxe import audit
from sxe.commands import EXIT_PARTLY_DONE
from sxe.config import Settings, load_settings
from sxe.contracts import BUNDLE_MANIFEST_V1, LEAD_CARD_V1, load_contracts
from sxe.db import connect
from sxe.normalize.website import is_media_host
from sxe.pii import contains_pii
from sxe.pipeline import RunSummary, run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(database_url=database_url, state_dir=tmp_path / "state")


@pytest.fixture
def first_run(settings: Settings) -> RunSummary:
    return run([EXAMPLES], settings)


def table_count(conn: psycopg.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"])


def test_run_counts_every_stage(first_run: RunSummary) -> None:
    data = first_run.to_json()

    assert data["ingested"] > 20
    assert data["quarantined"] >= 5
    assert data["profiles"] == data["new_profiles"]
    # Four people appear on two platforms each: mara_bakes, coachrina, lucia_travels, priya_codes.
    assert data["lead_cards"] == data["new_lead_cards"] == data["profiles"] - 4
    # People are resolved before their first cards exist, so no card is merged or split.
    assert data["merged_cards"] == 0
    assert data["split_cards"] == 0
    assert data["lookups"] > 0
    assert data["enriched"] > 0
    assert data["bundle"]["records"] == data["readiness"]["handed_off"]


@pytest.mark.parametrize("drain_seconds", [0.0, 5.0])
def test_short_drain_still_enriches(database_url: str, tmp_path: Path, drain_seconds: float) -> None:
    settings = load_settings(
        database_url=database_url, state_dir=tmp_path / "state", enrich_drain_seconds=drain_seconds
    )

    data = run([EXAMPLES], settings).to_json()

    assert data["enrichment_enqueued"] > 0
    assert data["lookups"] > 0
    assert data["enriched"] > 0


def test_no_lookup_uses_a_cdn_domain(settings: Settings, first_run: RunSummary) -> None:
    with connect(settings.database_url.get_secret_value()) as conn:
        domains = [
            row["domain"]
            for row in conn.execute(
                "SELECT DISTINCT payload -> 'request' ->> 'domain' AS domain FROM ops.jobs"
                " WHERE payload -> 'request' ->> 'domain' IS NOT NULL"
            )
        ]

    assert domains
    for domain in domains:
        assert not is_media_host(domain), domain
        for platform in ("twimg", "cdninstagram", "tiktokcdn", "fbcdn", "tiktok", "instagram", "threads"):
            assert platform not in domain, domain


def test_bundle_validates_against_committed_schemas(first_run: RunSummary) -> None:
    contracts = load_contracts()
    folder = Path(first_run.bundle.path)
    manifest = json.loads((folder / "manifest.json").read_text())
    records = [json.loads(line) for line in gzip.open(folder / "records.jsonl.gz", "rt", encoding="utf-8")]

    contracts.validate(manifest, BUNDLE_MANIFEST_V1)
    for record in records:
        contracts.validate(record, LEAD_CARD_V1)
    assert manifest["record_count"] == len(records) == first_run.bundle.records


def test_bundle_sha256_matches_manifest(first_run: RunSummary) -> None:
    folder = Path(first_run.bundle.path)
    manifest = json.loads((folder / "manifest.json").read_text())
    digest = hashlib.sha256((folder / "records.jsonl.gz").read_bytes()).hexdigest()

    assert manifest["files"][0]["sha256"] == digest


def test_enriched_cards_carry_simulated_contact_data(first_run: RunSummary) -> None:
    folder = Path(first_run.bundle.path)
    records = [json.loads(line) for line in gzip.open(folder / "records.jsonl.gz", "rt", encoding="utf-8")]
    emails = [email for record in records for email in record["contact"]["emails"]]

    assert emails
    assert all(email["provider_simulated"] for email in emails)


def test_rerun_stores_nothing_twice_and_buys_nothing(settings: Settings, first_run: RunSummary) -> None:
    with connect(settings.database_url.get_secret_value()) as conn:
        before = {
            table: table_count(conn, table)
            for table in (
                "social.profiles",
                "social.raw_records",
                "execution.lead_cards",
                "contact.contact_points",
                "ops.quarantine",
                "ops.lookup_memory",
            )
        }

    second = run([EXAMPLES], settings).to_json()

    with connect(settings.database_url.get_secret_value()) as conn:
        after = {table: table_count(conn, table) for table in before}
    assert after == before
    assert second["ingested"] == 0
    first = first_run.to_json()
    assert second["duplicates"] == first["ingested"] + first["duplicates"]
    assert second["lookups"] == 0
    assert second["credits_spent"] == 0
    assert second["bundle"]["records"] == 0
    assert second["readiness"] == first_run.to_json()["readiness"]


def test_tier1_and_ops_hold_no_email_or_phone(settings: Settings, first_run: RunSummary) -> None:
    with connect(settings.database_url.get_secret_value()) as conn:
        rows = conn.execute(
            """SELECT table_schema, table_name, column_name FROM information_schema.columns
                WHERE table_schema IN ('social', 'ops', 'execution')
                  AND data_type IN ('text', 'jsonb', 'ARRAY')"""
        ).fetchall()
        leaks = []
        for row in rows:
            column = f'{row["table_schema"]}.{row["table_name"]}."{row["column_name"]}"'
            for value in conn.execute(f"SELECT {column}::text AS v FROM {row['table_schema']}.{row['table_name']}"):
                if value["v"] and contains_pii(value["v"]):
                    leaks.append(column)
    assert leaks == []


def test_redacted_bios_keep_their_flags(settings: Settings, first_run: RunSummary) -> None:
    with connect(settings.database_url.get_secret_value()) as conn:
        flagged = conn.execute(
            "SELECT count(*) AS n FROM social.profiles WHERE bio_has_email AND bio LIKE '%[email]%'"
        ).fetchone()["n"]
        phones = conn.execute(
            "SELECT count(*) AS n FROM social.profiles WHERE bio_has_phone AND bio LIKE '%[phone]%'"
        ).fetchone()["n"]
    assert flagged > 0
    assert phones > 0


def test_bad_line_is_quarantined_next_to_good_ones(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "users.jsonl"
    good = {"id": 101, "id_str": "101", "screen_name": "first_good", "name": "First Good", "followers_count": 5}
    other = {"id": 102, "id_str": "102", "screen_name": "second_good", "name": "Second Good", "followers_count": 7}
    source.write_text(json.dumps(good) + "\n{not json\n" + json.dumps(other) + "\n")

    data = run([source], settings, format_name="x-api-v1.1").to_json()

    assert data["ingested"] == 2
    assert len(data["quarantine"]) == 1
    quarantined = data["quarantine"][0]
    assert quarantined["location"] == f"{source}:2"
    assert quarantined["kind"] == "unparseable"
    assert "line 2" in quarantined["reason"]


def test_audit_chain_is_intact_after_a_run(settings: Settings, first_run: RunSummary) -> None:
    with connect(settings.database_url.get_secret_value()) as conn:
        report = audit.verify(conn)
        lookups = conn.execute("SELECT count(*) AS n FROM ops.audit_log WHERE action = 'enrichment.lookup'").fetchone()[
            "n"
        ]
    assert report.ok
    assert lookups == first_run.to_json()["lookups"]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sxe.cli", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def cli_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SXE_")}
    env.update(extra)
    return env


def test_cli_json_output_has_the_documented_keys(database_url: str, tmp_path: Path) -> None:
    result = run_cli(
        "run", str(EXAMPLES), "--json", env=cli_env(SXE_DATABASE_URL=database_url, SXE_STATE_DIR=str(tmp_path))
    )

    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    for key in ("ingested", "duplicates", "quarantined", "profiles", "lead_cards", "enriched", "bundle"):
        assert key in data
    assert set(data["bundle"]) >= {"id", "path", "url", "records"}


def test_cli_rejects_a_missing_file(tmp_path: Path) -> None:
    result = run_cli("run", str(tmp_path / "nope.json"), env=cli_env(SXE_STATE_DIR=str(tmp_path)))

    assert result.returncode == 2
    assert "nope.json does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_rejects_an_unknown_format(tmp_path: Path) -> None:
    result = run_cli("run", str(EXAMPLES), "--format", "myspace", env=cli_env(SXE_STATE_DIR=str(tmp_path)))

    assert result.returncode == 2
    assert "myspace" in result.stderr
    assert "x-api-v2" in result.stderr


@pytest.mark.parametrize("jobs", ["0", "33", "two"])
def test_cli_rejects_jobs_out_of_range(tmp_path: Path, jobs: str) -> None:
    result = run_cli("run", str(EXAMPLES), "--jobs", jobs, env=cli_env(SXE_STATE_DIR=str(tmp_path)))

    assert result.returncode == 2
    assert f"invalid --jobs '{jobs}': give a whole number from 1 to 32" in result.stderr
    assert "SXE_INGEST_JOBS" not in result.stderr.splitlines()[-1]


def test_cli_reports_an_unreachable_database(tmp_path: Path) -> None:
    url = "postgresql://sxe:hunter2@127.0.0.1:1/sxe"
    result = run_cli("run", str(EXAMPLES), env=cli_env(SXE_DATABASE_URL=url, SXE_STATE_DIR=str(tmp_path)))

    assert result.returncode == 3
    assert "127.0.0.1:1/sxe" in result.stderr
    assert "hunter2" not in result.stderr


def test_csv_options_and_skipped_files(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "fans.csv").write_text("Account Handle,Fan Total,Bio\nana_makes,12.3K,Prints\nbo_bakes,800,Bread\n")
    (folder / "notes.txt").write_text("not an export")
    (folder / "old.csv.bak").write_text("handle\nana\n")
    env = cli_env(SXE_DATABASE_URL=database_url, SXE_STATE_DIR=str(tmp_path / "state"))

    options = ["--map", "Account Handle=handle", "--map", "Fan Total=followers", "--platform", "tiktok", "--json"]

    result = run_cli("run", str(folder), *options, env=env)

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ingested"] == 2
    assert data["quarantine"] == []
    assert data["skipped_files"] == [str(folder / "notes.txt"), str(folder / "old.csv.bak")]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT platform, handle, followers FROM social.profiles ORDER BY handle").fetchall()
    assert rows == [("tiktok", "ana_makes", 12_300), ("tiktok", "bo_bakes", 800)]


def test_summary_names_skipped_files(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "users.jsonl").write_text((EXAMPLES / "x-api-v1.1-users.jsonl").read_text())
    for number in range(7):
        (folder / f"notes-{number}.txt").write_text("not an export")
    env = cli_env(SXE_DATABASE_URL=database_url, SXE_STATE_DIR=str(tmp_path / "state"))

    result = run_cli("run", str(folder), env=env)

    assert result.returncode == 0, result.stderr
    listed = ", ".join(f"notes-{number}.txt" for number in range(5))
    assert f"skipped 7 files with another suffix: {listed} and 2 more" in result.stdout


def test_cli_rejects_map_for_a_json_format(tmp_path: Path) -> None:
    result = run_cli(
        "run",
        str(EXAMPLES),
        "--format",
        "x-api-v2",
        "--map",
        "Fans=followers",
        env=cli_env(SXE_STATE_DIR=str(tmp_path)),
    )

    assert result.returncode == 2
    assert "--map applies to CSV files only; drop it or use --format csv-followers" in result.stderr


def test_cli_unknown_option_shows_the_command_usage(tmp_path: Path) -> None:
    result = run_cli("run", str(EXAMPLES), "--log-level", "INFO", env=cli_env(SXE_STATE_DIR=str(tmp_path)))

    assert result.returncode == 2
    assert result.stderr.startswith("usage: sxe run ")
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("sxe run: error: unrecognized arguments: --log-level INFO;")
    assert "sxe --log-level INFO run ..." in last_line


def test_run_reads_gzip_and_quarantines_cut(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    users = (EXAMPLES / "x-api-v1.1-users.jsonl").read_bytes()
    (folder / "users.jsonl.gz").write_bytes(gzip.compress(users))
    threads = gzip.compress((EXAMPLES / "threads-profiles.jsonl").read_bytes())
    (folder / "threads.jsonl.gz").write_bytes(threads[: len(threads) - 12])

    data = run([folder], settings).to_json()

    assert [entry["file"] for entry in data["files"]] == [
        str(folder / "threads.jsonl.gz"),
        str(folder / "users.jsonl.gz"),
    ]
    assert data["ingested"] > 0
    damaged = [entry for entry in data["quarantine"] if entry["reason"].startswith("file is a damaged gzip file")]
    assert damaged == []
    assert [error["file"] for error in data["file_errors"]] == [str(folder / "threads.jsonl.gz")]
    assert data["file_errors"][0]["reason"].startswith("file is a damaged gzip file")


def test_cli_run_exits_partly_done_after_file_error(database_url: str, tmp_path: Path) -> None:
    threads = gzip.compress((EXAMPLES / "threads-profiles.jsonl").read_bytes())
    source = tmp_path / "threads.jsonl.gz"
    source.write_bytes(threads[: len(threads) - 12])

    result = run_cli(
        "run", str(source), "--json", env=cli_env(SXE_DATABASE_URL=database_url, SXE_STATE_DIR=str(tmp_path / "state"))
    )

    data: dict[str, Any] = json.loads(result.stdout)
    assert result.returncode == EXIT_PARTLY_DONE
    assert data["ingested"] > 0
    assert [error["file"] for error in data["file_errors"]] == [str(source)]
    assert data["bundle"]["records"] > 0
    assert "sxe: 1 file error: the records before each cut were stored" in result.stderr
    with connect(database_url, autocommit=True) as conn:
        assert table_count(conn, "social.raw_records") == data["ingested"]
