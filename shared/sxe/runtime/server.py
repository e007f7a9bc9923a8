"""`sxe serve`: every function of project.yml on one local HTTP server, plus its schedules.

Routes, all on the functions-framework Flask app:

- `/api/v1/web/<namespace>/<package>/<function>[/<path>]`: each `web: true` or
  `web: raw` function, called with the event DigitalOcean would build for it.
  Functions with `web: false` answer 404 there, as on DigitalOcean.
- `/download/<key>?expires=…&signature=…`: the local object store's signed URLs.
- `/health/live`, `/health/ready`, `/health`: the `ops/health` checks.

The cron triggers of project.yml run on a scheduler thread with the same handlers.
"""

from __future__ import annotations

import base64
import importlib.util
import inspect
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import flask
import functions_framework
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sxe.handoff.download_server import DOWNLOAD_PREFIX, resolve_download
from sxe.handoff.store import LocalObjectStore
from sxe.logs import Event, log
from sxe.runtime import gateway
from sxe.runtime.events import FunctionContext, local_context, problem
from sxe.runtime.project import Function, Project, Trigger
from sxe.runtime.scheduler import Scheduler

WEB_PREFIX = "/api/v1/web/"
DEFAULT_NAMESPACE = "local"
HEALTH_CHECKS = {"/health/live": "live", "/health/ready": "ready", "/health": "full"}
# Content types DigitalOcean passes to a raw function as text; anything else arrives base64-encoded.
_TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml")

Handler = Callable[..., Any]


class LocalServer:
    """The project's functions behind DigitalOcean's URL shape, with its triggers on a scheduler."""

    def __init__(
        self,
        project: Project,
        store: LocalObjectStore,
        secret: bytes,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        is_revoked: Callable[[str], bool] | None = None,
        clock: Callable[[], float] = time.time,
        poll_seconds: float = 1.0,
    ) -> None:
        self.project = project
        self.store = store
        self.secret = secret
        self.namespace = namespace
        self.is_revoked = is_revoked
        self._handlers: dict[str, Handler] = {}
        self._handlers_lock = threading.Lock()
        apply_static_environment(project)
        self.scheduler = Scheduler(project.triggers, self.invoke_scheduled, clock=clock, poll_seconds=poll_seconds)
        self.app = functions_framework.create_app(  # type: ignore[no-untyped-call]
            target="gateway", source=gateway.__file__, signature_type="http"
        )
        self.app.config[gateway.SERVER_KEY] = self
        self._httpd: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # Serving ------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 8080) -> str:
        """Start serving on a background thread and the scheduler; return the base URL."""
        self._httpd = make_server(host, port, self.app, threaded=True, request_handler=_QuietRequestHandler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="sxe-http", daemon=True)
        self._thread.start()
        self.scheduler.start()
        url = f"http://{host}:{self._httpd.server_port}"
        log(logging.INFO, Event.SERVER_STARTED, f"serving {len(self.project.functions)} functions on {url}")
        return url

    def stop(self) -> None:
        """Stop the scheduler and the HTTP server."""
        self.scheduler.stop()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            log(logging.INFO, Event.SERVER_STOPPED, "stopped serving functions")

    # Dispatch -----------------------------------------------------------------

    def dispatch(self, request: flask.Request) -> flask.Response:
        """Route one HTTP request to a web function, the download store or a health check."""
        path = request.path
        if path.startswith(WEB_PREFIX):
            return self._web(request, path[len(WEB_PREFIX) :])
        if path.startswith(DOWNLOAD_PREFIX) and request.method in ("GET", "HEAD"):
            query = request.query_string.decode("latin-1")
            result = resolve_download(self.store, self.secret, path, query, self.is_revoked)
            return flask.Response(result.body, status=int(result.status), content_type=result.content_type)
        if path in HEALTH_CHECKS and request.method == "GET":
            from sxe.functions import health_check

            event = {"check": HEALTH_CHECKS[path], "http": {"headers": {}, "method": "GET", "path": ""}}
            return to_flask(health_check(event, self._context("ops", "health", 30_000)))
        return to_flask(problem(404, "not found", f"no route for {path}; web functions live under {WEB_PREFIX}"))

    def _web(self, request: flask.Request, rest: str) -> flask.Response:
        parts = rest.split("/", 3)
        if len(parts) < 3 or parts[0] != self.namespace:
            detail = f"web functions are served at {WEB_PREFIX}{self.namespace}/<package>/<function>"
            return to_flask(problem(404, "not found", detail))

        function = self.project.function(parts[1], parts[2])
        if function is None or function.web is False:
            return to_flask(problem(404, "not found", f"no web function {parts[1]}/{parts[2]} in project.yml"))

        sub_path = "/" + parts[3] if len(parts) == 4 else ""
        try:
            event = raw_event(request, sub_path) if function.web == "raw" else parsed_event(request, sub_path)
        except ValueError as exc:
            return to_flask(problem(400, "bad request", str(exc)))
        return to_flask(self.invoke(function, event))

    def invoke(self, function: Function, event: dict[str, Any]) -> dict[str, Any]:
        """Call a function's `main` the way DigitalOcean does; an exception becomes a 500 problem."""
        context = self._context(function.package, function.name, function.timeout_ms)
        handler = self._handler(function)
        try:
            takes_context = len(inspect.signature(handler).parameters) >= 2
            result = handler(event, context) if takes_context else handler(event)
        except Exception:
            logging.getLogger("sxe").exception("function %s raised", function.path)
            log(logging.ERROR, Event.FUNCTION_FAILED, f"{function.path} raised", status=500)
            return problem(500, "internal error", f"{function.path} failed; activation {context.activation_id}")
        return result if isinstance(result, dict) else {"statusCode": 200, "body": result}

    def invoke_scheduled(self, function: Function, trigger: Trigger) -> dict[str, Any]:
        """Fire one trigger: the function gets the trigger's body as its event, with no `http` key."""
        return self.invoke(function, dict(trigger.body))

    def _handler(self, function: Function) -> Handler:
        # Loaded once and kept, like the module of a warm container.
        with self._handlers_lock:
            handler = self._handlers.get(function.path)
            if handler is None:
                handler = load_handler(self.project.handler_path(function), function)
                self._handlers[function.path] = handler
            return handler

    def _context(self, package: str, name: str, timeout_ms: int) -> FunctionContext:
        return local_context(self.namespace, package, name, timeout_ms)


class _QuietRequestHandler(WSGIRequestHandler):
    # Werkzeug's access log prints the request line, and a signed URL's signature with
    # it; the functions and the download resolver write structured lines instead.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


def load_handler(path: Path, function: Function) -> Handler:
    """Import a function folder's `__main__.py` and return its `main`."""
    spec = importlib.util.spec_from_file_location(f"sxe_function_{function.package}_{function.name}", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise FileNotFoundError(f"{path} is missing; every function in project.yml needs packages/<p>/<f>/__main__.py")
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    main = getattr(module, "main", None)
    if not callable(main):
        raise AttributeError(f"{path} defines no main(event, context) function")
    handler: Handler = main
    return handler


def apply_static_environment(project: Project) -> None:
    """Set project.yml's literal environment values that the process does not set already.

    Templated values (`"${VAR}"`) come from the process environment as they are.
    NOTE: one process serves every function, so a variable that two functions set to
    different literal values takes the first one found.
    """
    scopes = [project.environment, *(function.environment for function in project.functions)]
    for environment in scopes:
        for name, value in environment.items():
            if "${" not in value:
                os.environ.setdefault(name, value)


def parsed_event(request: flask.Request, sub_path: str) -> dict[str, Any]:
    """Build a `web: true` event: query and body keys at the top level, plus `http`."""
    params: dict[str, Any] = dict(request.args.items())
    if request.mimetype == "application/json" and request.get_data():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ValueError("the JSON body must be an object, because its keys become the function's parameters")
        params.update(body)
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        params.update(request.form.items())
    http = {"headers": _headers(request), "method": request.method, "path": sub_path}
    return {**params, "http": http}


def raw_event(request: flask.Request, sub_path: str) -> dict[str, Any]:
    """Build a `web: raw` event: the body untouched (base64 for binary types) and the query string."""
    data = request.get_data()
    is_text = any(request.mimetype.startswith(prefix) for prefix in _TEXT_TYPES)
    try:
        body = data.decode("utf-8") if is_text else base64.b64encode(data).decode("ascii")
    except UnicodeDecodeError:
        is_text = False
        body = base64.b64encode(data).decode("ascii")
    return {
        "http": {
            "body": body,
            "headers": _headers(request),
            "isBase64Encoded": not is_text,
            "method": request.method,
            "path": sub_path,
            "queryString": request.query_string.decode("latin-1"),
        }
    }


def to_flask(result: dict[str, Any]) -> flask.Response:
    """Turn a DigitalOcean response (`statusCode`, `headers`, `body`) into a Flask response."""
    if "statusCode" not in result and "body" not in result:
        result = {"statusCode": 200, "body": result}
    headers = dict(result.get("headers") or {})
    body = result.get("body")
    if isinstance(body, dict | list):
        payload = json.dumps(body, default=str).encode("utf-8")
        headers.setdefault("Content-Type", "application/json")
    elif body is None:
        payload = b""
    else:
        payload = str(body).encode("utf-8")
    return flask.Response(payload, status=int(result.get("statusCode", 200)), headers=headers)


def _headers(request: flask.Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}
