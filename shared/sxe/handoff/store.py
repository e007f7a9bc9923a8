"""Object stores that hold handoff bundles: a local folder or an S3 bucket.

Keys are `/`-separated relative paths such as `exports/local/2026-12-04/<uuid>/manifest.json`.
Both stores apply the same key rules, so a key that works locally also works on S3.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from botocore.exceptions import ClientError

from sxe.errors import UsageError

_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class ObjectNotFound(UsageError):
    """No object is stored under the requested key."""


class ObjectStore(Protocol):
    """Storage for bundle objects, addressed by key. Implementations validate every key with `validate_key`."""

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing any existing object."""

    def put_file(self, key: str, local_path: Path, content_type: str) -> None:
        """Store the contents of the local file under `key`, replacing any existing object."""

    def get_bytes(self, key: str) -> bytes:
        """Return the whole object. Raises ObjectNotFound when the key has no object."""

    def exists(self, key: str) -> bool:
        """Return whether an object is stored under `key`."""

    def local_path(self, key: str) -> Path | None:
        """Return the local file for `key` if this store keeps files on local disk, else None."""

    def delete(self, key: str) -> None:
        """Remove the object under `key`; a missing object is not an error.

        A folder store also removes the folders the deletion left empty.
        """


def validate_key(key: str) -> str:
    """Return `key` unchanged, or raise UsageError naming it when it is not a safe relative key.

    A key must be non-empty, must not start with `/`, and must not contain `..`, a
    backslash, a control character, or an empty or `.` segment.
    """
    if not isinstance(key, str) or not key:
        raise UsageError(f"object key {key!r} is invalid: it must be a non-empty string")
    problem = _key_problem(key)
    if problem:
        raise UsageError(f"object key {key!r} is invalid: {problem}")
    return key


def _key_problem(key: str) -> str:
    if key.startswith("/"):
        return "it must be relative, not start with '/'"
    if ".." in key:
        return "it must not contain '..'"
    if "\\" in key:
        return "it must use '/' as separator, not a backslash"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in key):
        return "it must not contain control characters"
    if any(segment in ("", ".") for segment in key.split("/")):
        return "it must not contain empty or '.' segments"
    return ""


class LocalObjectStore:
    """An ObjectStore in a local folder, one file per key, for local runs and tests.

    Writes go to a temporary file in the target folder and are renamed into place,
    so readers see either the old object or the complete new one. Content types are
    not stored.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = self.root.joinpath(*validate_key(key).split("/"))
        # A symlink inside the root could still point outside it.
        if not path.resolve().is_relative_to(self.root):
            raise UsageError(f"object key {key!r} is invalid: it resolves outside the store root")
        return path

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self._write_atomically(self._path(key), lambda target: target.write(data))

    def put_file(self, key: str, local_path: Path, content_type: str) -> None:
        path = self._path(key)
        with local_path.open("rb") as source:
            self._write_atomically(path, lambda target: shutil.copyfileobj(source, target))

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise ObjectNotFound(f"object {key!r} not found in {self.root}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def local_path(self, key: str) -> Path:
        """Return the file path for `key`. The file may not exist yet; check `exists`."""
        return self._path(key)

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        self._remove_empty_parents(path)

    def _remove_empty_parents(self, path: Path) -> None:
        """Remove the empty folders above `path`, nearest first, up to but never including the root.

        The walk stops at the first folder that still contains an entry. A folder that is
        already gone is passed over, so a repeated delete cleans up what an interrupted
        one left. `_write_atomically` creates its folder again if this races with a write.
        """
        folder = path.parent
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except FileNotFoundError:
                pass
            except OSError as error:
                if error.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    return
                raise
            folder = folder.parent

    @staticmethod
    def _write_atomically(path: Path, write: Callable[[IO[bytes]], object]) -> None:
        """Call `write(file)` on a temporary file next to `path`, then rename it to `path`.

        The temporary file is removed when `write` raises. Files are created with mode 0600.
        """
        temporary: Path | None = None
        try:
            with LocalObjectStore._temporary_file(path) as handle:
                temporary = Path(handle.name)
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            if temporary is not None:
                temporary.unlink(missing_ok=True)
            raise

    @staticmethod
    def _temporary_file(path: Path) -> IO[bytes]:
        """Open a new temporary file next to `path`, creating its folder first."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return _open_temporary(path)
        except FileNotFoundError:
            # A delete removed the empty folder between the two calls: create it once more.
            path.parent.mkdir(parents=True, exist_ok=True)
            return _open_temporary(path)


def _open_temporary(path: Path) -> IO[bytes]:
    return tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False)


class S3ObjectStore:
    """An ObjectStore in one S3 bucket, through a boto3 S3 client.

    `server_side_encryption`, when set (`AES256` or `aws:kms`), is sent with every write.
    Errors other than a missing object propagate as botocore `ClientError`.
    """

    def __init__(self, client: Any, bucket: str, *, server_side_encryption: str | None = None) -> None:
        self.client = client
        self.bucket = bucket
        self.server_side_encryption = server_side_encryption

    def _write_args(self, content_type: str) -> dict[str, str]:
        args = {"ContentType": content_type}
        if self.server_side_encryption:
            args["ServerSideEncryption"] = self.server_side_encryption
        return args

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=validate_key(key), Body=data, **self._write_args(content_type))

    def put_file(self, key: str, local_path: Path, content_type: str) -> None:
        # upload_file switches to multipart upload for large files.
        self.client.upload_file(
            Filename=str(local_path),
            Bucket=self.bucket,
            Key=validate_key(key),
            ExtraArgs=self._write_args(content_type),
        )

    def get_bytes(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=validate_key(key))
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND_CODES:
                raise ObjectNotFound(f"object {key!r} not found in bucket {self.bucket!r}") from exc
            raise
        body: bytes = response["Body"].read()
        return body

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=validate_key(key))
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND_CODES:
                return False
            raise
        return True

    def local_path(self, key: str) -> None:
        """Return None: S3 objects have no local file."""
        validate_key(key)
        return None

    def delete(self, key: str) -> None:
        # S3 answers a delete of a missing key with success, so this is idempotent too.
        self.client.delete_object(Bucket=self.bucket, Key=validate_key(key))


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
