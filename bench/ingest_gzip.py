"""Measure the CPU that ingest workers and the calling process spend on one large gzip JSON Lines file.

    .venv/bin/python bench/ingest_gzip.py --records 32000 --jobs 2

The script writes `--records` generated X API v1.1 users (`bench/generate.py`) as one
JSON Lines file, gzips it, and ingests the gzip file into a new migrated database with
`ingest_files`, as `sxe import` and `sxe run` do with `--jobs` processes. It then
ingests the same file again, when every record is a duplicate. For both passes it
prints the wall time and the CPU seconds of the calling process, of the worker
processes and of PostgreSQL (see `_cpu.py`), as one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cpu import CpuMeter  # noqa: E402
from _database import bench_database  # noqa: E402
from generate import PersonFactory, write_x_v11  # noqa: E402

from sxe.db import connect  # noqa: E402
from sxe.ingest.parallel import ingest_files  # noqa: E402


def write_gzip_file(records: int, folder: Path, seed: int) -> Path:
    """Write `records` generated X API v1.1 users as gzip JSON Lines into `folder`, and return the gzip file."""
    [plain] = write_x_v11(PersonFactory(random.Random(seed)), records, folder)
    compressed = plain.with_name(plain.name + ".gz")
    with plain.open("rb") as source, gzip.open(compressed, "wb") as target:
        shutil.copyfileobj(source, target)
    plain.unlink()
    return compressed


def measure_pass(url: str, path: Path, jobs: int) -> dict[str, Any]:
    """Ingest `path` once with `jobs` processes and return its counts and CPU seconds per side."""
    with connect(url, autocommit=True) as conn, CpuMeter(url) as meter:
        [result] = ingest_files(conn, [path], run_id=uuid.uuid4(), jobs=jobs)
    use = meter.result
    assert use is not None, "CpuMeter sets its result when the block ends"
    return {
        "records": result.records,
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "wall_seconds": round(use.wall_seconds, 2),
        "caller_cpu_seconds": round(use.caller_seconds, 2),
        "workers_cpu_seconds": round(use.children_seconds, 2),
        "postgres_cpu_seconds": None if use.postgres_seconds is None else round(use.postgres_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=32000, help="generated records in the file (default 32000)")
    parser.add_argument("--jobs", type=int, default=2, help="ingest worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the generator (default 7)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sxe-bench-gzip-") as folder:
        path = write_gzip_file(args.records, Path(folder), args.seed)
        report: dict[str, Any] = {"records": args.records, "jobs": args.jobs, "gzip_bytes": path.stat().st_size}
        with bench_database("sxe_bench_gzip") as url:
            report["ingest"] = measure_pass(url, path, args.jobs)
            report["reingest"] = measure_pass(url, path, args.jobs)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
