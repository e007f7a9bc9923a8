"""Fault injection for the provider simulator: `SXE_SIMULATOR_FAULTS` such as `429=0.2,500=0.1,timeout=0.05`.

Each request draws its fate from a hash of the seed, the normalized request and
how many times that request was seen before. A run is therefore repeatable, and
a retried request gets a fresh draw, so a faulty request eventually succeeds.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from sxe.errors import ConfigError

TIMEOUT = "timeout"
_ENTRY = re.compile(r"^\s*(?P<kind>[0-9]{3}|timeout)\s*=\s*(?P<rate>[0-9]*\.?[0-9]+)\s*$")
_EXAMPLE = "429=0.2,500=0.1,timeout=0.05"


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Fault rates per kind (an HTTP status from 400 to 599, or "timeout") and the seed of the draws."""

    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0

    @classmethod
    def parse(cls, text: str | None, *, seed: int = 0) -> FaultPlan:
        """Parse `kind=rate` pairs separated by commas; raise ConfigError naming the bad entry."""
        rates: dict[str, float] = {}
        for entry in (text or "").split(","):
            if not entry.strip():
                continue
            match = _ENTRY.match(entry)
            if match is None:
                raise ConfigError(
                    f"invalid SXE_SIMULATOR_FAULTS entry {entry.strip()!r}: expected STATUS=RATE or "
                    f"timeout=RATE, for example {_EXAMPLE}"
                )
            kind, rate = match["kind"], float(match["rate"])
            if kind != TIMEOUT and not 400 <= int(kind) <= 599:
                raise ConfigError(f"invalid SXE_SIMULATOR_FAULTS status {kind}: use an HTTP status from 400 to 599")
            rates[kind] = rate
        if sum(rates.values()) > 1.0:
            raise ConfigError(
                f"invalid SXE_SIMULATOR_FAULTS {text!r}: the rates add up to {sum(rates.values()):.2f}, above 1"
            )
        return cls(rates, seed)

    def draw(self, request_key: str, seen_before: int) -> str | None:
        """Return the fault for this request ("429", "500", "timeout") or None to serve it normally."""
        if not self.rates:
            return None
        digest = hashlib.sha256(f"{self.seed}|{request_key}|{seen_before}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") / 2**64
        bound = 0.0
        for kind in sorted(self.rates):
            bound += self.rates[kind]
            if point < bound:
                return kind
        return None
