"""Apollo Bulk People Enrichment and Organization Enrichment, beside the single `people/match` adapter.

- `POST /api/v1/people/bulk_match` takes up to 10 people in `details[]` and returns
  `matches[]` in the same order, `null` for a miss, with `credits_consumed` for the call.
- `GET /api/v1/organizations/enrich?domain=` returns `{"organization": {...}}`, costs
  1 credit when Apollo finds the organization and 0 when it does not.

Both share the people/match adapter's key header, timeouts and status classes:
408, 429, 5xx, timeouts and a truncated 200 body are retryable; other 4xx and a
malformed 200 body are permanent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from sxe.adapters.apollo import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_READ_TIMEOUT_SECONDS,
    check_timeout,
    endpoint_url,
    status_error,
)
from sxe.adapters.apollo_response import PROVIDER, decode_body, result_for_person
from sxe.adapters.base import HttpClientOwner, LookupRequest, LookupResult, normalize_text
from sxe.errors import PermanentProviderError, RetryableProviderError, UsageError

BULK_MATCH_PATH = "/api/v1/people/bulk_match"
ORGANIZATION_ENRICH_PATH = "/api/v1/organizations/enrich"
BULK_ADAPTER_VERSION = "apollo.people_bulk_match.v1"
ORGANIZATION_ADAPTER_VERSION = "apollo.organization_enrich.v1"
MAX_BULK_DETAILS = 10
CREDITS_PER_ORGANIZATION = 1

_LOOKUP_FIELDS = ("first_name", "last_name", "name", "domain", "organization_name")


@dataclass(frozen=True, slots=True)
class BulkMatchResult:
    """One bulk call: a `LookupResult` per request, in request order, and the credits Apollo reported."""

    results: tuple[LookupResult, ...]
    credits_consumed: int


@dataclass(frozen=True, slots=True)
class OrganizationResult:
    """The minimized firmographics of one organization, or `matched=False` when Apollo has none."""

    matched: bool
    domain: str
    apollo_organization_id: str | None
    name: str | None
    primary_domain: str | None
    industry: str | None
    estimated_num_employees: int | None
    credits_used: int
    payload_sha256: str
    simulated: bool


class _ApolloClient(HttpClientOwner):
    """Key header, timeouts and client ownership shared by the bulk and organization calls."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str,
        client: httpx.Client | None,
        simulated: bool,
        connect_timeout_seconds: float,
        read_timeout_seconds: float,
    ) -> None:
        if not api_key or not api_key.strip():
            raise UsageError("Apollo API key is empty. Set SXE_APOLLO_API_KEY or use the provider simulator.")
        check_timeout("connect_timeout_seconds", connect_timeout_seconds)
        check_timeout("read_timeout_seconds", read_timeout_seconds)
        endpoint_url(base_url, "", simulated=simulated)

        self._api_key = api_key.strip()
        self._base_url = base_url
        self._simulated = simulated
        self._timeout = httpx.Timeout(
            connect=connect_timeout_seconds,
            read=read_timeout_seconds,
            write=read_timeout_seconds,
            pool=connect_timeout_seconds,
        )
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=self._timeout)

    def _call(self, method: str, path: str, operation: str, **options: Any) -> bytes:
        """Send one request and return a 200 body, or raise the classified provider error."""
        url = endpoint_url(self._base_url, path, simulated=self._simulated)
        headers = {"x-api-key": self._api_key, "accept": "application/json", "cache-control": "no-cache"}
        try:
            response = self._client.request(method, url, headers=headers, timeout=self._timeout, **options)
        except httpx.TimeoutException as exc:
            raise RetryableProviderError(
                f"Apollo {operation} timed out ({type(exc).__name__}). Retry the lookup later.", provider=PROVIDER
            ) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise RetryableProviderError(
                f"Apollo {operation} failed before a complete response arrived ({type(exc).__name__}). "
                "Retry the lookup later.",
                provider=PROVIDER,
            ) from exc
        if response.status_code != 200:
            raise status_error(response, operation=operation)
        return response.content


class ApolloBulkPeopleMatch(_ApolloClient):
    """Apollo Bulk People Enrichment: up to 10 people per call, results in request order."""

    version = BULK_ADAPTER_VERSION

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        client: httpx.Client | None = None,
        simulated: bool = False,
        connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
        read_timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
        reveal_phone_number: bool = False,
        webhook_url: str | None = None,
    ) -> None:
        """Validate the settings like `ApolloPeopleMatch`, raising UsageError on a bad one."""
        super().__init__(
            api_key,
            base_url=base_url,
            client=client,
            simulated=simulated,
            connect_timeout_seconds=connect_timeout_seconds,
            read_timeout_seconds=read_timeout_seconds,
        )
        self._reveal_phone_number = reveal_phone_number
        self._webhook_url = webhook_url

    def match(self, requests: Sequence[LookupRequest]) -> BulkMatchResult:
        """Match 1 to 10 people in one call; raise UsageError for an empty or oversized batch."""
        if not 1 <= len(requests) <= MAX_BULK_DETAILS:
            raise UsageError(
                f"Apollo bulk_match takes 1 to {MAX_BULK_DETAILS} people per call, got {len(requests)}. "
                "Split the batch."
            )
        params = {
            "reveal_personal_emails": "false",
            "reveal_phone_number": "true" if self._reveal_phone_number else "false",
        }
        if self._webhook_url:
            params["webhook_url"] = self._webhook_url
        body = {"details": [_detail(request) for request in requests]}

        content = self._call("POST", BULK_MATCH_PATH, "people/bulk_match", params=params, json=body)
        return self._parse(content, expected=len(requests))

    def _parse(self, content: bytes, *, expected: int) -> BulkMatchResult:
        document = decode_body(content)
        if not isinstance(document, dict) or not isinstance(document.get("matches"), list):
            raise _contract_error("people/bulk_match", "the 200 body is not a JSON object with a 'matches' array")
        matches = document["matches"]
        if len(matches) != expected:
            raise _contract_error("people/bulk_match", f"'matches' has {len(matches)} entries for {expected} details")
        credits = document.get("credits_consumed")
        if isinstance(credits, bool) or not isinstance(credits, int) or credits < 0:
            raise _contract_error("people/bulk_match", f"'credits_consumed' is {credits!r}, expected an integer")

        digest = hashlib.sha256(content).hexdigest()
        results: list[LookupResult] = []
        for index, person in enumerate(matches):
            if person is not None and not isinstance(person, dict):
                raise _contract_error("people/bulk_match", f"'matches[{index}]' is neither an object nor null")
            results.append(
                result_for_person(
                    person, adapter_version=self.version, payload_sha256=digest, simulated=self._simulated
                )
            )
        return BulkMatchResult(tuple(results), credits)


class ApolloOrganizationEnrich(_ApolloClient):
    """Apollo Organization Enrichment by domain: 1 credit when found, 0 when not."""

    version = ORGANIZATION_ADAPTER_VERSION

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        client: httpx.Client | None = None,
        simulated: bool = False,
        connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
        read_timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
    ) -> None:
        """Validate the settings like `ApolloPeopleMatch`, raising UsageError on a bad one."""
        super().__init__(
            api_key,
            base_url=base_url,
            client=client,
            simulated=simulated,
            connect_timeout_seconds=connect_timeout_seconds,
            read_timeout_seconds=read_timeout_seconds,
        )

    def quoted_cost_credits(self, domain: str) -> int:
        """Return the maximum credits one enrichment costs: 1."""
        return CREDITS_PER_ORGANIZATION

    def enrich(self, domain: str) -> OrganizationResult:
        """Enrich one organization by its bare domain (`example.com`), raising UsageError for a blank one."""
        clean = normalize_text(domain)
        if clean is None or "/" in clean or " " in clean:
            raise UsageError(f"organization domain {domain!r} is invalid. Pass a bare domain such as example.com.")
        content = self._call("GET", ORGANIZATION_ENRICH_PATH, "organizations/enrich", params={"domain": clean})
        return self._parse(content, domain=clean)

    def _parse(self, content: bytes, *, domain: str) -> OrganizationResult:
        document = decode_body(content)
        if not isinstance(document, dict):
            raise _contract_error("organizations/enrich", "the 200 body is not a JSON object")
        organization = document.get("organization")
        digest = hashlib.sha256(content).hexdigest()
        if organization is None or organization == {}:
            return OrganizationResult(False, domain, None, None, None, None, None, 0, digest, self._simulated)
        if not isinstance(organization, dict):
            raise _contract_error("organizations/enrich", "'organization' is neither an object nor null")

        employees = organization.get("estimated_num_employees")
        if employees is not None and (isinstance(employees, bool) or not isinstance(employees, int)):
            raise _contract_error("organizations/enrich", "'organization.estimated_num_employees' is not an integer")
        return OrganizationResult(
            matched=True,
            domain=domain,
            apollo_organization_id=_text(organization, "id"),
            name=_text(organization, "name"),
            primary_domain=normalize_text(_text(organization, "primary_domain")),
            industry=_text(organization, "industry"),
            estimated_num_employees=employees,
            credits_used=CREDITS_PER_ORGANIZATION,
            payload_sha256=digest,
            simulated=self._simulated,
        )


def _detail(request: LookupRequest) -> dict[str, str]:
    detail: dict[str, str] = {}
    for field_name in _LOOKUP_FIELDS:
        value = getattr(request, field_name)
        if value is not None and value.strip():
            detail[field_name] = " ".join(value.split())
    return detail


def _text(holder: dict[str, Any], key: str) -> str | None:
    value = holder.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _contract_error("organizations/enrich", f"'organization.{key}' is {type(value).__name__}, not a string")
    return value.strip() or None


def _contract_error(operation: str, detail: str) -> PermanentProviderError:
    return PermanentProviderError(
        f"Apollo {operation} response breaks the documented contract: {detail}. "
        "Check the base URL and the Apollo API version.",
        provider=PROVIDER,
        status_code=200,
    )
