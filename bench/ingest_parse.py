"""Time the Python side of ingest alone: the per-record work of `ingest_file` without a database.

For every record this does what `sxe.ingest.store` does before its SQL statements:
read and detect the file (`read_profiles`, which also hashes each record), redact
the payload that would be stored (`redact_value`) and normalize accepted records
(`normalize`). Records per second here are an upper bound for SXE's ingest on the
same machine. The gap to `first_run.ingest_records_per_second` of bench/main_job.py
is the database side: the statements that store each chunk, and their commits.

Usage: python bench/ingest_parse.py [--records 5000] [--seed 7] [--repeat 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sxe.ingest import read_profiles
from sxe.models import SourceProfile
from sxe.normalize.profile import normalize
from sxe.pii import redact_value
from sxe.pipeline import collect_inputs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402


def process_files(files: list[Path]) -> int:
    """Parse, redact and normalize every record of `files`, and return how many records were read."""
    records = 0
    for path in files:
        for record in read_profiles(path):
            records += 1
            if record.payload is not None:
                redact_value(record.payload)
            if isinstance(record.result, SourceProfile):
                normalize(record.result)
    return records


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time SXE's per-record ingest work without a database.")
    parser.add_argument("--records", type=int, default=5000, help="records to generate (default 5000)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the same files (default 3)")
    parser.add_argument("--json", type=Path, help="write the figures here as the benchmark contract's JSON object")
    args = parser.parse_args()
    if args.records < 1 or args.repeat < 1:
        parser.error(f"--records and --repeat must be at least 1, got {args.records} and {args.repeat}")
    return args


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="sxe-bench-parse-") as folder:
        generate(args.records, Path(folder), args.seed)
        files = collect_inputs([Path(folder)])
        rates: list[float] = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            records = process_files(files)
            rates.append(records / (time.perf_counter() - start))
    print(
        f"parse + redact + normalize, no database: {records} records, "
        f"median {statistics.median(rates):.0f} records/s (min {min(rates):.0f}, max {max(rates):.0f})"
    )
    if args.json is not None:
        result = {
            "figures": {"records": records, "records_per_second": round(statistics.median(rates), 1)},
            "targets": [],
            "notes": [f"records_per_second is the median of {args.repeat} passes over the same files."],
        }
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
