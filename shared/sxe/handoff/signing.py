"""Signed download URLs: HMAC-SHA256 links for the local store and presigned S3 GET URLs.

A local link has the form `{base_url}/download/{key}?expires=<unix seconds>&signature=<hex>`.
The signature covers the unquoted key and the expiry, so changing either breaks it.
Signed URLs, signatures and secrets never appear in exception messages.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from sxe.errors import SignatureError, UsageError
from sxe.handoff.store import validate_key

DEFAULT_EXPIRES_IN_SECONDS = 900
# 7 days: the maximum lifetime of an S3 SigV4 presigned URL. Local links use the same cap.
MAX_EXPIRES_IN_SECONDS = 604_800
# RFC 2104 section 3: keys shorter than the hash output (32 bytes for SHA-256) weaken the MAC.
MIN_SECRET_BYTES = 32

_SIGNATURE_RE = re.compile(r"[0-9a-f]{64}")
# Separates this use of the secret from any other HMAC made with the same secret.
_MESSAGE_PREFIX = b"sxe-download-v1\n"


def check_expires_in(expires_in_seconds: int) -> int:
    """Return `expires_in_seconds`, or raise UsageError naming it when it is outside 1..MAX_EXPIRES_IN_SECONDS."""
    if isinstance(expires_in_seconds, bool) or not isinstance(expires_in_seconds, int):
        raise UsageError(f"expires_in_seconds must be an integer number of seconds, got {expires_in_seconds!r}")
    if not 1 <= expires_in_seconds <= MAX_EXPIRES_IN_SECONDS:
        raise UsageError(
            f"expires_in_seconds {expires_in_seconds} is out of range: "
            f"use 1 to {MAX_EXPIRES_IN_SECONDS} seconds (7 days)"
        )
    return expires_in_seconds


def quote_key(key: str) -> str:
    """Percent-encode each `/`-separated segment of a validated key for use in a URL path."""
    return "/".join(quote(segment, safe="") for segment in validate_key(key).split("/"))


def unquote_key(quoted: str) -> str:
    """Decode a URL path made by `quote_key` back into a key. Raises UsageError for an invalid key."""
    return validate_key("/".join(unquote(segment, errors="strict") for segment in quoted.split("/")))


def sign_url(
    base_url: str,
    key: str,
    secret: bytes,
    expires_in_seconds: int = DEFAULT_EXPIRES_IN_SECONDS,
    now: float | None = None,
) -> str:
    """Return a download URL for `key` that `verify` accepts until `now + expires_in_seconds`.

    `now` is Unix time in seconds and defaults to the current time. Raises UsageError for
    an invalid key, a base URL that is not plain http(s), a short secret or an expiry
    outside 1..604800 seconds.
    """
    _check_secret(secret)
    base = _check_base_url(base_url)
    expires = int(time.time() if now is None else now) + check_expires_in(expires_in_seconds)
    signature = _signature(secret, key, expires)
    return f"{base}/download/{quote_key(key)}?expires={expires}&signature={signature}"


def verify(key: str, expires: int | str, signature: str, secret: bytes, now: float | None = None) -> None:
    """Raise SignatureError unless `signature` was made by `sign_url` for `key` and `expires` has not passed.

    `key` is the unquoted key and `expires` the query value (Unix seconds). The signature
    is checked first, so "expired" is reported only for links this service signed.
    """
    _check_secret(secret)
    expires_at = _parse_expires(expires)
    if expires_at is None or not isinstance(signature, str) or not _SIGNATURE_RE.fullmatch(signature):
        raise _invalid(key)

    expected = _signature(secret, key, expires_at)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")):
        raise _invalid(key)

    current = time.time() if now is None else now
    if current >= expires_at:
        raise SignatureError(f"download link for object {key!r} has expired; request a new link")


def presign_s3(client: Any, bucket: str, key: str, expires_in_seconds: int = DEFAULT_EXPIRES_IN_SECONDS) -> str:
    """Return a presigned S3 GET URL for `key` from a boto3 S3 client, valid for 1..604800 seconds."""
    return str(
        client.generate_presigned_url(
            "get_object",
            Params={"Bucket": bucket, "Key": validate_key(key)},
            ExpiresIn=check_expires_in(expires_in_seconds),
        )
    )


def _signature(secret: bytes, key: str, expires: int) -> str:
    message = _MESSAGE_PREFIX + validate_key(key).encode("utf-8") + b"\n" + str(expires).encode("ascii")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _parse_expires(expires: int | str) -> int | None:
    if isinstance(expires, bool):
        return None
    if isinstance(expires, int):
        return expires
    if isinstance(expires, str) and expires.isascii() and expires.isdigit():
        return int(expires)
    return None


def _invalid(key: str) -> SignatureError:
    return SignatureError(f"download link for object {key!r} has an invalid signature; request a new link")


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise UsageError(f"signing secret must be bytes of length {MIN_SECRET_BYTES} or more")


def _check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise UsageError(f"base URL {base_url!r} must be an http(s) URL without query or fragment")
    return base_url.rstrip("/")
