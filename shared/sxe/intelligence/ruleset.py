"""The declarative persona ruleset: its pydantic schema, validation and loading.

A ruleset is JSON data, not code. Each rule has a stable id of the form
`<kind>.<value>.<name>` (for example `persona.coach.bio-keywords`) and sets one
label: `kind` persona or tribe, plus a `value`. A rule fires on a profile when
the profile matches at least `min_terms` of its terms and meets every requirement.
Follower tiers are not rules but a table of follower bands, so each card gets
exactly one tier.

Validation errors raise `RulesetError`, which names the ruleset source, the
rule id and the field that failed. A document that passes the pydantic models is
then validated against the published JSON Schema
`contracts/intelligence/ruleset.v1.schema.json`, so every loaded ruleset matches
the contract that other tools read.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from sxe.contracts import load_contracts
from sxe.errors import ConfigError, ContractViolation

DEFAULT_RULESET_VERSION = "personas-v2"
"""The version of the ruleset that `load_default_ruleset` returns."""

RULESET_SCHEMA = "https://schemas.sxe.dev/intelligence/ruleset.v1.json"

RuleKind = Literal["persona", "tribe"]

_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_RULE_ID = re.compile(rf"^(?:persona|tribe)\.{_SLUG}\.{_SLUG}$")
_VALUE = re.compile(rf"^{_SLUG}$")
_DOMAIN_PATTERN = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?$")

# Matched terms are copied into label evidence, so a term must never be an email
# address or a phone number.
_EMAIL_LIKE = re.compile(r"\S@\S")
_PHONE_LIKE = re.compile(r"\d(?:[\s().-]*\d){6,}")


class RulesetError(ConfigError):
    """A ruleset file or document is unreadable or invalid.

    `rule_id` and `field` locate the first error. `rule_id` is None for errors
    outside a rule, such as in the version, thresholds or tier table.
    """

    def __init__(self, message: str, *, source: str, rule_id: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.source = source
        self.rule_id = rule_id
        self.field = field


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FollowerRange(_Frozen):
    """A follower count range from `min` (inclusive) to `max_exclusive` (exclusive). None means unbounded."""

    min: int | None = Field(default=None, ge=0)
    max_exclusive: int | None = Field(default=None, ge=1)

    @field_validator("max_exclusive")
    @classmethod
    def _check_bounds(cls, value: int | None, info: ValidationInfo) -> int | None:
        lower = info.data.get("min")
        if value is None and lower is None:
            raise ValueError("set min, max_exclusive or both")
        if value is not None and lower is not None and value <= lower:
            raise ValueError(f"max_exclusive ({value}) must be greater than min ({lower})")
        return value

    def contains(self, followers: int) -> bool:
        """Return whether `followers` lies in this range."""
        if self.min is not None and followers < self.min:
            return False
        if self.max_exclusive is not None and followers >= self.max_exclusive:
            return False
        return True


def _check_terms(terms: tuple[str, ...], *, kind: str) -> tuple[str, ...]:
    """Raise ValueError for an empty, padded, duplicate or PII-like term; return the terms unchanged."""
    seen: set[str] = set()
    for term in terms:
        if not term or term != term.strip():
            raise ValueError(f"{kind} {term!r} is empty or has leading or trailing spaces")
        if _EMAIL_LIKE.search(term) or _PHONE_LIKE.search(term):
            raise ValueError(f"{kind} {term!r} looks like an email or phone number, which evidence must never contain")
        folded = term.casefold()
        if folded in seen:
            raise ValueError(f"{kind} {term!r} is listed twice")
        seen.add(folded)
    return terms


class RuleTerms(_Frozen):
    """The terms a rule looks for. Keywords and hashtags match whole words, case-insensitively.

    `website_domains` entries match the domain itself or any subdomain
    (`linktr.ee` matches `linktr.ee` and `www.linktr.ee`). An entry that ends with
    a dot matches domains that start with it (`shop.` matches `shop.example.com`).
    """

    bio_keywords: tuple[str, ...] = ()
    bio_hashtags: tuple[str, ...] = ()
    bio_emoji: tuple[str, ...] = ()
    display_name_keywords: tuple[str, ...] = ()
    website_domains: tuple[str, ...] = ()

    @field_validator("bio_keywords", "display_name_keywords")
    @classmethod
    def _check_keywords(cls, terms: tuple[str, ...]) -> tuple[str, ...]:
        return _check_terms(terms, kind="keyword")

    @field_validator("bio_hashtags")
    @classmethod
    def _check_hashtags(cls, terms: tuple[str, ...]) -> tuple[str, ...]:
        for term in terms:
            if not re.fullmatch(r"#\w+", term):
                raise ValueError(f"hashtag {term!r} must be '#' followed by letters, digits or '_'")
        return _check_terms(terms, kind="hashtag")

    @field_validator("bio_emoji")
    @classmethod
    def _check_emoji(cls, terms: tuple[str, ...]) -> tuple[str, ...]:
        for term in terms:
            if any(character.isascii() for character in term):
                raise ValueError(f"emoji {term!r} contains ASCII characters, so list it under bio_keywords instead")
        return _check_terms(terms, kind="emoji")

    @field_validator("website_domains")
    @classmethod
    def _check_domains(cls, terms: tuple[str, ...]) -> tuple[str, ...]:
        for term in terms:
            if not _DOMAIN_PATTERN.fullmatch(term):
                raise ValueError(f"domain pattern {term!r} must be a lowercase host such as 'etsy.com' or 'shop.'")
        return _check_terms(terms, kind="domain pattern")

    def count(self) -> int:
        """Return the number of terms over all lists."""
        return sum(
            len(terms)
            for terms in (
                self.bio_keywords,
                self.bio_hashtags,
                self.bio_emoji,
                self.display_name_keywords,
                self.website_domains,
            )
        )


class RuleRequirements(_Frozen):
    """Profile facts that must all hold for a rule to fire. None means no requirement."""

    followers: FollowerRange | None = None
    verified: bool | None = None
    bio_has_email: bool | None = None
    bio_has_phone: bool | None = None

    def is_empty(self) -> bool:
        """Return whether no requirement is set."""
        return all(value is None for value in (self.followers, self.verified, self.bio_has_email, self.bio_has_phone))


class Rule(_Frozen):
    """One declarative rule that sets a persona or tribe label.

    The rule fires on a profile when the profile matches at least `min_terms`
    distinct terms and meets every requirement. `min_terms` defaults to 1, or to 0
    when the rule has no terms. On a card the rule scores
    `score + extra_term_bonus * (distinct matched terms - 1)`, capped at `max_score`.
    """

    id: str
    kind: RuleKind
    value: str
    description: str = ""
    score: float = Field(ge=0.0, le=1.0)
    extra_term_bonus: float = Field(default=0.0, ge=0.0, le=1.0)
    max_score: float | None = Field(default=None, ge=0.0, le=1.0)
    terms: RuleTerms = Field(default_factory=RuleTerms)
    min_terms: int | None = Field(default=None, ge=1)
    require: RuleRequirements = Field(default_factory=RuleRequirements, validate_default=True)

    @field_validator("id")
    @classmethod
    def _check_id(cls, rule_id: str) -> str:
        if not _RULE_ID.fullmatch(rule_id):
            raise ValueError(f"id {rule_id!r} must have the form '<persona|tribe>.<value>.<name>' in lowercase slugs")
        return rule_id

    @field_validator("value")
    @classmethod
    def _check_value(cls, value: str, info: ValidationInfo) -> str:
        if not _VALUE.fullmatch(value):
            raise ValueError(f"value {value!r} must be a lowercase slug such as 'real-estate'")
        rule_id = info.data.get("id")
        kind = info.data.get("kind")
        if rule_id is not None and kind is not None and not rule_id.startswith(f"{kind}.{value}."):
            raise ValueError(f"kind {kind!r} and value {value!r} do not match id {rule_id!r}")
        return value

    @field_validator("max_score")
    @classmethod
    def _check_max_score(cls, max_score: float | None, info: ValidationInfo) -> float | None:
        score = info.data.get("score")
        if max_score is not None and score is not None and max_score < score:
            raise ValueError(f"max_score ({max_score}) is below score ({score})")
        return max_score

    @field_validator("min_terms")
    @classmethod
    def _check_min_terms(cls, min_terms: int | None, info: ValidationInfo) -> int | None:
        terms = info.data.get("terms")
        if min_terms is not None and terms is not None and min_terms > terms.count():
            raise ValueError(f"min_terms ({min_terms}) exceeds the {terms.count()} terms the rule lists")
        return min_terms

    @field_validator("require")
    @classmethod
    def _check_not_empty(cls, require: RuleRequirements, info: ValidationInfo) -> RuleRequirements:
        terms = info.data.get("terms")
        if require.is_empty() and terms is not None and terms.count() == 0:
            raise ValueError("the rule lists no terms and no requirements, so it would fire on every profile")
        return require

    @property
    def required_terms(self) -> int:
        """The distinct terms a profile must match for the rule to fire."""
        if self.min_terms is not None:
            return self.min_terms
        return 1 if self.terms.count() else 0

    def card_score(self, distinct_terms: int) -> float:
        """Return the rule's score for a card on which it matched `distinct_terms` distinct terms."""
        raw = self.score + self.extra_term_bonus * max(0, distinct_terms - 1)
        cap = self.max_score if self.max_score is not None else 1.0
        return round(min(raw, cap), 4)


class MinScores(_Frozen):
    """The lowest score at which a persona or tribe label is emitted."""

    persona: float = Field(ge=0.0, le=1.0)
    tribe: float = Field(ge=0.0, le=1.0)

    def for_kind(self, kind: RuleKind) -> float:
        """Return the threshold for labels of `kind`."""
        return self.persona if kind == "persona" else self.tribe


def _check_tier_id(value: str, info: ValidationInfo) -> str:
    """Raise ValueError unless `value` is a slug and the tier id is `tier.<value>`."""
    if not _VALUE.fullmatch(value):
        raise ValueError(f"value {value!r} must be a lowercase slug such as 'micro'")
    tier_id = info.data.get("id")
    if tier_id is not None and tier_id != f"tier.{value}":
        raise ValueError(
            f"value {value!r} does not match id {tier_id!r}, because tier ids have the form 'tier.<value>'"
        )
    return value


class TierBand(_Frozen):
    """One follower tier from `min_followers` (inclusive) to `max_followers_exclusive` (None for no bound)."""

    id: str
    value: str
    min_followers: int = Field(ge=0)
    max_followers_exclusive: int | None = None

    @field_validator("value")
    @classmethod
    def _check_value(cls, value: str, info: ValidationInfo) -> str:
        return _check_tier_id(value, info)

    @field_validator("max_followers_exclusive")
    @classmethod
    def _check_bounds(cls, upper: int | None, info: ValidationInfo) -> int | None:
        lower = info.data.get("min_followers")
        if upper is not None and lower is not None and upper <= lower:
            raise ValueError(f"max_followers_exclusive ({upper}) must be greater than min_followers ({lower})")
        return upper

    def contains(self, followers: int) -> bool:
        """Return whether `followers` falls in this band."""
        if followers < self.min_followers:
            return False
        return self.max_followers_exclusive is None or followers < self.max_followers_exclusive


class UnknownTier(_Frozen):
    """The tier given to a card on which no profile reports a follower count."""

    id: str
    value: str

    @field_validator("value")
    @classmethod
    def _check_value(cls, value: str, info: ValidationInfo) -> str:
        return _check_tier_id(value, info)


class TierTable(_Frozen):
    """Follower bands that cover 0 to infinity without gaps or overlaps, in ascending order."""

    description: str = ""
    bands: tuple[TierBand, ...] = Field(min_length=1)
    unknown: UnknownTier

    @field_validator("bands")
    @classmethod
    def _check_contiguous(cls, bands: tuple[TierBand, ...]) -> tuple[TierBand, ...]:
        if bands[0].min_followers != 0:
            raise ValueError(f"the first band {bands[0].id!r} must start at 0 followers")
        for band, following_band in pairwise(bands):
            if band.max_followers_exclusive != following_band.min_followers:
                raise ValueError(
                    f"band {band.id!r} must end where band {following_band.id!r} starts "
                    f"({band.max_followers_exclusive} != {following_band.min_followers})"
                )
        if bands[-1].max_followers_exclusive is not None:
            raise ValueError(f"the last band {bands[-1].id!r} must have max_followers_exclusive null")
        return bands

    @field_validator("unknown")
    @classmethod
    def _check_unknown_distinct(cls, unknown: UnknownTier, info: ValidationInfo) -> UnknownTier:
        bands = info.data.get("bands") or ()
        if unknown.value in {band.value for band in bands}:
            raise ValueError(f"unknown tier value {unknown.value!r} is also the value of a band")
        return unknown

    def band_for(self, followers: int) -> TierBand | None:
        """Return the band that contains `followers`, or None for a negative count."""
        for band in self.bands:
            if band.contains(followers):
                return band
        return None


class Ruleset(_Frozen):
    """A validated, immutable ruleset. Build one with `parse_ruleset` or `load_ruleset`."""

    version: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    description: str = ""
    min_score: MinScores
    tiers: TierTable
    rules: tuple[Rule, ...]


def parse_ruleset(document: Any, *, source: str = "<document>") -> Ruleset:
    """Validate a decoded ruleset document and return it as a `Ruleset`.

    Each rule is validated on its own so that the error names its id.
    Raises RulesetError on the first rule or top-level section that is invalid,
    and the message lists every problem of that rule or section. `source` names the
    document in messages.
    """
    if not isinstance(document, dict):
        raise RulesetError(
            f"Invalid ruleset {source}: expected a JSON object, got {type(document).__name__}.", source=source
        )
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list):
        raise RulesetError(
            f"Invalid ruleset {source}: field 'rules' must be a list of rule objects.", source=source, field="rules"
        )

    rules = tuple(_parse_rule(raw_rule, index, source) for index, raw_rule in enumerate(raw_rules))
    _check_unique_ids(rules, source)

    try:
        ruleset = Ruleset.model_validate({**document, "rules": rules})
    except ValidationError as error:
        field, details = _describe_errors(error)
        raise RulesetError(f"Invalid ruleset {source}: {details}", source=source, field=field) from None
    _check_schema(document, source)
    return ruleset


def _check_schema(document: dict[str, Any], source: str) -> None:
    try:
        load_contracts().validate(document, RULESET_SCHEMA)
    except ContractViolation as violation:
        rule_id = None
        parts = violation.pointer.split("/")
        if len(parts) > 2 and parts[1] == "rules" and parts[2].isdigit():
            rule_id = _raw_rule_id(document["rules"][int(parts[2])])
        raise RulesetError(
            f"Invalid ruleset {source}: it does not match the ruleset schema: {violation}",
            source=source,
            rule_id=rule_id,
            field=violation.pointer or None,
        ) from None


def load_ruleset(path: str | Path) -> Ruleset:
    """Read and validate the ruleset JSON file at `path`.

    Raises RulesetError when the file is missing, is not valid JSON or fails validation.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise RulesetError(f"Cannot read ruleset file {source}: {error.strerror}.", source=source) from error
    return _parse_json(text, source)


def load_default_ruleset() -> Ruleset:
    """Return the default ruleset shipped with the package (`DEFAULT_RULESET_VERSION`), read once per process."""
    return load_shipped_ruleset(DEFAULT_RULESET_VERSION)


@lru_cache(maxsize=4)
def load_shipped_ruleset(version: str) -> Ruleset:
    """Return a ruleset shipped with the package by version, such as `personas-v1`; read once per process.

    Raises RulesetError naming the shipped versions when there is no such file.
    """
    folder = resources.files("sxe").joinpath("rulesets")
    resource = folder.joinpath(f"{version}.json")
    if not resource.is_file():
        shipped = sorted(entry.name.removesuffix(".json") for entry in folder.iterdir() if entry.name.endswith(".json"))
        raise RulesetError(
            f"no shipped ruleset {version!r}; use one of {shipped}", source=f"sxe/rulesets/{version}.json"
        )
    return _parse_json(resource.read_text(encoding="utf-8"), f"sxe/rulesets/{version}.json")


def _parse_json(text: str, source: str) -> Ruleset:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise RulesetError(
            f"Invalid ruleset {source}: not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}.",
            source=source,
        ) from None
    return parse_ruleset(document, source=source)


def _parse_rule(raw_rule: Any, index: int, source: str) -> Rule:
    rule_id = _raw_rule_id(raw_rule)
    named = repr(rule_id) if rule_id is not None else f"at rules[{index}] (no id)"
    try:
        return Rule.model_validate(raw_rule)
    except ValidationError as error:
        field, details = _describe_errors(error)
        raise RulesetError(
            f"Invalid rule {named} in ruleset {source}: {details}",
            source=source,
            rule_id=rule_id,
            field=field,
        ) from None


def _raw_rule_id(raw_rule: Any) -> str | None:
    if isinstance(raw_rule, dict) and isinstance(raw_rule.get("id"), str) and raw_rule["id"]:
        return str(raw_rule["id"])
    return None


def _check_unique_ids(rules: tuple[Rule, ...], source: str) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RulesetError(
                f"Invalid rule {rule.id!r} in ruleset {source}: field 'id': the id is used by more than one rule.",
                source=source,
                rule_id=rule.id,
                field="id",
            )
        seen.add(rule.id)


def _describe_errors(error: ValidationError) -> tuple[str, str]:
    """Return the first failing field and a message that lists every error as `field 'x': problem`."""
    parts: list[str] = []
    fields: list[str] = []
    for item in error.errors():
        field = _format_location(item["loc"])
        fields.append(field)
        problem = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] != "value_error" and isinstance(item.get("input"), (str, int, float, bool)):
            problem = f"{problem} (got {item['input']!r})"
        parts.append(f"field {field!r}: {problem}")
    return fields[0], "; ".join(parts) + "."


def _format_location(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(root)"
