"""Opaque keyset cursors of the pull API: the last position of a page, signed.

A cursor is `<base64url JSON>.<base64url HMAC-SHA256>`. The JSON contains the
position and the pools it was made for, and the HMAC (keyed with the service's
signing key and the feed it belongs to) stops a caller from forging a position,
reusing a cursor with other pools or passing one feed's cursor to another.
Callers must treat cursors as opaque strings.

A position is the id of the transaction that last wrote the item (PostgreSQL's
64-bit `xid8`) and the card id. Cursors issued before the feeds were ordered that
way carry a `TimePosition` instead: the cards feed's `updated_at`, the erasures
feed's `erased_at` or the merges feed's `merged_at`, and the card id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sxe.errors import UsageError

# Separates each feed's cursors from each other and from download links signed with the same key.
_MESSAGE_PREFIXES = {
    "cards": b"sxe-cards-cursor-v1\n",
    "erasures": b"sxe-erasures-cursor-v1\n",
    "merges": b"sxe-merges-cursor-v1\n",
}


_MAX_UUID = uuid.UUID(int=(1 << 128) - 1)


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a feed: the id of the transaction that last wrote the item, then its card id."""

    xid: int
    card_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class TimePosition:
    """A place in a feed as cursors issued before `Position` held it: the item's time, then its card id."""

    time: datetime
    card_id: uuid.UUID


def position_before(position: Position) -> Position:
    """Return the position just before `position`, so that paging after it starts at `position` itself.

    PostgreSQL orders uuid values as unsigned 128-bit integers, so the card id one below
    is the previous card id within the same transaction id.
    """
    if position.card_id.int > 0:
        return Position(position.xid, uuid.UUID(int=position.card_id.int - 1))
    return Position(position.xid - 1, _MAX_UUID)


def encode_cursor(
    position: Position | TimePosition, pools: tuple[str, ...], secret: bytes, *, feed: str = "cards"
) -> str:
    """Return the signed cursor for `position` of `feed` within `pools`."""
    # The xid is a string because JSON parsers of other languages may round integers above 2**53.
    if isinstance(position, Position):
        place = {"x": str(position.xid)}
    else:
        place = {"u": position.time.isoformat()}
    document = {**place, "i": str(position.card_id), "p": sorted(pools)}
    payload = json.dumps(document, separators=(",", ":")).encode("utf-8")
    return f"{_b64(payload)}.{_b64(_mac(payload, secret, feed))}"


def decode_cursor(
    cursor: str, pools: tuple[str, ...], secret: bytes, *, feed: str = "cards"
) -> Position | TimePosition:
    """Return the position of a cursor made by `encode_cursor` for the same feed and pools.

    Raises UsageError for a malformed or altered cursor, or one made for other pools.
    The message never repeats the cursor.
    """
    payload_text, _, mac_text = cursor.partition(".")
    try:
        payload = _unb64(payload_text)
        mac = _unb64(mac_text)
    except (binascii.Error, ValueError) as exc:
        raise UsageError("cursor is malformed; pass next_cursor from a previous page unchanged") from exc
    if not hmac.compare_digest(mac, _mac(payload, secret, feed)):
        for other in _MESSAGE_PREFIXES:
            if other != feed and hmac.compare_digest(mac, _mac(payload, secret, other)):
                raise UsageError(f"cursor belongs to the {other} feed; pass next_cursor from a page of the {feed} feed")
        raise UsageError("cursor is invalid or was altered; pass next_cursor from a previous page unchanged")

    document = json.loads(payload)
    if document["p"] != sorted(pools):
        raise UsageError("cursor was made for other pools; start again without a cursor for this pool selection")
    card_id = uuid.UUID(document["i"])
    if "x" in document:
        return Position(int(document["x"]), card_id)
    return TimePosition(datetime.fromisoformat(document["u"]), card_id)


def _mac(payload: bytes, secret: bytes, feed: str) -> bytes:
    return hmac.new(secret, _MESSAGE_PREFIXES[feed] + payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("empty or non-ASCII cursor part")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
