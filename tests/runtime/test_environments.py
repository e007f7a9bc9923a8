"""SXE_ENV keeps dev, staging and production apart by configuration."""

from __future__ import annotations

import pytest

from sxe import functions
from sxe.config import load_settings
from sxe.errors import ConfigError
from sxe.runtime.environments import check_environment, current_environment


def test_dev_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SXE_ENV", raising=False)

    assert current_environment() == "dev"
    check_environment(load_settings())


def test_unknown_environment_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SXE_ENV", "prod")

    with pytest.raises(ConfigError, match="invalid SXE_ENV 'prod'"):
        current_environment()


def test_production_needs_its_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SXE_DATABASE_URL", "SXE_SIGNING_KEY", "SXE_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(ConfigError) as raised:
        check_environment(load_settings(), "production")

    message = str(raised.value)
    assert "SXE_DATABASE_URL" in message
    assert "SXE_SIGNING_KEY" in message
    assert "must equal SXE_ENV 'production'" in message


def test_staging_with_own_settings_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SXE_DATABASE_URL", "postgresql://sxe@staging-db:25061/sxe?sslmode=require")
    monkeypatch.setenv("SXE_SIGNING_KEY", "k" * 32)
    monkeypatch.setenv("SXE_ENVIRONMENT", "staging")

    check_environment(load_settings(), "staging")


def test_function_refuses_mixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SXE_ENV", "staging")
    monkeypatch.delenv("SXE_DATABASE_URL", raising=False)

    result = functions.health_check({"check": "ready"})

    assert result["statusCode"] == 500
    assert "SXE_ENV=staging needs its own SXE_DATABASE_URL" in result["body"]["detail"]
