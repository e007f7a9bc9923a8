"""Tests for signed download URLs: local HMAC links and presigned S3 URLs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from sxe.errors import SignatureError, UsageError
from sxe.handoff.signing import (
    DEFAULT_EXPIRES_IN_SECONDS,
    MAX_EXPIRES_IN_SECONDS,
    presign_s3,
    quote_key,
    sign_url,
    unquote_key,
    verify,
)

SECRET = b"k" * 32
OTHER_SECRET = b"o" * 32
BASE_URL = "http://127.0.0.1:8765"
KEY = "exports/local/2026-12-04/5f1d2c3b-4a59-4e6f-8b7a-9c0d1e2f3a4b/manifest.json"
NOW = 1_796_380_000.0


def split_signed(url: str) -> tuple[str, str, str]:
    """Return (key, expires, signature) from a URL made by sign_url."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path.startswith("/download/")
    return unquote_key(parts.path.removeprefix("/download/")), query["expires"][0], query["signature"][0]


def test_signed_url_shape() -> None:
    url = sign_url(BASE_URL + "/", KEY, SECRET, 60, now=NOW)
    assert url.startswith(f"{BASE_URL}/download/{KEY}?expires={int(NOW) + 60}&signature=")
    key, expires, signature = split_signed(url)
    assert key == KEY
    assert expires == str(int(NOW) + 60)
    assert len(signature) == 64


def test_valid_signature_verifies() -> None:
    key, expires, signature = split_signed(sign_url(BASE_URL, KEY, SECRET, now=NOW))
    verify(key, expires, signature, SECRET, now=NOW + DEFAULT_EXPIRES_IN_SECONDS - 1)
    verify(key, int(expires), signature, SECRET, now=NOW)


def test_default_expiry_is_900_seconds() -> None:
    _, expires, _ = split_signed(sign_url(BASE_URL, KEY, SECRET, now=NOW))
    assert int(expires) == int(NOW) + 900


def test_expired_link_rejected() -> None:
    key, expires, signature = split_signed(sign_url(BASE_URL, KEY, SECRET, 60, now=NOW))
    with pytest.raises(SignatureError, match="has expired") as caught:
        verify(key, expires, signature, SECRET, now=NOW + 60)
    assert signature not in str(caught.value)


def test_tampered_key_rejected() -> None:
    _, expires, signature = split_signed(sign_url(BASE_URL, KEY, SECRET, now=NOW))
    other_key = KEY.replace("manifest.json", "records.jsonl.gz")
    with pytest.raises(SignatureError, match="invalid signature") as caught:
        verify(other_key, expires, signature, SECRET, now=NOW)
    assert signature not in str(caught.value)


def test_tampered_signature_rejected() -> None:
    key, expires, signature = split_signed(sign_url(BASE_URL, KEY, SECRET, now=NOW))
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    for candidate in (flipped, signature.upper(), signature[:-1], "", "zz" * 32, "é" * 64):
        with pytest.raises(SignatureError, match="invalid signature") as caught:
            verify(key, expires, candidate, SECRET, now=NOW)
        assert signature not in str(caught.value)


def test_tampered_expiry_rejected() -> None:
    key, expires, signature = split_signed(sign_url(BASE_URL, KEY, SECRET, 60, now=NOW))
    for candidate in (str(int(expires) + 3600), "-1", "1e9", " " + expires, "", "١٢٣"):
        with pytest.raises(SignatureError, match="invalid signature"):
            verify(key, candidate, signature, SECRET, now=NOW)


def test_expired_tampered_link_reports_invalid() -> None:
    key, expires, signature = split_signed(sign_url(BASE_URL, KEY, SECRET, 60, now=NOW))
    with pytest.raises(SignatureError, match="invalid signature"):
        verify(key, str(int(expires) + 1), signature, SECRET, now=NOW + 3600)


def test_other_secret_rejected() -> None:
    key, expires, signature = split_signed(sign_url(BASE_URL, KEY, SECRET, now=NOW))
    with pytest.raises(SignatureError, match="invalid signature"):
        verify(key, expires, signature, OTHER_SECRET, now=NOW)


@pytest.mark.parametrize("expires_in", [MAX_EXPIRES_IN_SECONDS + 1, 0, -5, 10**9])
def test_out_of_range_expiry_raises(expires_in: int) -> None:
    with pytest.raises(UsageError) as caught:
        sign_url(BASE_URL, KEY, SECRET, expires_in, now=NOW)
    assert str(expires_in) in str(caught.value)
    assert str(MAX_EXPIRES_IN_SECONDS) in str(caught.value)


def test_max_expiry_allowed() -> None:
    key, expires, signature = split_signed(sign_url(BASE_URL, KEY, SECRET, MAX_EXPIRES_IN_SECONDS, now=NOW))
    verify(key, expires, signature, SECRET, now=NOW + MAX_EXPIRES_IN_SECONDS - 1)


@pytest.mark.parametrize("expires_in", [1.5, "60", True])
def test_non_integer_expiry_raises(expires_in: Any) -> None:
    with pytest.raises(UsageError, match="integer"):
        sign_url(BASE_URL, KEY, SECRET, expires_in, now=NOW)


@pytest.mark.parametrize(
    ("key", "quoted"),
    [
        ("exports/a b/c.json", "exports/a%20b/c.json"),
        ("exports/q?x=1&y#z/f", "exports/q%3Fx%3D1%26y%23z/f"),
        ("exports/100%/f", "exports/100%25/f"),
        ("exports/café/ü.json", "exports/caf%C3%A9/%C3%BC.json"),
        ("exports/a+b;c/f", "exports/a%2Bb%3Bc/f"),
    ],
)
def test_odd_keys_are_quoted_per_segment(key: str, quoted: str) -> None:
    assert quote_key(key) == quoted
    url = sign_url(BASE_URL, key, SECRET, now=NOW)
    assert f"/download/{quoted}?" in url
    parsed_key, expires, signature = split_signed(url)
    assert parsed_key == key
    verify(parsed_key, expires, signature, SECRET, now=NOW)


@pytest.mark.parametrize("key", ["../secret", "/abs/key", "a\\b", "a//b", ""])
def test_invalid_key_rejected(key: str) -> None:
    with pytest.raises(UsageError, match="object key"):
        sign_url(BASE_URL, key, SECRET, now=NOW)


@pytest.mark.parametrize("base_url", ["ftp://127.0.0.1", "127.0.0.1:8765", "http://127.0.0.1/?a=1", "http://"])
def test_invalid_base_url_rejected(base_url: str) -> None:
    with pytest.raises(UsageError, match="base URL"):
        sign_url(base_url, KEY, SECRET, now=NOW)


def test_short_secret_rejected() -> None:
    with pytest.raises(UsageError, match="secret") as caught:
        sign_url(BASE_URL, KEY, b"short", now=NOW)
    assert "short" not in str(caught.value).replace("signing secret", "")


@pytest.fixture()
def s3_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A boto3 S3 client inside moto's mock_aws, with fake credentials so nothing reaches AWS."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1", config=Config(signature_version="s3v4"))
        client.create_bucket(Bucket="sxe-handoff")
        yield client


def test_presign_s3_get_url(s3_client: Any) -> None:
    s3_client.put_object(Bucket="sxe-handoff", Key=KEY, Body=b"{}")
    url = presign_s3(s3_client, "sxe-handoff", KEY)
    query = parse_qs(urlsplit(url).query)
    assert KEY in urlsplit(url).path
    assert query["X-Amz-Expires"] == [str(DEFAULT_EXPIRES_IN_SECONDS)]


def test_presign_s3_over_max_raises(s3_client: Any) -> None:
    with pytest.raises(UsageError, match=str(MAX_EXPIRES_IN_SECONDS)):
        presign_s3(s3_client, "sxe-handoff", KEY, MAX_EXPIRES_IN_SECONDS + 1)
