"""The local download server: serves bundle files behind HMAC-signed URLs on loopback.

Only `GET /download/<key>?expires=…&signature=…` exists. A missing, tampered or
expired signature gets 403, an object of a revoked bundle 410 and an unknown key
404, all as problem+json that names the object key but never the signature.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
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
        """`is_revoked(key)` tells whether a key belongs to a revoked bundle; None serves every signed key."""
        super().__init__(address, _DownloadHandler)
        self.store = store
        self.secret = secret
        self.is_revoked = is_revoked


class _DownloadHandler(BaseHTTPRequestHandler):
    server: DownloadServer

    def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        self._serve(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        self._serve(send_body=False)

    def _serve(self, *, send_body: bool) -> None:
        url = urlsplit(self.path)
        if not url.path.startswith(DOWNLOAD_PREFIX):
            self._problem(HTTPStatus.NOT_FOUND, "not found", "only /download/<key> is served here")
            return

        query = parse_qs(url.query)
        try:
            key = unquote_key(url.path[len(DOWNLOAD_PREFIX) :])
            verify(key, _one(query, "expires"), _one(query, "signature"), self.server.secret)
        except (SignatureError, UsageError) as exc:
            self._problem(HTTPStatus.FORBIDDEN, "forbidden", str(exc))
            return

        if self._revoked(key):
            return

        path = self.server.store.local_path(key)
        if not path.is_file():
            self._problem(HTTPStatus.NOT_FOUND, "not found", f"no object with key {key!r}")
            return
        self._send_file(path.read_bytes(), key, send_body)

    def _revoked(self, key: str) -> bool:
        """Answer 410 for a key of a revoked bundle, or 503 when that cannot be checked; return whether it answered."""
        if self.server.is_revoked is None:
            return False
        try:
            revoked = self.server.is_revoked(key)
        except DatabaseUnavailable:
            self._problem(
                HTTPStatus.SERVICE_UNAVAILABLE, "service unavailable", "cannot check bundle revocation; retry later"
            )
            return True
        if revoked:
            self._problem(HTTPStatus.GONE, "gone", f"object {key!r} belongs to a revoked bundle; request a new bundle")
        return revoked

    def _send_file(self, data: bytes, key: str, send_body: bool) -> None:
        self.send_response(HTTPStatus.OK)
        content_type = "application/json" if key.endswith(".json") else "application/gzip"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if send_body:
            self.wfile.write(data)
        log(logging.INFO, Event.DOWNLOAD_SERVED, "download served", stage="handoff", object_key=key, status=200)

    def _problem(self, status: HTTPStatus, title: str, detail: str) -> None:
        body = json.dumps({"type": "about:blank", "title": title, "status": int(status), "detail": detail}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        # The detail names the object key at most; the query with the signature is never logged.
        log(logging.WARNING, Event.DOWNLOAD_REJECTED, detail, stage="handoff", status=int(status))

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the base class
        # The default access log prints the request line, signature included; the
        # structured lines above replace it.
        return


def _one(query: dict[str, list[str]], name: str) -> str:
    values = query.get(name)
    if not values:
        raise SignatureError(f"the download URL has no {name} parameter; request a new signed URL")
    return values[-1]
