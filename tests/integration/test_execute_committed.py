"""execute_committed: parameters quoted into one message, the role, the commit and the rollback."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from sxe.db.connection import execute_committed


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
