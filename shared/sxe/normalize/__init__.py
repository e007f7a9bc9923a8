"""Turn source profiles into PII-free Tier 1 profiles."""

from __future__ import annotations

from sxe.normalize.profile import normalize

__all__ = ["normalize"]
