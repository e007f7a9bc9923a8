"""Choose the object store from settings and issue download URLs for its objects.

With SXE_SPACES_* set, bundles go to DigitalOcean Spaces through its S3 API and
URLs are S3 presigned GETs. Without them, bundles go to the local folder store
and URLs are HMAC-signed links to `sxe serve`. URLs are returned to the caller
only: never logged, audited or stored.
"""

from __future__ import annotations

import secrets
from typing import Any

import boto3
from botocore.config import Config

from sxe.config import Settings
from sxe.errors import UsageError
from sxe.handoff.signing import MAX_EXPIRES_IN_SECONDS, presign_s3, sign_url
from sxe.handoff.store import LocalObjectStore, ObjectStore, S3ObjectStore


def spaces_client(settings: Settings) -> Any:
    """Return a boto3 S3 client for the configured Spaces endpoint; raise UsageError when none is configured."""
    if not settings.spaces_configured or settings.spaces_key is None or settings.spaces_secret is None:
        raise UsageError("Spaces is not configured; set SXE_SPACES_ENDPOINT, _BUCKET, _KEY and _SECRET")
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        # boto3 1.36 and later add checksums to every upload by default. S3-compatible
        # services such as Spaces may not accept them, so send them only where required.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 5, "mode": "standard"},
    )
    return boto3.client(
        "s3",
        endpoint_url=settings.spaces_endpoint,
        region_name=settings.spaces_region,
        aws_access_key_id=settings.spaces_key.get_secret_value(),
        aws_secret_access_key=settings.spaces_secret.get_secret_value(),
        config=config,
    )


def build_store(settings: Settings) -> ObjectStore:
    """Return the S3 store on Spaces when SXE_SPACES_* is set, else the local store in the state folder."""
    if settings.spaces_configured and settings.spaces_bucket is not None:
        return S3ObjectStore(spaces_client(settings), settings.spaces_bucket)
    return LocalObjectStore(settings.objects_dir)


def max_expires_in(store: ObjectStore) -> int:
    """Return the longest URL lifetime `store` supports, in seconds: 7 days for S3 SigV4 and local links."""
    return MAX_EXPIRES_IN_SECONDS


def download_url(settings: Settings, store: ObjectStore, key: str, expires_in_seconds: int) -> str:
    """Return a URL that downloads `key` for `expires_in_seconds` (1 to the store's maximum)."""
    if isinstance(store, S3ObjectStore):
        return presign_s3(store.client, store.bucket, key, expires_in_seconds)
    return sign_url(settings.public_base_url, key, signing_secret(settings), expires_in_seconds)


def signing_secret(settings: Settings) -> bytes:
    """Return SXE_SIGNING_KEY, or a random key kept (mode 0600) in the state folder across runs."""
    if settings.signing_key is not None:
        return settings.signing_key.get_secret_value().encode("utf-8")
    path = settings.state_dir / "signing.key"
    if not path.exists():
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip().encode("utf-8")
