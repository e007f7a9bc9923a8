"""ApolloPeopleMatch against recorded-shape responses replayed by httpx.MockTransport."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from sxe.adapters.apollo import ApolloPeopleMatch, mask_contact_text, parse_retry_after
from sxe.adapters.base import LookupRequest, ProviderAdapter
from sxe.errors import PermanentProviderError, RetryableProviderError, UsageError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apollo"
API_KEY = "test-key-0123456789abcdefghijklmn"
REQUEST = LookupRequest(first_name="Dana", last_name="Rivera", domain="example.com")

Handler = Callable[[httpx.Request], httpx.Response]


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def make_adapter(handler: Handler, **options: object) -> ApolloPeopleMatch:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return ApolloPeopleMatch(API_KEY, client=client, **options)  # type: ignore[arg-type]


def replay(status: int, body: bytes, headers: dict[str, str] | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": "application/json", **(headers or {})})

    return handler


def lookup_error(handler: Handler) -> Exception:
    adapter = make_adapter(handler)
    with pytest.raises((RetryableProviderError, PermanentProviderError)) as caught:
        adapter.lookup(REQUEST)
    return caught.value


# Successful responses


def test_match_with_email_and_mobile() -> None:
    body = fixture_bytes("match_email_mobile.json")
    result = make_adapter(replay(200, body)).lookup(REQUEST)

    assert result.matched is True
    assert result.provider == "apollo"
    assert result.adapter_version == "1"
    assert result.provider_person_id == "64a1f0c2e4b0a1b2c3d4e5f6"
    assert result.credits_used == 9
    assert result.payload_sha256 == hashlib.sha256(body).hexdigest()
    assert result.simulated is False
    assert result.title == "Head of Growth"
    assert result.organization_name == "Example Co"
    assert result.organization_domain == "example.com"

    assert [(point.value, point.status) for point in result.emails] == [("dana.rivera@example.com", "verified")]
    phones = [(point.value, point.line_type, point.dnc_status) for point in result.phones]
    assert phones == [("+12125550142", "mobile", "clear"), ("+12125550100", "work_hq", None)]
    assert all(point.source == "apollo" for point in result.contact_points)


def test_match_with_email_only() -> None:
    result = make_adapter(replay(200, fixture_bytes("match_email_only.json"))).lookup(REQUEST)

    assert result.matched is True
    assert result.credits_used == 1
    assert [point.value for point in result.emails] == ["sam.okafor@example.org"]
    assert result.emails[0].status == "extrapolated"
    assert result.phones == ()
    assert result.organization_domain == "example.org"


def test_work_phone_alone_costs_one_credit() -> None:
    document = json.loads(fixture_bytes("match_email_only.json"))
    document["person"]["contact"] = {
        "phone_numbers": [{"sanitized_number": "+12125550100", "type": "work_hq", "status": "valid_number"}]
    }
    result = make_adapter(replay(200, json.dumps(document).encode())).lookup(REQUEST)

    assert result.credits_used == 1
    assert [point.value for point in result.phones] == ["+12125550100"]


def test_miss_costs_nothing() -> None:
    body = fixture_bytes("miss.json")
    result = make_adapter(replay(200, body)).lookup(REQUEST)

    assert result.matched is False
    assert result.credits_used == 0
    assert result.contact_points == ()
    assert result.provider_person_id is None
    assert result.payload_sha256 == hashlib.sha256(body).hexdigest()


def test_locked_email_placeholder_dropped() -> None:
    document = json.loads(fixture_bytes("match_email_only.json"))
    document["person"]["email"] = "email_not_unlocked@domain.com"
    result = make_adapter(replay(200, json.dumps(document).encode())).lookup(REQUEST)

    assert result.emails == ()
    assert result.credits_used == 1


def test_request_shape() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=fixture_bytes("miss.json"))

    request = LookupRequest(
        first_name=" Dana ", last_name="Rivera", domain="example.com", organization_name="Example Co"
    )
    make_adapter(handler, reveal_phone_number=True, webhook_url="https://hooks.example.com/apollo").lookup(request)

    assert len(seen) == 1
    sent = seen[0]
    assert sent.method == "POST"
    assert sent.url.scheme == "https"
    assert sent.url.host == "api.apollo.io"
    assert sent.url.path == "/api/v1/people/match"
    assert sent.headers["x-api-key"] == API_KEY
    assert sent.content == b""
    assert dict(sent.url.params) == {
        "first_name": "Dana",
        "last_name": "Rivera",
        "domain": "example.com",
        "organization_name": "Example Co",
        "reveal_personal_emails": "false",
        "reveal_phone_number": "true",
        "webhook_url": "https://hooks.example.com/apollo",
    }


def test_request_omits_blank_fields() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b'{"person": null}')

    make_adapter(handler).lookup(LookupRequest(name="Dana Rivera", first_name="  ", domain=None))

    params = dict(seen[0].url.params)
    assert params["name"] == "Dana Rivera"
    assert "first_name" not in params
    assert "domain" not in params
    assert params["reveal_phone_number"] == "false"
    assert "webhook_url" not in params


def test_quoted_cost_follows_phone_reveal() -> None:
    assert make_adapter(replay(200, b"{}")).quoted_cost_credits(REQUEST) == 1
    assert make_adapter(replay(200, b"{}"), reveal_phone_number=True).quoted_cost_credits(REQUEST) == 9


def test_adapter_satisfies_protocol() -> None:
    assert isinstance(make_adapter(replay(200, b"{}")), ProviderAdapter)


# HTTP error statuses


def test_401_is_permanent() -> None:
    error = lookup_error(replay(401, fixture_bytes("error_401.json")))

    assert isinstance(error, PermanentProviderError)
    assert error.status_code == 401
    assert error.provider == "apollo"
    assert "Invalid access credentials." in str(error)
    assert ".." not in str(error)
    assert API_KEY not in str(error)


def test_422_is_permanent_and_masked() -> None:
    error = lookup_error(replay(422, fixture_bytes("error_422.json")))

    assert isinstance(error, PermanentProviderError)
    assert error.status_code == 422
    assert "Invalid parameters" in str(error)
    assert "@" not in str(error)
    assert "555" not in str(error)
    assert "[email]" in str(error)
    assert "[phone]" in str(error)


@pytest.mark.parametrize("status", [400, 403, 404])
def test_other_client_errors_are_permanent(status: int) -> None:
    error = lookup_error(replay(status, b'{"error": "nope"}'))

    assert isinstance(error, PermanentProviderError)
    assert error.status_code == status


def test_429_with_retry_after_seconds() -> None:
    error = lookup_error(replay(429, fixture_bytes("error_429.json"), {"Retry-After": "30"}))

    assert isinstance(error, RetryableProviderError)
    assert error.status_code == 429
    assert error.retry_after_seconds == 30.0
    assert "50 times per minute" in str(error)


def test_429_with_retry_after_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=120)
    header = format_datetime(when, usegmt=True)
    error = lookup_error(replay(429, fixture_bytes("error_429.json"), {"Retry-After": header}))

    assert isinstance(error, RetryableProviderError)
    assert error.retry_after_seconds is not None
    assert 110 <= error.retry_after_seconds <= 120


def test_429_without_retry_after() -> None:
    error = lookup_error(replay(429, fixture_bytes("error_429.json")))

    assert isinstance(error, RetryableProviderError)
    assert error.retry_after_seconds is None


def test_500_is_retryable() -> None:
    error = lookup_error(replay(500, b"<html>Internal Server Error</html>", {"content-type": "text/html"}))

    assert isinstance(error, RetryableProviderError)
    assert error.status_code == 500
    assert error.retry_after_seconds is None


def test_503_is_retryable_with_retry_after() -> None:
    error = lookup_error(replay(503, b'{"error": "Service Unavailable"}', {"Retry-After": "5"}))

    assert isinstance(error, RetryableProviderError)
    assert error.status_code == 503
    assert error.retry_after_seconds == 5.0


# Transport failures


def test_read_timeout_is_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    error = lookup_error(handler)

    assert isinstance(error, RetryableProviderError)
    assert error.status_code is None
    assert "timed out" in str(error)


def test_connect_error_is_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    assert isinstance(lookup_error(handler), RetryableProviderError)


def test_cut_off_stream_is_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body", request=request)

    assert isinstance(lookup_error(handler), RetryableProviderError)


# Malformed 200 bodies


@pytest.mark.parametrize(
    "body",
    [b"", b'{"person": {"id": "64a1', b'{"person": {"id": "64a1f0", "email": null', b'{"person": '],
)
def test_truncated_json_is_retryable(body: bytes) -> None:
    error = lookup_error(replay(200, body))

    assert isinstance(error, RetryableProviderError)
    assert error.status_code == 200


@pytest.mark.parametrize("body", [b"<html><body>Login</body></html>", b'{"person": null} trailing', b"\xff\xfe\x00"])
def test_invalid_json_is_permanent(body: bytes) -> None:
    error = lookup_error(replay(200, body))

    assert isinstance(error, PermanentProviderError)
    assert error.status_code == 200


@pytest.mark.parametrize("body", [b'{"people": []}', b"[]", b'{"person": "someone"}', b'{"person": {"email": null}}'])
def test_body_without_person_object_is_permanent(body: bytes) -> None:
    assert isinstance(lookup_error(replay(200, body)), PermanentProviderError)


def test_wrongly_typed_field_is_permanent() -> None:
    document = json.loads(fixture_bytes("match_email_mobile.json"))
    document["person"]["contact"]["phone_numbers"][0]["sanitized_number"] = 12125550142
    error = lookup_error(replay(200, json.dumps(document).encode()))

    assert isinstance(error, PermanentProviderError)
    assert "person.contact.phone_numbers[0].sanitized_number" in str(error)
    assert "12125550142" not in str(error)


def test_non_200_success_is_permanent() -> None:
    error = lookup_error(replay(204, b""))

    assert isinstance(error, PermanentProviderError)
    assert error.status_code == 204


# Settings validation


def test_empty_api_key_rejected() -> None:
    with pytest.raises(UsageError):
        ApolloPeopleMatch("  ")


def test_simulated_needs_loopback_url() -> None:
    with pytest.raises(UsageError):
        ApolloPeopleMatch(API_KEY, simulated=True)


def test_bad_base_url_rejected() -> None:
    with pytest.raises(UsageError):
        ApolloPeopleMatch(API_KEY, base_url="api.apollo.io")


def test_non_positive_timeout_rejected() -> None:
    with pytest.raises(UsageError):
        ApolloPeopleMatch(API_KEY, read_timeout_seconds=0)


# Helpers


def test_parse_retry_after_forms() -> None:
    now = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)

    assert parse_retry_after("30", now=now) == 30.0
    assert parse_retry_after(" 2.5 ", now=now) == 2.5
    assert parse_retry_after("Sat, 01 Mar 2025 12:01:30 GMT", now=now) == 90.0
    assert parse_retry_after("Sat, 01 Mar 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("-5", now=now) is None
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None, now=now) is None


def test_mask_contact_text() -> None:
    masked = mask_contact_text("no match for jo.doe@example.net, +1 (212) 555-0147, key abcdefghijklmnopqrstuvwxyz12")

    assert masked == "no match for [email], [phone], key [token]"
    assert mask_contact_text("limit is 50 times per minute") == "limit is 50 times per minute"
    assert len(mask_contact_text("x " * 500)) == 200


# Fingerprints


def test_fingerprint_ignores_case_and_whitespace() -> None:
    first = LookupRequest(first_name="Dana", last_name="Rivera", domain="example.com")
    second = LookupRequest(first_name="  DANA ", last_name="rivera\t", domain="Example.COM", name="  ")

    assert first.fingerprint("apollo", "1") == second.fingerprint("apollo", "1")


def test_fingerprint_changes_with_domain() -> None:
    first = LookupRequest(first_name="Dana", last_name="Rivera", domain="example.com")
    second = LookupRequest(first_name="Dana", last_name="Rivera", domain="example.org")

    assert first.fingerprint("apollo", "1") != second.fingerprint("apollo", "1")


def test_fingerprint_format_and_prefix() -> None:
    fingerprint = REQUEST.fingerprint("apollo", "1")
    provider, version, digest = fingerprint.split(":")

    assert (provider, version) == ("apollo", "1")
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert REQUEST.fingerprint("apollo", "2") != fingerprint


def test_fingerprint_keeps_fields_apart() -> None:
    first = LookupRequest(name="dana rivera")
    second = LookupRequest(organization_name="dana rivera")

    assert first.fingerprint("apollo", "1") != second.fingerprint("apollo", "1")


def test_lookup_request_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        LookupRequest(first_name=42)  # type: ignore[arg-type]


def test_phone_reveal_request_id_kept() -> None:
    document = json.loads(fixture_bytes("match_email_only.json"))
    document["request_id"] = 1039995589705121900
    result = make_adapter(replay(200, json.dumps(document).encode()), reveal_phone_number=True).lookup(REQUEST)

    assert result.async_request_id == 1039995589705121900


def test_request_id_absent_is_none() -> None:
    result = make_adapter(replay(200, fixture_bytes("match_email_only.json"))).lookup(REQUEST)

    assert result.async_request_id is None


def test_request_id_of_wrong_type_is_permanent() -> None:
    document = json.loads(fixture_bytes("match_email_only.json"))
    document["request_id"] = {"id": 5}
    error = lookup_error(replay(200, json.dumps(document).encode()))

    assert isinstance(error, PermanentProviderError)
    assert "request_id" in str(error)
