"""Contact-data provider adapters and the loopback simulator that replaces them in tests and local runs."""

from __future__ import annotations

from sxe.adapters.apollo import ApolloPeopleMatch
from sxe.adapters.base import (
    ContactPointResult,
    LookupRequest,
    LookupResult,
    ProviderAdapter,
)
from sxe.adapters.simulator import ProviderSimulator

__all__ = [
    "ApolloPeopleMatch",
    "ContactPointResult",
    "LookupRequest",
    "LookupResult",
    "ProviderAdapter",
    "ProviderSimulator",
]
