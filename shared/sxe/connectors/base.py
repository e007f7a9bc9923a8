"""What every pull connector shares: requests under Postgres rate tokens, pages and cursors.

A connector turns a pull request (handles, ids or a dataset) into pages of raw
records in one of the ingest formats. `RateLimitedClient` sends each HTTP request
only after taking a token from the connector's bucket in `ops.provider_buckets`,
the same buckets the enrichment providers use, so every process shares one rate.
A 429 response blocks the bucket until the time the platform's headers name
(`x-rate-limit-reset`, `Retry-After`), and a `remaining: 0` header does so before
the limit is hit.
"""

from __future__ import annotations

import hashlib
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import psycopg

from sxe.db import transaction
from sxe.errors import PermanentProviderError, RetryableProviderError, UsageError
from sxe.logs import Event, log
from sxe.orchestrator import controls

DEFAULT_BLOCK_SECONDS = 60.0
MAX_READABLE_KEY = 200
MAX_BLOCK_SECONDS = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class PullRequest:
    """The targets of a pull: handles or ids of one platform, or one dataset of a scraper platform."""

    targets: tuple[str, ...]
    by_id: bool = False
    format_name: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One fetched page: raw records in the connector's format, where they came from, and the next cursor.

    `cursor` is None when the pull is complete.
    """

    records: list[Any]
    source_url: str
    cursor: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class RateLimit:
    capacity: float
    refill_per_second: float


class RateLimited(Exception):
    """The bucket gives no token for longer than the caller may wait; the pull stops and resumes later."""

    def __init__(self, provider: str, wait_seconds: float) -> None:
        super().__init__(f"{provider} is rate limited for {wait_seconds:.0f} more seconds")
        self.provider = provider
        self.wait_seconds = wait_seconds


@dataclass
class RateLimitedClient:
    """An httpx client whose every request waits for a token from the Postgres bucket of `provider`.

    `max_wait_seconds` bounds the total time spent waiting for tokens in one
    request; past it, RateLimited is raised. `sleep` is `time.sleep` except in tests.
    """

    conn: psycopg.Connection[Any]
    http: httpx.Client
    provider: str
    max_wait_seconds: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    retries_after_429: int = 2
    waited_seconds: float = field(default=0.0, init=False)

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        """Send a request once a token is free; retry a 429 within the wait bound; raise on 401, 403 and 5xx."""
        for _ in range(self.retries_after_429 + 1):
            self._take_token()
            response = self.http.request(method, url, **options)
            self._honour_remaining(response)
            if response.status_code != 429:
                return _checked(response, self.provider)
            block = rate_limit_wait(response.headers)
            with transaction(self.conn, role="sxe_worker"):
                controls.block_bucket(self.conn, self.provider, block)
            log(logging.WARNING, Event.PULL_RATE_LIMITED, "rate limited", stage="pull", provider=self.provider)
        raise RateLimited(self.provider, rate_limit_wait(response.headers))

    def _take_token(self) -> None:
        while True:
            with transaction(self.conn, role="sxe_worker"):
                wait = controls.try_acquire_token(self.conn, self.provider)
            if wait == 0:
                return
            if self.waited_seconds + wait > self.max_wait_seconds:
                raise RateLimited(self.provider, wait)
            self.sleep(wait)
            self.waited_seconds += wait

    def _honour_remaining(self, response: httpx.Response) -> None:
        remaining = response.headers.get("x-rate-limit-remaining") or response.headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.strip() == "0" and response.status_code != 429:
            with transaction(self.conn, role="sxe_worker"):
                controls.block_bucket(self.conn, self.provider, rate_limit_wait(response.headers))


def rate_limit_wait(headers: Mapping[str, str], *, now: float | None = None) -> float:
    """Return the seconds a rate-limited caller must wait, from the platform's headers.

    Reads `x-rate-limit-reset` (X: Unix seconds), `x-ratelimit-reset` (seconds from
    now, or Unix seconds when larger than a day) and `Retry-After` (seconds or an
    HTTP date). Without any of them, waits DEFAULT_BLOCK_SECONDS.
    """
    current = time.time() if now is None else now
    for name in ("x-rate-limit-reset", "x-ratelimit-reset"):
        value = headers.get(name)
        if value and value.strip().isdigit():
            number = float(value)
            seconds = number - current if number > MAX_BLOCK_SECONDS else number
            return _bounded(seconds)

    retry_after = headers.get("retry-after")
    if retry_after:
        text = retry_after.strip()
        if text.isdigit():
            return _bounded(float(text))
        try:
            return _bounded(parsedate_to_datetime(text).timestamp() - current)
        except (TypeError, ValueError):
            pass
    return DEFAULT_BLOCK_SECONDS


def _bounded(seconds: float) -> float:
    return min(max(seconds, 1.0), MAX_BLOCK_SECONDS)


def _checked(response: httpx.Response, provider: str) -> httpx.Response:
    status = response.status_code
    if status in (401, 403):
        raise PermanentProviderError(
            f"{provider} rejected the credentials (HTTP {status}); check the token in the environment",
            provider=provider,
            status_code=status,
        )
    if status >= 500:
        raise RetryableProviderError(f"{provider} failed with HTTP {status}", provider=provider, status_code=status)
    return response


class Connector(ABC):
    """A source of pages for one platform API or scraper platform."""

    name: str
    format_name: str | None
    rate_limit: RateLimit
    credential_variable: str

    @abstractmethod
    def pages(self, client: RateLimitedClient, request: PullRequest, cursor: dict[str, Any]) -> Iterator[Page]:
        """Yield pages from `cursor` on; an empty cursor starts from the beginning."""

    def pull_key(self, request: PullRequest) -> str:
        """Return the key that lets the same request resume: the kind and the targets in order.

        Long target lists are replaced by their SHA-256, to keep the key short.
        """
        kind = "ids" if request.by_id else "handles"
        targets = ",".join(request.targets)
        if len(targets) > MAX_READABLE_KEY:
            targets = "sha256:" + hashlib.sha256(targets.encode("utf-8")).hexdigest()
        return f"{kind}:{targets}"

    def require(self, token: str | None) -> str:
        if not token:
            raise UsageError(f"the {self.name} connector needs {self.credential_variable}; set it in the environment")
        return token


def utc_now() -> datetime:
    return datetime.now(UTC)


def chunked(values: tuple[str, ...], size: int) -> list[tuple[str, ...]]:
    return [values[start : start + size] for start in range(0, len(values), size)]
