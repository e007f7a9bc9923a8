"""Write and read handoff bundles: gzip JSON Lines of lead cards plus a manifest.

A bundle is two objects under `{prefix}/{bundle_id}/`: `records.jsonl.gz` and
`manifest.json` (bundle-manifest.v1). Every record is validated before anything is
uploaded, so a bundle is written completely or not at all. The data file is uploaded
before the manifest, so a manifest never names a missing file.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import queue
import tempfile
import threading
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol, cast

import orjson

import sxe
from sxe.contracts import (
    BUNDLE_MANIFEST_V1,
    BUNDLE_MANIFEST_V2,
    LEAD_CARD_V1,
    LEAD_CARD_V2,
    ContractSet,
    describe_value,
    load_contracts,
)
from sxe.errors import ContractViolation, UsageError
from sxe.handoff.store import ObjectStore, validate_key

DATA_FILE_NAME = "records.jsonl.gz"
MANIFEST_FILE_NAME = "manifest.json"
RECORD_CONTENT_TYPE = "application/x-ndjson"
# The stored object is sent as plain gzip. Declaring Content-Encoding: gzip on it would
# make HTTP clients decompress on download, and the bytes would no longer match sha256.
DATA_OBJECT_CONTENT_TYPE = "application/gzip"
MANIFEST_CONTENT_TYPE = "application/json"
ALL_CONTACT_FIELDS = ("emails", "phones")
# A manifest's `schema_version` names the schema it follows.
MANIFEST_SCHEMAS = {"bundle-manifest.v1": BUNDLE_MANIFEST_V1, "bundle-manifest.v2": BUNDLE_MANIFEST_V2}
GZIP_LEVEL = 6
_CHUNK_BYTES = 1024 * 1024
_WRITE_BLOCK_BYTES = 256 * 1024
_QUEUED_BLOCKS = 4

_LINE_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE

RecordValidator = Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True, slots=True)
class BundleResult:
    """A written bundle. `sha256` and `bytes` describe the compressed data file."""

    bundle_id: str
    manifest_key: str
    data_key: str
    record_count: int
    sha256: str
    bytes: int
    manifest: dict[str, Any]


class _HashingWriter:
    """A write-only binary file that hashes and counts the bytes it passes to `target`."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.target.write(data)

    def flush(self) -> None:
        self.target.flush()


def encode_record(record: Mapping[str, Any]) -> bytes:
    """Encode one record as a canonical JSON line: sorted keys, no spaces, UTF-8, ending in a newline.

    orjson writes the same bytes as `json.dumps(..., separators=(",", ":"),
    ensure_ascii=False, sort_keys=True)` for the strings, integers and short decimals of
    lead cards. It differs in float exponents (`1e-5`, not `1e-05`), writes NaN and
    infinity as null, and raises TypeError (orjson.JSONEncodeError) for integers beyond
    64 bits and for keys that are not strings.
    """
    return orjson.dumps(record, option=_LINE_OPTIONS)


def write_bundle(
    records: Iterable[Mapping[str, Any]],
    *,
    store: ObjectStore,
    bundle_id: str | uuid.UUID,
    prefix: str,
    filters: Mapping[str, Any],
    created_at: datetime,
    expires_at: datetime | None,
    validate_record: RecordValidator | None = None,
    contracts_dir: Path | None = None,
    record_schema: str = LEAD_CARD_V1,
    contact_fields: Iterable[str] = ALL_CONTACT_FIELDS,
) -> BundleResult:
    """Write `records` as a bundle under `{prefix}/{bundle_id}/` and return what was written.

    Records stream through a temporary local file, so memory use does not grow with the
    record count. Identical records and arguments give identical data bytes (gzip mtime 0).
    Each record is checked by `validate_record`, which defaults to validating its encoded
    line against `record_schema`. A failing record raises ContractViolation naming its
    0-based index and card_id, and nothing is uploaded. Records of lead-card.v1 get a bundle-manifest.v1,
    so a consumer written for version 1 reads them unchanged; records of lead-card.v2 get
    a bundle-manifest.v2, which also lists `contact_fields`. The manifest is
    validated before upload. Raises UsageError for a bad prefix or bundle id, naive
    datetimes, `expires_at` before `created_at`, or an unknown record schema.
    """
    bundle_text = _check_bundle_id(bundle_id)
    _check_times(created_at, expires_at)
    folder = f"{validate_key(prefix)}/{bundle_text}"
    data_key = validate_key(f"{folder}/{DATA_FILE_NAME}")
    manifest_key = validate_key(f"{folder}/{MANIFEST_FILE_NAME}")
    if record_schema not in (LEAD_CARD_V1, LEAD_CARD_V2):
        raise UsageError(f"record schema {record_schema!r} is unknown; use {LEAD_CARD_V1} or {LEAD_CARD_V2}")
    contracts = load_contracts(contracts_dir)

    with tempfile.TemporaryDirectory(prefix="sxe-bundle-") as scratch:
        data_path = Path(scratch) / DATA_FILE_NAME
        encoded = _encode_checked(records, validate_record, contracts, record_schema)
        record_count, digest, size = _write_lines(encoded, data_path)
        manifest = build_manifest(
            bundle_id=bundle_text,
            record_count=record_count,
            sha256=digest,
            size=size,
            filters=filters,
            created_at=created_at,
            expires_at=expires_at,
            record_schema=record_schema,
            contact_fields=contact_fields,
        )
        contracts.validate(manifest, MANIFEST_SCHEMAS[manifest["schema_version"]])
        # Serialize before any upload, so filters that are not JSON fail with nothing written.
        manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n"
        store.put_file(data_key, data_path, DATA_OBJECT_CONTENT_TYPE)

    store.put_bytes(manifest_key, manifest_bytes, MANIFEST_CONTENT_TYPE)
    return BundleResult(bundle_text, manifest_key, data_key, record_count, digest, size, manifest)


def _encode_checked(
    records: Iterable[Mapping[str, Any]],
    validate_record: RecordValidator | None,
    contracts: ContractSet,
    record_schema: str,
) -> Iterator[bytes]:
    """Encode each record as a JSON line after checking it; raise ContractViolation for the first invalid one.

    Without `validate_record`, the check is the schema check of the encoded line as a
    consumer parses it. It runs in up to three steps, each only for a line the step before
    did not accept. First the record itself goes through the all-Rust validator, which
    decides for the bytes too (see _check_line). Then the line is parsed back and
    checked by the compiled validator with the reference format checks. Last, the
    reference jsonschema validator either raises the violation with its pointer and rule
    or overrules the rejection where the two regex engines differ.
    """
    if validate_record is not None:
        for index, record in enumerate(records):
            _check_record(record, index, validate_record, "so no bundle was written")
            yield encode_record(record)
        return

    # The loop calls orjson and the validator directly, because Python wrappers around
    # the two calls took about a quarter of the loop's time in a profile.
    is_valid_native = contracts.native_validator(record_schema)
    for index, record in enumerate(records):
        try:
            line = orjson.dumps(record, option=_LINE_OPTIONS)
        except TypeError:
            # orjson cannot encode the value (an integer beyond 64 bits, a set). The schema
            # check reports a record it rejects; json.dumps encodes the others or raises.
            _check_record(record, index, _schema_check(contracts, record_schema), "so no bundle was written")
            yield _encode_with_json(record)
            continue
        try:
            valid = is_valid_native(record)
        except ValueError:
            valid = False
        if not valid:
            _check_line(line, index, contracts, record_schema)
        yield line


def _check_line(line: bytes, index: int, contracts: ContractSet, schema_id: str) -> None:
    """Check the parsed `line` with the reference format checks; raise ContractViolation when it does not match.

    Runs for a record the all-Rust validator did not accept. That validator checks the
    record in place of the parsed line. It can, because orjson writes each value the Rust
    validator reads either as JSON that parses back to an equal value or not at all. It
    raises for a Decimal or an int beyond 64 bits, and such a record never reaches the
    check. The exceptions are NaN and infinity, written as null. The Rust validator
    rejects them wherever the schema restricts the type, and where it does not, null
    passes as well.
    NOTE: that holds for the published lead-card schemas, and
    tests/contracts/test_compiled_validator.py checks every path of their examples. A
    schema where NaN passes and null does not, such as `{"not": {"type": "null"}}`, would
    need the parsed line for every record.
    """
    document = orjson.loads(line)
    if not contracts.is_valid_json(document, schema_id):
        _check_record(document, index, _schema_check(contracts, schema_id), "so no bundle was written")


def _encode_with_json(record: Mapping[str, Any]) -> bytes:
    line = json.dumps(record, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return line.encode("utf-8") + b"\n"


def _schema_check(contracts: ContractSet, schema_id: str) -> RecordValidator:
    return lambda document: contracts.validate(document, schema_id)


def _write_lines(lines: Iterable[bytes], path: Path) -> tuple[int, str, int]:
    """Write JSON lines gzip-compressed to `path`; return (count, sha256 hex, compressed bytes)."""
    count = 0
    with path.open("wb") as raw:
        writer = _HashingWriter(raw)
        # filename="" and mtime=0 keep the gzip header free of names and times.
        target = cast(IO[bytes], writer)
        with (
            gzip.GzipFile(filename="", mode="wb", fileobj=target, compresslevel=GZIP_LEVEL, mtime=0) as compressed,
            _BackgroundWriter(compressed) as background,
        ):
            # Lines are joined into blocks because each GzipFile.write call costs a CRC and
            # a compressor call. The output bytes do not depend on the block size.
            block: list[bytes] = []
            block_bytes = 0
            for line in lines:
                block.append(line)
                block_bytes += len(line)
                count += 1
                if block_bytes >= _WRITE_BLOCK_BYTES:
                    background.write(b"".join(block))
                    block.clear()
                    block_bytes = 0
            background.write(b"".join(block))
    return count, writer.digest.hexdigest(), writer.size


class _BlockTarget(Protocol):
    """The output of `_BackgroundWriter`: a file or a `gzip.GzipFile`."""

    def write(self, data: bytes, /) -> int: ...


class _BackgroundWriter:
    """Writes blocks to `target` on a second thread, so compressing one block overlaps encoding the next.

    zlib, hashlib and file writes release the GIL for large buffers, which is what lets
    the two threads run at once. The queue holds at most _QUEUED_BLOCKS blocks, so memory
    stays bounded. A write error on the thread is raised by the next `write` or on exit.
    """

    def __init__(self, target: _BlockTarget) -> None:
        self._target = target
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUED_BLOCKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sxe-bundle-gzip", daemon=True)

    def __enter__(self) -> _BackgroundWriter:
        self._thread.start()
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        self._queue.put(None)
        self._thread.join()
        if exc_type is None and self._error is not None:
            raise self._error

    def write(self, block: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(block)

    def _run(self) -> None:
        # Keeps taking blocks after an error, so a `write` blocked on a full queue returns.
        while (block := self._queue.get()) is not None:
            if self._error is not None:
                continue
            try:
                self._target.write(block)
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                self._error = exc


def _check_record(record: Mapping[str, Any], index: int, check: RecordValidator, consequence: str) -> None:
    """Run `check` and re-raise its ContractViolation with the 0-based record index and card_id."""
    try:
        check(record)
    except ContractViolation as exc:
        card_id = record.get("card_id") if isinstance(record, Mapping) else None
        raise ContractViolation(
            f"record {index} (card_id {describe_value(card_id)}) is invalid, {consequence}: {exc}",
            pointer=exc.pointer,
            rule=exc.rule,
            schema_id=exc.schema_id,
        ) from exc


def build_manifest(
    *,
    bundle_id: str,
    record_count: int,
    sha256: str,
    size: int,
    filters: Mapping[str, Any],
    created_at: datetime,
    expires_at: datetime | None,
    record_schema: str = LEAD_CARD_V1,
    contact_fields: Iterable[str] = ALL_CONTACT_FIELDS,
) -> dict[str, Any]:
    """Return the manifest for one data file: bundle-manifest.v1 for lead-card.v1 records, else v2.

    `contact_fields` is written only to a version 2 manifest.
    The manifest is not validated here.
    """
    fields = sorted(set(contact_fields))
    manifest: dict[str, Any] = {
        "schema_version": "bundle-manifest.v1" if record_schema == LEAD_CARD_V1 else "bundle-manifest.v2",
        "bundle_id": bundle_id,
        "record_schema": record_schema,
        "record_count": record_count,
        "files": [
            {
                "name": DATA_FILE_NAME,
                "sha256": sha256,
                "bytes": size,
                "content_type": RECORD_CONTENT_TYPE,
                "content_encoding": "gzip",
            }
        ],
        "filters": dict(filters),
        "created_at": format_timestamp(created_at),
        "expires_at": format_timestamp(expires_at) if expires_at is not None else None,
        "producer": {"name": "sxe", "version": sxe.__version__},
    }
    # Version 1 has no field for them; callers record them in `filters` instead.
    if record_schema != LEAD_CARD_V1:
        manifest["contact_fields"] = fields
    return manifest


def format_timestamp(moment: datetime) -> str:
    """Format an aware datetime as RFC 3339 in UTC with a `Z` suffix."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _check_bundle_id(bundle_id: str | uuid.UUID) -> str:
    try:
        return str(bundle_id if isinstance(bundle_id, uuid.UUID) else uuid.UUID(str(bundle_id)))
    except ValueError as exc:
        raise UsageError(f"bundle_id {bundle_id!r} is not a UUID") from exc


def _check_times(created_at: datetime, expires_at: datetime | None) -> None:
    for name, moment in (("created_at", created_at), ("expires_at", expires_at)):
        if moment is not None and moment.utcoffset() is None:
            raise UsageError(f"{name} {moment.isoformat()} has no time zone; pass an aware datetime")
    if expires_at is not None and expires_at <= created_at:
        raise UsageError(
            f"expires_at {format_timestamp(expires_at)} must be later than created_at {format_timestamp(created_at)}"
        )


# --- Reading --------------------------------------------------------------------------


def read_bundle(
    store: ObjectStore,
    manifest_key: str,
    *,
    validate_records: bool = True,
    contracts_dir: Path | None = None,
) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    """Return the validated manifest and an iterator over the bundle's records.

    The manifest is validated against the schema its `schema_version` names.
    Before returning, the data file's SHA-256, size and line count are checked against
    the manifest in one streaming pass, so a consumer receives no record of a corrupt bundle.
    A mismatch raises ContractViolation. With `validate_records`, the iterator also
    validates each record against the manifest's `record_schema`.
    NOTE: on a store without local files (S3), the whole data file is held in memory.
    """
    contracts = load_contracts(contracts_dir)
    manifest = _load_manifest(store, validate_key(manifest_key))
    contracts.validate(manifest, _manifest_schema(manifest))

    entry = manifest["files"][0]
    data_key = validate_key(f"{manifest_key.rpartition('/')[0]}/{entry['name']}".lstrip("/"))
    opener = _opener(store, data_key)
    _verify_data(opener, data_key, entry, manifest["record_count"])

    schema_id = manifest["record_schema"] if validate_records else None
    return manifest, _iter_records(opener, data_key, schema_id, contracts_dir)


def _load_manifest(store: ObjectStore, manifest_key: str) -> dict[str, Any]:
    try:
        manifest = json.loads(store.get_bytes(manifest_key))
    except ValueError as exc:
        raise ContractViolation(
            f"manifest {manifest_key!r} is not valid UTF-8 JSON: {type(exc).__name__}", schema_id=BUNDLE_MANIFEST_V1
        ) from exc
    if not isinstance(manifest, dict):
        raise ContractViolation(
            f"manifest {manifest_key!r} must be a JSON object", rule="type", schema_id=BUNDLE_MANIFEST_V1
        )
    return manifest


def _manifest_schema(manifest: dict[str, Any]) -> str:
    schema_id = MANIFEST_SCHEMAS.get(str(manifest.get("schema_version")))
    if schema_id is None:
        raise ContractViolation(
            f"manifest schema_version {describe_value(manifest.get('schema_version'))} is unknown; "
            f"expected one of {', '.join(MANIFEST_SCHEMAS)}",
            pointer="/schema_version",
            rule="enum",
            schema_id=BUNDLE_MANIFEST_V1,
        )
    return schema_id


def _opener(store: ObjectStore, data_key: str) -> Callable[[], IO[bytes]]:
    """Return a function that opens the data file for binary reading, from disk when the store has local files."""
    local = store.local_path(data_key)
    if local is not None:
        if not local.is_file():
            store.get_bytes(data_key)  # raises the store's ObjectNotFound
        return lambda: local.open("rb")

    data = store.get_bytes(data_key)
    return lambda: io.BytesIO(data)


def _verify_data(opener: Callable[[], IO[bytes]], data_key: str, entry: Mapping[str, Any], expected_count: int) -> None:
    digest = hashlib.sha256()
    size = 0
    lines = 0
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        with opener() as handle:
            while chunk := handle.read(_CHUNK_BYTES):
                digest.update(chunk)
                size += len(chunk)
                lines += inflater.decompress(chunk).count(b"\n")
    except zlib.error as exc:
        raise _mismatch(data_key, "files/0/sha256", f"it is not a valid gzip stream ({exc})") from exc

    if digest.hexdigest() != entry["sha256"]:
        raise _mismatch(data_key, "files/0/sha256", "its SHA-256 differs from the manifest")
    if size != entry["bytes"]:
        raise _mismatch(
            data_key, "files/0/bytes", f"its size is {size} bytes, expected {entry['bytes']} from the manifest"
        )
    if not inflater.eof or inflater.unused_data:
        raise _mismatch(data_key, "files/0/sha256", "it is not exactly one complete gzip stream")
    if lines != expected_count:
        raise _mismatch(
            data_key, "record_count", f"it contains {lines} records, expected {expected_count} from the manifest"
        )


def _mismatch(data_key: str, pointer: str, problem: str) -> ContractViolation:
    return ContractViolation(
        f"bundle data file {data_key!r} does not match its manifest: {problem}",
        pointer=f"/{pointer}",
        rule="const",
        schema_id=BUNDLE_MANIFEST_V1,
    )


def _iter_records(
    opener: Callable[[], IO[bytes]], data_key: str, schema_id: str | None, contracts_dir: Path | None
) -> Iterator[dict[str, Any]]:
    contracts = load_contracts(contracts_dir)
    with opener() as raw, gzip.GzipFile(fileobj=raw, mode="rb") as lines:
        for index, line in enumerate(lines):
            record = json.loads(line)
            if schema_id is not None and not contracts.is_valid_json(record, schema_id):
                _check_record(
                    record,
                    index,
                    lambda document: contracts.validate(document, schema_id),
                    f"in bundle data file {data_key!r}",
                )
            yield record
