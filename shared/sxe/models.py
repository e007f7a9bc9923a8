"""Value objects that cross stage boundaries.

Each stage owns its own internals; these are the shapes one stage hands to the
next. They carry no database ids except where a later stage needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter
from typing import Any


def reduce_positionally(self: Any) -> tuple[type, tuple[Any, ...]]:
    """Pickle a dataclass as a call of its constructor with its field values in order.

    Ingest worker processes send records and profiles through pickle, and a constructor
    call loads about twice as fast as the slot state that `dataclass(slots=True)` pickles.
    `__match_args__` names every field, in order, for a dataclass whose fields are
    all in `__init__`.
    """
    cls = type(self)
    fields_of = _FIELD_GETTERS.get(cls)
    if fields_of is None:
        fields_of = _FIELD_GETTERS[cls] = _fields_getter(cls.__match_args__)
    return cls, fields_of(self)


def _fields_getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    # attrgetter of one name returns the value itself, not a tuple of it.
    getter = attrgetter(*names)
    return getter if len(names) > 1 else lambda instance: (getter(instance),)


_FIELD_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


class Platform(StrEnum):
    X = "x"
    THREADS = "threads"
    TIKTOK = "tiktok"
    INSTAGRAM = "instagram"


@dataclass(frozen=True, slots=True)
class RecordLocation:
    """Where a record sits in its source file: a 1-based line for JSONL, a 0-based index otherwise.

    `item` is the 0-based position of a profile inside an envelope, such as one user
    in the `data` array of an X API v2 response. It is None for records that are not
    split out of an envelope.
    """

    file: str
    line: int | None = None
    index: int | None = None
    item: int | None = None

    __reduce__ = reduce_positionally

    def describe(self) -> str:
        if self.line is not None:
            base = f"{self.file}:{self.line}"
        elif self.index is not None:
            base = f"{self.file}[{self.index}]"
        else:
            base = self.file
        if self.item is not None:
            return f"{base} item {self.item}"
        return base


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record as read from a file, before any parsing into a profile.

    `payload` is the decoded JSON value exactly as the source emitted it.
    `envelope` holds sibling data the parser may need (an X v2 `includes` block).
    """

    location: RecordLocation
    payload: Any
    envelope: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SourceProfile:
    """A profile as one source format describes it, mapped to common field names.

    Values are still raw: counts may be strings such as "12.3K", the bio still contains
    any email or phone number. Normalization turns this into a Tier 1 profile.
    """

    platform: Platform
    platform_user_id: str | None
    handle: str | None
    display_name: str | None = None
    bio: str | None = None
    followers: int | str | None = None
    following: int | str | None = None
    posts: int | str | None = None
    likes: int | str | None = None
    verified: bool | None = None
    website: str | None = None
    language: str | None = None
    location: str | None = None
    is_private: bool | None = None
    created_at: str | None = None
    profile_url: str | None = None

    __reduce__ = reduce_positionally


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a record is not a profile: an API error body, a missing identity, a bad shape.

    `kind` is a stable machine word (`api_error`, `missing_identity`, `invalid_shape`,
    `unparseable`, `account_unavailable`); `reason` is a sentence for people and never
    quotes PII.
    """

    kind: str
    reason: str

    __reduce__ = reduce_positionally


@dataclass(frozen=True, slots=True)
class FileDamage(Rejection):
    """The damaged or cut end of a compressed file, where reading the file stopped.

    It is not a record. Ingest keeps it in quarantine as the file's audit trail and
    reports it as a file error, not as a quarantined record. `offset` is the number
    of decompressed bytes read before the damage.
    """

    offset: int = 0


@dataclass(frozen=True, slots=True)
class Profile:
    """A normalized, PII-free Tier 1 profile."""

    platform: Platform
    platform_user_id: str | None
    handle: str | None
    display_name: str | None
    bio: str | None
    followers: int | None
    following: int | None
    posts: int | None
    likes: int | None
    verified: bool
    website_domain: str | None
    language: str | None
    bio_has_email: bool
    bio_has_phone: bool
    quality_flags: tuple[str, ...] = ()

    __reduce__ = reduce_positionally

    @property
    def identity_key(self) -> str:
        """The stable key of this profile on its platform: the user id, else the handle."""
        if self.platform_user_id:
            return f"id:{self.platform_user_id}"
        return f"handle:{(self.handle or '').lower()}"


@dataclass(frozen=True, slots=True)
class Label:
    """One persona, tribe or tier label with the rule that fired it and why."""

    kind: str
    value: str
    rule_id: str
    ruleset_version: str
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)
