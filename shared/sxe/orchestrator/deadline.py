"""A deadline for one function invocation, so a worker stops claiming well before the platform kills it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

# Left unused at the end of an invocation: enough to finish the job in hand and commit it.
DEFAULT_SAFETY_MARGIN_SECONDS = 30.0


class InvocationContext(Protocol):
    """The part of the DigitalOcean Functions (and AWS Lambda) context object a deadline reads."""

    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point on the monotonic clock after which no new job is started."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """Return a deadline `seconds` from now."""
        return cls(time.monotonic() + seconds)

    @classmethod
    def from_context(
        cls, context: Any, *, safety_margin_seconds: float = DEFAULT_SAFETY_MARGIN_SECONDS, default_seconds: float
    ) -> Deadline:
        """Return the invocation's end minus the safety margin, or `default_seconds` from now without a context.

        The margin is capped at half the remaining time, so a short invocation still does some work.
        """
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        if remaining_ms is None:
            return cls.after(default_seconds)
        remaining = max(float(remaining_ms()) / 1000.0, 0.0)
        return cls.after(remaining - min(safety_margin_seconds, remaining / 2))

    def remaining(self) -> float:
        """Return the seconds left, 0 once passed."""
        return max(self.at - time.monotonic(), 0.0)

    def allows(self, seconds: float) -> bool:
        """Return True when `seconds` of work still fit before the deadline."""
        return self.remaining() > seconds
