"""Forward-only migrations: each `migrations/NNNN_name.sql` file is applied once, in order.

Applied files are recorded with a SHA-256 of their text. Editing a file that was
already applied is an error, because the databases that ran it would silently
differ from the ones that run the new text; add a new migration instead.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from sxe.db.queries import sql
from sxe.errors import SxeError
from sxe.logs import Event, log
from sxe.paths import migrations_dir

FILE_PATTERN = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
SESSION_USER_MARKER = "-- sxe: run-as-session-user"
MIGRATOR_ROLE = "sxe_migrator"


class MigrationError(SxeError):
    """A migration file is malformed, was edited after it ran, or failed to apply."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    name: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def runs_as_session_user(self) -> bool:
        return self.text.startswith(SESSION_USER_MARKER)


def load_migrations(folder: Path | None = None) -> list[Migration]:
    """Read the migration files in version order; raise MigrationError on a misnamed file."""
    folder = folder or migrations_dir()
    migrations = []
    for path in sorted(folder.glob("*.sql")):
        match = FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path.name!r} must be named NNNN_lower_snake.sql")
        migrations.append(Migration(match.group(1), path.stem, path.read_text(encoding="utf-8")))
    return migrations


def migrate(conn: psycopg.Connection[Any], folder: Path | None = None) -> list[str]:
    """Apply every pending migration, each in its own transaction; return the names applied.

    A transaction-scoped advisory lock serializes concurrent migrators, so two
    processes starting at once apply each file exactly once.
    """
    applied_names = []
    with conn.transaction():
        conn.execute(sql("migrations_bootstrap"))

    for migration in load_migrations(folder):
        with conn.transaction():
            conn.execute(sql("migrations_lock"))
            recorded = conn.execute(sql("migrations_get"), {"version": migration.version}).fetchone()
            if recorded:
                _check_unchanged(migration, recorded)
                continue
            _apply(conn, migration)
            _audit_applied(conn)
        applied_names.append(migration.name)
        log(logging.INFO, Event.MIGRATION_APPLIED, f"applied migration {migration.name}", stage="db")
    return applied_names


def _check_unchanged(migration: Migration, recorded: dict[str, Any]) -> None:
    if recorded["sha256"] != migration.sha256:
        raise MigrationError(
            f"migration {migration.name} changed after it was applied "
            f"(recorded sha256 {recorded['sha256'][:12]}…, file {migration.sha256[:12]}…); "
            "restore the file and put the change in a new migration"
        )


def _apply(conn: psycopg.Connection[Any], migration: Migration) -> None:
    if not migration.runs_as_session_user:
        conn.execute(f"SET LOCAL ROLE {MIGRATOR_ROLE}")
    try:
        conn.execute(migration.text.encode("utf-8"))
    except psycopg.Error as exc:
        raise MigrationError(f"migration {migration.name} failed: {exc.diag.message_primary or exc}") from exc
    conn.execute("RESET ROLE")
    conn.execute(
        sql("migrations_record"),
        {"version": migration.version, "name": migration.name, "sha256": migration.sha256},
    )


def _audit_applied(conn: psycopg.Connection[Any]) -> None:
    """Write a `migration.applied` audit row for each recorded migration that has none yet.

    Migrations that ran before `ops.audit_log` existed are audited by the first
    migration after it, so every applied migration gets exactly one row.
    """
    ready = conn.execute(sql("migrations_audit_ready")).fetchone()
    if ready is None or ready["ready"] is not True:
        return
    # The record is read as the session user, which owns sxe_meta; the audit log is written as its owner.
    recorded = conn.execute(sql("migrations_list")).fetchall()
    conn.execute(f"SET LOCAL ROLE {MIGRATOR_ROLE}")
    conn.execute(
        sql("migrations_audit"),
        {
            "versions": [row["version"] for row in recorded],
            "names": [row["name"] for row in recorded],
            "sha256s": [row["sha256"] for row in recorded],
            "applied_ats": [row["applied_at"] for row in recorded],
        },
    )
    conn.execute("RESET ROLE")
