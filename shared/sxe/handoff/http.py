"""Requests and responses of the handoff web functions, in DigitalOcean Functions' event shape.

A `web: raw` function gets the body unparsed: `http.body` (base64 when
`isBase64Encoded`), lowercase `http.headers`, `http.queryString`, `http.method` and
`http.path`. A `web: true` function gets query and JSON body keys merged at the top
level of the event, beside `http`. Both shapes are accepted. A response is
`{"statusCode", "headers", "body"}` with a JSON body; errors are RFC 9457
`application/problem+json` (contract problem.v1).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from sxe.errors import SxeError

JSON_TYPE = "application/json"
PROBLEM_TYPE = "application/problem+json"
# DO adds these keys to a web event; they are not request parameters.
_RUNTIME_KEY_PREFIX = "__ow_"

Response = dict[str, Any]


class ApiError(SxeError):
    """An error with an HTTP status, sent to the caller as problem+json.

    `errors` lists invalid inputs as `{"detail", "pointer"}` for a body field or
    `{"detail", "parameter"}` for a query parameter or header.
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def invalid_parameter(name: str, detail: str) -> ApiError:
    """Return a 400 for one invalid query parameter or header."""
    return ApiError(400, "invalid request", detail, errors=[{"parameter": name, "detail": detail}])


def invalid_field(pointer: str, detail: str) -> ApiError:
    """Return a 422 for one invalid request body field at JSON pointer `pointer`."""
    return ApiError(422, "invalid request body", detail, errors=[{"pointer": pointer, "detail": detail}])


@dataclass(frozen=True, slots=True)
class Request:
    """One web call. `body` is the parsed JSON object ({} when empty); `raw_body` its bytes."""

    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)
    raw_body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def fingerprint(self) -> str:
        """Return the SHA-256 of method, path and canonical JSON body, to compare idempotent retries."""
        canonical = json.dumps(self.body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(f"{self.method}\n{self.path}\n{canonical}".encode()).hexdigest()


def parse_event(event: dict[str, Any]) -> Request:
    """Build a Request from a DO web event; raise ApiError 400 for a body that is not a JSON object."""
    http = event.get("http") or {}
    headers = {str(name).lower(): str(value) for name, value in (http.get("headers") or {}).items()}
    method = str(http.get("method") or "GET").upper()
    path = str(http.get("path") or "")

    if "body" in http or "queryString" in http:
        query = dict(parse_qsl(str(http.get("queryString") or ""), keep_blank_values=True))
        raw = _raw_body(http.get("body"), bool(http.get("isBase64Encoded") or event.get("isBase64Encoded")))
        return Request(method, path, headers, query, _json_object(raw), raw)

    params = {key: value for key, value in event.items() if key != "http" and not key.startswith(_RUNTIME_KEY_PREFIX)}
    query = {key: value for key, value in params.items() if isinstance(value, str)}
    return Request(method, path, headers, query, params, b"")


def _raw_body(body: Any, is_base64: bool) -> bytes:
    if body is None or body == "":
        return b""
    text = body if isinstance(body, str) else json.dumps(body)
    if not is_base64:
        return text.encode("utf-8")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ApiError(400, "invalid request", "the request body is marked base64 but is not valid base64") from exc


def _json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        detail = f"the request body is not valid UTF-8 JSON ({type(exc).__name__}); send a JSON object"
        raise ApiError(400, "invalid request", detail) from exc
    if not isinstance(document, dict):
        raise ApiError(400, "invalid request", "the request body must be a JSON object")
    return document


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """Return a DO web response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": JSON_TYPE, "Cache-Control": "no-store", **(headers or {})},
        "body": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
    }


def problem_response(error: ApiError, instance: str | None = None) -> Response:
    """Return `error` as an RFC 9457 problem+json response."""
    body: dict[str, Any] = {"type": "about:blank", "title": error.title, "status": error.status, "detail": error.detail}
    if instance:
        body["instance"] = instance
    if error.errors:
        body["errors"] = error.errors
    response = json_response(error.status, body, error.headers)
    response["headers"]["Content-Type"] = PROBLEM_TYPE
    return response
