"""DealMachineEnrichment talking to ProviderSimulator's name search over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sxe.adapters.base import LookupRequest
from sxe.adapters.dealmachine import NAME_PATH, DealMachineEnrichment
from sxe.adapters.faults import FaultPlan
from sxe.adapters.simulator import ProviderSimulator
from sxe.errors import PermanentProviderError, RetryableProviderError

NAMES = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Bob Smith", "Jane Doe", "Tom Jones", "Ann Lee", "Max Power"]
LOOKUP_TIME = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


@pytest.fixture
def simulator() -> Iterator[ProviderSimulator]:
    with ProviderSimulator() as running:
        yield running


@pytest.fixture
def adapter(simulator: ProviderSimulator) -> Iterator[DealMachineEnrichment]:
    with DealMachineEnrichment(
        simulator.api_key, base_url=simulator.base_url, simulated=True, clock=lambda: LOOKUP_TIME
    ) as client:
        yield client


def test_name_results_are_deterministic(simulator: ProviderSimulator, adapter: DealMachineEnrichment) -> None:
    requests = [LookupRequest(name=name) for name in NAMES]

    first = [adapter.lookup(request) for request in requests]
    second = [adapter.lookup(request) for request in requests]

    assert first == second
    assert simulator.calls[NAME_PATH] == 2 * len(NAMES)


def test_simulated_people_are_invented(adapter: DealMachineEnrichment) -> None:
    results = [adapter.lookup(LookupRequest(name=name)) for name in NAMES]
    matched = [result for result in results if result.matched]

    assert matched, "the simulator matched none of the names"
    assert len(matched) < len(results), "the simulator matched every name"
    for result in matched:
        assert result.simulated is True
        assert result.credits_used == 1
        assert all(point.value.endswith("@example.com") for point in result.emails)
        assert all(point.value.startswith("+1314555") for point in result.phones)
        assert all(point.dnc_status in ("listed", "clear") for point in result.phones)
    for result in results:
        if not result.matched:
            assert result.credits_used == 0


def test_wrong_key_is_401(simulator: ProviderSimulator) -> None:
    with DealMachineEnrichment("wrong-key", base_url=simulator.base_url, simulated=True) as client:
        with pytest.raises(PermanentProviderError) as caught:
            client.lookup(LookupRequest(name="Ada Lovelace"))

    assert caught.value.status_code == 401


def test_injected_429_is_retryable(simulator: ProviderSimulator, adapter: DealMachineEnrichment) -> None:
    simulator.fail_next(429, retry_after=3)

    with pytest.raises(RetryableProviderError) as caught:
        adapter.lookup(LookupRequest(name="Ada Lovelace"))

    assert caught.value.retry_after_seconds == 3.0
    assert adapter.lookup(LookupRequest(name="Ada Lovelace")) is not None


def test_fault_plan_applies_to_name_search() -> None:
    with ProviderSimulator(faults=FaultPlan({"500": 1.0})) as running:
        with DealMachineEnrichment(running.api_key, base_url=running.base_url, simulated=True) as client:
            with pytest.raises(RetryableProviderError) as caught:
                client.lookup(LookupRequest(name="Ada Lovelace"))

        assert caught.value.status_code == 500
        assert running.faults["500"] == 1
