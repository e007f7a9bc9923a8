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
    profiles = [profile for profile in row["profiles"] or [] if profile["platform"] in CONTRACT_PLATFORMS]
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
            "website_domain": next((p["website_domain"] for p in profiles if p.get("website_domain")), None),
            "language": next((p["language"] for p in profiles if p.get("language")), None),
        },
        "profiles": [{key: profile.get(key) for key in _PROFILE_KEYS} for profile in profiles],
        "labels": row["labels"],
    }
    if v2:
        record["tribes"] = _tribes(row["labels"])
    points = [point for point in row["contact_points"] if _releasable(point, record_format.phone_scrub_max_days)]
    record["contact"] = _contact(points, record_format.contact_fields, v2=v2)
    record["provenance"] = _provenance(row, profiles)
    record["updated_at"] = row["updated_at"].isoformat()
    return record


def _tribes(labels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    tribes = [{"value": label["value"], "score": label["score"]} for label in labels if label["kind"] == "tribe"]
    return sorted(tribes, key=lambda tribe: (-tribe["score"], tribe["value"]))


def _releasable(point: dict[str, Any], scrub_max_days: int) -> bool:
    """Return False for a phone whose DNC/TCPA scrub is missing or older than `scrub_max_days`.

    A suppressed phone is always released, marked as suppressed, so consumers learn
    not to contact it; withholding is for phones that would otherwise look callable.
    """
    if point["kind"] != "phone" or point.get("suppressed"):
        return True
    if not point.get("scrubbed_at"):
        return False
    scrubbed_at = datetime.fromisoformat(str(point["scrubbed_at"]))
    return datetime.now(UTC) - scrubbed_at <= timedelta(days=scrub_max_days)


def _contact(points: list[dict[str, Any]], allowed: frozenset[str], *, v2: bool) -> dict[str, Any]:
    emails = [point for point in points if point["kind"] == "email"] if "emails" in allowed else []
    phones = [point for point in points if point["kind"] == "phone"] if "phones" in allowed else []
    if v2:
        return {"emails": [_email_v2(point) for point in emails], "phones": [_phone_v2(point) for point in phones]}
    return {"emails": [_email_v1(point) for point in emails], "phones": [_phone_v1(point) for point in phones]}


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
    value = (dnc_status or "").strip().lower()
    if value in _DNC_LISTED:
        return "listed"
    if value in _DNC_CLEAR:
        return "clear"
    return "unknown"


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
    if decision["decision"] == "skip":
        outcome, reason = "skipped", decision["reason"]
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
