"""The frame around every function: parse the event, bind log keys, lend a connection, map errors.

`run_function` is what each `sxe.functions` entry point calls. It turns the event
into a `Request`, reads DigitalOcean's context, binds the function name, activation
id and correlation id to every log line of the invocation, and converts errors into
problem responses: 400 for bad input, 503 when the database is unreachable, 500
otherwise. The traceback goes to the log only, never into the response.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from sxe.config import Settings, load_settings
from sxe.errors import ConfigError, DatabaseUnavailable, SxeError, UsageError
from sxe.logs import Event, bind, log
from sxe.runtime.environments import check_database_environment, check_environment
from sxe.runtime.events import FunctionContext, Request, as_context, parse_event, problem
from sxe.runtime.pool import function_database_url, pooled_connection

CORRELATION_HEADERS = ("x-correlation-id", "x-request-id")
_CORRELATION_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Leave this much of the invocation's time for the work itself when waiting for a connection.
_POOL_WAIT_SHARE = 0.5


@dataclass(slots=True)
class Invocation:
    """What a function body gets: the request, the context, settings and a pooled connection on demand."""

    name: str
    request: Request
    context: FunctionContext
    settings: Settings
    _url: str | None = field(default=None, repr=False)
    _environment_checked: bool = field(default=False, repr=False)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        """Lend an autocommit connection from the container's pool for the length of the block.

        The first lend of an invocation raises ConfigError when the database's
        recorded environment differs from SXE_ENV, before any data is read.
        """
        if self._url is None:
            self._url = function_database_url(self.settings)
        remaining = self.context.get_remaining_time_in_millis() / 1000
        timeout = min(self.settings.db_pool_timeout_seconds, max(1.0, remaining * _POOL_WAIT_SHARE))
        with pooled_connection(self._url, timeout) as conn:
            if not self._environment_checked:
                check_database_environment(conn, role="sxe_api")
                self._environment_checked = True
            yield conn


Body = Callable[[Invocation], dict[str, Any]]


def run_function(name: str, event: Any, context: Any, body: Body, *, timeout_ms: int = 60_000) -> dict[str, Any]:
    """Run one invocation of function `name` (`package/function`) and return its DO response."""
    function_context = as_context(context, fallback_name=name, timeout_ms=timeout_ms)
    correlation_id = function_context.activation_id
    with bind(function=name, activation_id=function_context.activation_id):
        try:
            request = parse_event(event)
            correlation_id = _correlation_id(request) or correlation_id
            with bind(correlation_id=correlation_id):
                settings = load_settings(option_names={"pool": "event key pool"}, **_overrides(request))
                check_environment(settings)
                return body(Invocation(name, request, function_context, settings))
        except ConfigError as exc:
            # The deployment is misconfigured, not the request: a server-side error.
            log(logging.ERROR, Event.FUNCTION_FAILED, str(exc), status=500)
            return problem(500, "configuration error", str(exc))
        except UsageError as exc:
            log(logging.WARNING, Event.FUNCTION_FAILED, str(exc), status=400)
            return problem(400, "bad request", str(exc))
        except DatabaseUnavailable as exc:
            log(logging.ERROR, Event.FUNCTION_FAILED, str(exc), status=503)
            return problem(503, "service unavailable", str(exc))
        except SxeError as exc:
            log(logging.ERROR, Event.FUNCTION_FAILED, str(exc), status=500)
            return problem(500, "internal error", str(exc))
        except Exception:
            logging.getLogger("sxe").exception("unexpected error in %s", name)
            log(logging.ERROR, Event.FUNCTION_FAILED, f"unexpected error in {name}", status=500)
            detail = f"unexpected error; find activation {function_context.activation_id} in the function's logs"
            return problem(500, "internal error", detail)


Entry = Callable[[Any, Any], Any]


def logged_as(name: str) -> Callable[[Entry], Entry]:
    """Bind `name`, the activation id and the correlation id to the log lines of an entry point.

    For the functions that take their event raw and so do not run inside `run_function`:
    the webhooks, the pull API, the provider callback and the compliance tasks. The
    correlation id comes from the request's headers, as in `run_function`, else the
    activation id.
    """

    def wrap(entry: Entry) -> Entry:
        @functools.wraps(entry)
        def logged(event: Any, context: Any = None) -> Any:
            activation_id = as_context(context, fallback_name=name).activation_id
            correlation_id = _raw_correlation_id(event) or activation_id
            with bind(function=name, activation_id=activation_id, correlation_id=correlation_id):
                return entry(event, context)

        return logged

    return wrap


def _raw_correlation_id(event: Any) -> str | None:
    http = event.get("http") if isinstance(event, dict) else None
    headers = http.get("headers") if isinstance(http, dict) else None
    if not isinstance(headers, dict):
        return None
    lowered = {str(key).lower(): value for key, value in headers.items()}
    return _first_valid_correlation_id([lowered.get(name) for name in CORRELATION_HEADERS])


def _overrides(request: Request) -> dict[str, Any]:
    pool = request.params.get("pool")
    return {"pool": pool} if pool else {}


def _correlation_id(request: Request) -> str | None:
    candidates = [request.header(name) for name in CORRELATION_HEADERS] + [request.params.get("correlation_id")]
    return _first_valid_correlation_id(candidates)


def _first_valid_correlation_id(candidates: list[Any]) -> str | None:
    """Return the first candidate that is a usable correlation id, or None."""
    for candidate in candidates:
        if isinstance(candidate, str) and _CORRELATION_RE.match(candidate):
            return candidate
    return None
