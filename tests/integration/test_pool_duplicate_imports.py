"""A file imported again for a second pool gives that pool its profiles, against a real PostgreSQL.

A duplicate record stores no raw record and no observation, so its batch's pool is kept in
social.profile_pools. Lookups and identity stay shared across pools, so nothing is bought
twice.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_pool_owned_profiles import environment, handles_in_pool, sxe_json  # noqa: F401 - environment is a fixture

from sxe.cli import main
from sxe.db import connect

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.usefixtures("environment")


def example_copy(tmp_path: Path, name: str) -> Path:
    """Copy an example file, so each import names a path of this test only."""
    path = tmp_path / name
    shutil.copyfile(EXAMPLES / name, path)
    return path


def count(database_url: str, query: str) -> int:
    with connect(database_url, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row["n"])


def lookups(database_url: str) -> int:
    return count(database_url, "SELECT count(*) AS n FROM ops.audit_log WHERE action = 'enrichment.attempt'")


def spent_credits(database_url: str) -> int:
    return count(
        database_url, "SELECT coalesce(sum(spent_credits), 0) AS n FROM ops.budgets WHERE scope LIKE 'provider:%'"
    )


def test_second_pool_builds_reimported_file(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = example_copy(tmp_path, "x-api-v2-followers.json")
    status, first = sxe_json(capsys, "import", str(users), "--pool", "alpha", "--no-progress")
    assert status == 0
    raw_records = count(database_url, "SELECT count(*) AS n FROM social.raw_records")
    assert raw_records == first["stored"]

    status, second = sxe_json(capsys, "import", str(users), "--pool", "beta", "--no-progress")

    assert status == 0
    assert second["stored"] == 0
    assert second["duplicates"] == second["records"] - second["quarantined"]
    assert second["joined_pool"] == first["new_profiles"]
    assert second["carded_in_other_pool"] == 0
    assert count(database_url, "SELECT count(*) AS n FROM social.raw_records") == raw_records

    status, _ = sxe_json(capsys, "run", "--pool", "beta")
    assert status == 0
    beta_handles = handles_in_pool(database_url, "beta")
    assert len(beta_handles) == first["new_profiles"]
    bought = lookups(database_url)
    credits = spent_credits(database_url)
    assert bought > 0

    # Alpha imported the same profiles first, but beta built them first and keeps them.
    status, _ = sxe_json(capsys, "run", "--pool", "alpha")
    assert status == 0
    assert handles_in_pool(database_url, "alpha") == set()
    assert lookups(database_url) == bought
    assert spent_credits(database_url) == credits


def test_import_again_for_same_pool_records_nothing(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = example_copy(tmp_path, "x-api-v2-followers.json")
    assert sxe_json(capsys, "import", str(users), "--pool", "alpha", "--no-progress")[0] == 0

    status, again = sxe_json(capsys, "import", str(users), "--pool", "alpha", "--no-progress")

    assert status == 0
    assert again["joined_pool"] == 0
    assert count(database_url, "SELECT count(*) AS n FROM social.profile_pools") == 0


def test_import_counts_profiles_carded_in_other_pool(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = example_copy(tmp_path, "x-api-v2-followers.json")
    status, _ = sxe_json(capsys, "run", "--pool", "alpha", str(users))
    assert status == 0
    alpha_handles = handles_in_pool(database_url, "alpha")
    bought = lookups(database_url)

    status, second = sxe_json(capsys, "import", str(users), "--pool", "beta", "--no-progress")
    assert status == 0
    assert second["carded_in_other_pool"] == second["duplicates"]
    assert second["carded_in_other_pool"] > 0

    status, _ = sxe_json(capsys, "run", "--pool", "beta")
    assert status == 0
    # A profile has one card, so the profiles stay on alpha's cards.
    assert handles_in_pool(database_url, "beta") == set()
    assert handles_in_pool(database_url, "alpha") == alpha_handles
    assert lookups(database_url) == bought


def test_parallel_import_records_second_pool(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Over 1 MiB, so that worker processes read it and find its duplicates.
    users = tmp_path / "users.jsonl"
    line = '{"id": "%d", "username": "maker_%d", "name": "Maker %d", "description": "%s"}\n'
    padding = "Ceramics teacher and studio owner. " * 20
    users.write_text("".join(line % (9_000_000 + n, n, n, padding) for n in range(1_600)), encoding="utf-8")
    assert users.stat().st_size > 1024 * 1024
    status, first = sxe_json(capsys, "import", str(users), "--pool", "alpha", "--no-progress", "--jobs", "2")
    assert status == 0
    assert first["new_profiles"] == 1_600

    status, second = sxe_json(capsys, "import", str(users), "--pool", "beta", "--no-progress", "--jobs", "2")

    assert status == 0
    assert second["duplicates"] == 1_600
    assert second["joined_pool"] == 1_600
    assert count(database_url, "SELECT count(*) AS n FROM social.profile_pools WHERE pool = 'beta'") == 1_600


def test_run_counts_profiles_carded_in_other_pool(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = example_copy(tmp_path, "x-api-v2-followers.json")
    assert sxe_json(capsys, "import", str(users), "--pool", "alpha", "--no-progress")[0] == 0
    assert sxe_json(capsys, "import", str(users), "--pool", "beta", "--no-progress")[0] == 0
    status, alpha = sxe_json(capsys, "run", "--pool", "alpha")
    assert status == 0
    carded = len(handles_in_pool(database_url, "alpha"))
    assert carded > 0
    assert alpha["carded_in_other_pool"] == 0

    status, beta = sxe_json(capsys, "run", "--pool", "beta")

    assert status == 0
    assert beta["new_lead_cards"] == 0
    assert beta["carded_in_other_pool"] == carded
    assert beta["bundle"]["records"] == 0


def test_run_text_explains_empty_pool(database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    users = example_copy(tmp_path, "x-api-v2-followers.json")
    assert sxe_json(capsys, "run", "--pool", "alpha", str(users))[0] == 0
    carded = len(handles_in_pool(database_url, "alpha"))

    status = main(["import", str(users), "--pool", "beta", "--no-progress"])
    imported = capsys.readouterr().out
    assert status == 0
    assert "  pool beta has no profile waiting for a lead card, so `sxe run --pool beta` builds no new card" in imported
    assert "builds its" not in imported

    status = main(["run", "--pool", "beta"])
    lines = capsys.readouterr().out.splitlines()

    assert status == 0
    expected = (
        f"              {carded} profiles of pool beta already on cards of other pools and not carded here: "
        "a profile has one card, and the first pool to build takes it"
    )
    assert expected in lines
    assert any(
        line.endswith("0 lead cards (empty: no card of pool beta became ready since the last handoff)")
        for line in lines
    )


def test_import_names_profiles_to_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    users = example_copy(tmp_path, "x-api-v2-followers.json")

    status, summary = sxe_json(capsys, "import", str(users), "--pool", "alpha", "--no-progress")

    assert status == 0
    assert summary["profiles_to_build"] == summary["new_profiles"]
    assert summary["profiles_to_build"] > 0
