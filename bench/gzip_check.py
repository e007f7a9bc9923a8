"""Measure what checking a gzip file to its end costs before its records are read.

    .venv/bin/python bench/gzip_check.py --records 32000 --runs 3

The script writes `--records` generated X API v1.1 users as one gzip JSON Lines file,
as `bench/ingest_gzip.py` does. It then times three steps `--runs` times each, taking
turns. `check_path` is `find_corruption` on the file, the check a gzip path gets.
`check_stream` checks the same bytes as a stream and copies them to an anonymous
temporary file meanwhile, as for an `imports/` object or a small file that `sxe
import` reads itself. `read_records` reads every record of the file, the check
included. It prints the median and range of wall and CPU seconds of each step as one
JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_gzip import write_gzip_file  # noqa: E402

from sxe.ingest import reader  # noqa: E402
from sxe.ingest.compressed import find_corruption  # noqa: E402


def check_path(path: Path) -> None:
    assert find_corruption(path.open("rb")) is None, "the generated file is intact"


def check_stream(path: Path) -> None:
    with path.open("rb") as stream:
        head = stream.read(reader.HEAD_BYTES)
        spool, corruption = reader._spool_checked(head, stream)
        spool.close()
    assert corruption is None, "the generated file is intact"


def read_all(path: Path) -> None:
    for _ in reader.read_records(path):
        pass


def timed(action: Callable[[Path], None], path: Path) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    action(path)
    return time.perf_counter() - wall, time.process_time() - cpu


def summary(values: list[float]) -> dict[str, Any]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=32000, help="generated users in the file")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each action")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated users")
    args = parser.parse_args()

    actions = {"check_path": check_path, "check_stream": check_stream, "read_records": read_all}
    with tempfile.TemporaryDirectory(prefix="sxe-bench-") as folder:
        path = write_gzip_file(args.records, Path(folder), args.seed)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in actions}
        for _ in range(args.runs):
            for name, action in actions.items():
                times[name].append(timed(action, path))
        result: dict[str, Any] = {"records": args.records, "gzip_bytes": path.stat().st_size}
        for name, pairs in times.items():
            walls, cpus = [wall for wall, _ in pairs], [cpu for _, cpu in pairs]
            result[name] = {"wall_seconds": summary(walls), "cpu_seconds": summary(cpus)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
