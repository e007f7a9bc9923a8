"""Deployment environments (SXE_ENV: dev, staging, production), kept apart by configuration alone.

Each environment is its own DigitalOcean Functions namespace with its own deploy
environment: its own SXE_DATABASE_URL, SXE_SIGNING_KEY, SXE_APOLLO_API_KEY and
SXE_AUDIT_BUCKET, and its own object prefix (exports/<SXE_ENVIRONMENT>/...). The
check here makes a shared environment fail fast when it would fall back to a
local default that could mix environments: the embedded database or a generated key.
"""

from __future__ import annotations

import os

from sxe.config import Settings
from sxe.errors import ConfigError

ENVIRONMENTS = ("dev", "staging", "production")
DEFAULT_ENVIRONMENT = "dev"


def current_environment() -> str:
    """Return SXE_ENV (default dev); raise ConfigError for any other value."""
    name = os.environ.get("SXE_ENV") or DEFAULT_ENVIRONMENT
    if name not in ENVIRONMENTS:
        raise ConfigError(f"invalid SXE_ENV {name!r}; use one of {', '.join(ENVIRONMENTS)}")
    return name


def check_environment(settings: Settings, name: str | None = None) -> None:
    """Raise ConfigError naming every variable a staging or production deploy leaves to a local default."""
    name = name or current_environment()
    if name == DEFAULT_ENVIRONMENT:
        return
    missing = []
    if settings.database_url is None:
        missing.append("SXE_DATABASE_URL")
    if settings.signing_key is None:
        missing.append("SXE_SIGNING_KEY")
    if settings.environment != name:
        missing.append(f"SXE_ENVIRONMENT (is {settings.environment!r}, must equal SXE_ENV {name!r})")
    if missing:
        raise ConfigError(
            f"SXE_ENV={name} needs its own {', '.join(missing)}; set them in that environment's deploy settings"
        )
