"""The paid providers of a run, built from settings: Apollo first, then DealMachine.

With no provider key set, one loopback `ProviderSimulator` serves both Apollo's
people/match and DealMachine's name search, so a local run walks the whole waterfall
without spending credits. Once any real key is set, only the providers with a key
take part. A provider without one is left out rather than served by the simulator,
so simulated contact data never joins real data. Which providers a pool calls, and
in what order, is still its intent's `allowed_providers`.

Apollo is asked for phones only when it can deliver them: Apollo sends revealed
phones to a webhook, so `reveal_phone_number=true` goes out with the enrich/callback
URL built from `SXE_FUNCTIONS_BASE_URL` and `SXE_APOLLO_WEBHOOK_TOKEN`. Without both,
Apollo lookups request no phones and the sweep's decisions record that. Only then does the
run also get Apollo's bulk_match adapter. `runner.prepare` further turns phone reveal off
for a pool whose `wanted_fields` leave out phone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx

from sxe.adapters.apollo import ApolloPeopleMatch
from sxe.adapters.apollo_bulk import ApolloBulkPeopleMatch
from sxe.adapters.base import ProviderAdapter
from sxe.adapters.dealmachine import DealMachineEnrichment
from sxe.adapters.faults import FaultPlan
from sxe.adapters.simulator import ProviderSimulator
from sxe.config import Settings


@dataclass(frozen=True, slots=True)
class Providers:
    """The adapters of one run: `primary` and the `fallbacks` that `runner.prepare` takes.

    `simulator` is the loopback simulator behind every adapter of a simulated run, else None.
    `bulk` is Apollo's bulk_match adapter, which the worker uses for several Apollo jobs at once.
    """

    primary: ProviderAdapter
    fallbacks: tuple[ProviderAdapter, ...]
    simulator: ProviderSimulator | None = None
    bulk: ApolloBulkPeopleMatch | None = None

    @property
    def simulated(self) -> bool:
        return self.simulator is not None

    @property
    def names(self) -> list[str]:
        return [adapter.name for adapter in (self.primary, *self.fallbacks)]


@contextmanager
def open_providers(settings: Settings) -> Iterator[Providers]:
    """Yield the configured providers, or simulator-backed ones when no key is set; close them afterwards."""
    if settings.apollo_api_key is None and settings.dealmachine_api_key is None:
        with _simulated_providers(settings) as providers:
            yield providers
        return

    with ExitStack() as stack:
        adapters: list[ProviderAdapter] = []
        bulk = None
        if settings.apollo_api_key is not None:
            adapters.append(stack.enter_context(apollo_adapter(settings)))
            bulk = stack.enter_context(apollo_bulk_adapter(settings)) if settings.apollo_callback_url is None else None
        if settings.dealmachine_api_key is not None:
            adapters.append(stack.enter_context(dealmachine_adapter(settings)))
        yield Providers(adapters[0], tuple(adapters[1:]), bulk=bulk)


def apollo_adapter(settings: Settings, *, client: httpx.Client | None = None) -> ApolloPeopleMatch:
    """Build the real Apollo adapter; it reveals phones only when the enrich/callback URL can be built.

    `client` replaces the adapter's own HTTP client, as in tests that replay responses.
    """
    assert settings.apollo_api_key is not None, "call apollo_adapter only with SXE_APOLLO_API_KEY set"
    callback_url = settings.apollo_callback_url
    return ApolloPeopleMatch(
        settings.apollo_api_key.get_secret_value(),
        base_url=settings.apollo_base_url,
        client=client,
        read_timeout_seconds=settings.provider_timeout_seconds,
        reveal_phone_number=callback_url is not None,
        webhook_url=callback_url,
    )


def apollo_bulk_adapter(settings: Settings, *, client: httpx.Client | None = None) -> ApolloBulkPeopleMatch:
    """Build Apollo's bulk_match adapter, which never requests phones.

    NOTE: the bulk_match response fields Apollo documents include no `request_id` for
    phones sent by webhook, so a run whose Apollo lookups request phones gets no bulk adapter.
    """
    assert settings.apollo_api_key is not None, "call apollo_bulk_adapter only with SXE_APOLLO_API_KEY set"
    return ApolloBulkPeopleMatch(
        settings.apollo_api_key.get_secret_value(),
        base_url=settings.apollo_base_url,
        client=client,
        read_timeout_seconds=settings.provider_timeout_seconds,
    )


def dealmachine_adapter(settings: Settings) -> DealMachineEnrichment:
    """Build the real DealMachine adapter from SXE_DEALMACHINE_API_KEY."""
    assert settings.dealmachine_api_key is not None, "call dealmachine_adapter only with SXE_DEALMACHINE_API_KEY set"
    return DealMachineEnrichment(
        settings.dealmachine_api_key.get_secret_value(),
        base_url=settings.dealmachine_base_url,
        read_timeout_seconds=settings.provider_timeout_seconds,
    )


@contextmanager
def _simulated_providers(settings: Settings) -> Iterator[Providers]:
    """Yield Apollo and DealMachine adapters that both call one loopback simulator.

    The simulator returns phones in the people/match body itself, so the simulated
    Apollo adapter reveals phones without a webhook URL, for pools that want phones
    (`runner.prepare` turns it off for the others).
    """
    timeout = settings.provider_timeout_seconds
    faults = FaultPlan.parse(settings.simulator_faults, seed=settings.simulator_seed)
    with (
        ProviderSimulator(faults=faults, timeout_hang_seconds=timeout + 1) as simulator,
        ApolloPeopleMatch(
            simulator.api_key,
            base_url=simulator.base_url,
            simulated=True,
            read_timeout_seconds=timeout,
            reveal_phone_number=True,
        ) as apollo,
        DealMachineEnrichment(
            simulator.api_key, base_url=simulator.base_url, simulated=True, read_timeout_seconds=timeout
        ) as dealmachine,
    ):
        yield Providers(apollo, (dealmachine,), simulator)
