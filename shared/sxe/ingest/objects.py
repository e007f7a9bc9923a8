"""Open an import source for streaming: a local path or an `imports/` key in the object store.

Keys under `imports/` are read from the bucket named by SXE_IMPORTS_BUCKET, through
any S3 API such as DO Spaces (endpoint in SXE_S3_ENDPOINT_URL, credentials in the
usual AWS variables). Without a bucket they are read from the local object store in
the state folder. Both are read as streams, so a file of any size never sits in
memory whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sxe.config import Settings
from sxe.errors import ConfigError, UsageError
from sxe.handoff.store import ObjectNotFound, validate_key

IMPORTS_PREFIX = "imports/"
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class ImportSettings(BaseSettings):
    """The location of `imports/` keys, read from SXE_IMPORTS_BUCKET and SXE_S3_ENDPOINT_URL."""

    model_config = SettingsConfigDict(env_prefix="SXE_", extra="ignore", frozen=True)

    imports_bucket: str | None = Field(default=None, description="Bucket of imports/ keys; unset means local.")
    s3_endpoint_url: str | None = Field(default=None, description="S3 API endpoint, such as a DO Spaces region.")


@dataclass(frozen=True, slots=True)
class ImportSource:
    """An open import: its name for locations, its byte stream and its size when known."""

    name: str
    stream: IO[bytes]
    size: int | None


def is_object_key(target: str) -> bool:
    return target.startswith(IMPORTS_PREFIX)


@contextmanager
def open_import(target: str, settings: Settings, *, s3_client: Any = None) -> Iterator[ImportSource]:
    """Open `target` (a local path or an `imports/` key) for reading and close it afterwards.

    Raises UsageError naming the target when the file or object does not exist.
    `s3_client` replaces the boto3 client built from the environment, for tests.
    """
    if not is_object_key(target):
        yield from _open_path(Path(target))
        return

    key = validate_key(target)
    bucket = ImportSettings().imports_bucket
    if bucket is None and s3_client is None:
        yield from _open_path(settings.objects_dir.joinpath(*key.split("/")), name=key)
        return
    yield from _open_object(s3_client or _s3_client(), bucket or "", key)


def _open_path(path: Path, *, name: str | None = None) -> Iterator[ImportSource]:
    """Open a local file, or a file of the local object store when `name` is its key."""
    if path.is_dir():
        raise UsageError(_directory_message(path, key=name))
    if not path.is_file():
        raise UsageError(f"import source not found: {name or path}; check the path or key")
    with path.open("rb") as stream:
        yield ImportSource(name=name or str(path), stream=stream, size=path.stat().st_size)


def _directory_message(path: Path, *, key: str | None) -> str:
    """Return the error for a directory given as the import source.

    `sxe import` stores one source as one batch with one summary, so a directory is
    rejected rather than read file by file. `sxe run` is the command that takes one.
    """
    if key is not None:
        return f"import source {key} is a directory in the local object store; pass the key of one file in it"
    return (
        f"import source {path} is a directory, and sxe import reads one file; pass a file in it, or run "
        f"`sxe run {path}`, which ingests every file in it and then builds, enriches and hands off lead cards"
    )


def _open_object(client: Any, bucket: str, key: str) -> Iterator[ImportSource]:
    try:
        response = client.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in _NOT_FOUND_CODES:
            raise ObjectNotFound(f"import object {key!r} not found in bucket {bucket!r}; check the key") from error
        raise _store_error(bucket, code) from error
    except NoCredentialsError as error:
        raise ConfigError(
            f"no S3 credentials to read bucket {bucket!r} (SXE_IMPORTS_BUCKET): set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY; the SXE_SPACES_* keys serve exports only"
        ) from error
    except EndpointConnectionError as error:
        raise ConfigError(
            f"cannot reach the S3 endpoint {_endpoint()!r} (SXE_S3_ENDPOINT_URL); check the URL and the network"
        ) from error
    body = response["Body"]
    try:
        yield ImportSource(name=key, stream=body, size=response.get("ContentLength"))
    finally:
        body.close()


def _store_error(bucket: str, code: str) -> ConfigError:
    if code == "NoSuchBucket":
        return ConfigError(
            f"bucket {bucket!r} (SXE_IMPORTS_BUCKET) does not exist at {_endpoint()!r} (SXE_S3_ENDPOINT_URL); "
            "fix the bucket name or the endpoint"
        )
    return ConfigError(
        f"reading bucket {bucket!r} (SXE_IMPORTS_BUCKET) failed with error {code or 'unknown'}; "
        "check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's permissions"
    )


def _endpoint() -> str:
    return ImportSettings().s3_endpoint_url or "the default AWS endpoint"


def _s3_client() -> Any:
    import boto3

    endpoint = ImportSettings().s3_endpoint_url
    try:
        return boto3.client("s3", endpoint_url=endpoint)
    except ValueError as error:
        raise ConfigError(
            f"invalid SXE_S3_ENDPOINT_URL {endpoint!r}: expected a URL such as https://nyc3.digitaloceanspaces.com"
        ) from error
