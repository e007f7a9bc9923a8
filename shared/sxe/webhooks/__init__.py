"""Signed webhook ingestion: Standard Webhooks verification, the web function and its normalize jobs."""

from __future__ import annotations

from sxe.webhooks.handler import handle
from sxe.webhooks.signature import SignatureRejected, VerifiedDelivery, parse_secrets, sign, verify

__all__ = ["SignatureRejected", "VerifiedDelivery", "handle", "parse_secrets", "sign", "verify"]
