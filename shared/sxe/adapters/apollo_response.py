"""Strict parsing and minimization of an Apollo People Enrichment (`people/match`) 200 body.

The body is `{"person": {...} | null}`. Only the fields a lead card needs survive:
the work email with its `email_status`, phones that carry an E.164
`sanitized_number`, the title and the organization's name and primary domain.
Everything else (LinkedIn URL, photo, location, personal emails) is dropped here.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from typing import Any

from sxe.adapters.base import ContactPointResult, LookupResult
from sxe.errors import PermanentProviderError, RetryableProviderError

PROVIDER = "apollo"

# Billing rule for enrichment without waterfall, as Apollo's API reference states it
# (docs.apollo.io, Bulk People Enrichment, "Credit usage"): 1 credit for demographics
# or email, plus 8 when a mobile phone is returned, 0 when nothing is found.
CREDITS_PER_MATCH = 1
CREDITS_PER_MOBILE = 8

# Apollo search responses show this placeholder for an address the account has not
# unlocked. NOTE: not documented for people/match, but filtered in case it appears there.
LOCKED_EMAIL_PLACEHOLDER = "email_not_unlocked@domain.com"

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def build_result(content: bytes, *, adapter_version: str, simulated: bool) -> LookupResult:
    """Parse a 200 body into a minimized `LookupResult` with credits computed from the billing rule.

    Raises RetryableProviderError when the body looks cut off (it ends inside a JSON
    value, or is empty), because a repeated call usually returns the whole body.
    Raises PermanentProviderError when the body is complete but is not JSON, is not
    an object with a `person` key, or contains a field of the wrong type.
    """
    document = _decode_json(content)
    payload_sha256 = hashlib.sha256(content).hexdigest()

    if not isinstance(document, dict) or "person" not in document:
        raise _contract_error("the 200 body is not a JSON object with a 'person' key")

    person = document["person"]
    if person is None:
        return _miss(adapter_version=adapter_version, payload_sha256=payload_sha256, simulated=simulated)
    if not isinstance(person, dict):
        raise _contract_error("'person' is neither an object nor null")

    result = _match(person, adapter_version=adapter_version, payload_sha256=payload_sha256, simulated=simulated)
    return replace(result, async_request_id=_async_request_id(document))


def decode_body(content: bytes) -> object:
    """Decode a 200 body, raising RetryableProviderError when it is cut off and PermanentProviderError when not JSON."""
    return _decode_json(content)


def result_for_person(
    person: dict[str, Any] | None, *, adapter_version: str, payload_sha256: str, simulated: bool
) -> LookupResult:
    """Return the minimized result for one Apollo `person` object, or a miss for None."""
    if person is None:
        return _miss(adapter_version=adapter_version, payload_sha256=payload_sha256, simulated=simulated)
    return _match(person, adapter_version=adapter_version, payload_sha256=payload_sha256, simulated=simulated)


def _async_request_id(document: dict[str, Any]) -> int | None:
    """Return the `request_id` Apollo sends when phones follow by webhook, raising when it is not an integer."""
    value = document.get("request_id")
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise _contract_error("'request_id' is neither an integer nor null")
    return value


def credits_for(person: dict[str, Any] | None) -> int:
    """Return the credits Apollo bills for a response whose `person` is this value."""
    if person is None:
        return 0
    if any(_is_mobile(entry) for entry in _raw_phone_entries(person)):
        return CREDITS_PER_MATCH + CREDITS_PER_MOBILE
    return CREDITS_PER_MATCH


def to_e164(sanitized_number: str | None) -> str | None:
    """Return the number as E.164 (`+12125550142`) when it already carries a country code, else None."""
    if sanitized_number is None:
        return None
    compact = _PHONE_SEPARATORS.sub("", sanitized_number)
    if _E164.fullmatch(compact):
        return compact
    return None


def _decode_json(content: bytes) -> object:
    try:
        return json.loads(content)
    except json.JSONDecodeError as exc:
        if _looks_truncated(exc):
            raise RetryableProviderError(
                "Apollo people/match returned a truncated JSON body with HTTP 200. Retry the lookup.",
                provider=PROVIDER,
                status_code=200,
            ) from exc
        raise _contract_error(f"the 200 body is not valid JSON ({exc.msg} at byte {exc.pos})") from exc
    except UnicodeDecodeError as exc:
        raise _contract_error("the 200 body is not UTF-8 text") from exc


def _looks_truncated(exc: json.JSONDecodeError) -> bool:
    """Tell a body that stops inside a JSON value from one that is not JSON at all."""
    if exc.msg.startswith("Unterminated string"):
        return True
    return exc.pos >= len(exc.doc.rstrip())


def _miss(*, adapter_version: str, payload_sha256: str, simulated: bool) -> LookupResult:
    return LookupResult(
        matched=False,
        provider=PROVIDER,
        adapter_version=adapter_version,
        provider_person_id=None,
        contact_points=(),
        organization_domain=None,
        organization_name=None,
        title=None,
        credits_used=credits_for(None),
        payload_sha256=payload_sha256,
        simulated=simulated,
    )


def _match(person: dict[str, Any], *, adapter_version: str, payload_sha256: str, simulated: bool) -> LookupResult:
    person_id = _optional_str(person, "id", "person")
    if not person_id:
        raise _contract_error("'person.id' is missing or empty")

    organization = _optional_dict(person, "organization", "person")
    contact_points = _email_points(person) + _phone_points(person)

    return LookupResult(
        matched=True,
        provider=PROVIDER,
        adapter_version=adapter_version,
        provider_person_id=person_id,
        contact_points=contact_points,
        organization_domain=_lower(_optional_str(organization, "primary_domain", "person.organization")),
        organization_name=_strip(_optional_str(organization, "name", "person.organization")),
        title=_strip(_optional_str(person, "title", "person")),
        credits_used=credits_for(person),
        payload_sha256=payload_sha256,
        simulated=simulated,
    )


def _email_points(person: dict[str, Any]) -> tuple[ContactPointResult, ...]:
    email = _lower(_optional_str(person, "email", "person"))
    status = _optional_str(person, "email_status", "person")
    if email is None or email == LOCKED_EMAIL_PLACEHOLDER or not _EMAIL_SHAPE.fullmatch(email):
        return ()
    return (ContactPointResult(kind="email", value=email, status=status, source=PROVIDER),)


def _phone_points(person: dict[str, Any]) -> tuple[ContactPointResult, ...]:
    """Keep one contact point per distinct E.164 number, and drop entries without a usable `sanitized_number`."""
    points: list[ContactPointResult] = []
    seen: set[str] = set()
    for pointer, entry in _typed_phone_entries(person):
        number = to_e164(_optional_str(entry, "sanitized_number", pointer))
        if number is None or number in seen:
            continue
        seen.add(number)
        points.append(
            ContactPointResult(
                kind="phone",
                value=number,
                status=_optional_str(entry, "status", pointer),
                source=PROVIDER,
                line_type=_lower(_optional_str(entry, "type", pointer)),
                dnc_status=_optional_str(entry, "dnc_status", pointer),
            )
        )
    return tuple(points)


def _typed_phone_entries(person: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Return (pointer, entry) for every phone object, raising when a list or entry has the wrong type.

    Apollo nests phones under `person.contact.phone_numbers`. Some responses also
    carry `person.phone_numbers`, so both are read.
    """
    contact = _optional_dict(person, "contact", "person")
    sources = [("person.contact.phone_numbers", contact), ("person.phone_numbers", person)]
    entries: list[tuple[str, dict[str, Any]]] = []
    for pointer, holder in sources:
        values = _optional_list(holder, "phone_numbers", pointer.rsplit(".", 1)[0])
        for index, entry in enumerate(values):
            if not isinstance(entry, dict):
                raise _contract_error(f"'{pointer}[{index}]' is not an object")
            entries.append((f"{pointer}[{index}]", entry))
    return entries


def _raw_phone_entries(person: dict[str, Any]) -> list[Any]:
    """Return every phone entry without type checks, for billing only."""
    contact = person.get("contact")
    entries: list[Any] = []
    for holder in (contact, person):
        if isinstance(holder, dict) and isinstance(holder.get("phone_numbers"), list):
            entries.extend(holder["phone_numbers"])
    return entries


def _is_mobile(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("type"), str) and entry["type"].lower() == "mobile"


def _optional_str(holder: dict[str, Any] | None, key: str, pointer: str) -> str | None:
    if holder is None:
        return None
    value = holder.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _contract_error(f"'{pointer}.{key}' is {type(value).__name__}, expected a string or null")


def _optional_dict(holder: dict[str, Any] | None, key: str, pointer: str) -> dict[str, Any] | None:
    if holder is None:
        return None
    value = holder.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise _contract_error(f"'{pointer}.{key}' is {type(value).__name__}, expected an object or null")


def _optional_list(holder: dict[str, Any] | None, key: str, pointer: str) -> list[Any]:
    if holder is None:
        return []
    value = holder.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise _contract_error(f"'{pointer}.{key}' is {type(value).__name__}, expected an array or null")


def _strip(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def _lower(value: str | None) -> str | None:
    stripped = _strip(value)
    return stripped.lower() if stripped is not None else None


def _contract_error(detail: str) -> PermanentProviderError:
    return PermanentProviderError(
        f"Apollo people/match response breaks the documented contract: {detail}. "
        "Check the base URL and the Apollo API version.",
        provider=PROVIDER,
        status_code=200,
    )
