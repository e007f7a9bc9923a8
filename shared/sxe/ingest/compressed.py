"""Gzip-compressed input read as its content, with a damaged end reported instead of raised.

Exports often arrive gzipped (`followers.csv.gz`, a dataset's `items.jsonl.gz`). The
reader recognises a gzip file by its first two bytes, whatever its name, and reads the
decompressed bytes as it reads any file. A file cut short by an interrupted download
reads as if it ended there, and `damage` names the error, so the records before the
cut are still stored and the cut is quarantined. Up to `DAMAGE_STEP_BYTES` of content
right before the cut are lost with it.

Changed bytes inside a deflate stream often decompress to wrong content without any
error until the CRC-32 at the end of the member fails. So the reader checks a gzip
file to its end (`find_corruption`) before it reads a record, and reads no record of
a corrupt one.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import IO, NamedTuple, Protocol

GZIP_MAGIC = b"\x1f\x8b"
GZIP_SUFFIX = ".gz"
# The maximum content one decompressing step returns, and so the maximum a damaged block can
# take with it. GzipFile fills its buffer this much at a time, so a smaller step would not help.
DAMAGE_STEP_BYTES = io.DEFAULT_BUFFER_SIZE


class Readable(Protocol):
    """A byte stream that can be read and closed: a file, an object store body, a `Prefixed`."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class GzipDamage(NamedTuple):
    """The damage found in a gzip stream: the error message, and the number of content bytes read before it.

    `truncated` is True when the stream ended before its end marker, so the content
    read before the cut is what was compressed. Otherwise the stream is corrupt: a
    CRC-32 or length check failed, the deflate data is invalid, or a member header
    after the first is not gzip. Then no content of the stream can be trusted.
    """

    message: str
    offset: int
    truncated: bool = False


def is_gzip(path: Path) -> bool:
    """Return True when the file at `path` starts like a gzip stream; False also when it cannot be read."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(GZIP_MAGIC)) == GZIP_MAGIC
    except OSError:
        return False


def is_nested_gzip(path: Path) -> bool:
    """Return True when the content of the gzip file at `path` starts like a gzip stream too."""
    try:
        with GzipContent(path.open("rb")) as content:
            return content.read(len(GZIP_MAGIC)) == GZIP_MAGIC
    except OSError:
        return False


def content_suffix(name: str) -> str:
    """Return the lowercase suffix of the content's name: `.jsonl` for `users.jsonl.gz`."""
    path = Path(name)
    if path.suffix.lower() == GZIP_SUFFIX:
        path = path.with_suffix("")
    return path.suffix.lower()


class GzipContent:
    """The decompressed bytes of a gzip stream, read in order.

    `read` returns b"" once the stream ends or turns out damaged. `damage` is then the
    error message, and `offset` the number of content bytes read before it.
    """

    def __init__(self, compressed: Readable) -> None:
        self._compressed = compressed
        # typeshed requires a seekable fileobj, but GzipFile seeks it only to move backwards.
        self._gzip = gzip.GzipFile(fileobj=compressed, mode="rb")  # type: ignore[call-overload]
        self.damage: str | None = None
        self.truncated = False
        self.offset = 0

    def read(self, size: int = -1) -> bytes:
        """Return up to `size` content bytes (all of them for -1), fewer only at the end or the damage."""
        parts: list[bytes] = []
        remaining = size
        while remaining != 0 and self.damage is None:
            part = self._read_once(remaining)
            if not part:
                break
            parts.append(part)
            if remaining > 0:
                remaining -= len(part)
        return b"".join(parts)

    def found_damage(self) -> GzipDamage | None:
        """Return the damage the stream turned out to have, or None while none was found."""
        return None if self.damage is None else GzipDamage(self.damage, self.offset, self.truncated)

    def seek(self, offset: int) -> None:
        """Move to content offset `offset` by decompressing up to it."""
        self._gzip.seek(offset)
        self.offset = offset

    def close(self) -> None:
        """Close the gzip stream and the compressed stream under it."""
        self._gzip.close()
        self._compressed.close()

    def __enter__(self) -> GzipContent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _read_once(self, size: int) -> bytes:
        # zlib raises without the content it decompressed in the same call, so small steps
        # keep all but the last DAMAGE_STEP_BYTES (8 KiB) before a damaged block.
        step = DAMAGE_STEP_BYTES if size < 0 else min(size, DAMAGE_STEP_BYTES)
        try:
            part: bytes = self._gzip.read1(step)
        # Only the gzip module's own errors are damage: an OSError of the streams under it,
        # such as a full disk under a copy, is raised as it is.
        except (gzip.BadGzipFile, EOFError, zlib.error) as error:
            self.damage = str(error) or type(error).__name__
            # The gzip module raises EOFError only when the compressed bytes end early.
            self.truncated = isinstance(error, EOFError)
            return b""
        self.offset += len(part)
        return part


class Prefixed:
    """A byte stream that returns `head` before the rest of `rest`, for bytes already read from it."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        """Return up to `size` bytes, from `head` while it lasts."""
        if not self._head:
            return self._rest.read(size)
        if size < 0:
            data, self._head = self._head + self._rest.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        return data

    def close(self) -> None:
        self._rest.close()


class Teeing:
    """A byte stream that writes every byte read from `source` to `copy` too.

    Closing it closes neither stream, because their owners close them.
    """

    def __init__(self, source: Readable, copy: IO[bytes]) -> None:
        self._source = source
        self._copy = copy

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self._copy.write(data)
        return data

    def close(self) -> None:
        pass


def find_corruption(compressed: Readable) -> GzipDamage | None:
    """Decompress a gzip stream to its end, discarding the content, and return the damage that makes it corrupt.

    Returns None when the stream is intact or only truncated. Content that starts
    like a gzip stream is decompressed and checked too, because the reader of a file
    decompresses that layer as well. Memory stays at one step of `DAMAGE_STEP_BYTES`.
    Closes `compressed`.
    """
    with GzipContent(compressed) as outer:
        # A whole step keeps the offsets of the steps, and so the offset in the damage, those of the reader.
        head = outer.read(DAMAGE_STEP_BYTES)
        inner_damage = None
        if head.startswith(GZIP_MAGIC):
            # Prefixed only reads and closes the stream under it, which GzipContent does too.
            inner = GzipContent(Prefixed(head, outer))  # type: ignore[arg-type]
            _discard_content(inner)
            inner_damage = inner.found_damage()
        _discard_content(outer)
        for damage in (outer.found_damage(), inner_damage):
            if damage is not None and not damage.truncated:
                return damage
    return None


def _discard_content(content: GzipContent) -> None:
    while content.read(DAMAGE_STEP_BYTES):
        pass
