"""SXE_ENV keeps dev, staging and production apart by configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from sxe import functions
from sxe.cli import main
from sxe.compliance.functions import retention as compliance_retention
from sxe.config import load_settings
from sxe.db import connect
from sxe.errors import ConfigError
from sxe.handoff.api import download as handoff_download
from sxe.runtime.environments import check_environment, current_environment, record_environment, recorded_environment


def test_dev_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SXE_ENV", raising=False)

    assert current_environment() == "dev"
    check_environment(load_settings())


def test_unknown_environment_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SXE_ENV", "prod")

    with pytest.raises(ConfigError, match="invalid SXE_ENV 'prod'"):
        current_environment()


def test_production_needs_its_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SXE_DATABASE_URL", "SXE_SIGNING_KEY", "SXE_SUPPRESSION_KEY", "SXE_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(ConfigError) as raised:
        check_environment(load_settings(), "production")

    message = str(raised.value)
    assert "SXE_DATABASE_URL" in message
    assert "SXE_SIGNING_KEY" in message
    assert "SXE_SUPPRESSION_KEY" in message
    assert "must equal SXE_ENV 'production'" in message


def test_staging_with_own_settings_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", "postgresql://sxe@staging-db:25061/sxe?sslmode=require")
    monkeypatch.setenv("SXE_SIGNING_KEY", "k" * 32)
    monkeypatch.setenv("SXE_SUPPRESSION_KEY", "s" * 32)
    monkeypatch.setenv("SXE_ENVIRONMENT", "staging")

    check_environment(load_settings(), "staging")


def test_empty_deploy_keys_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # The deploy passes a variable missing from its environment as an empty string.
    monkeypatch.setenv("SXE_DATABASE_URL", "postgresql://sxe@production-db:25061/sxe?sslmode=require")
    monkeypatch.setenv("SXE_SIGNING_KEY", "")
    monkeypatch.setenv("SXE_SUPPRESSION_KEY", "")
    monkeypatch.setenv("SXE_ENVIRONMENT", "production")

    with pytest.raises(ConfigError) as raised:
        check_environment(load_settings(), "production")

    assert "SXE_SIGNING_KEY, SXE_SUPPRESSION_KEY" in str(raised.value)


@pytest.mark.parametrize("variable", ["SXE_SIGNING_KEY", "SXE_SUPPRESSION_KEY"])
def test_short_key_is_rejected(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "too-short-a-key")

    with pytest.raises(ConfigError) as raised:
        load_settings()

    assert f"invalid {variable}: shorter than 32 bytes" in str(raised.value)
    assert "too-short-a-key" not in str(raised.value)


def test_function_refuses_mixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SXE_ENV", "staging")
    monkeypatch.delenv("SXE_DATABASE_URL", raising=False)

    result = functions.health_check({"check": "ready"})

    assert result["statusCode"] == 500
    assert "SXE_ENV=staging needs its own SXE_DATABASE_URL" in result["body"]["detail"]


def production_settings(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_SIGNING_KEY", "k" * 32)
    monkeypatch.setenv("SXE_SUPPRESSION_KEY", "s" * 32)
    monkeypatch.setenv("SXE_ENVIRONMENT", "production")
    monkeypatch.setenv("SXE_ENV", "production")


def test_migrate_records_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_ENV", "staging")

    assert main(["migrate"]) == 0

    assert "database environment: staging" in capsys.readouterr().out
    with connect(database_url, autocommit=True) as conn:
        assert recorded_environment(conn) == "staging"


def test_migrate_keeps_recorded_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SXE_ENV", "staging")
    assert main(["migrate"]) == 0
    monkeypatch.setenv("SXE_ENV", "production")

    assert main(["migrate"]) == 2  # an unusable setting

    error = capsys.readouterr().err
    assert "SXE_ENV is 'production'" in error
    assert "belongs to environment 'staging'" in error
    with connect(database_url, autocommit=True) as conn:
        assert recorded_environment(conn) == "staging"


def test_function_rejects_other_environment_database(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    with connect(database_url, autocommit=True) as conn:
        record_environment(conn, "staging")
    production_settings(monkeypatch, database_url, tmp_path)

    result = functions.health_check({"check": "ready"})

    assert result["statusCode"] == 500
    assert "SXE_ENV is 'production'" in result["body"]["detail"]
    assert "belongs to environment 'staging'" in result["body"]["detail"]


def test_function_runs_in_recorded_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    with connect(database_url, autocommit=True) as conn:
        record_environment(conn, "production")
    production_settings(monkeypatch, database_url, tmp_path)

    result = functions.health_check({"check": "ready"})

    assert result["statusCode"] == 200


def test_production_needs_recorded_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    production_settings(monkeypatch, database_url, tmp_path)

    result = functions.health_check({"check": "ready"})

    assert result["statusCode"] == 500
    assert "records no environment" in result["body"]["detail"]


def test_dev_runs_without_recorded_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("SXE_ENV", raising=False)

    assert functions.health_check({"check": "ready"})["statusCode"] == 200


def test_direct_functions_check_recorded_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    with connect(database_url, autocommit=True) as conn:
        record_environment(conn, "production")
    monkeypatch.setenv("SXE_DATABASE_URL", database_url)
    monkeypatch.setenv("SXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("SXE_ENV", raising=False)
    download = {"http": {"method": "GET", "headers": {}, "path": "", "queryString": "bundle_id=x", "body": ""}}

    retention = compliance_retention({})
    handoff = handoff_download(download)

    assert retention["statusCode"] == 500
    assert "belongs to environment 'production'" in retention["body"]["error"]
    assert handoff["statusCode"] == 503
