"""ApolloPeopleMatch talking to ProviderSimulator over loopback HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from sxe.adapters.apollo import MATCH_PATH, ApolloPeopleMatch
from sxe.adapters.base import LookupRequest
from sxe.adapters.simulator import CREDITS_HEADER, ProviderSimulator
from sxe.errors import PermanentProviderError, RetryableProviderError

DOMAIN = "acme.example"
NAMES = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Bob Smith", "Jane Doe", "Tom Jones", "Ann Lee", "Max Power"]


@pytest.fixture
def simulator() -> Iterator[ProviderSimulator]:
    with ProviderSimulator() as running:
        yield running


@pytest.fixture
def adapter(simulator: ProviderSimulator) -> Iterator[ApolloPeopleMatch]:
    with ApolloPeopleMatch(
        simulator.api_key, base_url=simulator.base_url, simulated=True, reveal_phone_number=True
    ) as client:
        yield client


def test_simulator_binds_loopback(simulator: ProviderSimulator) -> None:
    assert simulator.base_url.startswith("http://127.0.0.1:")


def test_results_are_deterministic(simulator: ProviderSimulator, adapter: ApolloPeopleMatch) -> None:
    requests = [LookupRequest(name=name, domain=DOMAIN) for name in NAMES]

    first = [adapter.lookup(request) for request in requests]
    second = [adapter.lookup(request) for request in requests]

    assert first == second
    assert simulator.calls[MATCH_PATH] == 2 * len(NAMES)


def test_results_cover_hits_misses_and_mobiles(adapter: ApolloPeopleMatch) -> None:
    results = [adapter.lookup(LookupRequest(name=name, domain=DOMAIN)) for name in NAMES]

    assert any(not result.matched for result in results)
    assert any(result.matched and result.phones for result in results)
    for result in results:
        assert result.simulated is True
        if not result.matched:
            assert result.credits_used == 0
            continue
        assert result.credits_used == (9 if result.phones else 1)
        assert result.emails[0].value.endswith("@" + DOMAIN)
        assert result.emails[0].status in ("verified", "extrapolated")
        for phone in result.phones:
            assert phone.value.startswith("+1212555")
            assert phone.line_type == "mobile"
            assert phone.dnc_status in ("clear", "dnc")


def test_missing_domain_uses_example_com(adapter: ApolloPeopleMatch) -> None:
    results = [adapter.lookup(LookupRequest(name=name)) for name in NAMES]
    matched = [result for result in results if result.matched]

    assert matched
    for result in matched:
        assert result.emails[0].value.endswith("@example.com")
        assert result.organization_domain == "example.com"


def test_first_and_last_match_full_name(adapter: ApolloPeopleMatch) -> None:
    by_name = adapter.lookup(LookupRequest(name="Ada Lovelace", domain=DOMAIN))
    by_parts = adapter.lookup(LookupRequest(first_name="ADA", last_name=" lovelace ", domain=DOMAIN))

    assert by_name.provider_person_id == by_parts.provider_person_id
    assert by_name.contact_points == by_parts.contact_points


def test_phones_only_when_revealed(simulator: ProviderSimulator) -> None:
    with ApolloPeopleMatch(simulator.api_key, base_url=simulator.base_url, simulated=True) as no_reveal:
        results = [no_reveal.lookup(LookupRequest(name=name, domain=DOMAIN)) for name in NAMES]

    assert all(result.phones == () for result in results)
    assert all(result.credits_used == (1 if result.matched else 0) for result in results)


def test_credit_header_matches_computed_credits(simulator: ProviderSimulator, adapter: ApolloPeopleMatch) -> None:
    for name in NAMES:
        raw = httpx.post(
            simulator.base_url + MATCH_PATH,
            params={"name": name, "domain": DOMAIN, "reveal_phone_number": "true"},
            headers={"x-api-key": simulator.api_key},
        )
        result = adapter.lookup(LookupRequest(name=name, domain=DOMAIN))

        assert raw.status_code == 200
        assert int(raw.headers[CREDITS_HEADER]) == result.credits_used
        assert raw.json()["credits_used"] == result.credits_used


def test_wrong_key_gets_401(simulator: ProviderSimulator) -> None:
    with ApolloPeopleMatch("wrong-key", base_url=simulator.base_url, simulated=True) as wrong:
        with pytest.raises(PermanentProviderError) as caught:
            wrong.lookup(LookupRequest(name="Ada Lovelace"))

    assert caught.value.status_code == 401
    assert "Invalid access credentials." in str(caught.value)


def test_request_without_name_gets_422(adapter: ApolloPeopleMatch) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        adapter.lookup(LookupRequest(first_name="Ada", domain=DOMAIN))

    assert caught.value.status_code == 422


def test_fail_next_429_with_seconds(simulator: ProviderSimulator, adapter: ApolloPeopleMatch) -> None:
    simulator.fail_next(429, count=2, retry_after=7)
    request = LookupRequest(name="Ada Lovelace", domain=DOMAIN)

    for _ in range(2):
        with pytest.raises(RetryableProviderError) as caught:
            adapter.lookup(request)
        assert caught.value.status_code == 429
        assert caught.value.retry_after_seconds == 7.0

    assert adapter.lookup(request).provider == "apollo"
    assert simulator.calls[MATCH_PATH] == 3


def test_fail_next_503_with_http_date(simulator: ProviderSimulator, adapter: ApolloPeopleMatch) -> None:
    simulator.fail_next(503, retry_after=format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True))

    with pytest.raises(RetryableProviderError) as caught:
        adapter.lookup(LookupRequest(name="Ada Lovelace", domain=DOMAIN))

    assert caught.value.status_code == 503
    assert caught.value.retry_after_seconds is not None
    assert 50 <= caught.value.retry_after_seconds <= 60


def test_hang_times_out_as_retryable(simulator: ProviderSimulator) -> None:
    simulator.hang_next(5)
    request = LookupRequest(name="Ada Lovelace", domain=DOMAIN)

    with ApolloPeopleMatch(
        simulator.api_key, base_url=simulator.base_url, simulated=True, read_timeout_seconds=0.3
    ) as impatient:
        started = time.monotonic()
        with pytest.raises(RetryableProviderError) as caught:
            impatient.lookup(request)
        elapsed = time.monotonic() - started

        assert caught.value.status_code is None
        assert "timed out" in str(caught.value)
        assert elapsed < 3
        assert impatient.lookup(request).provider == "apollo"


def test_stop_releases_port() -> None:
    simulator = ProviderSimulator().start()
    base_url = simulator.base_url
    simulator.hang_next(30)
    simulator.stop()
    simulator.stop()

    with pytest.raises(httpx.ConnectError):
        httpx.post(base_url + MATCH_PATH, timeout=2)
