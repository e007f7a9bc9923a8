"""The local download server: serves bundle files behind HMAC-signed URLs on loopback.

Only `GET /download/<key>?expires=…&signature=…` exists. A missing, tampered or
expired signature gets 403, an object of a revoked bundle 410 and an unknown key
404, all as problem+json that names the object key but never the signature.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sxe.errors import DatabaseUnavailable, SignatureError, UsageError
from sxe.handoff.signing import unquote_key, verify
from sxe.handoff.store import LocalObjectStore
from sxe.logs import Event, log

DOWNLOAD_PREFIX = "/download/"


class DownloadServer(ThreadingHTTPServer):
    """A threaded HTTP server bound to one local object store and one signing secret."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        store: LocalObjectStore,
        secret: bytes,
        is_revoked: Callable[[str], bool] | None = None,
    ) -> None:
        """`is_revoked(key)` returns whether a key belongs to a revoked bundle; None serves every signed key."""
        super().__init__(address, _DownloadHandler)
        self.store = store
        self.secret = secret
        self.is_revoked = is_revoked


@dataclass(frozen=True, slots=True)
class DownloadResponse:
    """The response to one download request: status, content type and body."""

    status: HTTPStatus
    content_type: str
    body: bytes


def resolve_download(
    store: LocalObjectStore,
    secret: bytes,
    path: str,
    query_string: str,
    is_revoked: Callable[[str], bool] | None = None,
) -> DownloadResponse:
    """Check the signature of `GET path?query_string` and return the object or a problem response.

    Shared by this server and `sxe serve`, so both respond to a signed URL the same way. With
    `is_revoked`, a key of a revoked bundle gets 410, and 503 when revocation cannot be
    checked, so an unreachable database never lets a revoked bundle out.
    """
    if not path.startswith(DOWNLOAD_PREFIX):
        return _problem(HTTPStatus.NOT_FOUND, "not found", "only /download/<key> is served here")

    query = parse_qs(query_string)
    try:
        key = unquote_key(path[len(DOWNLOAD_PREFIX) :])
        verify(key, _one(query, "expires"), _one(query, "signature"), secret)
    except (SignatureError, UsageError) as exc:
        return _problem(HTTPStatus.FORBIDDEN, "forbidden", str(exc))

    if is_revoked is not None:
        try:
            if is_revoked(key):
                return _problem(
                    HTTPStatus.GONE, "gone", f"object {key!r} belongs to a revoked bundle; request a new bundle"
                )
        except DatabaseUnavailable:
            return _problem(
                HTTPStatus.SERVICE_UNAVAILABLE, "service unavailable", "cannot check bundle revocation; retry later"
            )

    file = store.local_path(key)
    if not file.is_file():
        return _problem(HTTPStatus.NOT_FOUND, "not found", f"no object with key {key!r}")

    content_type = "application/json" if key.endswith(".json") else "application/gzip"
    log(logging.INFO, Event.DOWNLOAD_SERVED, "download served", stage="handoff", object_key=key, status=200)
    return DownloadResponse(HTTPStatus.OK, content_type, file.read_bytes())


def _problem(status: HTTPStatus, title: str, detail: str) -> DownloadResponse:
    body = json.dumps({"type": "about:blank", "title": title, "status": int(status), "detail": detail}).encode()
    # The detail names the object key at most; the query with the signature is never logged.
    log(logging.WARNING, Event.DOWNLOAD_REJECTED, detail, stage="handoff", status=int(status))
    return DownloadResponse(status, "application/problem+json", body)


class _DownloadHandler(BaseHTTPRequestHandler):
    server: DownloadServer

    def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        self._serve(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        self._serve(send_body=False)

    def _serve(self, *, send_body: bool) -> None:
        url = urlsplit(self.path)
        result = resolve_download(self.server.store, self.server.secret, url.path, url.query, self.server.is_revoked)
        self.send_response(result.status)
        self.send_header("Content-Type", result.content_type)
        self.send_header("Content-Length", str(len(result.body)))
        self.end_headers()
        if send_body:
            self.wfile.write(result.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the base class
        # The default access log prints the request line, signature included; the
        # structured lines of resolve_download replace it.
        return


def _one(query: dict[str, list[str]], name: str) -> str:
    values = query.get(name)
    if not values:
        raise SignatureError(f"the download URL has no {name} parameter; request a new signed URL")
    return values[-1]
