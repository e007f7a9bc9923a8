"""Contact-data provider adapters and the loopback simulator that replaces them in tests and local runs."""

from __future__ import annotations

from sxe.adapters.apollo import ApolloPeopleMatch
from sxe.adapters.apollo_bulk import ApolloBulkPeopleMatch, ApolloOrganizationEnrich
from sxe.adapters.base import (
    ContactPointResult,
    LookupRequest,
    LookupResult,
    ProviderAdapter,
)
from sxe.adapters.dealmachine import DealMachineEnrichment
from sxe.adapters.simulator import ProviderSimulator

__all__ = [
    "ApolloBulkPeopleMatch",
    "ApolloOrganizationEnrich",
    "ApolloPeopleMatch",
    "ContactPointResult",
    "DealMachineEnrichment",
    "LookupRequest",
    "LookupResult",
    "ProviderAdapter",
    "ProviderSimulator",
]
