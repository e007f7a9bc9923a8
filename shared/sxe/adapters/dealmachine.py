"""DealMachine person skip-trace adapter: `POST /v1/enrichment/{name,phone,email}` with a Bearer key.

`lookup` searches by name, the identity a lead card has, and keeps the result only
when exactly one person carries the requested name. `lookup_phone` and
`lookup_email` use DealMachine's reverse lookups, one item per call. Status handling
matches the Apollo adapter:

- 200: parsed strictly by `sxe.adapters.dealmachine_response`.
- 408, 429, 5xx, timeouts, connection and protocol errors, and a truncated 200 body:
  RetryableProviderError, with `retry_after_seconds` from `Retry-After`.
- Other 4xx (400, 401, 403, 404, 422) and a malformed 200 body: PermanentProviderError
  carrying the status and DealMachine's masked `error.message`.

Every phone carries its line type, the DNC flag as "listed" or "clear", and the
lookup time as `scrubbed_at`, because the response reports DNC status with no scrub date
of its own.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from sxe.adapters.apollo import classify_status, mask_contact_text
from sxe.adapters.base import HttpClientOwner, LookupRequest, LookupResult
from sxe.adapters.dealmachine_response import (
    ADAPTER_VERSION,
    PROVIDER,
    ParsedBody,
    build_result,
    parse_matched_body,
    parse_people_body,
    select_person,
)
from sxe.errors import PermanentProviderError, RetryableProviderError, UsageError

DEFAULT_BASE_URL = "https://api.v2.dealmachine.com"
NAME_PATH = "/v1/enrichment/name"
PHONE_PATH = "/v1/enrichment/phone"
EMAIL_PATH = "/v1/enrichment/email"
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_READ_TIMEOUT_SECONDS = 15.0

# A name search bills 1 credit per person returned. Two results are enough to tell a
# unique match from namesakes, so `per_page` is 2 and a lookup costs at most 2 credits.
NAME_RESULTS_PER_PAGE = 2
CONTACT_FIELDS = ("phones", "emails")

_PERMANENT_HINTS = {
    400: "Check the lookup fields.",
    401: "Check SXE_DEALMACHINE_API_KEY.",
    403: "Check that the DealMachine subscription is active and includes the API.",
    404: "Check the DealMachine base URL.",
    422: "Check the lookup fields: a name search needs a last name.",
}

Clock = Callable[[], datetime]


class DealMachineEnrichment(HttpClientOwner):
    """`ProviderAdapter` for DealMachine person enrichment, one person per call.

    Uses the `httpx.Client` passed in, or creates one that `close()` releases.
    `clock` supplies the scrub time stamped on every phone.
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
        clock: Clock | None = None,
    ) -> None:
        """Validate the settings, raising UsageError on an empty key, a bad URL or a non-positive timeout."""
        if not api_key or not api_key.strip():
            raise UsageError("DealMachine API key is empty. Set SXE_DEALMACHINE_API_KEY or use the provider simulator.")
        for label, seconds in (
            ("connect_timeout_seconds", connect_timeout_seconds),
            ("read_timeout_seconds", read_timeout_seconds),
        ):
            if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0):
                raise UsageError(f"{label} must be a positive number of seconds, got {seconds!r}.")

        self._api_key = api_key.strip()
        self._base_url = _base_url(base_url, simulated=simulated)
        self._simulated = simulated
        self._clock = clock or (lambda: datetime.now(UTC))
        self._timeout = httpx.Timeout(
            connect=connect_timeout_seconds,
            read=read_timeout_seconds,
            write=read_timeout_seconds,
            pool=connect_timeout_seconds,
        )
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=self._timeout)

    def quoted_cost_credits(self, request: LookupRequest) -> int:
        """Return the maximum credits one name lookup can cost: one per person on the single result page."""
        return NAME_RESULTS_PER_PAGE

    def lookup(self, request: LookupRequest) -> LookupResult:
        """Search people by name and return the unique namesake-free match, or a miss.

        Raises PermanentProviderError without calling DealMachine when the request has
        no last name, because the name endpoint requires one.
        """
        first_name, last_name = _name_parts(request)
        if last_name is None:
            raise PermanentProviderError(
                "DealMachine name lookup needs a last name, and the request has none. "
                "Provide last_name, or a name of at least two words.",
                provider=PROVIDER,
            )
        item = {"last_name": last_name} | ({"first_name": first_name} if first_name else {})
        body = {"data": [item], "include_properties": False, "page": 1, "per_page": NAME_RESULTS_PER_PAGE}

        scrubbed_at = self._clock()
        parsed = parse_people_body(self._post(NAME_PATH, body), endpoint=NAME_PATH)
        person = select_person(parsed.contacts, first_name=first_name, last_name=last_name)
        return build_result(person, parsed, endpoint=NAME_PATH, scrubbed_at=scrubbed_at, simulated=self._simulated)

    def lookup_phone(self, phone: str) -> LookupResult:
        """Reverse-look-up one phone number; a result naming several people is treated as a miss."""
        return self._reverse_lookup(PHONE_PATH, {"phone": phone})

    def lookup_email(self, email: str) -> LookupResult:
        """Reverse-look-up one email address; a result naming several people is treated as a miss."""
        return self._reverse_lookup(EMAIL_PATH, {"email": email})

    def _reverse_lookup(self, path: str, item: dict[str, str]) -> LookupResult:
        body = {"data": [item], "fields": list(CONTACT_FIELDS), "include_properties": False}
        scrubbed_at = self._clock()
        parsed: ParsedBody = parse_matched_body(self._post(path, body), endpoint=path)
        distinct = {contact["dm_person_id"] for contact in parsed.contacts}
        person = parsed.contacts[0] if len(distinct) == 1 else None
        return build_result(person, parsed, endpoint=path, scrubbed_at=scrubbed_at, simulated=self._simulated)

    def _post(self, path: str, body: dict[str, Any]) -> bytes:
        """POST the body and return a 200 response's bytes, or raise the classified provider error."""
        headers = {"authorization": f"Bearer {self._api_key}", "accept": "application/json"}
        try:
            response = self._client.post(self._base_url + path, json=body, headers=headers, timeout=self._timeout)
        except httpx.TimeoutException as exc:
            raise RetryableProviderError(
                f"DealMachine {path} timed out ({type(exc).__name__}). Retry the lookup later.", provider=PROVIDER
            ) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise RetryableProviderError(
                f"DealMachine {path} failed before a complete response arrived ({type(exc).__name__}). "
                "Retry the lookup later.",
                provider=PROVIDER,
            ) from exc
        if response.status_code == 200:
            return response.content
        raise status_error(path, response)


def status_error(path: str, response: httpx.Response) -> RetryableProviderError | PermanentProviderError:
    """Classify a non-200 DealMachine response: 408, 429 and 5xx are retryable, anything else permanent."""
    return classify_status(
        response,
        label=f"DealMachine {path}",
        provider=PROVIDER,
        detail=_error_message(response),
        hints=_PERMANENT_HINTS,
    )


def _error_message(response: httpx.Response) -> str:
    """Return the masked `error.message` (or a plain string `error`) of an error body, or ""."""
    try:
        document = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    error = document.get("error") if isinstance(document, dict) else None
    if isinstance(error, dict):
        error = error.get("message")
    if isinstance(error, str) and error.strip():
        return mask_contact_text(error)
    return ""


def _name_parts(request: LookupRequest) -> tuple[str | None, str | None]:
    """Return the stripped first and last name, taking them from `name` when the parts are blank."""
    first = " ".join((request.first_name or "").split()) or None
    last = " ".join((request.last_name or "").split()) or None
    if last is not None:
        return first, last
    words = (request.name or "").split()
    if len(words) < 2:
        return first, None
    return first or words[0], words[-1]


def _base_url(base_url: str, *, simulated: bool) -> str:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"DealMachine base URL {base_url!r} is invalid. Use an http(s) URL such as {DEFAULT_BASE_URL}."
        )
    if simulated and not _is_loopback(parts.hostname):
        raise UsageError(
            f"simulated=True needs a loopback base URL, got host {parts.hostname!r}. "
            "Point base_url at ProviderSimulator.base_url or set simulated=False."
        )
    return base_url.strip().rstrip("/")


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False
