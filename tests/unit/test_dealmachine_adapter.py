"""DealMachineEnrichment against documented-shape responses replayed by httpx.MockTransport."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from sxe.adapters.base import LookupRequest, ProviderAdapter
from sxe.adapters.dealmachine import DealMachineEnrichment
from sxe.errors import PermanentProviderError, RetryableProviderError, UsageError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dealmachine"
API_KEY = "dm_sk_live_0123456789abcdef0123456789abcdef"
REQUEST = LookupRequest(first_name="Dana", last_name="Rivera", domain="example.com")
LOOKUP_TIME = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def make_adapter(handler: Handler, **options: object) -> DealMachineEnrichment:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return DealMachineEnrichment(API_KEY, client=client, clock=lambda: LOOKUP_TIME, **options)  # type: ignore[arg-type]


def replay(status: int, body: bytes, headers: dict[str, str] | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": "application/json", **(headers or {})})

    return handler


def lookup_error(handler: Handler) -> Exception:
    with pytest.raises((RetryableProviderError, PermanentProviderError)) as caught:
        make_adapter(handler).lookup(REQUEST)
    return caught.value


def test_name_match_keeps_phones_and_email() -> None:
    body = fixture_bytes("name_match.json")
    result = make_adapter(replay(200, body)).lookup(REQUEST)

    assert result.matched is True
    assert result.provider == "dealmachine"
    assert result.adapter_version == "dealmachine.enrichment.v1"
    assert result.provider_person_id == "per_7k2m9q"
    assert result.credits_used == 1
    assert result.payload_sha256 == hashlib.sha256(body).hexdigest()
    assert result.simulated is False
    assert [point.value for point in result.emails] == ["dana.rivera@example.com"]


def test_dnc_phone_kept_and_marked() -> None:
    result = make_adapter(replay(200, fixture_bytes("name_match.json"))).lookup(REQUEST)

    phones = [(point.value, point.line_type, point.dnc_status) for point in result.phones]
    assert phones == [("+13145550142", "wireless", "clear"), ("+13145550199", "landline", "listed")]
    assert all(point.scrubbed_at == LOOKUP_TIME for point in result.phones)
    assert all(point.source == "dealmachine" for point in result.contact_points)


def test_namesakes_count_as_miss_but_bill() -> None:
    result = make_adapter(replay(200, fixture_bytes("name_namesakes.json"))).lookup(REQUEST)

    assert result.matched is False
    assert result.contact_points == ()
    assert result.credits_used == 2


def test_name_miss_costs_nothing() -> None:
    result = make_adapter(replay(200, fixture_bytes("name_miss.json"))).lookup(REQUEST)

    assert result.matched is False
    assert result.credits_used == 0
    assert result.provider_person_id is None


def test_other_first_name_is_not_a_match() -> None:
    result = make_adapter(replay(200, fixture_bytes("name_match.json"))).lookup(
        LookupRequest(first_name="Dane", last_name="Rivera")
    )

    assert result.matched is False


def test_request_shape() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=fixture_bytes("name_miss.json"))

    make_adapter(handler).lookup(LookupRequest(name="  Dana   Rivera "))

    sent = seen[0]
    assert sent.method == "POST"
    assert str(sent.url) == "https://api.v2.dealmachine.com/v1/enrichment/name"
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert json.loads(sent.content) == {
        "data": [{"last_name": "Rivera", "first_name": "Dana"}],
        "include_properties": False,
        "page": 1,
        "per_page": 2,
    }


def test_missing_last_name_rejected_before_call() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, content=fixture_bytes("name_miss.json"))

    with pytest.raises(PermanentProviderError, match="needs a last name"):
        make_adapter(handler).lookup(LookupRequest(name="Dana"))
    assert calls == []


def test_phone_reverse_lookup_match() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=fixture_bytes("phone_match.json"))

    result = make_adapter(handler).lookup_phone("3145550142")

    assert seen[0].url.path == "/v1/enrichment/phone"
    assert json.loads(seen[0].content)["data"] == [{"phone": "3145550142"}]
    assert result.matched is True
    assert [(point.value, point.dnc_status) for point in result.phones] == [("+13145550142", "listed")]


def test_email_reverse_lookup_miss() -> None:
    result = make_adapter(replay(200, fixture_bytes("email_miss.json"))).lookup_email("nobody@example.com")

    assert result.matched is False
    assert result.credits_used == 0


def test_quoted_cost_covers_one_page() -> None:
    assert make_adapter(replay(200, b"{}")).quoted_cost_credits(REQUEST) == 2


def test_adapter_satisfies_protocol() -> None:
    assert isinstance(make_adapter(replay(200, b"{}")), ProviderAdapter)


def test_401_is_permanent() -> None:
    error = lookup_error(replay(401, fixture_bytes("error_401.json")))

    assert isinstance(error, PermanentProviderError)
    assert error.status_code == 401
    assert "Invalid API key." in str(error)
    assert API_KEY not in str(error)


def test_422_is_permanent_and_masked() -> None:
    error = lookup_error(replay(422, fixture_bytes("error_422.json")))

    assert isinstance(error, PermanentProviderError)
    assert error.status_code == 422
    assert "@" not in str(error)
    assert "555" not in str(error)


@pytest.mark.parametrize("status", [400, 403, 404])
def test_other_client_errors_are_permanent(status: int) -> None:
    error = lookup_error(replay(status, b'{"error": {"message": "nope"}}'))

    assert isinstance(error, PermanentProviderError)
    assert error.status_code == status


def test_429_carries_retry_after() -> None:
    error = lookup_error(replay(429, fixture_bytes("error_429.json"), {"retry-after": "12"}))

    assert isinstance(error, RetryableProviderError)
    assert error.status_code == 429
    assert error.retry_after_seconds == 12.0


def test_500_is_retryable() -> None:
    error = lookup_error(replay(500, fixture_bytes("error_500.json")))

    assert isinstance(error, RetryableProviderError)
    assert error.retry_after_seconds is None


def test_timeout_is_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    error = lookup_error(handler)

    assert isinstance(error, RetryableProviderError)
    assert "timed out" in str(error)


def test_truncated_body_is_retryable() -> None:
    body = fixture_bytes("name_match.json")
    error = lookup_error(replay(200, body[: len(body) // 2]))

    assert isinstance(error, RetryableProviderError)
    assert error.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"<html>gateway</html>",
        b'{"data": {}}',
        b'{"data": [], "credits": {"used": "1"}}',
        b'{"data": [{"full_name": "Dana Rivera"}], "credits": {"used": 1}}',
        b'{"data": [{"dm_person_id": "p", "first_name": "Dana", "last_name": "Rivera", '
        b'"phones": [{"number": "3145550142", "do_not_call": "yes"}]}], "credits": {"used": 1}}',
    ],
)
def test_malformed_body_is_permanent(body: bytes) -> None:
    error = lookup_error(replay(200, body))

    assert isinstance(error, PermanentProviderError)
    assert "breaks the documented contract" in str(error)


def test_settings_validated() -> None:
    with pytest.raises(UsageError, match="API key is empty"):
        DealMachineEnrichment(" ")
    with pytest.raises(UsageError, match="loopback"):
        DealMachineEnrichment(API_KEY, simulated=True)
    with pytest.raises(UsageError, match="read_timeout_seconds"):
        DealMachineEnrichment(API_KEY, read_timeout_seconds=0)
