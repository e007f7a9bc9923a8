"""Benchmark: build a lead-card bundle and compare it with bare orjson + gzip of the same records.

Measurements in one run, on one machine:

1. Reference: the rendered records encoded with `orjson.dumps` and written through one
   `gzip.GzipFile` at the bundle's level (6), one write per record, into a local file.
   It is timed on each chunk of 5,000 records just before the chunk goes to the writer,
   so load from other processes falls on both alike.
2. Bundle: `write_bundle` on the rendered records: it encodes each record, validates it
   against lead-card.v2, compresses, hashes and stores the data file in a local object
   store. Generating and rendering the chunks and the reference are subtracted from
   its time. The bundle is read back and checked against its manifest afterwards.
   Loading the schemas and compiling the validators, once per process, is timed before
   this step and reported apart (`setup_seconds`).
3. From rows: the same with `render_card` inside the timed span, as an export runs it.
4. Database (unless `--db-cards 0`): the same number of ready cards seeded in PostgreSQL,
   then read through the export's server-side cursor alone, and then exported into a
   bundle from that cursor, to show whether the read or the writer limits an export.

`bundle_to_reference` is the bundle's records per second divided by the reference's.
Per-record stage costs (render, encode, validate, compress) come from one extra pass
over the first 20,000 records.

    .venv/bin/python bench/handoff_bundle.py --cards 200000 --json /tmp/handoff.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from psycopg.types.json import Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _database import bench_database  # noqa: E402

from sxe.cards import DEFAULT_INTENT  # noqa: E402
from sxe.contracts import LEAD_CARD_V2, load_contracts  # noqa: E402
from sxe.db import connect, sql, transaction  # noqa: E402
from sxe.handoff.bundle import GZIP_LEVEL, BundleResult, encode_record, read_bundle, write_bundle  # noqa: E402
from sxe.handoff.export import FETCH_ROWS  # noqa: E402
from sxe.handoff.records import CONTRACT_PLATFORMS, RecordFormat, render_card  # noqa: E402
from sxe.handoff.store import LocalObjectStore  # noqa: E402

CHUNK_ROWS = 5_000
STAGE_SAMPLE = 20_000
TARGET_RATIO = 0.70
RECORD_FORMAT = RecordFormat("lead-card.v2")
POOL = "bench"
# A recent scrub, so the phone passes the 31-day scrub age check of render_card.
SCRUBBED_AT = (datetime.now(UTC) - timedelta(days=1)).isoformat()


def card_row(index: int) -> dict[str, Any]:
    """Return one `contact.handoff_cards`-shaped row, different per index."""
    return {
        "card_id": uuid.UUID(int=index + 1),
        "pool": POOL,
        "readiness": "ready",
        "readiness_reason": "matched",
        "ruleset_version": "personas-v1",
        "updated_at": datetime(2026, 12, 4, tzinfo=UTC) + timedelta(microseconds=index),
        "profiles": [
            {
                "platform": "x",
                "platform_user_id": str(10_000_000 + index),
                "handle": f"maker_{index}",
                "profile_url": f"https://x.com/maker_{index}",
                "display_name": f"Maker {index}",
                "followers": 1000 + index % 50_000,
                "following": 300,
                "posts": 1200,
                "verified": index % 17 == 0,
                "quality_flags": [],
                "website_domain": "example.com",
                "language": "en",
                "source_format": "x-api-v2",
                "source_file": "imports/x.jsonl",
                "collected_at": "2026-12-03T18:00:00+00:00",
            }
        ],
        "labels": [
            {
                "kind": "persona",
                "value": "founder",
                "score": 0.8,
                "rule_id": "persona.founder",
                "ruleset_version": "personas-v1",
                "evidence": {"matched_terms": ["founder"]},
            },
            {
                "kind": "tribe",
                "value": "indie-hackers",
                "score": 0.6,
                "rule_id": "tribe.indie",
                "ruleset_version": "personas-v1",
                "evidence": {"matched_terms": ["indie"]},
            },
        ],
        "contact_points": [
            {
                "kind": "email",
                "value": f"maker{index}@example.com",
                "status": "verified",
                "line_type": None,
                "dnc_status": None,
                "scrubbed_at": None,
                "source": "apollo",
                "simulated": True,
                "suppressed": False,
            },
            {
                "kind": "phone",
                "value": f"+1555{index % 10_000_000:07d}",
                "status": None,
                "line_type": "mobile",
                "dnc_status": "clear",
                "scrubbed_at": SCRUBBED_AT,
                "source": "apollo",
                "simulated": True,
                "suppressed": index % 97 == 0,
            },
        ],
        "decisions": [
            {
                "provider": "apollo",
                "decision": "enqueue",
                "adapter_version": "1.0",
                "reason": "allowed",
                "simulated": True,
                "at": "2026-12-04T09:10:00+00:00",
            }
        ],
    }


class CardSource:
    """Records (or rows, with `from_rows`) in chunks, with the reference timed on each chunk as it is made.

    Before a chunk is handed on, its rendered records are encoded with `orjson.dumps` and
    written through one `gzip.GzipFile` at the bundle's level, one write per record: the
    reference. Interleaving the two at chunk level makes load from other processes fall
    on both alike. `reference_seconds` is that time, and `overhead_seconds` the time spent
    generating and rendering outside the measured writer, both to subtract from the span.
    """

    def __init__(self, count: int, reference_path: Path, *, from_rows: bool) -> None:
        self.count = count
        self.reference_path = reference_path
        self.from_rows = from_rows
        self.reference_seconds = 0.0
        self.overhead_seconds = 0.0
        self.raw_bytes = 0

    def items(self) -> Iterator[dict[str, Any]]:
        with gzip.GzipFile(self.reference_path, mode="wb", compresslevel=GZIP_LEVEL, mtime=0) as reference:
            for start in range(0, self.count, CHUNK_ROWS):
                started = time.perf_counter()
                rows = [card_row(index) for index in range(start, min(start + CHUNK_ROWS, self.count))]
                records = [render_card(row, RECORD_FORMAT) for row in rows]
                encode_started = time.perf_counter()
                for record in records:
                    self.raw_bytes += reference.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
                finished = time.perf_counter()
                self.reference_seconds += finished - encode_started
                self.overhead_seconds += encode_started - started
                if self.from_rows:
                    # The writer's timed span renders these rows again.
                    del records
                    yield from (render_card(row, RECORD_FORMAT) for row in rows)
                else:
                    del rows
                    yield from records


def write_cards(records: Iterable[dict[str, Any]], store: LocalObjectStore) -> BundleResult:
    """Write lead-card.v2 records as one bundle of POOL into `store`."""
    return write_bundle(
        records,
        store=store,
        bundle_id=uuid.uuid4(),
        prefix="exports/bench/2026-12-04",
        filters={"pool": POOL},
        created_at=datetime.now(UTC),
        expires_at=None,
        record_schema=RECORD_FORMAT.schema_id,
        contact_fields=RECORD_FORMAT.contact_fields,
    )


def measure_bundle(count: int, folder: Path, *, from_rows: bool) -> dict[str, float]:
    """Time write_bundle on rendered records, or on rows rendered inside the timed span with `from_rows`.

    The bundle is then read back and checked against its manifest.
    """
    name = "rows" if from_rows else "records"
    store = LocalObjectStore(folder / name)
    source = CardSource(count, folder / f"reference-{name}.jsonl.gz", from_rows=from_rows)
    started = time.perf_counter()
    bundle = write_cards(source.items(), store)
    seconds = time.perf_counter() - started - source.overhead_seconds - source.reference_seconds

    manifest, read_back = read_bundle(store, bundle.manifest_key, validate_records=False)
    if manifest["record_count"] != count or sum(1 for _ in read_back) != count:
        raise SystemExit(
            f"bundle manifest counts {manifest['record_count']} records, expected {count}: "
            "the bundle writer lost or added records"
        )
    return {
        "seconds": seconds,
        "reference_seconds": source.reference_seconds,
        "raw_bytes": source.raw_bytes,
        "gzip_mib": bundle.bytes / 2**20,
    }


def load_schemas() -> float:
    """Load the contracts and compile the lead-card.v2 validators; return the seconds taken.

    This happens once per process (the ContractSet is cached), so it is timed apart from
    the bundle rates, which then describe a writer that has already run once.
    """
    started = time.perf_counter()
    contracts = load_contracts()
    contracts.is_valid_native({}, LEAD_CARD_V2)
    contracts.is_valid_json({}, LEAD_CARD_V2)
    return time.perf_counter() - started


def measure_stages(count: int) -> dict[str, float]:
    """Return microseconds per record for each step of the writer, each timed over the same records."""
    rows = [card_row(index) for index in range(min(count, STAGE_SAMPLE))]
    contracts = load_contracts()
    timings: dict[str, float] = {}

    started = time.perf_counter()
    records = [render_card(row, RECORD_FORMAT) for row in rows]
    timings["render"] = time.perf_counter() - started

    started = time.perf_counter()
    lines = [encode_record(record) for record in records]
    timings["encode"] = time.perf_counter() - started

    # The writer's check: the all-Rust validator on the record.
    started = time.perf_counter()
    for record in records:
        if not contracts.is_valid_native(record, LEAD_CARD_V2):
            raise SystemExit("a generated record is invalid")
    timings["validate"] = time.perf_counter() - started

    # The check the writer used before: parse the line back, then Python format callbacks.
    started = time.perf_counter()
    for line in lines:
        if not contracts.is_valid_json(orjson.loads(line), LEAD_CARD_V2):
            raise SystemExit("a generated record is invalid")
    timings["validate_parsed"] = time.perf_counter() - started

    # The jsonschema validator the writer used before, on a tenth of the sample.
    reference_sample = records[: max(len(records) // 10, 1)]
    started = time.perf_counter()
    for record in reference_sample:
        contracts.validate(record, LEAD_CARD_V2)
    timings["validate_jsonschema"] = (time.perf_counter() - started) * len(records) / len(reference_sample)

    data = b"".join(lines)
    started = time.perf_counter()
    gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    timings["compress"] = time.perf_counter() - started
    return {name: seconds / len(rows) * 1e6 for name, seconds in timings.items()}


def seed_cards(url: str, count: int) -> None:
    """Insert `count` ready cards of POOL, each with one X profile, two labels, an email, a phone and a decision."""
    with connect(url, autocommit=True) as conn, transaction(conn):
        conn.execute(
            "INSERT INTO execution.pools (name, intent) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (POOL, Jsonb(DEFAULT_INTENT)),
        )
        conn.execute(
            """CREATE TEMP TABLE seed ON COMMIT DROP AS
               SELECT g AS n, md5('card' || g)::uuid AS card_id, md5('profile' || g)::uuid AS profile_id,
                      md5('contact' || g)::uuid AS contact_id
                 FROM generate_series(1, %s) AS g""",
            (count,),
        )
        conn.execute(
            """INSERT INTO social.profiles (id, platform, identity_key, platform_user_id, handle, display_name,
                                            profile_url, followers, following, posts, website_domain,
                                            source_format, source_file, collected_at, language)
               SELECT profile_id, 'x', 'bench-' || n, (10000000 + n)::text, 'maker_' || n, 'Maker ' || n,
                      'https://x.com/maker_' || n, 1000 + n % 50000, 300, 1200, 'example.com',
                      'x-api-v2', 'imports/x.jsonl', '2026-12-03T18:00:00Z', 'en'
                 FROM seed"""
        )
        conn.execute("INSERT INTO contact.contacts (id) SELECT contact_id FROM seed")
        conn.execute(
            """INSERT INTO execution.lead_cards (id, pool, readiness, readiness_reason, contact_id, ruleset_version)
               SELECT card_id, %s, 'ready', 'matched', contact_id, 'personas-v1' FROM seed""",
            (POOL,),
        )
        conn.execute("INSERT INTO execution.card_profiles (card_id, profile_id) SELECT card_id, profile_id FROM seed")
        conn.execute(
            """INSERT INTO execution.card_labels (card_id, kind, value, score, rule_id, ruleset_version, evidence)
               SELECT card_id, label.kind, label.value, label.score, label.kind || '.' || label.value,
                      'personas-v1', '{"matched_terms": ["founder"]}'
                 FROM seed,
                      (VALUES ('persona', 'founder', 0.8), ('tribe', 'indie-hackers', 0.6))
                      AS label (kind, value, score)"""
        )
        conn.execute(
            """INSERT INTO contact.contact_points (contact_id, kind, value, value_sha256, status, line_type,
                                                   dnc_status, scrubbed_at, source, adapter_version, simulated)
               SELECT contact_id, point.kind, point.value, encode(sha256(convert_to(point.value, 'UTF8')), 'hex'),
                      point.status, point.line_type, point.dnc_status, %s, 'apollo', '1.0', true
                 FROM seed,
                      LATERAL (VALUES ('email', 'maker' || n || '@example.com', 'verified', NULL, NULL),
                                      ('phone', '+1555' || lpad((n %% 10000000)::text, 7, '0'),
                                       NULL, 'mobile', 'clear'))
                              AS point (kind, value, status, line_type, dnc_status)""",
            (SCRUBBED_AT,),
        )
        conn.execute(
            """INSERT INTO ops.enrichment_decisions (card_id, provider, decision, reason, fingerprint, simulated)
               SELECT card_id, 'apollo', 'enqueue', 'allowed', 'apollo:1.0:bench', true FROM seed"""
        )
        conn.execute("ANALYZE")


def measure_database(count: int, folder: Path) -> dict[str, float]:
    """Seed cards, then time the export query alone and the export query feeding write_bundle."""
    selection = {
        "pool": POOL,
        "state": "ready",
        "persona": None,
        "tribe": None,
        "platforms": sorted(CONTRACT_PLATFORMS),
    }
    figures: dict[str, float] = {}
    with bench_database("sxe_bench_handoff") as url:
        started = time.perf_counter()
        seed_cards(url, count)
        figures["seed_seconds"] = time.perf_counter() - started

        with connect(url, autocommit=True) as conn:
            with transaction(conn, repeatable_read=True), conn.cursor(name="bench_read") as cursor:
                cursor.itersize = FETCH_ROWS
                started = time.perf_counter()
                cursor.execute(sql("handoff_select_cards"), selection)
                rows = sum(1 for _ in cursor)
                figures["read_seconds"] = time.perf_counter() - started
            if rows != count:
                raise SystemExit(f"the export query returned {rows} cards, expected {count}")

            store = LocalObjectStore(folder / "db-store")
            with transaction(conn, repeatable_read=True), conn.cursor(name="bench_export") as cursor:
                cursor.itersize = FETCH_ROWS
                started = time.perf_counter()
                cursor.execute(sql("handoff_select_cards"), selection)
                bundle = write_cards((render_card(row, RECORD_FORMAT) for row in cursor), store)
                figures["export_seconds"] = time.perf_counter() - started
            if bundle.record_count != count:
                raise SystemExit(f"the export wrote {bundle.record_count} cards, expected {count}")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=200_000, help="lead cards in the bundle (default 200,000)")
    parser.add_argument(
        "--db-cards",
        type=int,
        default=None,
        help="cards seeded in PostgreSQL for the read test (default: --cards; 0 skips it)",
    )
    parser.add_argument("--json", type=Path, help="write the figures, targets and notes to this JSON file")
    args = parser.parse_args()
    if args.cards < 1:
        parser.error("--cards must be at least 1")
    db_cards = args.cards if args.db_cards is None else args.db_cards

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="sxe-bench-") as scratch:
        folder = Path(scratch)
        setup_seconds = load_schemas()
        bundle = measure_bundle(args.cards, folder, from_rows=False)
        from_rows = measure_bundle(args.cards, folder, from_rows=True)
        stages = measure_stages(args.cards)
        database = measure_database(db_cards, folder) if db_cards > 0 else {}
    load_after = os.getloadavg()

    raw_mb = bundle["raw_bytes"] / 1e6
    reference_seconds = bundle["reference_seconds"]
    figures: dict[str, float] = {
        "cards": args.cards,
        "reference.records_per_second": args.cards / reference_seconds,
        "reference.mb_per_second": raw_mb / reference_seconds,
        "bundle.records_per_second": args.cards / bundle["seconds"],
        "bundle.mb_per_second": raw_mb / bundle["seconds"],
        "bundle.gzip_mib": bundle["gzip_mib"],
        "bundle_to_reference": reference_seconds / bundle["seconds"],
        "from_rows.records_per_second": args.cards / from_rows["seconds"],
        "from_rows_to_reference": from_rows["reference_seconds"] / from_rows["seconds"],
        "setup_seconds": setup_seconds,
    }
    figures.update({f"stage_us.{name}": value for name, value in stages.items()})
    if database:
        figures["db.cards"] = db_cards
        figures["db.read_rows_per_second"] = db_cards / database["read_seconds"]
        figures["db.export_records_per_second"] = db_cards / database["export_seconds"]
        figures["db.seed_seconds"] = database["seed_seconds"]

    print(f"cards {args.cards:,}; JSON {raw_mb:.1f} MB; gzip {bundle['gzip_mib']:.1f} MiB")
    print(
        f"reference orjson + gzip {GZIP_LEVEL}: {figures['reference.records_per_second']:,.0f} records/s, "
        f"{figures['reference.mb_per_second']:.1f} MB/s"
    )
    print(
        f"bundle build: {figures['bundle.records_per_second']:,.0f} records/s, "
        f"{figures['bundle.mb_per_second']:.1f} MB/s = {figures['bundle_to_reference']:.0%} of the reference"
    )
    print(
        f"bundle build from rows, rendering included: {figures['from_rows.records_per_second']:,.0f} records/s "
        f"= {figures['from_rows_to_reference']:.0%} of the reference"
    )
    print(f"schema loading and validator compiling, once per process: {setup_seconds:.2f} s, not in the rates")
    print("per record: " + ", ".join(f"{name} {value:.1f} µs" for name, value in stages.items()))
    if database:
        print(
            f"PostgreSQL, {db_cards:,} cards: read {figures['db.read_rows_per_second']:,.0f} rows/s, "
            f"read + bundle {figures['db.export_records_per_second']:,.0f} records/s "
            f"(seeded in {database['seed_seconds']:.0f} s)"
        )
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")

    if args.json:
        report = {
            "figures": figures,
            "targets": [
                {
                    "figure": "bundle_to_reference",
                    "at_least": TARGET_RATIO,
                    "target": f"≥ {TARGET_RATIO:.0%} of orjson + gzip level {GZIP_LEVEL}",
                    "measured": "bundle.records_per_second",
                    "measured_unit": "records/s",
                    "reference": "reference.records_per_second",
                    "reference_unit": "records/s",
                    "reference_label": "orjson + gzip",
                }
            ],
            "notes": [
                f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after",
                "stage_us figures come from a separate pass over the first "
                f"{min(args.cards, STAGE_SAMPLE):,} records; validate is the writer's check, validate_parsed the "
                "check it replaced (parse the line, Python format callbacks), validate_jsonschema the one before",
            ],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
