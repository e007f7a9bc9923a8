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
    conn: psycopg.Connection[Any], statements: str | list[str], params: dict[str, Any], *, role: str
) -> list[list[dict[str, Any]]]:
    """Run statements in one transaction of their own as `role`, committed in one round trip; return each one's rows.

    BEGIN, SET LOCAL ROLE, the statements and COMMIT go to the server as one message,
    where `transaction()` takes a round trip for each. A message of several statements
    uses the simple query protocol, which takes no server-side parameters, so psycopg's
    ClientCursor quotes `params` (shared by all statements) into the text. No prepared
    statement or session setting outlives the transaction, which is what PgBouncer's
    transaction mode requires. When a statement fails, the server skips the rest of the
    message, and the transaction is rolled back here before the error is raised. `conn`
    must be in autocommit mode with no transaction open. A statement that returns no
    columns gets an empty list.
    """
    if isinstance(statements, str):
        statements = [statements]
    if role not in RUNTIME_ROLES:
        raise ValueError(f"unknown runtime role {role!r}; expected one of {sorted(RUNTIME_ROLES)}")
    if not conn.autocommit or conn.info.transaction_status != TransactionStatus.IDLE:
        raise ValueError(
            "this statement commits its own transaction: pass an autocommit connection with no transaction open"
        )

    # The newline before each semicolon ends a trailing comment of the statement.
    body = "".join(f"{statement.strip().rstrip(';')}\n;\n" for statement in statements)
    message = f"BEGIN;\nSET LOCAL ROLE {role};\n{body}COMMIT;"
    results: list[list[dict[str, Any]]] = []
    with psycopg.ClientCursor(conn, row_factory=dict_row) as cursor:
        try:
            cursor.execute(message, params)
        except BaseException:
            # A broken connection reports UNKNOWN and is left alone, so the original error surfaces.
            if conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
                conn.execute("ROLLBACK")
            raise
        # The cursor has one result per statement of the message: BEGIN, SET, the statements, COMMIT.
        cursor.nextset()
        for _ in statements:
            cursor.nextset()
            results.append(cursor.fetchall() if cursor.description is not None else [])
    return results
