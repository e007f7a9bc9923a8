"""Provider-neutral shapes for contact enrichment, and the adapter protocol.

An adapter turns one `LookupRequest` into one `LookupResult` by calling a paid
provider. Results keep only the contact points and firmographics the lead card
needs, never the provider's full payload: `payload_sha256` proves which response
a result came from without storing it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import datetime
from types import TracebackType
from typing import Literal, Protocol, Self, runtime_checkable

import httpx

ContactKind = Literal["email", "phone"]


def normalize_text(value: str | None) -> str | None:
    """Lowercase, strip and collapse inner whitespace, and return None for None or a blank string."""
    if value is None:
        return None
    collapsed = " ".join(value.split()).lower()
    return collapsed or None


class HttpClientOwner:
    """Base of an adapter that closes its HTTP client on `close` or at the end of a `with` block, when it created it."""

    _client: httpx.Client
    _owns_client: bool

    def close(self) -> None:
        """Close the HTTP client if this adapter created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class LookupRequest:
    """The identity an adapter looks up: a person's name plus their employer, or a LinkedIn URL.

    `profiles` is a comma-separated list of `platform:identity_key` of the card's
    social profiles, read by sources keyed on profiles (public_bio); paid providers
    ignore it. Every field is optional here. The provider decides whether the combination
    identifies a person, and rejects it otherwise (Apollo returns HTTP 422).
    """

    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    domain: str | None = None
    organization_name: str | None = None
    linkedin_url: str | None = None
    profiles: str | None = None

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"LookupRequest.{item.name} must be str or None, got {type(value).__name__}")

    def normalized(self) -> dict[str, str]:
        """Return the non-blank fields, lowercased and whitespace-collapsed, keyed by field name."""
        result: dict[str, str] = {}
        for item in fields(self):
            value = normalize_text(getattr(self, item.name))
            if value is not None:
                result[item.name] = value
        return result

    def fingerprint(self, provider: str, adapter_version: str) -> str:
        """Return `"<provider>:<adapter_version>:<sha256 hex>"` of the normalized request.

        The hash covers the JSON of `normalized()` with sorted keys, so requests that
        differ only in case, surrounding whitespace or blank fields share a fingerprint.
        The prefix keeps fingerprints of different providers and adapter versions apart.
        """
        canonical = json.dumps(self.normalized(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        return f"{provider}:{adapter_version}:{digest}"


@dataclass(frozen=True, slots=True)
class ContactPointResult:
    """One email address or phone number a provider returned.

    `status` is the provider's verification word (Apollo `email_status` for emails,
    the phone `status` for phones). `line_type`, `dnc_status` and `scrubbed_at` (when
    the provider last checked the number against Do-Not-Call lists) apply to phones only.
    Phone values are E.164 (`+12125550142`). `source` is the provider name.
    """

    kind: ContactKind
    value: str
    status: str | None
    source: str
    line_type: str | None = None
    dnc_status: str | None = None
    scrubbed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LookupResult:
    """The minimized outcome of one provider lookup.

    `matched` is False when the provider found no person, and the other person
    fields are then None or empty. `credits_used` is computed by the adapter from the provider's
    billing rule and the response content. `payload_sha256` is the SHA-256 hex of the
    raw response body bytes. `simulated` is True when the response came from the
    local provider simulator, not the real provider. `async_request_id` is the id under
    which the provider delivers more data later (Apollo's phone reveal `request_id`), or None.
    """

    matched: bool
    provider: str
    adapter_version: str
    provider_person_id: str | None
    contact_points: tuple[ContactPointResult, ...]
    organization_domain: str | None
    organization_name: str | None
    title: str | None
    credits_used: int
    payload_sha256: str
    simulated: bool
    async_request_id: int | None = None

    @property
    def emails(self) -> tuple[ContactPointResult, ...]:
        """The contact points of kind "email"."""
        return tuple(point for point in self.contact_points if point.kind == "email")

    @property
    def phones(self) -> tuple[ContactPointResult, ...]:
        """The contact points of kind "phone"."""
        return tuple(point for point in self.contact_points if point.kind == "phone")


@runtime_checkable
class ProviderAdapter(Protocol):
    """A paid contact-data provider behind one lookup call.

    `lookup` raises `RetryableProviderError` when the same call may succeed later
    (timeouts, connection errors, 429, 5xx) and `PermanentProviderError` when it
    cannot (rejected credentials or parameters, a response that breaks the contract).
    """

    @property
    def name(self) -> str:
        """The provider name stored with every result, such as "apollo"."""
        ...

    @property
    def version(self) -> str:
        """The adapter version. Pass it to `LookupRequest.fingerprint` so a new version misses old cache entries."""
        ...

    def quoted_cost_credits(self, request: LookupRequest) -> int:
        """Return the maximum credits `lookup(request)` can spend with this adapter's settings."""
        ...

    def lookup(self, request: LookupRequest) -> LookupResult:
        """Call the provider once and return the minimized result."""
        ...
