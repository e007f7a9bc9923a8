"""Load the JSON Schemas under the repository's `contracts/` folder and validate documents.

Schemas are files named `*.schema.json`. Each is addressed by its `$id` or by its
path relative to the contracts folder, and `$ref` between schemas resolves by `$id`.
Validation uses Draft 2020-12 and asserts formats (`uuid`, `date-time`, `email`).

Failures raise `ContractViolation`. Its message names the schema id, the JSON pointer
of the failing value, the failing keyword and the value, masked when it may be personal
data. The message never quotes jsonschema's own text, because that text repeats values.

Run `python -m sxe.contracts pin` to record the SHA-256 of every schema file in
`contracts/PINNED.json`, and `python -m sxe.contracts check` to compare files with it.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import sxe
from sxe.errors import ContractViolation, UsageError

LEAD_CARD_V1 = "https://schemas.sxe.dev/handoff/lead-card.v1.json"
BUNDLE_MANIFEST_V1 = "https://schemas.sxe.dev/handoff/bundle-manifest.v1.json"
LEAD_CARD_V2 = "https://schemas.sxe.dev/handoff/lead-card.v2.json"
BUNDLE_MANIFEST_V2 = "https://schemas.sxe.dev/handoff/bundle-manifest.v2.json"
CARDS_PAGE_V1 = "https://schemas.sxe.dev/handoff/cards-page.v1.json"
ERASURES_PAGE_V1 = "https://schemas.sxe.dev/handoff/erasures-page.v1.json"
MERGES_PAGE_V1 = "https://schemas.sxe.dev/handoff/merges-page.v1.json"
QUEUE_MESSAGE_V1 = "https://schemas.sxe.dev/handoff/queue-message.v1.json"
PROBLEM_V1 = "https://schemas.sxe.dev/handoff/problem.v1.json"
ERASURE_RECEIPT_V1 = "https://schemas.sxe.dev/ops/erasure-receipt.v1.json"

SCHEMA_SUFFIX = ".schema.json"
PINNED_FILE_NAME = "PINNED.json"

# Value lengths and schema excerpts in messages are cut to keep messages one line.
_MAX_SHOWN_STRING = 80
_MAX_SHOWN_EXPECTATION = 200


# --- Locating and loading -------------------------------------------------------------


def find_contracts_dir(override: Path | None = None) -> Path:
    """Return the repository's `contracts/` folder, or `override` when given.

    Without an override, walk up from the installed `sxe` package to the first folder
    that contains both `contracts/` and `migrations/`. Callers pass the value of
    `SXE_CONTRACTS_DIR` as the override; this function reads no environment.
    Raises UsageError when the override is not a folder or no such folder is found.
    """
    if override is not None:
        if not override.is_dir():
            raise UsageError(f"contracts folder not found: {override}; set SXE_CONTRACTS_DIR to an existing folder")
        return override.resolve()

    start = Path(sxe.__file__).resolve().parent
    for folder in (start, *start.parents):
        if (folder / "contracts").is_dir() and (folder / "migrations").is_dir():
            return folder / "contracts"
    raise UsageError(
        f"no folder containing both contracts/ and migrations/ above {start}; "
        "set SXE_CONTRACTS_DIR to the contracts folder"
    )


class ContractSet:
    """All schemas under one contracts folder, with one compiled validator per schema.

    Validators are compiled on first use and cached for the life of the object.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._schemas: dict[str, dict[str, Any]] = {}
        self._ids_by_path: dict[str, str] = {}
        self._validators: dict[str, Draft202012Validator] = {}
        self._compiled: dict[str, jsonschema_rs.Draft202012Validator] = {}
        self._native: dict[str, Callable[[Any], bool]] = {}
        for path in sorted(root.rglob(f"*{SCHEMA_SUFFIX}")):
            self._add_schema_file(path)
        self._registry: Registry[Any] = Registry().with_resources(
            (schema_id, Resource.from_contents(schema, default_specification=DRAFT202012))
            for schema_id, schema in self._schemas.items()
        )

    def _add_schema_file(self, path: Path) -> None:
        relative = path.relative_to(self.root).as_posix()
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"schema file {relative} cannot be read as JSON: {exc}") from exc

        schema_id = schema.get("$id") if isinstance(schema, dict) else None
        if not isinstance(schema_id, str) or not schema_id:
            raise UsageError(f"schema file {relative} has no $id; add an absolute $id URI")
        if schema_id in self._schemas:
            other = next(p for p, i in self._ids_by_path.items() if i == schema_id)
            raise UsageError(f"schema files {other} and {relative} both declare $id {schema_id}")
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise UsageError(f"schema file {relative} is not a valid Draft 2020-12 schema: {exc.message}") from exc

        self._schemas[schema_id] = schema
        self._ids_by_path[relative] = schema_id

    @property
    def schema_ids(self) -> list[str]:
        """The `$id` of every loaded schema, sorted."""
        return sorted(self._schemas)

    def resolve_id(self, schema_ref: str) -> str:
        """Return the `$id` for `schema_ref`, which is an `$id` or a path relative to the root.

        Raises UsageError for an unknown schema or a path that leaves the contracts folder.
        """
        if schema_ref in self._schemas:
            return schema_ref
        relative = PurePosixPath(schema_ref)
        if relative.is_absolute() or ".." in relative.parts or "\\" in schema_ref:
            raise UsageError(f"schema path {schema_ref!r} must be relative to the contracts folder without '..'")
        schema_id = self._ids_by_path.get(relative.as_posix())
        if schema_id is None:
            raise UsageError(
                f"unknown schema {schema_ref!r} in {self.root}; known ids: {', '.join(self.schema_ids) or 'none'}"
            )
        return schema_id

    def schema(self, schema_ref: str) -> dict[str, Any]:
        """Return the parsed schema for an `$id` or relative path. Callers must not mutate it."""
        return self._schemas[self.resolve_id(schema_ref)]

    def validator(self, schema_ref: str) -> Draft202012Validator:
        """Return the cached compiled validator for an `$id` or relative path."""
        schema_id = self.resolve_id(schema_ref)
        compiled = self._validators.get(schema_id)
        if compiled is None:
            compiled = Draft202012Validator(
                self._schemas[schema_id], registry=self._registry, format_checker=FORMAT_CHECKER
            )
            self._validators[schema_id] = compiled
        return compiled

    def is_valid_json(self, document: Any, schema_ref: str) -> bool:
        """Return whether a decoded JSON document matches the schema, using the compiled Rust validator.

        `document` must be what a JSON parser returns (dict, list, str, int, float, bool,
        None). For other Python types the result may differ from `validate`: a tuple
        passes as an array and a Decimal as an integer. Formats are checked by the same
        functions `validate` uses. A False here is not authoritative on its own, because the
        regex engines differ (for example, Python's `$` also matches before a final
        newline), so callers run `validate` on a False to get the reference verdict and
        its message.
        """
        schema_id = self.resolve_id(schema_ref)
        compiled = self._compiled.get(schema_id)
        if compiled is None:
            compiled = jsonschema_rs.Draft202012Validator(
                self._schemas[schema_id],
                registry=jsonschema_rs.Registry(list(self._schemas.items())),
                validate_formats=True,
                formats=_RUST_FORMAT_CHECKS,
            )
            self._compiled[schema_id] = compiled
        try:
            return bool(compiled.is_valid(document))
        except ValueError:
            # Raised for a value of a type it cannot convert, such as a datetime.
            return False

    def is_valid_native(self, document: Any, schema_ref: str) -> bool:
        """Return whether a document matches the schema, with every rule and format checked in Rust.

        This is `is_valid_json` without the Python format callbacks, so it is faster. It
        uses jsonschema-rs's built-in format checks on a copy of the schema that also
        rejects, next to each format, the strings the built-in check accepts and
        FORMAT_CHECKER rejects (NATIVE_FORMAT_GAPS). So it accepts a subset of what
        `validate` accepts, and a False is not authoritative, as with `is_valid_json`.
        Schemas with a format outside NATIVE_FORMATS, or with a `$ref` to another file,
        always give False.
        """
        try:
            return bool(self.native_validator(schema_ref)(document))
        except ValueError:
            # Raised for a value of a type it cannot read, such as a datetime.
            return False

    def native_validator(self, schema_ref: str) -> Callable[[Any], bool]:
        """Return the function behind `is_valid_native` for one schema, for callers that check many documents.

        The function raises ValueError for a value of a type it cannot read, such as a
        datetime, where `is_valid_native` returns False.
        """
        schema_id = self.resolve_id(schema_ref)
        if schema_id not in self._native:
            compiled = self._compile_native(schema_id)
            self._native[schema_id] = compiled.is_valid if compiled is not None else _reject_all
        return self._native[schema_id]

    def _compile_native(self, schema_id: str) -> jsonschema_rs.Draft202012Validator | None:
        formats: set[str] = set()
        schema = _native_schema(self._schemas[schema_id], formats)
        if not formats <= NATIVE_FORMATS:
            return None
        return jsonschema_rs.Draft202012Validator(
            schema, validate_formats=True, email_options=_NATIVE_EMAIL_OPTIONS, ignore_unknown_formats=False
        )

    def iter_errors(self, document: Any, schema_ref: str) -> Iterator[ContractViolation]:
        """Yield one ContractViolation per failing rule, ordered by JSON pointer; nothing for a valid document."""
        schema_id = self.resolve_id(schema_ref)
        errors = sorted(self.validator(schema_id).iter_errors(document), key=_sort_key)
        previous = ""
        for error in errors:
            violation = _to_violation(error, schema_id)
            # jsonschema reports `required` once per missing property, and each message lists them all.
            if str(violation) != previous:
                yield violation
            previous = str(violation)

    def validate(self, document: Any, schema_ref: str) -> None:
        """Raise ContractViolation for the most relevant failure unless `document` matches the schema."""
        schema_id = self.resolve_id(schema_ref)
        error = best_match(self.validator(schema_id).iter_errors(document))
        if error is not None:
            raise _to_violation(error, schema_id)


def load_contracts(contracts_dir: Path | None = None) -> ContractSet:
    """Return the ContractSet for `contracts_dir` (or the repository's folder), cached per folder.

    Edits to schema files after the first call are not seen by this process.
    """
    return _load_contracts_cached(find_contracts_dir(contracts_dir))


@functools.lru_cache(maxsize=8)
def _load_contracts_cached(root: Path) -> ContractSet:
    return ContractSet(root)


def validate(document: Any, schema_id: str, *, contracts_dir: Path | None = None) -> None:
    """Raise ContractViolation unless `document` matches the schema named by `$id` or relative path."""
    load_contracts(contracts_dir).validate(document, schema_id)


def iter_errors(document: Any, schema_id: str, *, contracts_dir: Path | None = None) -> Iterator[ContractViolation]:
    """Yield a ContractViolation for every failing rule of `document`; yield nothing when it matches."""
    return load_contracts(contracts_dir).iter_errors(document, schema_id)


# --- Formats --------------------------------------------------------------------------

_DATE_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_EMAIL_FORMAT_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _is_date_time(value: object) -> bool:
    """Check RFC 3339 `date-time`: a full date, a time and a required offset."""
    if not isinstance(value, str):
        return True
    if not _DATE_TIME_RE.fullmatch(value):
        return False
    # NOTE: a leap second (":60") is valid RFC 3339 but fails here because datetime rejects it.
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_email(value: object) -> bool:
    """Check `email` loosely: one `@`, no whitespace and a dot in the domain. It is no RFC 5321 parser."""
    if not isinstance(value, str):
        return True
    return _EMAIL_FORMAT_RE.fullmatch(value) is not None


def _build_format_checker() -> FormatChecker:
    # FormatChecker() starts from every format jsonschema can check with the installed
    # packages. `date-time` and `email` are replaced so they never depend on optional
    # packages (jsonschema checks date-time only when rfc3339-validator is installed).
    checker = FormatChecker()
    checker.checks("date-time")(_is_date_time)
    checker.checks("email")(_is_email)
    return checker


FORMAT_CHECKER = _build_format_checker()


def _format_check(name: str) -> Callable[[str], bool]:
    """Return FORMAT_CHECKER's check of `name` as a function that returns False where it raises."""
    function, raises = FORMAT_CHECKER.checkers[name]

    def check(value: str) -> bool:
        try:
            return bool(function(value))
        except raises:
            return False

    return check


# The compiled validator calls back into FORMAT_CHECKER for every format that
# FORMAT_CHECKER checks, so a format means the same in `is_valid_json` as in `validate`.
# The exception is `uuid`: the Rust check accepts only the hyphenated 8-4-4-4-12 hex
# form, which jsonschema's check accepts too, and it is several microseconds faster per
# value. A uuid that only jsonschema accepts (a full-width digit) goes through `validate`
# after the False.
_RUST_FORMAT_CHECKS = {name: _format_check(name) for name in FORMAT_CHECKER.checkers if name != "uuid"}


# Formats whose jsonschema-rs built-in check (0.60) can stand in for FORMAT_CHECKER in
# `is_valid_native`. The email options make the built-in check require a dot in the
# domain and reject domain literals and display names, as _is_email does.
NATIVE_FORMATS = frozenset({"uuid", "date-time", "email"})
_NATIVE_EMAIL_OPTIONS = jsonschema_rs.EmailOptions(
    require_tld=True, allow_domain_literal=False, allow_display_text=False
)
# Regular expressions for the strings that a built-in check accepts and FORMAT_CHECKER
# rejects. `is_valid_native` rejects a match next to the format. For `date-time` they are
# a leap second (`23:59:60Z`, which datetime rejects) and the year 0000 (datetime starts
# at year 1). For `email` it is a quoted local part such as `"a b"@example.com`.
# tests/contracts/test_native_formats.py compares the checks.
NATIVE_FORMAT_GAPS = {"date-time": "^0000-|:60", "email": '"'}
# Keywords whose value is a subschema, a list of subschemas or a map of names to
# subschemas in Draft 2020-12.
_SUBSCHEMA_KEYWORDS = frozenset(
    {"additionalProperties", "contains", "else", "if", "items", "not", "propertyNames", "then"}
    | {"unevaluatedItems", "unevaluatedProperties"}
)
_SUBSCHEMA_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SUBSCHEMA_MAP_KEYWORDS = frozenset({"$defs", "definitions", "dependentSchemas", "patternProperties", "properties"})


def _reject_all(document: Any) -> bool:
    return False


def _native_schema(schema: Any, formats: set[str]) -> Any:
    """Return a copy of `schema` where each format in NATIVE_FORMAT_GAPS also rejects its gap.

    Adds every `format` it finds to `formats`. Sets `formats` to contain "$ref" when the
    schema refers to another file, whose formats this copy cannot change.
    """
    if not isinstance(schema, dict):
        return schema
    guarded: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword in _SUBSCHEMA_KEYWORDS:
            guarded[keyword] = _native_schema(value, formats)
        elif keyword in _SUBSCHEMA_LIST_KEYWORDS and isinstance(value, list):
            guarded[keyword] = [_native_schema(item, formats) for item in value]
        elif keyword in _SUBSCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            guarded[keyword] = {name: _native_schema(item, formats) for name, item in value.items()}
        else:
            guarded[keyword] = value

    if isinstance(schema.get("$ref"), str) and not schema["$ref"].startswith("#"):
        formats.add("$ref")
    name = schema.get("format")
    if isinstance(name, str):
        formats.add(name)
        if name in NATIVE_FORMAT_GAPS:
            guard = {"not": {"pattern": NATIVE_FORMAT_GAPS[name]}}
            guarded["allOf"] = [*guarded.get("allOf", []), guard]
    return guarded


# --- Messages and masking -------------------------------------------------------------

_PII_KEY_PARTS = ("email", "phone", "number", "address", "mobile", "msisdn")
_PII_KEYS = frozenset({"bio", "tel"})
_EMAIL_LIKE_RE = re.compile(r"[^\s@]+@[^\s@]+")
_PHONE_LIKE_RE = re.compile(r"\+?\d[\d\s().-]{5,}\d")
_MIN_PHONE_DIGITS = 7
# Whole strings of these shapes hold digit runs but are not phone numbers.
_NOT_PHONE_RES = (
    re.compile(r"\d{4}-\d{2}-\d{2}([Tt ][\d:.]+)?([Zz]|[+-]\d{2}:?\d{2})?"),
    re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    re.compile(r"[0-9a-fA-F]{32,}"),
)


def is_pii_key(key: object) -> bool:
    """Return whether values under this object key may be personal data (email, phone, address, bio)."""
    if not isinstance(key, str):
        return False
    lowered = key.lower()
    return lowered in _PII_KEYS or any(part in lowered for part in _PII_KEY_PARTS)


def looks_like_pii(text: str) -> bool:
    """Return whether `text` contains something shaped like an email address or a phone number."""
    if _EMAIL_LIKE_RE.search(text):
        return True
    if any(pattern.fullmatch(text) for pattern in _NOT_PHONE_RES):
        return False
    for match in _PHONE_LIKE_RE.finditer(text):
        if sum(char.isdigit() for char in match.group()) >= _MIN_PHONE_DIGITS:
            return True
    return False


def describe_value(value: Any, path: Sequence[str | int] = ()) -> str:
    """Describe `value` for an error message, masking it when it may be personal data.

    A value is masked when any key on `path` is a PII key or when it is a string that
    looks like an email or phone number. A masked value shows only its type and length.
    Objects and arrays always show only their size.
    """
    masked = any(is_pii_key(part) for part in path)
    if isinstance(value, dict):
        return f"<object with {len(value)} keys>"
    if isinstance(value, list):
        return f"<array of {len(value)} items>"
    if isinstance(value, str):
        if masked or looks_like_pii(value):
            return f"<masked string of length {len(value)}>"
        if len(value) > _MAX_SHOWN_STRING:
            return json.dumps(value[:_MAX_SHOWN_STRING], ensure_ascii=False) + "..."
        return json.dumps(value, ensure_ascii=False)
    if masked:
        return f"<masked {type(value).__name__}>"
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return f"<{type(value).__name__}>"


def json_pointer(path: Sequence[str | int]) -> str:
    """Return the RFC 6901 JSON pointer for a path of keys and indexes; the root is ""."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _describe_key(key: str) -> str:
    return f"<masked key of length {len(key)}>" if looks_like_pii(key) else repr(key)


def _unexpected_keys(error: ValidationError) -> list[str]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    declared = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    patterns = error.schema.get("patternProperties", {}) if isinstance(error.schema, dict) else {}
    return [key for key in instance if key not in declared and not any(re.search(pattern, key) for pattern in patterns)]


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN_EXPECTATION else text[:_MAX_SHOWN_EXPECTATION] + "..."


def _expectation(error: ValidationError) -> str:
    """Describe what the failing keyword requires, from schema text only (never the instance)."""
    keyword = error.validator
    expected = error.validator_value
    if keyword == "required" and isinstance(expected, list):
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = [name for name in expected if name not in instance]
        return "missing required properties: " + ", ".join(_describe_key(name) for name in missing)
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        return "unexpected properties: " + ", ".join(_describe_key(key) for key in _unexpected_keys(error))
    if keyword == "type":
        return f"expected type {json.dumps(expected)}"
    if keyword == "enum":
        return _shorten(f"expected one of {json.dumps(expected, ensure_ascii=False)}")
    if keyword == "const":
        return _shorten(f"expected {json.dumps(expected, ensure_ascii=False)}")
    if keyword == "format":
        return f"expected format {expected!r}"
    if keyword == "pattern":
        return f"expected a string matching {expected}"
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return f"{keyword} is {expected}"
    return f"the value fails the {keyword!r} rule"


def _to_violation(error: ValidationError, schema_id: str) -> ContractViolation:
    path = list(error.absolute_path)
    pointer = json_pointer(path)
    # A `false` subschema fails with no keyword.
    rule = str(error.validator) if error.validator is not None else "false"
    where = pointer if pointer else "the document root"
    message = (
        f"document does not match {schema_id} at {where}: rule {rule!r} failed, "
        f"{_expectation(error)}; value {describe_value(error.instance, path)}"
    )
    return ContractViolation(message, pointer=pointer, rule=rule, schema_id=schema_id)


def _sort_key(error: ValidationError) -> tuple[str, str]:
    return (json_pointer(list(error.absolute_path)), str(error.validator))


# --- Pinning published schemas --------------------------------------------------------


def schema_file_hashes(root: Path) -> dict[str, str]:
    """Return the SHA-256 hex digest of every `*.schema.json` file, keyed by POSIX path relative to `root`."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob(f"*{SCHEMA_SUFFIX}"))
    }


def read_pins(root: Path) -> dict[str, str]:
    """Return the committed map of schema path to SHA-256 from `PINNED.json`, or {} when it is missing."""
    pinned_file = root / PINNED_FILE_NAME
    if not pinned_file.exists():
        return {}
    pins = json.loads(pinned_file.read_text(encoding="utf-8"))
    if not isinstance(pins, dict):
        raise UsageError(f"{pinned_file} must contain a JSON object of schema path to SHA-256")
    return {str(path): str(digest) for path, digest in pins.items()}


def pin_schemas(root: Path, *, force: bool = False) -> dict[str, str]:
    """Write `PINNED.json` with the SHA-256 of every schema file and return the new map.

    A published schema version must never change: a change is a new file with a new
    version in its name and `$id`. So, unless `force` is set, this adds pins for new
    files only and raises UsageError when a pinned file changed or disappeared. Use
    `force` only for a version that no consumer has received yet.
    """
    current = schema_file_hashes(root)
    pinned = read_pins(root)
    if not force:
        changed = sorted(path for path, digest in pinned.items() if current.get(path) != digest)
        if changed:
            raise UsageError(
                f"published schemas changed or were removed: {', '.join(changed)}; "
                "restore them and publish a new version instead"
            )
    text = json.dumps(current, indent=2, sort_keys=True) + "\n"
    (root / PINNED_FILE_NAME).write_text(text, encoding="utf-8")
    return current


def check_pins(root: Path) -> list[str]:
    """Return one line per schema file that is unpinned, changed or missing; empty when all match."""
    current = schema_file_hashes(root)
    pinned = read_pins(root)
    problems = []
    for path in sorted(set(current) | set(pinned)):
        if path not in pinned:
            problems.append(f"{path}: not pinned; run `python -m sxe.contracts pin`")
        elif path not in current:
            problems.append(f"{path}: pinned but the file is missing")
        elif current[path] != pinned[path]:
            problems.append(f"{path}: SHA-256 differs from {PINNED_FILE_NAME}; published schemas must not change")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Run `pin` or `check` on the contracts folder and return the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m sxe.contracts", description=__doc__.splitlines()[0])
    parser.add_argument(
        "command", choices=("pin", "check"), help="pin: write PINNED.json; check: compare files with it"
    )
    parser.add_argument("--contracts-dir", type=Path, help="contracts folder (default: found from the sxe package)")
    parser.add_argument("--force", action="store_true", help="pin: also overwrite pins of changed or removed files")
    args = parser.parse_args(argv)

    try:
        root = find_contracts_dir(args.contracts_dir)
        if args.command == "pin":
            pins = pin_schemas(root, force=args.force)
            print(f"pinned {len(pins)} schema files in {root / PINNED_FILE_NAME}")
            return 0
        problems = check_pins(root)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
