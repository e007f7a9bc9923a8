"""`sxe migrate`: apply pending migrations and record the database's environment (SXE_ENV)."""

from __future__ import annotations

import argparse
from typing import Any

from sxe.config import load_settings
from sxe.db import connect, database_url
from sxe.db.migrate import migrate
from sxe.runtime.environments import record_environment


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "migrate", help="apply pending database migrations and record SXE_ENV as the database's environment"
    )
    parser.set_defaults(handler=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn:
        applied = migrate(conn)
        environment = record_environment(conn)
    print(f"applied {len(applied)} migrations" + (f": {', '.join(applied)}" if applied else " (already up to date)"))
    print(f"database environment: {environment}")
    return 0
