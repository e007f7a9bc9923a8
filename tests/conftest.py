"""Shared fixtures: a real PostgreSQL server and a fresh, migrated database per test.

The server is the one in SXE_DATABASE_URL when set (its user needs CREATEDB and
CREATEROLE), otherwise an embedded server started once per test session in a
temporary folder. Migrations run once into a template database; each test that
uses `database_url` gets its own copy, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from sxe.db import connect
from sxe.db.embedded import start_embedded
from sxe.db.migrate import migrate
from sxe.paths import migrations_dir

TEMPLATE_DATABASE = "sxe_test_template"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = PROJECT_ROOT / "examples"


def migrations_before(version: str, folder: Path) -> Path:
    """Copy the migrations numbered below `version` into `folder`, for a schema as it was before that migration."""
    folder.mkdir()
    for path in sorted(migrations_dir().glob("*.sql")):
        if path.name < version:
            shutil.copy(path, folder / path.name)
    return folder


def with_database(url: str, database: str) -> str:
    """Return `url` pointing at another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """URL of a maintenance database on the test server."""
    explicit = os.environ.get("SXE_DATABASE_URL")
    if explicit:
        yield explicit
        return

    # Not under pytest's basetemp: pytest prunes old basetemp folders, which would
    # pull the data directory from under a server another session still runs.
    folder = Path(tempfile.mkdtemp(prefix="sxe-test-pg-"))
    yield start_embedded(folder / "pgdata", at_exit="delete")


@pytest.fixture(scope="session")
def template_url(server_url: str) -> str:
    """A migrated template database, made once per session."""
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DATABASE}"')
        admin.execute(f'CREATE DATABASE "{TEMPLATE_DATABASE}"')
    url = with_database(server_url, TEMPLATE_DATABASE)
    with connect(url, autocommit=True) as conn:
        migrate(conn)
    return url


@contextmanager
def scratch_database(server_url: str, prefix: str, template: str | None = None) -> Iterator[str]:
    """Create a uniquely named database (from `template` when given), yield its URL, then drop it."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    source = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{source}')
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(server_url: str, template_url: str) -> Iterator[str]:
    """A fresh database copied from the migrated template."""
    with scratch_database(server_url, "sxe_test", TEMPLATE_DATABASE) as url:
        yield url


@pytest.fixture
def empty_database_url(server_url: str) -> Iterator[str]:
    """A fresh database with no migrations applied."""
    with scratch_database(server_url, "sxe_empty") as url:
        yield url


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection, as the session user, to the test's own database."""
    with connect(database_url, autocommit=True) as connection:
        yield connection
