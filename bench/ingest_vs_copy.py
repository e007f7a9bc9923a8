"""Ingest throughput side by side with a plain COPY of the same records, in one run on one server.

Both sides start from the same generated files. The reference reads every record,
hashes it and COPYs `(content_hash, payload)` into a bare table with a primary key,
which is the least any ingest that stores and deduplicates raw records must do.
SXE's side is `sxe.ingest.store.ingest_file` on a migrated database: parse, hash,
redact, store raw with dedupe, normalize, upsert profiles and observations. A second
SXE pass over the same files measures re-ingest, where every record is a duplicate.

    .venv/bin/python bench/ingest_vs_copy.py --records 20000 --json /tmp/ingest.json
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate  # noqa: E402

from sxe.db import connect  # noqa: E402
from sxe.db.embedded import start_embedded  # noqa: E402
from sxe.db.migrate import migrate  # noqa: E402
from sxe.ingest import read_profiles  # noqa: E402
from sxe.ingest.store import ingest_file  # noqa: E402

BARE_TABLE = "CREATE TABLE bench_copy (content_hash text PRIMARY KEY, payload jsonb NOT NULL)"


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="sxe-bench-ingest-") as scratch:
        folder = Path(scratch)
        files = [path for paths in generate(args.records, folder / "input", args.seed).values() for path in paths]
        url = start_embedded(folder / "pgdata", at_exit="delete")
        result = measure(url, files)

    result["records_requested"] = args.records
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


def measure(url: str, files: list[Path]) -> dict[str, Any]:
    with connect(url, autocommit=True) as conn:
        migrate(conn)
        copy_seconds, copied = time_copy(conn, files)
        first_seconds, stored = time_ingest(conn, files)
        again_seconds, duplicates = time_ingest(conn, files, expect="duplicates")

    return {
        "copy": {"rows": copied, "seconds": copy_seconds, "rows_per_second": copied / copy_seconds},
        "ingest": {"records": stored, "seconds": first_seconds, "records_per_second": stored / first_seconds},
        "reingest": {
            "records": duplicates,
            "seconds": again_seconds,
            "records_per_second": duplicates / again_seconds,
        },
        "ingest_to_copy": (stored / first_seconds) / (copied / copy_seconds),
        "reingest_to_copy": (duplicates / again_seconds) / (copied / copy_seconds),
    }


def time_copy(conn: psycopg.Connection[Any], files: list[Path]) -> tuple[float, int]:
    """COPY every parsed record's hash and payload into a bare table; return seconds and rows."""
    conn.execute(BARE_TABLE)
    start = time.perf_counter()
    rows = 0
    with conn.transaction(), conn.cursor().copy("COPY bench_copy (content_hash, payload) FROM STDIN") as copy:
        for content_hash, payload in parsed_rows(files):
            copy.write_row((content_hash, payload))
            rows += 1
    return time.perf_counter() - start, rows


def parsed_rows(files: list[Path]) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    for path in files:
        for record in read_profiles(path):
            if record.content_hash and record.payload is not None and record.content_hash not in seen:
                seen.add(record.content_hash)
                yield record.content_hash, json.dumps(record.payload, separators=(",", ":"))


def time_ingest(conn: psycopg.Connection[Any], files: list[Path], expect: str = "accepted") -> tuple[float, int]:
    """Ingest every file; return seconds and the number of accepted (or duplicate) records."""
    run_id = uuid.uuid4()
    start = time.perf_counter()
    counted = 0
    for path in files:
        result = ingest_file(conn, path, run_id=run_id)
        counted += result.accepted if expect == "accepted" else result.duplicates
    return time.perf_counter() - start, counted


def print_table(result: dict[str, Any]) -> None:
    print(f"{'figure':<28}{'rows':>10}{'seconds':>10}{'rows/s':>12}")
    for name in ("copy", "ingest", "reingest"):
        part = result[name]
        rows = part.get("rows", part.get("records"))
        print(f"{name:<28}{rows:>10}{part['seconds']:>10.2f}{part[list(part)[-1]]:>12.0f}")
    print(f"ingest / COPY    {result['ingest_to_copy']:.1%}")
    print(f"re-ingest / COPY {result['reingest_to_copy']:.1%}")
    print(f"peak RSS (Python process) {result['peak_rss_mib']} MiB")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000, help="records over five formats (default 20000)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    return parser.parse_args()


if __name__ == "__main__":
    main()
