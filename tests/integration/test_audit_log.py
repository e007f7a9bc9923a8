"""The append-only, hash-chained audit log in ops.audit_log."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from sxe import audit, jobs
from sxe.db import connect, transaction

MUTATIONS = {
    "update": "UPDATE ops.audit_log SET actor = 'someone else' WHERE seq = 2",
    "delete": "DELETE FROM ops.audit_log WHERE seq = 2",
    "truncate": "TRUNCATE ops.audit_log",
}


def append_rows(conn: psycopg.Connection[Any], count: int, *, actor: str = "sxe_worker:test") -> None:
    for index in range(count):
        with transaction(conn, role="sxe_worker"):
            audit.append(
                conn,
                actor=actor,
                action="test.step",
                subject=f"item:{index}",
                detail={"index": index},
                payload_sha256=f"{index:064x}",
            )


def row_count(conn: psycopg.Connection[Any]) -> int:
    return int(conn.execute("SELECT count(*) AS n FROM ops.audit_log").fetchone()["n"])


def tamper(conn: psycopg.Connection[Any], statement: str) -> None:
    """Run `statement` with the audit triggers disabled, as a superuser could."""
    with conn.transaction():
        conn.execute("ALTER TABLE ops.audit_log DISABLE TRIGGER USER")
        conn.execute(statement)
        conn.execute("ALTER TABLE ops.audit_log ENABLE TRIGGER USER")


@pytest.fixture(autouse=True)
def empty_audit_log(conn: psycopg.Connection[Any]) -> None:
    """Start every test from an empty chain, because migrations audit themselves and these tests count from seq 1."""
    tamper(conn, "DELETE FROM ops.audit_log")
    conn.execute("UPDATE ops.audit_chain_head SET seq = 0, row_hash = repeat('0', 64)")


def test_verify_passes_fresh_chain(conn: psycopg.Connection[Any]) -> None:
    append_rows(conn, 12)

    report = audit.verify(conn)

    assert report.ok
    assert report.rows_checked == 12
    seqs = [row["seq"] for row in conn.execute("SELECT seq FROM ops.audit_log ORDER BY seq")]
    assert seqs == list(range(1, 13))


def test_verify_passes_empty_log(conn: psycopg.Connection[Any]) -> None:
    report = audit.verify(conn)

    assert report.ok
    assert report.rows_checked == 0


@pytest.mark.parametrize("statement", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_owner_change_rejected_by_trigger(conn: psycopg.Connection[Any], statement: str) -> None:
    append_rows(conn, 3)

    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        conn.execute(statement)

    assert row_count(conn) == 3
    assert audit.verify(conn).ok


@pytest.mark.parametrize("statement", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_worker_change_denied_by_privilege(conn: psycopg.Connection[Any], statement: str) -> None:
    append_rows(conn, 3)

    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        with transaction(conn, role="sxe_worker"):
            conn.execute(statement)

    assert row_count(conn) == 3


def test_worker_cannot_read_log(conn: psycopg.Connection[Any]) -> None:
    append_rows(conn, 1)

    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        with transaction(conn, role="sxe_worker"):
            conn.execute("SELECT detail FROM ops.audit_log")


def test_verify_names_edited_row(conn: psycopg.Connection[Any]) -> None:
    append_rows(conn, 5)

    tamper(conn, """UPDATE ops.audit_log SET detail = '{"index": 99}' WHERE seq = 3""")
    report = audit.verify(conn)

    assert not report.ok
    assert report.first_broken_seq == 3
    assert report.problem == "row_hash does not match the row content"
    assert report.rows_checked == 5


def test_verify_names_rehashed_row_successor(conn: psycopg.Connection[Any]) -> None:
    append_rows(conn, 5)

    # A forger who also recomputes the edited row's hash still breaks the next row's link.
    tamper(
        conn,
        """
        UPDATE ops.audit_log
           SET detail = '{"index": 99}',
               row_hash = ops.audit_row_hash(prev_hash, seq, at, actor, action, subject,
                                             '{"index": 99}'::jsonb, payload_sha256)
         WHERE seq = 3
        """,
    )
    report = audit.verify(conn)

    assert report.first_broken_seq == 4
    assert report.problem == "prev_hash does not match the previous row"


def test_verify_names_deleted_row_gap(conn: psycopg.Connection[Any]) -> None:
    append_rows(conn, 5)

    tamper(conn, "DELETE FROM ops.audit_log WHERE seq = 3")
    report = audit.verify(conn)

    assert report.first_broken_seq == 4
    assert report.problem == "missing row before this one"
    assert report.rows_checked == 4


def test_verify_names_deleted_first_row(conn: psycopg.Connection[Any]) -> None:
    append_rows(conn, 3)

    tamper(conn, "DELETE FROM ops.audit_log WHERE seq = 1")
    report = audit.verify(conn)

    assert report.first_broken_seq == 2
    assert report.problem == "missing row before this one"


def test_concurrent_writers_keep_chain_linear(database_url: str, conn: psycopg.Connection[Any]) -> None:
    writers = 20
    rows_per_writer = 5
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            with connect(database_url, autocommit=True) as own:
                start.wait(timeout=10)
                append_rows(own, rows_per_writer, actor=f"sxe_worker:writer-{index}")
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    total = writers * rows_per_writer
    seqs = [row["seq"] for row in conn.execute("SELECT seq FROM ops.audit_log ORDER BY seq")]
    actors = conn.execute("SELECT count(DISTINCT actor) AS n FROM ops.audit_log").fetchone()
    report = audit.verify(conn)
    assert errors == []
    assert seqs == list(range(1, total + 1))
    assert actors["n"] == writers
    assert report.ok
    assert report.rows_checked == total


def test_stale_repeatable_read_append_fails_serialization(database_url: str, conn: psycopg.Connection[Any]) -> None:
    append_rows(conn, 1)
    with connect(database_url, autocommit=True) as late:
        with pytest.raises(psycopg.errors.SerializationFailure):
            with transaction(late, role="sxe_worker", repeatable_read=True):
                late.execute("SELECT 1")  # takes the snapshot before the other writer commits
                append_rows(conn, 1)
                audit.append(late, actor="sxe_worker:late", action="test.step", subject="late")

        with transaction(late, role="sxe_worker", repeatable_read=True):
            audit.append(late, actor="sxe_worker:late", action="test.step", subject="retried")

    seqs = [row["seq"] for row in conn.execute("SELECT seq FROM ops.audit_log ORDER BY seq")]
    assert seqs == [1, 2, 3]
    assert audit.verify(conn).ok


def test_failed_audit_rolls_back_action(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.CheckViolation, match="payload_sha256"):
        with transaction(conn, role="sxe_worker"):
            jobs.enqueue(conn, "audited", {"n": 1})
            audit.append(conn, actor="sxe_worker:test", action="job.enqueued", payload_sha256="not-a-sha256")

    queued = conn.execute("SELECT count(*) AS n FROM ops.jobs").fetchone()
    assert queued["n"] == 0
    assert row_count(conn) == 0


def test_failed_audit_leaves_no_seq_gap(conn: psycopg.Connection[Any]) -> None:
    append_rows(conn, 2)
    with pytest.raises(psycopg.errors.CheckViolation):
        with transaction(conn, role="sxe_worker"):
            audit.append(conn, actor="sxe_worker:test", action="test.step", payload_sha256="ABC")

    append_rows(conn, 1)

    seqs = [row["seq"] for row in conn.execute("SELECT seq FROM ops.audit_log ORDER BY seq")]
    assert seqs == [1, 2, 3]
    assert audit.verify(conn).ok
