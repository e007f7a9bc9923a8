"""Standard Webhooks signature verification, with several active secrets for rotation.

A delivery carries three headers: `webhook-id` (the message id, the same on every
redelivery), `webhook-timestamp` (integer Unix seconds) and `webhook-signature`
(space-separated `v1,<base64>` entries). The signed content is
`<id>.<timestamp>.<body>` under HMAC-SHA256 with the secret, which is written
`whsec_<base64 key>`. See https://www.standardwebhooks.com/ for the scheme.

Signing uses the `standardwebhooks` reference library. Each expected signature is
compared with each received entry by `hmac.compare_digest`, so the comparison takes
the same time wherever the first differing byte is. A timestamp more than
`TOLERANCE_SECONDS` away from the clock is rejected in both directions, which
bounds how long a captured delivery can be replayed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from sxe.errors import ConfigError

TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"
MAX_ID_LENGTH = 256
MAX_SIGNATURE_ENTRIES = 10

_WEBHOOK_ID = re.compile(r"[\x21-\x7e]{1,256}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


class SignatureRejected(Exception):
    """A delivery's signature headers are missing, malformed, outside the time window or do not match.

    The message is safe to return to the sender: it names the header and the
    problem, never a secret or an expected signature. `reason` is one of
    `missing_header`, `malformed_header`, `stale_timestamp`, `future_timestamp` and
    `no_matching_secret`, for the audit log.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class VerifiedDelivery:
    """The identity of a delivery whose signature matched one of the secrets."""

    webhook_id: str
    sent_at: datetime


def parse_secrets(value: str | None) -> list[Webhook]:
    """Parse SXE_WEBHOOK_SECRETS, comma-separated `whsec_<base64>` values, into signers.

    Raises ConfigError naming the position of a malformed entry; the message never
    repeats a secret. An unset or blank value returns no signers.
    """
    signers: list[Webhook] = []
    for position, raw in enumerate((value or "").split(","), start=1):
        secret = raw.strip()
        if not secret:
            continue
        if not secret.startswith(SECRET_PREFIX) or not _decodes(secret.removeprefix(SECRET_PREFIX)):
            raise ConfigError(
                f"invalid SXE_WEBHOOK_SECRETS: entry {position} is not 'whsec_' followed by base64 "
                "(value not shown); fix the variable"
            )
        signers.append(Webhook(secret))
    return signers


def verify(
    body: bytes, headers: Mapping[str, str], signers: Sequence[Webhook], *, now: float | None = None
) -> VerifiedDelivery:
    """Check a delivery's headers and signature; return its id and timestamp, or raise SignatureRejected.

    `headers` must have lowercase names. Any one of `signers` may match, so an old
    and a new secret both verify while senders switch over.
    """
    webhook_id = _header(headers, "webhook-id")
    timestamp_text = _header(headers, "webhook-timestamp")
    signature_header = _header(headers, "webhook-signature")

    if not _WEBHOOK_ID.fullmatch(webhook_id):
        raise SignatureRejected(
            "malformed_header", f"header webhook-id must be 1 to {MAX_ID_LENGTH} printable ASCII characters"
        )
    if not _TIMESTAMP.fullmatch(timestamp_text):
        raise SignatureRejected(
            "malformed_header", "header webhook-timestamp must be an integer number of Unix seconds"
        )
    received = _signature_entries(signature_header)

    timestamp = int(timestamp_text)
    skew = timestamp - (time.time() if now is None else now)
    if skew < -TOLERANCE_SECONDS:
        raise SignatureRejected(
            "stale_timestamp", f"header webhook-timestamp is more than {TOLERANCE_SECONDS} seconds old"
        )
    if skew > TOLERANCE_SECONDS:
        raise SignatureRejected(
            "future_timestamp", f"header webhook-timestamp is more than {TOLERANCE_SECONDS} seconds in the future"
        )

    sent_at = datetime.fromtimestamp(timestamp, tz=UTC)
    if not _matches(body, webhook_id, sent_at, received, signers):
        raise SignatureRejected("no_matching_secret", "header webhook-signature matches no active secret")
    return VerifiedDelivery(webhook_id=webhook_id, sent_at=sent_at)


def claimed_webhook_id(headers: Mapping[str, str]) -> str | None:
    """Return the delivery's `webhook-id` header when it is well formed, before its signature is checked."""
    webhook_id = headers.get("webhook-id", "").strip()
    return webhook_id if _WEBHOOK_ID.fullmatch(webhook_id) else None


def sign(body: bytes, webhook_id: str, timestamp: int, secret: str) -> str:
    """Return the `v1,<base64>` signature of a delivery, as a sender computes it."""
    return str(Webhook(secret).sign(webhook_id, datetime.fromtimestamp(timestamp, tz=UTC), body))


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None or not value.strip():
        raise SignatureRejected("missing_header", f"header {name} is missing")
    return value.strip()


def _signature_entries(header: str) -> list[bytes]:
    """Return the well-formed `v1,<base64>` entries; entries of other versions are ignored."""
    entries = header.split()
    if len(entries) > MAX_SIGNATURE_ENTRIES:
        raise SignatureRejected(
            "malformed_header", f"header webhook-signature has more than {MAX_SIGNATURE_ENTRIES} entries"
        )

    v1_entries: list[bytes] = []
    for entry in entries:
        version, separator, encoded = entry.partition(",")
        if not separator or not version:
            raise SignatureRejected("malformed_header", "header webhook-signature entries must look like v1,<base64>")
        if version != "v1":
            continue
        if not _BASE64.fullmatch(encoded) or not _decodes(encoded):
            raise SignatureRejected(
                "malformed_header", "header webhook-signature has a v1 entry that is not valid base64"
            )
        v1_entries.append(entry.encode("ascii"))
    if not v1_entries:
        raise SignatureRejected("malformed_header", "header webhook-signature has no v1 entry")
    return v1_entries


def _matches(
    body: bytes, webhook_id: str, sent_at: datetime, received: list[bytes], signers: Sequence[Webhook]
) -> bool:
    found = False
    for signer in signers:
        expected = signer.sign(webhook_id, sent_at, body).encode("ascii")
        for entry in received:
            # No early exit, so the time taken does not tell which secret or entry matched.
            found |= hmac.compare_digest(expected, entry)
    return found


def _decodes(text: str) -> bool:
    # Secrets are often written without base64 padding; the reference library pads them too.
    try:
        return bool(base64.b64decode(text + "=" * (-len(text) % 4), validate=True))
    except (binascii.Error, ValueError):
        return False
