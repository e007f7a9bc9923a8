"""`sxe migrate`: apply pending migrations."""

from __future__ import annotations

import argparse
from typing import Any

from sxe.config import load_settings
from sxe.db import connect, database_url
from sxe.db.migrate import migrate


def register(commands: Any) -> None:
    parser = commands.add_parser("migrate", help="apply pending database migrations")
    parser.set_defaults(handler=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn:
        applied = migrate(conn)
    print(f"applied {len(applied)} migrations" + (f": {', '.join(applied)}" if applied else " (already up to date)"))
    return 0
