from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from sxe.db import connect, transaction
from sxe.db.migrate import MigrationError, load_migrations, migrate
from sxe.paths import migrations_dir

TIER_SCHEMAS = {"social", "contact", "execution", "ops"}


def test_migrate_creates_the_four_tiers(empty_database_url: str) -> None:
    with connect(empty_database_url, autocommit=True) as conn:
        applied = migrate(conn)
        schemas = {row["nspname"] for row in conn.execute("SELECT nspname FROM pg_namespace")}

    assert applied == [migration.name for migration in load_migrations()]
    assert TIER_SCHEMAS <= schemas


def test_second_migrate_changes_nothing(empty_database_url: str) -> None:
    with connect(empty_database_url, autocommit=True) as conn:
        migrate(conn)
        before = conn.execute("SELECT version, applied_at FROM sxe_meta.schema_migrations ORDER BY 1").fetchall()
        assert migrate(conn) == []
        after = conn.execute("SELECT version, applied_at FROM sxe_meta.schema_migrations ORDER BY 1").fetchall()

    assert after == before


def test_edited_migration_is_rejected(empty_database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    with connect(empty_database_url, autocommit=True) as conn:
        migrate(conn, folder)
        target = folder / "0002_tiers.sql"
        target.write_text(target.read_text() + "\n-- edited\n")

        with pytest.raises(MigrationError, match="0002_tiers changed after it was applied"):
            migrate(conn, folder)


def test_runtime_roles_own_no_table(conn: psycopg.Connection) -> None:
    owners = {
        row["tableowner"]
        for row in conn.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = ANY(%s)", (list(TIER_SCHEMAS),)
        )
    }
    assert owners == {"sxe_migrator"}


@pytest.mark.parametrize("table", ["contact.contacts", "contact.contact_points"])
def test_api_role_is_denied_contact_tier(conn: psycopg.Connection, table: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction(conn, role="sxe_api"):
        conn.execute(f"SELECT count(*) FROM {table}")


def test_api_role_cannot_change_audit_log(conn: psycopg.Connection) -> None:
    with transaction(conn, role="sxe_api"):
        conn.execute("INSERT INTO ops.audit_log (actor, action, prev_hash, row_hash) VALUES ('api', 'probe', '', '')")

    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction(conn, role="sxe_api"):
        conn.execute("SELECT count(*) FROM ops.audit_log")


def test_worker_role_writes_contact_tier(conn: psycopg.Connection) -> None:
    with transaction(conn, role="sxe_worker"):
        row = conn.execute("INSERT INTO contact.contacts DEFAULT VALUES RETURNING id").fetchone()

    assert row is not None


def test_tier1_rejects_an_email_in_a_bio(conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.CheckViolation, match="profiles_no_email"):
        conn.execute(
            """INSERT INTO social.profiles (platform, identity_key, bio, source_format, source_file, collected_at)
               VALUES ('x', 'id:1', 'write to dana@example.com', 'x-api-v2', 'f.json', now())"""
        )
