"""Apollo bulk people match and organization enrich against documented-shape responses via httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from sxe.adapters.apollo_bulk import ApolloBulkPeopleMatch, ApolloOrganizationEnrich
from sxe.adapters.base import LookupRequest
from sxe.errors import PermanentProviderError, RetryableProviderError, UsageError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apollo"
API_KEY = "test-key-0123456789abcdefghijklmn"
PEOPLE = [
    LookupRequest(first_name="Sam", last_name="Okafor", domain="example.org"),
    LookupRequest(name="Nobody Known", domain="example.net"),
]

Handler = Callable[[httpx.Request], httpx.Response]


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def replay(status: int, body: bytes, headers: dict[str, str] | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": "application/json", **(headers or {})})

    return handler


def bulk(handler: Handler, **options: object) -> ApolloBulkPeopleMatch:
    return ApolloBulkPeopleMatch(API_KEY, client=httpx.Client(transport=httpx.MockTransport(handler)), **options)  # type: ignore[arg-type]


def organizations(handler: Handler) -> ApolloOrganizationEnrich:
    return ApolloOrganizationEnrich(API_KEY, client=httpx.Client(transport=httpx.MockTransport(handler)))


def test_bulk_results_follow_request_order() -> None:
    outcome = bulk(replay(200, fixture_bytes("bulk_match.json"))).match(PEOPLE)

    assert outcome.credits_consumed == 1
    assert [result.matched for result in outcome.results] == [True, False]
    assert [point.value for point in outcome.results[0].emails] == ["sam.okafor@example.org"]
    assert outcome.results[1].credits_used == 0
    assert outcome.results[0].adapter_version == "apollo.people_bulk_match.v1"


def test_bulk_request_shape() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=fixture_bytes("bulk_match.json"))

    bulk(handler, reveal_phone_number=True, webhook_url="https://hooks.example.com/apollo").match(PEOPLE)

    sent = seen[0]
    assert sent.method == "POST"
    assert sent.url.path == "/api/v1/people/bulk_match"
    assert sent.headers["x-api-key"] == API_KEY
    assert sent.url.params["reveal_phone_number"] == "true"
    assert sent.url.params["webhook_url"] == "https://hooks.example.com/apollo"
    assert json.loads(sent.content) == {
        "details": [
            {"first_name": "Sam", "last_name": "Okafor", "domain": "example.org"},
            {"name": "Nobody Known", "domain": "example.net"},
        ]
    }


@pytest.mark.parametrize("count", [0, 11])
def test_bulk_batch_size_enforced(count: int) -> None:
    with pytest.raises(UsageError, match="1 to 10 people"):
        bulk(replay(200, b"{}")).match([PEOPLE[0]] * count)


def test_bulk_misaligned_matches_rejected() -> None:
    body = json.dumps({"matches": [None], "credits_consumed": 0}).encode()

    with pytest.raises(PermanentProviderError, match="1 entries for 2 details"):
        bulk(replay(200, body)).match(PEOPLE)


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (401, PermanentProviderError),
        (422, PermanentProviderError),
        (429, RetryableProviderError),
        (500, RetryableProviderError),
    ],
)
def test_bulk_status_classes(status: int, error_type: type[Exception]) -> None:
    with pytest.raises(error_type) as caught:
        bulk(replay(status, b'{"error": "failed"}', {"retry-after": "7"})).match(PEOPLE)

    assert "people/bulk_match" in str(caught.value)


def test_bulk_truncated_body_retryable() -> None:
    body = fixture_bytes("bulk_match.json")

    with pytest.raises(RetryableProviderError):
        bulk(replay(200, body[:-20])).match(PEOPLE)


def test_organization_found_costs_one() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=fixture_bytes("organization_enrich.json"))

    result = organizations(handler).enrich(" Example.com ")

    assert seen[0].method == "GET"
    assert seen[0].url.path == "/api/v1/organizations/enrich"
    assert seen[0].url.params["domain"] == "example.com"
    assert result.matched is True
    assert result.credits_used == 1
    assert result.name == "Example Co"
    assert result.primary_domain == "example.com"
    assert result.estimated_num_employees == 85


@pytest.mark.parametrize("body", [b"{}", b'{"organization": null}'])
def test_organization_miss_costs_nothing(body: bytes) -> None:
    result = organizations(replay(200, body)).enrich("unknown.example")

    assert result.matched is False
    assert result.credits_used == 0
    assert result.name is None


def test_organization_429_carries_retry_after() -> None:
    with pytest.raises(RetryableProviderError) as caught:
        organizations(replay(429, b'{"message": "slow down"}', {"retry-after": "30"})).enrich("example.com")

    assert caught.value.retry_after_seconds == 30.0
    assert "organizations/enrich" in str(caught.value)


def test_organization_timeout_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("connect timed out", request=request)

    with pytest.raises(RetryableProviderError, match="timed out"):
        organizations(handler).enrich("example.com")


@pytest.mark.parametrize(
    "body",
    [b"not json at all", b'{"organization": []}', b'{"organization": {"estimated_num_employees": "85"}}'],
)
def test_organization_malformed_body_permanent(body: bytes) -> None:
    with pytest.raises(PermanentProviderError, match="breaks the documented contract"):
        organizations(replay(200, body)).enrich("example.com")


def test_organization_rejects_url_as_domain() -> None:
    with pytest.raises(UsageError, match="bare domain"):
        organizations(replay(200, b"{}")).enrich("https://example.com/about")
