"""The local download server behind signed URLs, over real loopback HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sxe.handoff.download_server import DownloadServer
from sxe.handoff.signing import sign_url
from sxe.handoff.store import LocalObjectStore

SECRET = b"0123456789abcdef0123456789abcdef"
KEY = "exports/local/2026-12-04/bundle/records.jsonl.gz"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    store = LocalObjectStore(tmp_path)
    store.put_bytes(KEY, b"bundle bytes", "application/gzip")
    httpd = DownloadServer(("127.0.0.1", 0), store, SECRET)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_signed_url_downloads_the_object(server: str) -> None:
    response = httpx.get(sign_url(server, KEY, SECRET, 60))

    assert response.status_code == 200
    assert response.content == b"bundle bytes"


def test_tampered_signature_is_forbidden(server: str) -> None:
    url = sign_url(server, KEY, SECRET, 60)
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")

    response = httpx.get(tampered)

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "signature=" not in response.text


def test_expired_url_is_forbidden(server: str) -> None:
    url = sign_url(server, KEY, SECRET, 60, now=1_000_000)

    response = httpx.get(url)

    assert response.status_code == 403
    assert "expired" in response.json()["detail"]


def test_unknown_key_is_not_found(server: str) -> None:
    response = httpx.get(sign_url(server, "exports/none.json", SECRET, 60))

    assert response.status_code == 404
