"""Measure the peak memory of `sxe import` on generated files of growing size.

Usage: python bench/import_memory.py [RECORDS ...]   (default: 10000 100000)

For each size the script writes a JSONL file of invented X API v2 users and imports
it in a fresh child process through `sxe import`, against an embedded PostgreSQL or
SXE_DATABASE_URL. It prints the child's peak resident set size and the wall time. A
flat peak across sizes means memory does not grow with the file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_users(path: Path, records: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for number in range(records):
            user = {
                "id": str(10_000_000 + number),
                "username": f"bench_user_{number}",
                "name": f"Bench User {number}",
                "description": "Baker of bread and builder of benches. " * 3,
                "public_metrics": {"followers_count": number % 50_000, "following_count": 120, "tweet_count": 42},
                "verified": False,
            }
            handle.write(json.dumps(user) + "\n")


# Runs `sxe import` and then writes the process's own peak RSS (KiB on Linux) to stderr.
# RUSAGE_SELF leaves out the PostgreSQL server, which the embedded package starts as another process.
CHILD = """
import resource, sys
from sxe.cli import main
status = main(sys.argv[1:])
sys.stderr.write(f"peak_kib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n")
sys.exit(status)
"""


def import_once(path: Path, state_dir: Path) -> tuple[int, float]:
    """Run `sxe import` in a child process; return its peak RSS in KiB and the seconds it took."""
    environment = {**os.environ, "SXE_STATE_DIR": str(state_dir)}
    started = time.perf_counter()
    finished = subprocess.run(
        [sys.executable, "-c", CHILD, "import", str(path), "--no-progress", "--json"],
        check=True,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    elapsed = time.perf_counter() - started
    peak = next(line for line in finished.stderr.splitlines() if line.startswith("peak_kib="))
    return int(peak.removeprefix("peak_kib=")), elapsed


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory(prefix="sxe-bench-") as folder:
        root = Path(folder)
        print("| records | file size | peak RSS | time |")
        print("|---:|---:|---:|---:|")
        for records in sizes:
            path = root / f"users-{records}.jsonl"
            write_users(path, records)
            peak_kib, seconds = import_once(path, root / f"state-{records}")
            size_mib = path.stat().st_size / 1_048_576
            print(f"| {records:,} | {size_mib:.1f} MiB | {peak_kib / 1024:.0f} MiB | {seconds:.0f} s |", flush=True)


if __name__ == "__main__":
    main([int(argument) for argument in sys.argv[1:]] or [10_000, 100_000])
