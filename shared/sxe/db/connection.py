"""Connections: one place that opens them, names the server on failure and sets roles."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from sxe.errors import DatabaseUnavailable

RUNTIME_ROLES = frozenset({"sxe_api", "sxe_worker", "sxe_analyst"})


def describe_url(url: str) -> str:
    """Return host, port and database of a URL with the user name and password left out."""
    parts = urlsplit(url)
    host = parts.hostname or "local socket"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path or '/'}"


def connect(url: str, **kwargs: Any) -> psycopg.Connection[dict[str, Any]]:
    """Open a connection with dict rows; raise DatabaseUnavailable naming the server (never the password).

    `prepare_threshold=None` keeps the connection usable through PgBouncer in transaction mode.
    """
    try:
        return psycopg.connect(url, row_factory=dict_row, prepare_threshold=None, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {describe_url(url)}: {reason}; "
            "check SXE_DATABASE_URL, or unset it to use the embedded server"
        ) from exc


@contextmanager
def transaction(
    conn: psycopg.Connection[Any], role: str | None = None, *, repeatable_read: bool = False
) -> Iterator[psycopg.Connection[Any]]:
    """Run a block in one transaction, as `role` when given (SET LOCAL, so it ends with the transaction).

    `repeatable_read` gives the whole block one snapshot, for work that reads a set
    and then updates exactly that set.
    """
    with conn.transaction():
        if repeatable_read:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if role is not None:
            if role not in RUNTIME_ROLES:
                raise ValueError(f"unknown runtime role {role!r}; expected one of {sorted(RUNTIME_ROLES)}")
            conn.execute(f"SET LOCAL ROLE {role}")
        yield conn


def execute_committed(
    conn: psycopg.Connection[Any], statement: str, params: dict[str, Any], *, role: str
) -> list[dict[str, Any]]:
    """Run one statement in a transaction of its own as `role`, committed in one round trip; return its rows.

    BEGIN, SET LOCAL ROLE, the statement and COMMIT go to the server as one message,
    where `transaction()` takes four round trips. A message of several statements uses
    the simple query protocol, which takes no server-side parameters, so psycopg's
    ClientCursor quotes them into the text. No prepared statement or session setting
    outlives the transaction, so this works behind PgBouncer in transaction mode. When
    the statement fails, the server skips the rest of the message; the transaction is
    rolled back here before the error is raised. `conn` must be in autocommit mode with
    no transaction open.
    """
    if role not in RUNTIME_ROLES:
        raise ValueError(f"unknown runtime role {role!r}; expected one of {sorted(RUNTIME_ROLES)}")
    if not conn.autocommit or conn.info.transaction_status != TransactionStatus.IDLE:
        raise ValueError(
            "this statement commits its own transaction: pass an autocommit connection with no transaction open"
        )

    # The newline before the semicolon ends a trailing comment of the statement.
    message = f"BEGIN;\nSET LOCAL ROLE {role};\n{statement.strip().rstrip(';')}\n;\nCOMMIT;"
    rows: list[dict[str, Any]] = []
    with psycopg.ClientCursor(conn, row_factory=dict_row) as cursor:
        try:
            cursor.execute(message, params)
        except BaseException:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
            raise
        # One result per statement: BEGIN, SET, the statement (the only one with columns), COMMIT.
        while True:
            if cursor.description is not None:
                rows = cursor.fetchall()
            if not cursor.nextset():
                break
    return rows
