"""Strict parsing and minimization of DealMachine enrichment 200 bodies.

DealMachine documents two body shapes (api.docs.dealmachine.com, API reference,
Enrichment):

- `/v1/enrichment/name` returns the matching people directly:
  `{"data": [contact, ...], "credits": {...}, "pagination": {...}}`.
- `/v1/enrichment/phone`, `/email` and `/address` return one result per submitted
  item: `{"data": [{"input", "matched", "contacts" | "match_failure"}], "totals", "credits"}`.

Both carry contacts shaped `{"dm_person_id", "full_name", "first_name", "last_name",
"phones": [{"number", "type", "do_not_call"}], "emails": [{"address"}]}`. Only phones
and emails survive minimization. A phone marked `do_not_call` is kept with
`dnc_status="listed"`, so callers can suppress it without losing the fact.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers

from sxe.adapters.base import ContactPointResult, LookupResult, normalize_text
from sxe.errors import PermanentProviderError, RetryableProviderError

PROVIDER = "dealmachine"
ADAPTER_VERSION = "dealmachine.enrichment.v1"

DNC_LISTED = "listed"
DNC_CLEAR = "clear"

_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True, slots=True)
class ParsedBody:
    """A decoded 200 body: the contacts per submitted item, and the credits DealMachine reported."""

    contacts: tuple[dict[str, Any], ...]
    credits_used: int
    payload_sha256: str


def parse_people_body(content: bytes, *, endpoint: str) -> ParsedBody:
    """Parse a `/v1/enrichment/name` body, whose `data` lists the matching people."""
    document = _decode_json(content, endpoint)
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise _contract_error(endpoint, "the 200 body is not a JSON object with a 'data' array")
    contacts = tuple(_contact_object(item, f"data[{index}]", endpoint) for index, item in enumerate(document["data"]))
    return ParsedBody(contacts, _credits_used(document, endpoint), hashlib.sha256(content).hexdigest())


def parse_matched_body(content: bytes, *, endpoint: str) -> ParsedBody:
    """Parse a one-item phone, email or address body, whose `data[0]` is `{"matched", "contacts"}`.

    An unmatched item (`matched: false` with a `match_failure`) gives no contacts.
    """
    document = _decode_json(content, endpoint)
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise _contract_error(endpoint, "the 200 body is not a JSON object with a 'data' array")
    if len(document["data"]) != 1:
        raise _contract_error(endpoint, f"'data' has {len(document['data'])} results for 1 submitted item")

    item = document["data"][0]
    if not isinstance(item, dict) or not isinstance(item.get("matched"), bool):
        raise _contract_error(endpoint, "'data[0].matched' is missing or not a boolean")
    contacts: tuple[dict[str, Any], ...] = ()
    if item["matched"]:
        raw = item.get("contacts")
        if not isinstance(raw, list):
            raise _contract_error(endpoint, "'data[0].contacts' is not an array on a matched result")
        contacts = tuple(
            _contact_object(entry, f"data[0].contacts[{index}]", endpoint) for index, entry in enumerate(raw)
        )
    elif not isinstance(item.get("match_failure"), dict):
        raise _contract_error(endpoint, "'data[0].match_failure' is missing on an unmatched result")
    return ParsedBody(contacts, _credits_used(document, endpoint), hashlib.sha256(content).hexdigest())


def select_person(
    contacts: Sequence[dict[str, Any]], *, first_name: str | None, last_name: str
) -> dict[str, Any] | None:
    """Return the one contact whose name equals the request, or None when none or several do.

    A name search can return namesakes. Picking one of several would attach a
    stranger's phone to the card, so an ambiguous result counts as a miss.
    """
    wanted_last = normalize_text(last_name)
    wanted_first = normalize_text(first_name)
    found = [
        contact
        for contact in contacts
        if normalize_text(contact.get("last_name")) == wanted_last
        and (wanted_first is None or normalize_text(contact.get("first_name")) == wanted_first)
    ]
    distinct = {contact.get("dm_person_id") for contact in found}
    return found[0] if len(distinct) == 1 else None


def build_result(
    person: dict[str, Any] | None,
    parsed: ParsedBody,
    *,
    endpoint: str,
    scrubbed_at: datetime,
    simulated: bool,
) -> LookupResult:
    """Return the minimized `LookupResult` for the selected contact, or a miss when `person` is None.

    `credits_used` is DealMachine's `credits.used`, which counts every person the
    response returned, so an ambiguous miss can still cost credits.
    """
    points: tuple[ContactPointResult, ...] = ()
    person_id = None
    if person is not None:
        person_id = _required_str(person, "dm_person_id", "contact", endpoint)
        points = _email_points(person, endpoint) + _phone_points(person, endpoint, scrubbed_at)
    return LookupResult(
        matched=person is not None,
        provider=PROVIDER,
        adapter_version=ADAPTER_VERSION,
        provider_person_id=person_id,
        contact_points=points,
        organization_domain=None,
        organization_name=None,
        title=None,
        credits_used=parsed.credits_used,
        payload_sha256=parsed.payload_sha256,
        simulated=simulated,
    )


def to_e164(number: str) -> str | None:
    """Return a DealMachine phone number (US 10-digit or already E.164) as E.164, or None when invalid."""
    try:
        parsed = phonenumbers.parse(number, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _email_points(person: dict[str, Any], endpoint: str) -> tuple[ContactPointResult, ...]:
    points: list[ContactPointResult] = []
    seen: set[str] = set()
    for pointer, entry in _entries(person, "emails", endpoint):
        address = normalize_text(_optional_str(entry, "address", pointer, endpoint))
        if address is None or address in seen or not _EMAIL_SHAPE.fullmatch(address):
            continue
        seen.add(address)
        points.append(ContactPointResult(kind="email", value=address, status=None, source=PROVIDER))
    return tuple(points)


def _phone_points(person: dict[str, Any], endpoint: str, scrubbed_at: datetime) -> tuple[ContactPointResult, ...]:
    """Keep one point per distinct E.164 number; a do-not-call number is kept and marked "listed"."""
    points: list[ContactPointResult] = []
    seen: set[str] = set()
    for pointer, entry in _entries(person, "phones", endpoint):
        raw = _optional_str(entry, "number", pointer, endpoint)
        number = to_e164(raw) if raw else None
        if number is None or number in seen:
            continue
        seen.add(number)
        points.append(
            ContactPointResult(
                kind="phone",
                value=number,
                status=None,
                source=PROVIDER,
                line_type=normalize_text(_optional_str(entry, "type", pointer, endpoint)),
                dnc_status=_dnc_status(entry, pointer, endpoint),
                scrubbed_at=scrubbed_at,
            )
        )
    return tuple(points)


def _dnc_status(entry: dict[str, Any], pointer: str, endpoint: str) -> str | None:
    flag = entry.get("do_not_call")
    if flag is None:
        return None
    if not isinstance(flag, bool):
        raise _contract_error(endpoint, f"'{pointer}.do_not_call' is {type(flag).__name__}, expected a boolean")
    return DNC_LISTED if flag else DNC_CLEAR


def _entries(person: dict[str, Any], key: str, endpoint: str) -> list[tuple[str, dict[str, Any]]]:
    values = person.get(key)
    if values is None:
        return []
    if not isinstance(values, list):
        raise _contract_error(endpoint, f"'contact.{key}' is {type(values).__name__}, expected an array")
    entries: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(values):
        if not isinstance(entry, dict):
            raise _contract_error(endpoint, f"'contact.{key}[{index}]' is not an object")
        entries.append((f"contact.{key}[{index}]", entry))
    return entries


def _contact_object(value: Any, pointer: str, endpoint: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _contract_error(endpoint, f"'{pointer}' is not an object")
    _required_str(value, "dm_person_id", pointer, endpoint)
    for key in ("first_name", "last_name", "full_name"):
        _optional_str(value, key, pointer, endpoint)
    return value


def _credits_used(document: dict[str, Any], endpoint: str) -> int:
    credits = document.get("credits")
    if not isinstance(credits, dict):
        raise _contract_error(endpoint, "'credits' is missing or not an object")
    used = credits.get("used")
    if isinstance(used, bool) or not isinstance(used, int) or used < 0:
        raise _contract_error(endpoint, f"'credits.used' is {used!r}, expected a non-negative integer")
    return used


def _decode_json(content: bytes, endpoint: str) -> object:
    try:
        return json.loads(content)
    except json.JSONDecodeError as exc:
        if _looks_truncated(exc):
            raise RetryableProviderError(
                f"DealMachine {endpoint} returned a truncated JSON body with HTTP 200. Retry the lookup.",
                provider=PROVIDER,
                status_code=200,
            ) from exc
        raise _contract_error(endpoint, f"the 200 body is not valid JSON ({exc.msg} at byte {exc.pos})") from exc
    except UnicodeDecodeError as exc:
        raise _contract_error(endpoint, "the 200 body is not UTF-8 text") from exc


def _looks_truncated(exc: json.JSONDecodeError) -> bool:
    """Tell a body that stops inside a JSON value (`"do_not_call": tr`) from one that is not JSON at all."""
    if exc.msg.startswith("Unterminated string"):
        return True
    rest = exc.doc[exc.pos :].rstrip()
    return not rest or any(literal.startswith(rest) for literal in ("true", "false", "null"))


def _required_str(holder: dict[str, Any], key: str, pointer: str, endpoint: str) -> str:
    value = holder.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _contract_error(endpoint, f"'{pointer}.{key}' is missing or not a non-empty string")
    return value


def _optional_str(holder: dict[str, Any], key: str, pointer: str, endpoint: str) -> str | None:
    value = holder.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _contract_error(endpoint, f"'{pointer}.{key}' is {type(value).__name__}, expected a string or null")


def _contract_error(endpoint: str, detail: str) -> PermanentProviderError:
    return PermanentProviderError(
        f"DealMachine {endpoint} response breaks the documented contract: {detail}. "
        "Check the base URL and the DealMachine API version.",
        provider=PROVIDER,
        status_code=200,
    )
