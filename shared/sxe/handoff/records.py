"""Render lead-card records from `contact.handoff_cards` rows, in a contract version and under an allowlist.

Two versions are published. lead-card.v2 differs from v1 in one additive change
(`tribes`, a summary of the tribe labels) and one breaking change (a phone's
`dnc_status` and `scrubbed_at` become a structured `compliance` object).

A contact point on the suppression list is marked, never left out: v2 sets
`suppressed: true`, and v1, which has no field for it, sets an email's `status`
or a phone's `dnc_status` to `suppressed`. Contact lists outside the consumer's
allowlist are empty arrays, so the record still validates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sxe.contracts import LEAD_CARD_V1, LEAD_CARD_V2
from sxe.errors import UsageError

SCHEMA_IDS = {"lead-card.v1": LEAD_CARD_V1, "lead-card.v2": LEAD_CARD_V2}
DEFAULT_SCHEMA_VERSION = "lead-card.v2"
CONTACT_FIELDS = ("emails", "phones")
SUPPRESSED = "suppressed"

_MATCHED_REASONS = frozenset({"matched", "cooldown_matched"})
_NO_MATCH_REASONS = frozenset({"no_match", "cooldown_no_match"})
_DNC_LISTED = frozenset({"dnc", "listed", "do_not_call", "blocked"})
_DNC_CLEAR = frozenset({"clear", "not_listed", "ok"})
_DNC_RESULTS = {value: "listed" for value in _DNC_LISTED} | {value: "clear" for value in _DNC_CLEAR}
_WIRELESS_LINE_TYPES = frozenset({"mobile", "wireless", "cell", "cellular"})
_PROFILE_KEYS = (
    "platform",
    "platform_user_id",
    "handle",
    "profile_url",
    "display_name",
    "followers",
    "following",
    "posts",
    "verified",
    "quality_flags",
)


# Platforms the published lead-card versions list. A card with no profile on one of
# them is not handed off until a lead-card version lists its platform.
CONTRACT_PLATFORMS = frozenset({"x", "threads", "tiktok"})


@dataclass(frozen=True, slots=True)
class RecordFormat:
    """The output format of a consumer: its lead-card version and the contact lists it may receive.

    `phone_scrub_max_days` withholds a phone whose DNC/TCPA scrub is missing or older
    than that many days, until it is scrubbed again.
    """

    schema_version: str = DEFAULT_SCHEMA_VERSION
    contact_fields: frozenset[str] = frozenset(CONTACT_FIELDS)
    phone_scrub_max_days: int = 31

    @property
    def schema_id(self) -> str:
        return SCHEMA_IDS[self.schema_version]

    @classmethod
    def parse(cls, schema_version: str, contact_fields: Iterable[str]) -> RecordFormat:
        """Build a format from user input; raise UsageError naming a bad version or field."""
        return cls(check_schema_version(schema_version), check_contact_fields(contact_fields))


def check_schema_version(value: str) -> str:
    """Return `value` as a full version name (`v2` becomes `lead-card.v2`), or raise UsageError naming it."""
    name = value if value.startswith("lead-card.") else f"lead-card.{value}"
    if name not in SCHEMA_IDS:
        raise UsageError(f"schema version {value!r} is unknown; use one of v1, v2")
    return name


def check_contact_fields(values: Iterable[str]) -> frozenset[str]:
    """Return the fields as a set, or raise UsageError naming the first one that is not emails or phones."""
    fields = frozenset(value.strip() for value in values if value.strip())
    unknown = sorted(fields - set(CONTACT_FIELDS))
    if unknown:
        raise UsageError(f"contact field {unknown[0]!r} is unknown; use any of {', '.join(CONTACT_FIELDS)}")
    return fields


def render_card(row: dict[str, Any], record_format: RecordFormat) -> dict[str, Any]:
    """Build one lead-card record of `record_format.schema_version` from a `contact.handoff_cards` row.

    The record is not validated here. Readiness is `ready` for a card that is ready
    or already handed off: both are cards released to consumers.
    """
    profiles = [profile for profile in row["profiles"] or () if profile["platform"] in CONTRACT_PLATFORMS]
    primary = profiles[0] if profiles else {}
    v2 = record_format.schema_version == "lead-card.v2"

    record: dict[str, Any] = {
        "schema_version": record_format.schema_version,
        "card_id": str(row["card_id"]),
        "pool": row["pool"],
        "readiness": "ready",
        "person": {
            "display_name": primary.get("display_name"),
            "primary_handle": primary.get("handle"),
            "website_domain": _first_value(profiles, "website_domain"),
            "language": _first_value(profiles, "language"),
        },
        "profiles": [dict(zip(_PROFILE_KEYS, map(profile.get, _PROFILE_KEYS), strict=True)) for profile in profiles],
        "labels": row["labels"],
    }
    if v2:
        record["tribes"] = _tribes(row["labels"])
    record["contact"] = _contact(row["contact_points"], record_format, v2=v2)
    record["provenance"] = _provenance(row, profiles)
    record["updated_at"] = row["updated_at"].isoformat()
    return record


def _first_value(profiles: list[dict[str, Any]], key: str) -> Any:
    """Return the first truthy `key` among the profiles, or None."""
    for profile in profiles:
        value = profile.get(key)
        if value:
            return value
    return None


def _tribes(labels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    tribes = [{"value": label["value"], "score": label["score"]} for label in labels if label["kind"] == "tribe"]
    return sorted(tribes, key=lambda tribe: (-tribe["score"], tribe["value"]))


def _releasable(point: dict[str, Any], scrubbed_since: datetime) -> bool:
    """Return False for a phone whose DNC/TCPA scrub is missing or older than `scrubbed_since`.

    A suppressed phone is always released, marked as suppressed, so consumers learn
    not to contact it; withholding is for phones that would otherwise look callable.
    """
    if point["kind"] != "phone" or point.get("suppressed"):
        return True
    if not point.get("scrubbed_at"):
        return False
    return datetime.fromisoformat(str(point["scrubbed_at"])) >= scrubbed_since


def _contact(points: list[dict[str, Any]], record_format: RecordFormat, *, v2: bool) -> dict[str, Any]:
    """Return the contact object: the allowed, releasable points, emails and phones each in row order."""
    allowed = record_format.contact_fields
    want_emails = "emails" in allowed
    want_phones = "phones" in allowed
    # Same limit as `now - scrubbed_at <= max_days`, computed once per card.
    scrubbed_since = datetime.now(UTC) - timedelta(days=record_format.phone_scrub_max_days)
    render_email = _email_v2 if v2 else _email_v1
    render_phone = _phone_v2 if v2 else _phone_v1

    emails = []
    phones = []
    for point in points:
        kind = point["kind"]
        if kind == "email" and want_emails:
            emails.append(render_email(point))
        elif kind == "phone" and want_phones and _releasable(point, scrubbed_since):
            phones.append(render_phone(point))
    return {"emails": emails, "phones": phones}


def _email_v1(point: dict[str, Any]) -> dict[str, Any]:
    return {
        "address": point["value"],
        "status": SUPPRESSED if point["suppressed"] else point["status"],
        "source": point["source"],
        "provider_simulated": point["simulated"],
    }


def _email_v2(point: dict[str, Any]) -> dict[str, Any]:
    return {
        "address": point["value"],
        "status": point["status"],
        "source": point["source"],
        "provider_simulated": point["simulated"],
        "suppressed": point["suppressed"],
    }


def _phone_v1(point: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": point["value"],
        "line_type": point["line_type"],
        "dnc_status": SUPPRESSED if point["suppressed"] else point["dnc_status"],
        "scrubbed_at": point["scrubbed_at"],
        "source": point["source"],
        "provider_simulated": point["simulated"],
    }


def _phone_v2(point: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": point["value"],
        "line_type": point["line_type"],
        "compliance": {
            "dnc": dnc_result(point["dnc_status"]),
            "tcpa": tcpa_status(point["line_type"]),
            "scrubbed_at": point["scrubbed_at"],
            "suppressed": point["suppressed"],
        },
        "source": point["source"],
        "provider_simulated": point["simulated"],
    }


def dnc_result(dnc_status: str | None) -> str:
    """Map a provider's do-not-call value to `listed`, `clear` or `unknown`."""
    return _DNC_RESULTS.get((dnc_status or "").strip().lower(), "unknown")


def tcpa_status(line_type: str | None) -> str:
    """Return `consent_required` for a wireless line and `unknown` otherwise.

    NOTE: derived from the line type alone, because no consent records are held.
    """
    return "consent_required" if (line_type or "").strip().lower() in _WIRELESS_LINE_TYPES else "unknown"


def _provenance(row: dict[str, Any], profiles: list[dict[str, Any]]) -> dict[str, Any]:
    sources = [
        {"format": p["source_format"], "source_file": p["source_file"], "collected_at": p["collected_at"]}
        for p in profiles
    ]
    enrichment = [_enrichment(decision, row["readiness_reason"]) for decision in row["decisions"]]
    return {"sources": sources, "ruleset_version": row["ruleset_version"], "enrichment": enrichment}


def _enrichment(decision: dict[str, Any], readiness_reason: str | None) -> dict[str, Any]:
    """Return one provenance step: the decision, and what its lookup came to when it finished.

    Decisions recorded before lookups kept their outcome fall back to the card's readiness reason.
    """
    finished = decision.get("outcome")
    if decision["decision"] == "skip":
        outcome, reason = "skipped", decision["reason"]
    elif finished in ("matched", "no_match"):
        outcome, reason = finished, None
    elif finished is not None:
        outcome, reason = "skipped", finished
    elif readiness_reason in _MATCHED_REASONS:
        outcome, reason = "matched", None
    elif readiness_reason in _NO_MATCH_REASONS:
        outcome, reason = "no_match", None
    else:
        outcome, reason = "skipped", readiness_reason
    return {
        "provider": decision["provider"],
        "adapter_version": decision["adapter_version"],
        "outcome": outcome,
        "reason": reason,
        "simulated": decision["simulated"],
        "at": decision["at"],
    }
