"""The suppression list: keyed hashes of erased identifiers, checked before a record is stored.

An identifier is normalized first (handles lowercased without "@", emails
lowercased, phones in E.164), then hashed with HMAC-SHA256 under
SXE_SUPPRESSION_KEY. The key never enters the database, so the list cannot be
reversed there by hashing guessed handles or addresses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

import phonenumbers
import psycopg

from sxe import audit
from sxe.adapters.base import LookupResult
from sxe.config import Settings, load_settings
from sxe.db import sql
from sxe.errors import UsageError
from sxe.models import Platform, SourceProfile


class IdentifierKind(StrEnum):
    HANDLE = "handle"
    PLATFORM_USER_ID = "platform_user_id"
    EMAIL = "email"
    PHONE = "phone"


@dataclass(frozen=True, slots=True)
class Identifier:
    """A normalized identifier of a person; `value` may be personal data and is never stored or logged."""

    kind: IdentifierKind
    value: str

    def keyed_hash(self, key: bytes) -> str:
        """Return the HMAC-SHA256 hex of `kind:value` under `key`."""
        return hmac.new(key, f"{self.kind.value}:{self.value}".encode(), hashlib.sha256).hexdigest()

    def content_hash(self) -> str:
        """Return the plain SHA-256 of the value, as stored in `contact.contact_points.value_sha256`."""
        return hashlib.sha256(self.value.encode()).hexdigest()


def handle_identifier(platform: Platform | str, handle: str) -> Identifier:
    """Return the identifier of `handle` on `platform`; raise UsageError for an unknown platform or empty handle."""
    platform_value = _platform(platform)
    cleaned = handle.strip().lstrip("@").lower()
    if not cleaned or any(char.isspace() or char in "/?#" for char in cleaned):
        raise UsageError(f"handle {handle!r} is invalid: expected a profile handle such as 'dana_w'")
    return Identifier(IdentifierKind.HANDLE, f"{platform_value}:{cleaned}")


def user_id_identifier(platform: Platform | str, user_id: str) -> Identifier:
    return Identifier(IdentifierKind.PLATFORM_USER_ID, f"{_platform(platform)}:{user_id.strip()}")


def email_identifier(address: str) -> Identifier:
    """Return the identifier of an email address; raise UsageError (value not shown) when it is not one."""
    cleaned = address.strip().lower()
    local, _, domain = cleaned.partition("@")
    if not local or "." not in domain or any(char.isspace() for char in cleaned):
        raise UsageError("the email address is invalid (value not shown): expected local-part@domain")
    return Identifier(IdentifierKind.EMAIL, cleaned)


def phone_identifier(number: str, region: str = "US") -> Identifier:
    """Return the identifier of a phone number in E.164; raise UsageError (value not shown) when it is not one.

    A number without a leading "+" is read as a national number of `region`.
    """
    try:
        parsed = phonenumbers.parse(number, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise UsageError(
            f"the phone number cannot be parsed (value not shown): {exc}; "
            "pass it in E.164 form ('+', country code, number) or set the region"
        ) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise UsageError(
            f"the phone number is not a possible number in region {region.upper()} (value not shown); "
            "pass it in E.164 form ('+', country code, number)"
        )
    return Identifier(IdentifierKind.PHONE, phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def contact_point_identifier(kind: str, value: str) -> Identifier:
    """Return the identifier of a stored contact point (emails as stored, phones already E.164)."""
    if kind == "email":
        return Identifier(IdentifierKind.EMAIL, value.strip().lower())
    return Identifier(IdentifierKind.PHONE, value.strip().lower())


def profile_identifiers(platform: str, handle: str | None, platform_user_id: str | None) -> list[Identifier]:
    """Return every identifier a profile is known by: its handle and its platform user id."""
    found = []
    if handle and handle.strip().lstrip("@"):
        found.append(handle_identifier(platform, handle))
    if platform_user_id and platform_user_id.strip():
        found.append(user_id_identifier(platform, platform_user_id))
    return found


def _platform(platform: Platform | str) -> str:
    try:
        return Platform(platform).value
    except ValueError:
        names = ", ".join(item.value for item in Platform)
        raise UsageError(f"platform {platform!r} is unknown; expected one of {names}") from None


def suppression_key(settings: Settings) -> bytes:
    """Return SXE_SUPPRESSION_KEY, or a random key kept (mode 0600) in the state folder across runs.

    Losing a generated key makes the existing list unmatchable, so production sets the variable.
    """
    if settings.suppression_key is not None:
        return settings.suppression_key.get_secret_value().encode("utf-8")
    path = settings.state_dir / "suppression.key"
    if not path.exists():
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def add(conn: psycopg.Connection[Any], identifiers: Iterable[Identifier], key: bytes, request_id: UUID) -> list[str]:
    """Put the identifiers on the list (an identifier already there stays as it was); return their keyed hashes."""
    unique = {identifier.keyed_hash(key): identifier.kind.value for identifier in identifiers}
    if unique:
        conn.execute(
            sql("suppression_add"),
            {"hmacs": list(unique), "kinds": list(unique.values()), "request_id": request_id},
        )
    return sorted(unique)


def matching(conn: psycopg.Connection[Any], keyed_hashes: Sequence[str]) -> set[str]:
    """Return the subset of `keyed_hashes` that is on the list."""
    if not keyed_hashes:
        return set()
    rows = conn.execute(sql("suppression_match"), {"hmacs": list(keyed_hashes)}).fetchall()
    return {row["identifier_hmac"] for row in rows}


@dataclass(frozen=True, slots=True)
class SuppressionHit:
    """A record found on the suppression list and the kind of identifier that matched."""

    kind: IdentifierKind
    identifier_hmac: str


class IngestScreen:
    """Check incoming profiles against the suppression list, one query per chunk of records.

    The key is loaded on first need, and only when the list has rows, so a
    database that never erased anybody needs no key.
    """

    def __init__(self, load_key: Callable[[], bytes]) -> None:
        self._load_key = load_key
        self._key: bytes | None = None

    @classmethod
    def from_environment(cls) -> IngestScreen:
        return cls(lambda: suppression_key(load_settings()))

    def check(
        self, conn: psycopg.Connection[Any], profiles: Sequence[SourceProfile | None]
    ) -> dict[int, SuppressionHit]:
        """Return the positions of `profiles` that are suppressed; None entries (rejections) are skipped."""
        if conn.execute(sql("suppression_any")).fetchone() is None:
            return {}
        key = self._key = self._key or self._load_key()

        # Several records of a chunk can share an identifier, such as the video items of one author.
        holders: dict[str, list[tuple[int, IdentifierKind]]] = defaultdict(list)
        for position, profile in enumerate(profiles):
            if profile is None:
                continue
            for identifier in source_identifiers(profile):
                holders[identifier.keyed_hash(key)].append((position, identifier.kind))

        hits: dict[int, SuppressionHit] = {}
        for keyed_hash in sorted(matching(conn, list(holders))):
            for position, kind in holders[keyed_hash]:
                hits.setdefault(position, SuppressionHit(kind, keyed_hash))
        return hits


def source_identifiers(profile: SourceProfile) -> list[Identifier]:
    """Return the identifiers the screen matches in a record: handle, platform user id and bio contacts."""
    found = bio_identifiers(profile.bio) if profile.bio else []
    try:
        return found + profile_identifiers(profile.platform.value, profile.handle, profile.platform_user_id)
    except UsageError:
        # A handle with spaces or slashes cannot be an erased handle; the user id still counts.
        if profile.platform_user_id:
            found.append(user_id_identifier(profile.platform, profile.platform_user_id))
        return found


# "jane [at] example [dot] com" and "jane(at)example.com" are read as plain addresses.
_BRACKETED_AT = re.compile(r"\s*[\[({]\s*(?:at|@)\s*[\])}]\s*", re.IGNORECASE)
_BRACKETED_DOT = re.compile(r"\s*[\[({]\s*(?:dot|\.)\s*[\])}]\s*", re.IGNORECASE)
_PLAIN_EMAIL = re.compile(r"(?<![\w.+%-])[\w.+%-]+@[^\W_][\w-]*(?:\.[\w-]+)*\.[^\W\d_]{2,63}(?![\w-])")
# National numbers are read in each of these regions; a number matching any reading is suppressed.
BIO_PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN", "BR", "AU")
MIN_BIO_PHONE_DIGITS = 7


def bio_identifiers(bio: str) -> list[Identifier]:
    """Return the email addresses and phone numbers written in a bio, normalized as the suppression list keeps them.

    A national number is read in every region of BIO_PHONE_REGIONS, so each
    plausible E.164 reading is returned; only an exact list entry matches.
    """
    text = _BRACKETED_DOT.sub(".", _BRACKETED_AT.sub("@", bio))
    found = {Identifier(IdentifierKind.EMAIL, match.group().lower()) for match in _PLAIN_EMAIL.finditer(text)}
    for region in BIO_PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(bio, region, leniency=phonenumbers.Leniency.POSSIBLE):
            if len(str(match.number.national_number)) < MIN_BIO_PHONE_DIGITS:
                continue  # years and counts, not phone numbers
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            found.add(Identifier(IdentifierKind.PHONE, e164))
    return sorted(found, key=lambda identifier: (identifier.kind.value, identifier.value))


class ContactScreen:
    """Drop contact points of erased people from a provider result before it reaches Tier 2.

    Like IngestScreen, the key is loaded on first need and only when the list has rows.
    """

    def __init__(self, load_key: Callable[[], bytes]) -> None:
        self._load_key = load_key
        self._key: bytes | None = None

    @classmethod
    def from_environment(cls) -> ContactScreen:
        return cls(lambda: suppression_key(load_settings()))

    def drop_suppressed(
        self, conn: psycopg.Connection[Any], found: LookupResult, *, actor: str, subject: str
    ) -> tuple[LookupResult, int]:
        """Return `found` without its suppressed contact points, and how many were dropped.

        Each drop is audited as `enrichment.suppressed` with the keyed hashes only,
        in the caller's transaction, so the audit row commits with the result.
        """
        if not found.contact_points or conn.execute(sql("suppression_any")).fetchone() is None:
            return found, 0
        key = self._key = self._key or self._load_key()
        hashes = [contact_point_identifier(point.kind, point.value).keyed_hash(key) for point in found.contact_points]
        hits = matching(conn, hashes)
        if not hits:
            return found, 0

        kept = tuple(point for point, hashed in zip(found.contact_points, hashes, strict=True) if hashed not in hits)
        dropped = [point for point, hashed in zip(found.contact_points, hashes, strict=True) if hashed in hits]
        audit.append(
            conn,
            actor=actor,
            action="enrichment.suppressed",
            subject=subject,
            detail={
                "provider": found.provider,
                "adapter_version": found.adapter_version,
                "dropped": len(dropped),
                "kinds": sorted({point.kind for point in dropped}),
                "identifier_hmacs": sorted(hits),
            },
            payload_sha256=found.payload_sha256,
        )
        return dataclasses.replace(found, contact_points=kept), len(dropped)
