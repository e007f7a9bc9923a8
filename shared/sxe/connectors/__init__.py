"""Pull connectors: fetch public profiles from platform APIs and scraper datasets into ingestion."""

from __future__ import annotations

from sxe.connectors.base import Page, PullRequest, RateLimited, rate_limit_wait
from sxe.connectors.platforms import CONNECTORS, ConnectorSettings, get_connector
from sxe.connectors.runner import PullResult, run_pull

__all__ = [
    "CONNECTORS",
    "ConnectorSettings",
    "Page",
    "PullRequest",
    "PullResult",
    "RateLimited",
    "get_connector",
    "rate_limit_wait",
    "run_pull",
]
