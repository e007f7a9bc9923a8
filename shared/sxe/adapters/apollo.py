"""Apollo People Enrichment adapter: `POST /api/v1/people/match` with the key in `x-api-key`.

Lookup fields travel as query parameters, as Apollo's reference documents them.
Status handling:

- 200: parsed strictly by `sxe.adapters.apollo_response`.
- 408, 429, 5xx, timeouts, connection and protocol errors: RetryableProviderError,
  with `retry_after_seconds` from a `Retry-After` header (seconds or HTTP-date).
- Other 4xx and any other status: PermanentProviderError carrying the status and the
  provider's error text with emails, phone numbers and key-like tokens masked.

Apollo does not report credits on people/match, so `credits_used` comes from the
billing rule in `apollo_response`. The simulator's `x-sxe-credits-used` header is ignored.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from sxe.adapters.apollo_response import (
    CREDITS_PER_MATCH,
    CREDITS_PER_MOBILE,
    PROVIDER,
    build_result,
)
from sxe.adapters.base import HttpClientOwner, LookupRequest, LookupResult
from sxe.errors import PermanentProviderError, RetryableProviderError, UsageError

ADAPTER_VERSION = "1"
DEFAULT_BASE_URL = "https://api.apollo.io"
MATCH_PATH = "/api/v1/people/match"
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_READ_TIMEOUT_SECONDS = 10.0

_LOOKUP_FIELDS = ("first_name", "last_name", "name", "domain", "organization_name", "linkedin_url")
_ERROR_TEXT_KEYS = ("error", "message", "error_message", "errors")
_MAX_ERROR_TEXT_CHARS = 200

_EMAIL_PATTERN = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_PATTERN = re.compile(r"\+?\d[\d\s().-]{5,}\d")
_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{24,}")
_DELAY_SECONDS_PATTERN = re.compile(r"\d+(\.\d+)?")

_PERMANENT_HINTS = {
    400: "Check the lookup parameters.",
    401: "Check the Apollo API key.",
    403: "Check that the Apollo API key may call this endpoint.",
    404: "Check the Apollo base URL.",
    422: "Check the lookup parameters.",
}


class ApolloPeopleMatch(HttpClientOwner):
    """`ProviderAdapter` for Apollo People Enrichment, one person per call.

    Uses the `httpx.Client` passed in, or creates one that `close()` releases. Every
    request carries this adapter's timeouts, so a caller's client needs no timeout.
    """

    name = PROVIDER
    version = ADAPTER_VERSION

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
        """Validate the settings, raising UsageError on an empty key, a bad URL or a non-positive timeout.

        `simulated` marks results as coming from `ProviderSimulator` and requires a
        loopback `base_url`, so real provider data is never labelled simulated.
        NOTE: Apollo's phone reveal guide (docs.apollo.io, updated 2026-07) states that
        revealed phones are sent to `webhook_url` asynchronously. This adapter reads only
        the synchronous body, so with the real API mobiles may be missing from results
        and `credits_used` then leaves out the 8 credits billed for a delivered mobile.
        """
        if not api_key or not api_key.strip():
            raise UsageError("Apollo API key is empty. Set SXE_APOLLO_API_KEY or use the provider simulator.")
        check_timeout("connect_timeout_seconds", connect_timeout_seconds)
        check_timeout("read_timeout_seconds", read_timeout_seconds)

        self._api_key = api_key.strip()
        self._match_url = _match_url(base_url, simulated=simulated)
        self._simulated = simulated
        self._reveal_phone_number = reveal_phone_number
        self._webhook_url = webhook_url
        self._timeout = httpx.Timeout(
            connect=connect_timeout_seconds,
            read=read_timeout_seconds,
            write=read_timeout_seconds,
            pool=connect_timeout_seconds,
        )
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=self._timeout)

    @property
    def phones_requested(self) -> bool:
        """Whether lookups ask Apollo to reveal phone numbers (`reveal_phone_number=true`)."""
        return self._reveal_phone_number

    def without_phone_reveal(self) -> ApolloPeopleMatch:
        """Return an adapter on the same key and HTTP client whose lookups request no phones.

        The returned adapter never closes the shared client, so close this one as before.
        """
        narrowed = copy.copy(self)
        narrowed._reveal_phone_number = False
        narrowed._webhook_url = None
        narrowed._owns_client = False
        return narrowed

    def quoted_cost_credits(self, request: LookupRequest) -> int:
        """Return the maximum credits one lookup can cost: 1, or 9 when phone reveal is on."""
        if self._reveal_phone_number:
            return CREDITS_PER_MATCH + CREDITS_PER_MOBILE
        return CREDITS_PER_MATCH

    def lookup(self, request: LookupRequest) -> LookupResult:
        """Call people/match once and return the result, or raise RetryableProviderError or PermanentProviderError."""
        response = self._send(request)
        if response.status_code == 200:
            return build_result(response.content, adapter_version=self.version, simulated=self._simulated)
        raise status_error(response)

    def _send(self, request: LookupRequest) -> httpx.Response:
        """POST the request and map transport failures to RetryableProviderError without echoing the URL."""
        headers = {"x-api-key": self._api_key, "accept": "application/json", "cache-control": "no-cache"}
        try:
            return self._client.post(
                self._match_url, params=self._query_params(request), headers=headers, timeout=self._timeout
            )
        except httpx.TimeoutException as exc:
            raise RetryableProviderError(
                f"Apollo people/match timed out ({type(exc).__name__}). Retry the lookup later.",
                provider=PROVIDER,
            ) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise RetryableProviderError(
                f"Apollo people/match failed before a complete response arrived ({type(exc).__name__}). "
                "Retry the lookup later.",
                provider=PROVIDER,
            ) from exc

    def _query_params(self, request: LookupRequest) -> dict[str, str]:
        params: dict[str, str] = {}
        for field_name in _LOOKUP_FIELDS:
            value = getattr(request, field_name)
            if value is not None and value.strip():
                params[field_name] = " ".join(value.split())
        params["reveal_personal_emails"] = "false"
        params["reveal_phone_number"] = "true" if self._reveal_phone_number else "false"
        if self._webhook_url:
            params["webhook_url"] = self._webhook_url
        return params


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Return the wait a `Retry-After` header requests, in seconds, or None when absent or invalid.

    Accepts delay-seconds (`"30"`) and an HTTP-date (`"Wed, 21 Oct 2015 07:28:00 GMT"`).
    A date in the past gives 0.0. `now` defaults to the current UTC time.
    """
    if value is None:
        return None
    text = value.strip()
    if _DELAY_SECONDS_PATTERN.fullmatch(text):
        seconds = float(text)
        return seconds if math.isfinite(seconds) else None

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def mask_contact_text(text: str) -> str:
    """Replace emails, phone-like digit runs and key-like tokens with placeholders, and cap the length."""
    masked = _EMAIL_PATTERN.sub("[email]", text)
    masked = _PHONE_PATTERN.sub("[phone]", masked)
    masked = _TOKEN_PATTERN.sub("[token]", masked)
    masked = " ".join(masked.split())
    if len(masked) > _MAX_ERROR_TEXT_CHARS:
        masked = masked[: _MAX_ERROR_TEXT_CHARS - 3] + "..."
    return masked


def status_error(
    response: httpx.Response, *, operation: str = "people/match"
) -> RetryableProviderError | PermanentProviderError:
    """Classify a non-200 Apollo response: 408, 429 and 5xx are retryable, anything else permanent."""
    return classify_status(
        response,
        label=f"Apollo {operation}",
        provider=PROVIDER,
        detail=_provider_error_text(response),
        hints=_PERMANENT_HINTS,
    )


def classify_status(
    response: httpx.Response, *, label: str, provider: str, detail: str, hints: dict[int, str]
) -> RetryableProviderError | PermanentProviderError:
    """Classify a non-200 provider response: 408, 429 and 5xx are retryable, anything else permanent.

    `label` names the provider and endpoint in the message, `detail` is the provider's
    already masked error text, and `hints` gives the fix per permanent status.
    """
    status = response.status_code
    # The provider's own text usually ends a sentence already.
    suffix = f": {detail.rstrip('. ')}" if detail else ""

    if status in (408, 429) or 500 <= status <= 599:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        wait = f"Retry after {retry_after:.0f} s." if retry_after is not None else "Retry the lookup later."
        return RetryableProviderError(
            f"{label} returned HTTP {status}{suffix}. {wait}",
            provider=provider,
            status_code=status,
            retry_after_seconds=retry_after,
        )

    hint = hints.get(status, "The adapter does not handle this status, so do not retry.")
    return PermanentProviderError(
        f"{label} rejected the request with HTTP {status}{suffix}. {hint}",
        provider=provider,
        status_code=status,
    )


def _provider_error_text(response: httpx.Response) -> str:
    """Return the masked error text from a JSON error body, or "" when there is none."""
    try:
        document = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    if not isinstance(document, dict):
        return ""

    for key in _ERROR_TEXT_KEYS:
        value = document.get(key)
        if isinstance(value, str) and value.strip():
            return mask_contact_text(value)
        if isinstance(value, list):
            parts = [item for item in value if isinstance(item, str)]
            if parts:
                return mask_contact_text("; ".join(parts))
    return ""


def check_timeout(name: str, seconds: float) -> None:
    if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0):
        raise UsageError(f"{name} must be a positive number of seconds, got {seconds!r}.")


def _match_url(base_url: str, *, simulated: bool) -> str:
    return endpoint_url(base_url, MATCH_PATH, simulated=simulated)


def endpoint_url(base_url: str, path: str, *, simulated: bool) -> str:
    """Return the URL of an Apollo path, or raise UsageError on a bad base URL or a non-loopback simulator."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"Apollo base URL {base_url!r} is invalid. Use an http(s) URL such as {DEFAULT_BASE_URL}.")
    if simulated and not _is_loopback(parts.hostname):
        raise UsageError(
            f"simulated=True needs a loopback base URL, got host {parts.hostname!r}. "
            "Point base_url at ProviderSimulator.base_url or set simulated=False."
        )
    return base_url.strip().rstrip("/") + path


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False
