"""The interface every source format implements, and typed field access for parsers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from sxe.models import Platform, Rejection, SourceProfile
from sxe.pii import redact_text

SCHEMA_ID_TEMPLATE = "https://schemas.sxe.dev/ingest/{name}.v1.json"

# Boolean fields that scrapers and APIs set on a profile that is no longer public.
UNAVAILABLE_MARKERS = {
    "suspended": "suspended",
    "is_suspended": "suspended",
    "isSuspended": "suspended",
    "deleted": "deleted",
    "is_deleted": "deleted",
    "isDeleted": "deleted",
    "deactivated": "deactivated",
    "is_deactivated": "deactivated",
}

# Hosts that name the platform of a scraper error item, which carries no profile fields.
PLATFORM_HOSTS = {
    "instagram.com": Platform.INSTAGRAM,
    "threads.net": Platform.THREADS,
    "threads.com": Platform.THREADS,
    "tiktok.com": Platform.TIKTOK,
    "x.com": Platform.X,
    "twitter.com": Platform.X,
}

Envelope = dict[str, Any]


class ShapeError(Exception):
    """A field has a JSON type that the format does not allow. The message names the field."""

    def __init__(self, field: str, expected: str, value: Any) -> None:
        super().__init__(f"field {field} must be {expected}, got {json_type_name(value)}")
        self.field = field


def json_type_name(value: Any) -> str:
    """Return the JSON Schema type name of a decoded JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class Fields:
    """Typed reads from one JSON object. Each read raises ShapeError on a wrong type.

    `prefix` is the dotted path of this object inside the record, so errors name
    nested fields in full, such as `public_metrics.followers_count`.
    """

    def __init__(self, values: Mapping[str, Any], prefix: str = "") -> None:
        self._values = values
        self._prefix = prefix

    def has(self, key: str) -> bool:
        return key in self._values

    def path(self, key: str) -> str:
        return f"{self._prefix}{key}"

    def raw(self, key: str) -> Any:
        """Read a value of any type, or None when the key is missing."""
        return self._values.get(key)

    def text(self, key: str) -> str | None:
        """Read a string. Null and a missing key read as None."""
        value = self._values.get(key)
        if value is None or isinstance(value, str):
            return value
        raise ShapeError(self.path(key), "a string", value)

    def identifier(self, key: str) -> str | None:
        """Read an id given as a string or an integer. Empty strings read as None."""
        value = self._values.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return value.strip() or None
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise ShapeError(self.path(key), "a string or an integer", value)

    def count(self, key: str) -> int | str | None:
        """Read a count as given: an integer, or a string such as "12.3K" left for normalization.

        A float with no fractional part reads as an integer. Other floats read as
        their string form, so normalization can flag them.
        """
        value = self._values.get(key)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            raise ShapeError(self.path(key), "a number or a string", value)
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value) if value.is_integer() else str(value)
        raise ShapeError(self.path(key), "a number or a string", value)

    def flag(self, key: str) -> bool | None:
        """Read a boolean. Null and a missing key read as None."""
        value = self._values.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise ShapeError(self.path(key), "a boolean", value)

    def nested(self, key: str) -> Fields | None:
        """Read a nested object. Null and a missing key read as None."""
        value = self._values.get(key)
        if value is None:
            return None
        if isinstance(value, dict):
            return Fields(value, prefix=f"{self.path(key)}.")
        raise ShapeError(self.path(key), "an object", value)

    def array(self, key: str) -> list[Any]:
        """Read an array. Null and a missing key read as an empty list."""
        value = self._values.get(key)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        raise ShapeError(self.path(key), "an array", value)


class SourceFormat(ABC):
    """One source format: how to recognise its values, split envelopes and parse items.

    `name` is the registry key and the `--format` value. `label` names the source in
    rejection reasons.
    """

    name: str
    label: str
    platform: Platform

    @property
    def schema_id(self) -> str:
        """The `$id` of the JSON Schema for one item of this format."""
        return SCHEMA_ID_TEMPLATE.format(name=self.name)

    @abstractmethod
    def sniff(self, value: Any) -> bool:
        """Return whether a decoded JSON value looks like this format."""

    def expand(self, value: Any) -> Iterator[tuple[Any, Envelope | None]]:
        """Split one decoded value into per-profile items.

        Yields `(item, envelope)`. The envelope is a dict (maybe empty) of sibling
        data when the item came out of a container, and None when the value is the
        item itself. This default treats every value as one item.
        """
        yield value, None

    def parse(self, item: Any, envelope: Envelope | None = None) -> SourceProfile | Rejection:
        """Parse one item into a SourceProfile, or return a Rejection with the reason.

        Never raises for bad input: wrong JSON types become `invalid_shape`.
        """
        if not isinstance(item, dict):
            reason = f"{self.label} record must be a JSON object, got {json_type_name(item)}"
            return Rejection(kind="invalid_shape", reason=reason)
        marker = unavailable_marker(item)
        if marker is not None:
            return Rejection(kind="account_unavailable", reason=f"{self.label} account is {marker}")
        try:
            return self.parse_object(item, envelope)
        except ShapeError as error:
            return Rejection(kind="invalid_shape", reason=f"{self.label} record has an invalid {error}")

    @abstractmethod
    def parse_object(self, item: dict[str, Any], envelope: Envelope | None) -> SourceProfile | Rejection:
        """Parse an item known to be a JSON object. May raise ShapeError."""

    def api_error(self, description: str) -> Rejection:
        """Build an `api_error` rejection, with any email or phone in the text redacted."""
        reason = redact_text(f"{self.label} error: {description}").text
        return Rejection(kind="api_error", reason=reason)

    def missing_identity(self, description: str) -> Rejection:
        """Build a `missing_identity` rejection for a record with no id or handle."""
        return Rejection(kind="missing_identity", reason=f"{self.label} record has no {description}")


def unavailable_marker(item: dict[str, Any]) -> str | None:
    """Return "suspended", "deleted" or "deactivated" when a marker field is true, else None."""
    for key, state in UNAVAILABLE_MARKERS.items():
        if item.get(key) is True:
            return f"{state} (field {key})"
    return None


def url_platform(url: Any) -> Platform | None:
    """Return the platform whose host a URL names, or None for any other value."""
    if not isinstance(url, str):
        return None
    host = urlsplit(url if "://" in url else f"https://{url}").hostname or ""
    host = host.removeprefix("www.").removeprefix("m.")
    for suffix, platform in PLATFORM_HOSTS.items():
        if host == suffix or host.endswith(f".{suffix}"):
            return platform
    return None


def error_item_platform(value: dict[str, Any]) -> Platform | None:
    """Return the platform a scraper error item's `url` or `inputUrl` names, or None."""
    return url_platform(value.get("inputUrl")) or url_platform(value.get("url"))


def is_scraper_error_item(value: Any) -> bool:
    """Return whether a value is a scraper error item such as {"error": "not_found", "errorDescription": ...}."""
    return isinstance(value, dict) and isinstance(value.get("error"), str) and "authorMeta" not in value


def describe_error_item(item: dict[str, Any]) -> str:
    text = str(item["error"])
    if item.get("errorDescription"):
        text += f": {item['errorDescription']}"
    return text


def first_expanded_url(entities: Fields | None) -> str | None:
    """Return the first `expanded_url` of an X `entities.url.urls` array, if any."""
    if entities is None:
        return None
    url_entity = entities.nested("url")
    if url_entity is None:
        return None

    for index, element in enumerate(url_entity.array("urls")):
        if not isinstance(element, dict):
            raise ShapeError(f"{url_entity.path('urls')}[{index}]", "an object", element)
        expanded = Fields(element, prefix=f"{url_entity.path('urls')}[{index}].").text("expanded_url")
        if expanded:
            return expanded
    return None


def is_object_with(value: Any, *keys: str) -> bool:
    """Return whether the value is a dict that has every one of the keys."""
    return isinstance(value, dict) and all(key in value for key in keys)
