"""The committed one-message paths: parameters quoted into the message, the role, the commit and the rollback."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from sxe.db import connect
from sxe.db.connection import committed_message, execute_committed, fetch_committed_value


def test_parameters_round_trip_as_values(conn: psycopg.Connection[Any]) -> None:
    ids = [uuid.uuid4(), uuid.uuid4()]
    params = {"text": "it's 100% \\ done", "ids": ids, "missing": None, "count": 7}

    [rows] = execute_committed(
        conn,
        "SELECT %(text)s AS text, %(ids)s AS ids, %(missing)s::int AS missing, %(count)s AS count, '5%%' AS pct",
        params,
        role="sxe_worker",
    )

    assert rows == [{"text": "it's 100% \\ done", "ids": ids, "missing": None, "count": 7, "pct": "5%"}]


def test_statements_run_as_role_and_commit(conn: psycopg.Connection[Any]) -> None:
    [user], [] = execute_committed(
        conn,
        ["SELECT current_user AS name", "UPDATE ops.provider_buckets SET tokens = 0 WHERE provider = %(p)s"],
        {"p": "none"},
        role="sxe_worker",
    )

    assert user == {"name": "sxe_worker"}
    assert conn.execute("SELECT current_user AS name").fetchone() == {"name": conn.info.user}
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_missing_parameter_raises(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.ProgrammingError, match="absent"):
        execute_committed(conn, "SELECT %(absent)s", {}, role="sxe_worker")

    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_failed_statement_rolls_back(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.DivisionByZero):
        execute_committed(conn, "SELECT 1 / %(zero)s", {"zero": 0}, role="sxe_worker")

    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def fetch(conn: psycopg.Connection[Any], statement: str, params: dict[str, Any], role: str = "sxe_worker") -> Any:
    return fetch_committed_value(conn, committed_message(conn, statement, params, role=role))


def test_fetch_value_quotes_parameters(conn: psycopg.Connection[Any]) -> None:
    text = "it's 100% \\ done, ünïcode"

    value = fetch(conn, "SELECT %(text)s || '5%%'", {"text": text})

    assert value == f"{text}5%".encode()


def test_fetch_value_runs_as_role_only_in_message(conn: psycopg.Connection[Any]) -> None:
    message = committed_message(conn, "SELECT current_user", {}, role="sxe_api")

    assert fetch_committed_value(conn, message) == b"sxe_api"
    assert conn.execute("SELECT current_user AS name").fetchone() == {"name": conn.info.user}
    assert conn.execute("SHOW role").fetchone() == {"role": "none"}
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_fetch_value_commits(conn: psycopg.Connection[Any], database_url: str) -> None:
    conn.execute(
        "INSERT INTO ops.provider_buckets (provider, capacity, refill_per_second, tokens) VALUES ('p', 5, 1, 5)"
    )

    fetch(conn, "UPDATE ops.provider_buckets SET tokens = 2 WHERE provider = %(p)s", {"p": "p"})

    with connect(database_url) as other:
        row = other.execute("SELECT tokens FROM ops.provider_buckets WHERE provider = 'p'").fetchone()
    assert row == {"tokens": 2}


def test_fetch_value_null_and_no_row(conn: psycopg.Connection[Any]) -> None:
    assert fetch(conn, "SELECT NULL", {}) is None
    assert fetch(conn, "SELECT 1 WHERE false", {}) is None
    assert fetch(conn, "UPDATE ops.provider_buckets SET tokens = 0 WHERE provider = %(p)s", {"p": "none"}) is None


def test_fetch_value_failure_rolls_back(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "INSERT INTO ops.provider_buckets (provider, capacity, refill_per_second, tokens) VALUES ('p', 5, 1, 5)"
    )
    statement = "UPDATE ops.provider_buckets SET tokens = 0 WHERE provider = %(p)s RETURNING 1 / %(zero)s"

    with pytest.raises(psycopg.errors.DivisionByZero, match="division by zero"):
        fetch(conn, statement, {"p": "p", "zero": 0})

    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    row = conn.execute("SELECT tokens FROM ops.provider_buckets WHERE provider = 'p'").fetchone()
    assert row == {"tokens": 5}


def test_fetch_value_denied_to_role(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        fetch(conn, "SELECT count(*) FROM contact.contacts", {}, role="sxe_api")

    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_fetch_value_lost_connection(conn: psycopg.Connection[Any], database_url: str) -> None:
    message = committed_message(conn, "SELECT 1", {}, role="sxe_worker")
    with connect(database_url, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))

    with pytest.raises(psycopg.OperationalError):
        fetch_committed_value(conn, message)

    assert conn.closed


def test_committed_message_rejects_unknown_role(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(ValueError, match="unknown runtime role 'postgres'"):
        committed_message(conn, "SELECT 1", {}, role="postgres")


def test_fetch_value_rejects_open_transaction(conn: psycopg.Connection[Any]) -> None:
    message = committed_message(conn, "SELECT 1", {}, role="sxe_worker")

    with pytest.raises(ValueError, match="no transaction open"), conn.transaction():
        fetch_committed_value(conn, message)
