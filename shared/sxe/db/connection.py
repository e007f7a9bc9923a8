"""Connections: one place that opens them, names the server on failure and sets roles."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import orjson
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import ConnStatus, ExecStatus, TransactionStatus
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads

from sxe.errors import DatabaseUnavailable

RUNTIME_ROLES = frozenset({"sxe_api", "sxe_worker", "sxe_analyst"})

# The shortest integers orjson may not decode exactly: 2**63 and 2**64 have 19 and 20 digits.
_LONG_DIGIT_RUN = re.compile(rb"\d{19}")


def describe_url(url: str) -> str:
    """Return host, port and database of a URL or key=value connection string, without user name or password."""
    if "://" not in url:
        return _describe_conninfo(url)
    parts = urlsplit(url)
    host = parts.hostname or "local socket"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path or '/'}"


def _describe_conninfo(conninfo: str) -> str:
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "the configured server"  # an unparseable string may hold a password anywhere
    host = params.get("host") or "local socket"
    port = f":{params['port']}" if params.get("port") else ""
    return f"{host}{port}/{params.get('dbname') or ''}"


def load_json(data: bytes | bytearray | memoryview | str) -> Any:
    """Decode a json or jsonb value read from the server, with orjson unless it contains a long number.

    orjson decodes job payloads several times faster than `json.loads`. It turns an
    integer outside 64 bits into a float, losing digits, and jsonb may hold such
    integers. So a value with a run of 19 digits or more goes to `json.loads`.
    """
    raw = data.encode() if isinstance(data, str) else data
    if _LONG_DIGIT_RUN.search(raw) is None:
        return orjson.loads(raw)
    return json.loads(bytes(raw))


def use_fast_json(conn: psycopg.Connection[Any]) -> None:
    """Make `conn` decode json and jsonb values with `load_json`."""
    set_json_loads(load_json, conn)


def connect(url: str, **kwargs: Any) -> psycopg.Connection[dict[str, Any]]:
    """Open a connection with dict rows; raise DatabaseUnavailable naming the server (never the password).

    `prepare_threshold=None` keeps the connection usable through PgBouncer in transaction mode.
    """
    try:
        conn = psycopg.connect(url, row_factory=dict_row, prepare_threshold=None, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {describe_url(url)}: {reason}; "
            "check SXE_DATABASE_URL, or unset it to use the embedded server"
        ) from exc
    use_fast_json(conn)
    return conn


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
            _check_role(role)
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
    _check_role(role)
    _check_idle_autocommit(conn)

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


def committed_message(conn: psycopg.Connection[Any], statement: str, params: dict[str, Any], *, role: str) -> bytes:
    """Build the message with which `fetch_committed_value` runs one statement as `role`, `params` quoted in.

    The message is SET LOCAL ROLE and the statement, without BEGIN or COMMIT. A
    simple-protocol message of several statements and no transaction command runs as one
    implicit transaction block (PostgreSQL 10 and later, see "Multiple Statements in a
    Simple Query" in the protocol chapter of its manual). So SET LOCAL lasts until the
    block ends, and the block commits when the statement succeeds and rolls back when it
    fails. The quoting depends only on the client encoding, so the message can be kept
    and sent again on any connection with the same `conn.info.encoding`.
    `statement` must be one statement.
    """
    _check_role(role)
    with psycopg.ClientCursor(conn) as cursor:
        text = cursor.mogrify(statement, params)
    return f"SET LOCAL ROLE {role};\n{text.strip()}".encode(conn.info.encoding)


def fetch_committed_value(conn: psycopg.Connection[Any], message: bytes) -> bytes | None:
    """Send a message from `committed_message`, and return the first value of its first row in text format.

    Returns None for an SQL NULL or when the statement returns no row. The message goes
    through libpq's PQexec in one round trip, which skips the cursor, the row factory and
    the result of SET. For the token acquire this took a third to a half of the client
    CPU of a psycopg cursor sending the same message (bench figures in
    docs/benchmarks-jobs.md). No transaction is left open, whether the statement succeeds
    or fails. `conn` must be in autocommit mode with no transaction open.

    NOTE: PQexec does not return on Ctrl-C, unlike a cursor, which cancels the query:
    an acquire that waits for a row lock ends only when it gets the lock.
    """
    _check_idle_autocommit(conn)
    with conn.lock:
        result = conn.pgconn.exec_(message)
    if result.status == ExecStatus.FATAL_ERROR:
        raise _error_of(conn, result)
    if result.status != ExecStatus.TUPLES_OK or result.ntuples == 0:
        return None
    return result.get_value(0, 0)


def _error_of(conn: psycopg.Connection[Any], result: psycopg.pq.abc.PGresult) -> psycopg.Error:
    """Return the exception of a failed result: the class of its SQLSTATE, or OperationalError for a lost connection."""
    encoding = conn.info.encoding
    if conn.pgconn.status == ConnStatus.BAD:
        return psycopg.OperationalError(f"the connection was lost: {result.get_error_message(encoding).strip()}")
    # psycopg 3.3's cursors build their errors with this function, which its documentation does not list.
    return psycopg.errors.error_from_result(result, encoding=encoding)


def _check_role(role: str) -> None:
    if role not in RUNTIME_ROLES:
        raise ValueError(f"unknown runtime role {role!r}; expected one of {sorted(RUNTIME_ROLES)}")


def _check_idle_autocommit(conn: psycopg.Connection[Any]) -> None:
    if not conn.autocommit or conn.info.transaction_status != TransactionStatus.IDLE:
        raise ValueError(
            "this statement commits its own transaction: pass an autocommit connection with no transaction open"
        )
