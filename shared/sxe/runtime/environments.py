"""Deployment environments (SXE_ENV: dev, staging, production), kept apart by configuration and by the database.

Each environment is its own DigitalOcean Functions namespace with its own deploy
environment: its own SXE_DATABASE_URL, SXE_SIGNING_KEY, SXE_SUPPRESSION_KEY,
SXE_APOLLO_API_KEY and SXE_AUDIT_BUCKET, and its own object prefix (exports/<SXE_ENVIRONMENT>/...). The
check here makes a shared environment fail fast when it would fall back to a
local default that could mix environments: the embedded database or a generated key.

Each database also records the environment it belongs to in ops.environment,
written by `sxe migrate` from SXE_ENV. `check_database_environment` compares that
record with SXE_ENV before a function touches data, so a deploy whose
SXE_DATABASE_URL points at another environment's database fails with a 500.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from sxe.config import Settings
from sxe.db import connect, database_url, sql, transaction
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
    if settings.suppression_key is None:
        # A key generated per function container would hash the list differently in each one.
        missing.append("SXE_SUPPRESSION_KEY")
    if settings.environment != name:
        missing.append(f"SXE_ENVIRONMENT (is {settings.environment!r}, must equal SXE_ENV {name!r})")
    if missing:
        raise ConfigError(
            f"SXE_ENV={name} needs its own {', '.join(missing)}; set them in that environment's deploy settings"
        )


def recorded_environment(conn: psycopg.Connection[Any], role: str | None = None) -> str | None:
    """Return the environment recorded in ops.environment, or None when none is recorded yet."""
    with transaction(conn, role=role):
        row = conn.execute(sql("environment_get")).fetchone()
    return None if row is None else str(row["name"])


def record_environment(conn: psycopg.Connection[Any], name: str | None = None) -> str:
    """Record `name` (default SXE_ENV) as the database's environment and return it.

    A database that already records an environment keeps it: a different `name`
    raises ConfigError naming both, because moving a database between
    environments is a decision for an operator, not a side effect of a deploy.
    """
    name = name or current_environment()
    with transaction(conn):
        conn.execute(sql("environment_record"), {"name": name})
        recorded = conn.execute(sql("environment_get")).fetchone()
    stored = str(recorded["name"]) if recorded else name
    if stored != name:
        raise ConfigError(_mismatch(name, stored))
    return stored


def check_database_environment(conn: psycopg.Connection[Any], role: str, name: str | None = None) -> None:
    """Raise ConfigError unless the database's recorded environment equals SXE_ENV.

    A database without a record passes only in dev, the default for laptops and
    tests. Staging and production databases must be migrated with their own SXE_ENV.
    """
    name = name or current_environment()
    recorded = recorded_environment(conn, role)
    if recorded is None and name != DEFAULT_ENVIRONMENT:
        raise ConfigError(
            f"SXE_ENV is {name!r} but the database records no environment; "
            f"run `SXE_ENV={name} sxe migrate` against this environment's own database"
        )
    if recorded is not None and recorded != name:
        raise ConfigError(_mismatch(name, recorded))


@contextmanager
def checked_connection(settings: Settings, role: str) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    """Open an autocommit connection once the settings and the database's recorded environment match SXE_ENV.

    Raises ConfigError, before any row is read or written, when either check fails.
    Functions that do not run inside `sxe.runtime.handler.run_function` connect
    through this, so every function refuses another environment's database.
    """
    check_environment(settings)
    with connect(database_url(settings), autocommit=True) as conn:
        check_database_environment(conn, role=role)
        yield conn


def _mismatch(name: str, recorded: str) -> str:
    return (
        f"SXE_ENV is {name!r} but the database belongs to environment {recorded!r}; "
        f"point SXE_DATABASE_URL at the {name} database"
    )
