"""The exception tree. Callers branch on the class, never on message text.

Messages name the value that failed and the fix. Values that may hold personal
data (emails, phone numbers, bios) are masked before they reach a message.
"""

from __future__ import annotations


class SxeError(Exception):
    """Base class of every error this package raises on purpose."""


class UsageError(SxeError):
    """An argument or setting cannot be used: a missing file, an unknown format, a bad URL."""


class ConfigError(UsageError):
    """An environment variable or setting contains an invalid value."""


class DatabaseUnavailable(SxeError):
    """The database cannot be reached or started."""


class ContractViolation(SxeError):
    """A document does not match its JSON Schema; never retried.

    `pointer` is the JSON pointer of the failing value and `rule` the schema keyword.
    """

    def __init__(self, message: str, *, pointer: str = "", rule: str = "", schema_id: str = "") -> None:
        super().__init__(message)
        self.pointer = pointer
        self.rule = rule
        self.schema_id = schema_id


class ProviderError(SxeError):
    """A provider call failed. The subclass tells the job runner whether a retry can help."""

    def __init__(self, message: str, *, provider: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.status_code = status_code


class RetryableProviderError(ProviderError):
    """Timeouts, 5xx and 429: the same call may succeed later.

    `retry_after_seconds` is set from the Retry-After header when the provider sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status_code=status_code)
        self.retry_after_seconds = retry_after_seconds


class PermanentProviderError(ProviderError):
    """A 4xx other than 429, or a response that breaks the provider's contract: never retried."""


class SignatureError(SxeError):
    """A signed URL is expired, tampered with or signed with an unknown key."""


class StateTransitionError(SxeError):
    """A guarded state change matched no row: the id is unknown or in another state."""
