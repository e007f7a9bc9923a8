"""Gzip data with a deflate block that starts at a chosen content offset, for tests that damage it there."""

from __future__ import annotations

import gzip
import io
import zlib


def gzip_split_at(content: bytes, split: int, compresslevel: int = 9) -> tuple[bytearray, int]:
    """Return `content` gzipped with a deflate block starting at content offset `split`, and that block's offset.

    A full flush ends the block before `split` and starts the next one at a byte
    boundary, so 0xFF written there makes a last block of the reserved type 11, which
    zlib rejects. With `compresslevel` 0 the blocks contain the content unchanged.
    """
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=compresslevel) as out:
        out.write(content[:split])
        out.flush(zlib.Z_FULL_FLUSH)
        block_start = buffer.tell()
        out.write(content[split:])
    return bytearray(buffer.getvalue()), block_start
