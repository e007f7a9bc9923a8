"""Least privilege: each runtime role connects (SET ROLE in a transaction) and is denied what it must not do."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from conftest import TEMPLATE_DATABASE, scratch_database

from sxe import audit
from sxe.db import connect, transaction
from sxe.db.migrate import load_migrations

RUNTIME_ROLES = ["sxe_api", "sxe_worker", "sxe_analyst"]
SXE_ROLES = ["sxe_migrator", *RUNTIME_ROLES]
DATA_SCHEMAS = ["social", "contact", "execution", "ops", "intake", "sxe_meta"]


@pytest.fixture(scope="module")
def conn(server_url: str, template_url: str) -> Iterator[psycopg.Connection]:
    """One migrated database for the whole module: every denial rolls back, so tests cannot disturb each other."""
    with (
        scratch_database(server_url, "sxe_roles", TEMPLATE_DATABASE) as url,
        connect(url, autocommit=True) as connection,
    ):
        yield connection


def assert_denied(conn: psycopg.Connection, role: str, statement: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction(conn, role=role):
        conn.execute(statement)


def test_runtime_roles_own_no_object(conn: psycopg.Connection) -> None:
    owned = conn.execute(
        """
        SELECT n.nspname, c.relname, pg_get_userbyid(c.relowner) AS owner
          FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY(%(schemas)s) AND pg_get_userbyid(c.relowner) = ANY(%(roles)s)
        UNION ALL
        SELECT nspname, '', pg_get_userbyid(nspowner) FROM pg_namespace
         WHERE pg_get_userbyid(nspowner) = ANY(%(roles)s)
        UNION ALL
        SELECT n.nspname, p.proname, pg_get_userbyid(p.proowner)
          FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
         WHERE pg_get_userbyid(p.proowner) = ANY(%(roles)s)
        """,
        {"schemas": DATA_SCHEMAS, "roles": RUNTIME_ROLES},
    ).fetchall()

    assert owned == []


@pytest.mark.parametrize("role", SXE_ROLES)
def test_role_has_no_bypass_or_admin_attribute(conn: psycopg.Connection, role: str) -> None:
    row = conn.execute(
        "SELECT rolbypassrls, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles WHERE rolname = %s",
        (role,),
    ).fetchone()

    assert row is not None
    assert row["rolbypassrls"] is False
    assert row["rolsuper"] is False
    assert row["rolcreaterole"] is False
    assert row["rolcanlogin"] is False


@pytest.mark.parametrize("role", ["sxe_api", "sxe_analyst"])
@pytest.mark.parametrize("table", ["contact.contacts", "contact.contact_points", "contact.bio_sightings"])
def test_only_worker_reads_contact(conn: psycopg.Connection, role: str, table: str) -> None:
    assert_denied(conn, role, f"SELECT count(*) FROM {table}")


@pytest.mark.parametrize("role", ["sxe_api", "sxe_analyst"])
def test_only_worker_writes_contact(conn: psycopg.Connection, role: str) -> None:
    assert_denied(conn, role, "INSERT INTO contact.contacts DEFAULT VALUES")


@pytest.mark.parametrize(
    ("role", "statement"),
    [
        ("sxe_api", "SELECT count(*) FROM intake.webhook_records"),
        ("sxe_api", "DELETE FROM intake.webhook_records"),
        ("sxe_analyst", "SELECT count(*) FROM intake.webhook_records"),
        ("sxe_worker", "INSERT INTO intake.webhook_records (batch_id, records) VALUES (gen_random_uuid(), '[]')"),
    ],
)
def test_api_writes_intake_only(conn: psycopg.Connection, role: str, statement: str) -> None:
    assert_denied(conn, role, statement)


def test_worker_reads_and_writes_contact(conn: psycopg.Connection) -> None:
    with transaction(conn, role="sxe_worker"):
        contact_id = conn.execute("INSERT INTO contact.contacts DEFAULT VALUES RETURNING id").fetchone()["id"]
        found = conn.execute("SELECT count(*) AS n FROM contact.contacts WHERE id = %s", (contact_id,)).fetchone()

    assert found["n"] == 1


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO social.ingest_batches (run_id, source_name, source_file, format, collected_at) "
        "VALUES (gen_random_uuid(), 'x', 'x', 'x', now())",
        "UPDATE execution.lead_cards SET readiness = 'ready'",
        "DELETE FROM execution.card_labels",
        "INSERT INTO ops.events (type) VALUES ('x')",
        "INSERT INTO ops.audit_log (actor, action, prev_hash, row_hash) VALUES ('a', 'b', '', '')",
        "INSERT INTO ops.jobs (queue, payload) VALUES ('q', '{}')",
        "UPDATE ops.bundles SET revoked_at = now()",
        "INSERT INTO ops.suppressions (identifier_hmac, kind, request_id) "
        "VALUES (repeat('a', 64), 'email', gen_random_uuid())",
        "CREATE TABLE ops.analyst_scratch (id int)",
    ],
)
def test_analyst_writes_nothing(conn: psycopg.Connection, statement: str) -> None:
    assert_denied(conn, "sxe_analyst", statement)


@pytest.mark.parametrize(
    "table",
    ["social.raw_records", "ops.jobs", "ops.quarantine", "ops.lookup_memory", "ops.suppressions"],
)
def test_analyst_cannot_read_payload_tables(conn: psycopg.Connection, table: str) -> None:
    assert_denied(conn, "sxe_analyst", f"SELECT count(*) FROM {table}")


@pytest.mark.parametrize(
    "table",
    [
        "social.profiles",
        "execution.lead_cards",
        "execution.card_labels",
        "ops.bundles",
        "ops.audit_log",
        "ops.job_counts",
        "ops.quarantine_counts",
    ],
)
def test_analyst_reads_tier1_tier3_and_aggregates(conn: psycopg.Connection, table: str) -> None:
    with transaction(conn, role="sxe_analyst"):
        row = conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()

    assert row["n"] >= 0


@pytest.mark.parametrize("role", ["sxe_api", "sxe_worker"])
@pytest.mark.parametrize("statement", ["UPDATE ops.audit_log SET actor = 'x'", "DELETE FROM ops.audit_log"])
def test_runtime_role_cannot_change_audit_log(conn: psycopg.Connection, role: str, statement: str) -> None:
    with transaction(conn, role="sxe_worker"):
        audit.append(conn, actor="test", action="test.row")

    assert_denied(conn, role, statement)


@pytest.mark.parametrize("role", ["sxe_api", "sxe_worker"])
def test_runtime_role_cannot_truncate_audit_log(conn: psycopg.Connection, role: str) -> None:
    assert_denied(conn, role, "TRUNCATE ops.audit_log")


def test_api_cannot_delete_tier1(conn: psycopg.Connection) -> None:
    assert_denied(conn, "sxe_api", "DELETE FROM social.profiles")


def test_unknown_role_is_rejected(conn: psycopg.Connection) -> None:
    with pytest.raises(ValueError, match="unknown runtime role 'postgres'"), transaction(conn, role="postgres"):
        pass


def test_every_migration_is_audited_once(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "SELECT subject, payload_sha256, detail FROM ops.audit_log WHERE action = 'migration.applied' ORDER BY seq"
    ).fetchall()
    migrations = load_migrations()

    assert [row["subject"] for row in rows] == [f"migration:{m.version}" for m in migrations]
    assert [row["payload_sha256"] for row in rows] == [m.sha256 for m in migrations]
    assert [row["detail"]["name"] for row in rows] == [m.name for m in migrations]
