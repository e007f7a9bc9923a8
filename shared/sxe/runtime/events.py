"""DigitalOcean Functions event shapes, the invocation context and the response shape.

DigitalOcean calls `main(event, context)` with one of three event shapes:

- `web: true` (parsed): the JSON or form body's keys and the query parameters at the
  top level, plus `http: {headers, method, path}`.
- `web: raw`: `http: {body, headers, isBase64Encoded, method, path, queryString}`, with
  header names lowercased and the body untouched, for checking a signature over it.
- scheduled or internal: the trigger's `withBody` keys (or the invoker's parameters) at
  the top level and no `http` key.

`parse_event` turns any of them into one `Request`. A handler returns
`{statusCode, headers, body}`, built by `response` or `problem`.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

from sxe.errors import UsageError

EventKind = Literal["parsed", "raw", "scheduled"]
JSON_TYPE = "application/json"
PROBLEM_TYPE = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Request:
    """One invocation's input, whatever shape it arrived in.

    `params` holds the top-level keys (parsed body and query for `parsed`, the trigger
    body for `scheduled`); `body` is the raw bytes of a `raw` event and empty otherwise.
    """

    kind: EventKind
    params: dict[str, Any]
    method: str | None = None
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """Return a header's value by case-insensitive name, or None."""
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """Decode a raw body as JSON; raise UsageError naming the problem when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UsageError(f"the request body is not UTF-8 JSON ({exc}); send a JSON document") from exc


def parse_event(event: Any) -> Request:
    """Normalize a DigitalOcean event into a Request; raise UsageError for a shape DO never sends."""
    if not isinstance(event, dict):
        raise UsageError(f"the event must be a JSON object, got {type(event).__name__}")
    http = event.get("http")
    if http is None:
        return Request(kind="scheduled", params=dict(event))
    if not isinstance(http, dict):
        raise UsageError("the event's 'http' key must be an object with method, path and headers")

    headers = {str(name).lower(): str(value) for name, value in (http.get("headers") or {}).items()}
    method = str(http.get("method", "GET")).upper()
    path = str(http.get("path", ""))
    if "body" in http or "queryString" in http:
        query_string = str(http.get("queryString") or "")
        return Request(
            kind="raw",
            params={key: value for key, value in event.items() if key != "http"},
            method=method,
            path=path,
            headers=headers,
            query=dict(parse_qsl(query_string, keep_blank_values=True)),
            body=_raw_body(http),
        )

    params = {key: value for key, value in event.items() if key != "http"}
    query = {key: str(value) for key, value in params.items() if isinstance(value, str | int | float | bool)}
    return Request(kind="parsed", params=params, method=method, path=path, headers=headers, query=query)


def _raw_body(http: dict[str, Any]) -> bytes:
    body = http.get("body") or ""
    if not isinstance(body, str):
        raise UsageError("the raw event's http.body must be a string")
    if not http.get("isBase64Encoded"):
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UsageError("the raw event says isBase64Encoded but http.body is not valid base64") from exc


@dataclass(frozen=True, slots=True)
class FunctionContext:
    """DigitalOcean's invocation context: the attributes its Python runtime passes as `context`.

    `deadline` is the epoch time in milliseconds when the platform stops the invocation.
    """

    activation_id: str
    function_name: str
    namespace: str
    deadline: int
    request_id: str = ""
    api_host: str = ""
    api_key: str = field(default="", repr=False)
    function_version: str = "0.0.0"

    def get_remaining_time_in_millis(self) -> int:
        """Return the milliseconds left before the deadline, never below zero."""
        return max(0, self.deadline - int(time.time() * 1000))


def local_context(namespace: str, package: str, function: str, timeout_ms: int) -> FunctionContext:
    """Build the context `sxe serve` passes, shaped like DigitalOcean's for the same function."""
    activation_id = uuid.uuid4().hex
    return FunctionContext(
        activation_id=activation_id,
        function_name=f"/{namespace}/{package}/{function}",
        namespace=namespace,
        deadline=int(time.time() * 1000) + timeout_ms,
        request_id=activation_id,
        api_host="http://127.0.0.1",
    )


def as_context(context: Any, *, fallback_name: str, timeout_ms: int = 60_000) -> FunctionContext:
    """Return `context` read into a FunctionContext; a missing one (a direct call) gets a local context."""
    if context is None:
        package, _, function = fallback_name.partition("/")
        return local_context("local", package, function, timeout_ms)
    if isinstance(context, FunctionContext):
        return context
    return FunctionContext(
        activation_id=str(getattr(context, "activation_id", "")),
        function_name=str(getattr(context, "function_name", fallback_name)),
        namespace=str(getattr(context, "namespace", "")),
        deadline=int(getattr(context, "deadline", 0) or 0),
        request_id=str(getattr(context, "request_id", "")),
        api_host=str(getattr(context, "api_host", "")),
        api_key=str(getattr(context, "api_key", "")),
        function_version=str(getattr(context, "function_version", "")),
    )


def response(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Return a DigitalOcean response; a dict or list body is sent as JSON."""
    all_headers = {"Content-Type": JSON_TYPE} if isinstance(body, dict | list) else {}
    all_headers.update(headers or {})
    return {"statusCode": status, "headers": all_headers, "body": body}


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    """Return an RFC 9457 problem response naming what failed and the fix."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return {"statusCode": status, "headers": {"Content-Type": PROBLEM_TYPE}, "body": body}
