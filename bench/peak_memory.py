"""Measure the peak memory of `sxe import` and of a bundle build at a small and a large size.

Each measurement runs in a fresh child process, which reports its own peak resident set
size (`ru_maxrss` of RUSAGE_SELF), or that of its largest ingest worker process when
that is larger (RUSAGE_CHILDREN). The PostgreSQL server processes are not included.

- import: a JSONL file of invented X API v2 users (about 320 bytes a line) imported with
  `sxe import` into a new database on an embedded PostgreSQL or SXE_DATABASE_URL's server;
- bundle: `write_bundle` of lead-card.v2 records rendered from generated
  `contact.handoff_cards` rows (no database), into a local object store.

Memory is flat when the large run's peak stays within 1.2 times the small run's.

    .venv/bin/python bench/peak_memory.py --small 10000 --large 1000000 --json /tmp/peak.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _database import bench_database  # noqa: E402
from _report import describe_ratio  # noqa: E402

BENCH = Path(__file__).resolve().parent
TARGET_RATIO = 1.2

# Runs `sxe import`, then writes to stderr the larger peak RSS (KiB on Linux) of the process
# and of its ingest workers, which read every file over 1 MiB.
IMPORT_CHILD = """
import resource, sys
from sxe.cli import main
status = main(sys.argv[1:])
peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
sys.stderr.write(f"peak_kib={peak}\\n")
sys.exit(status)
"""

# Builds a bundle of argv[1] generated cards into the folder argv[2], then writes its peak RSS.
BUNDLE_CHILD = """
import resource, sys
sys.path.insert(0, sys.argv[3])
from pathlib import Path
from handoff_bundle import RECORD_FORMAT, card_row, write_cards
from sxe.handoff.records import render_card
from sxe.handoff.store import LocalObjectStore
count = int(sys.argv[1])
records = (render_card(card_row(index), RECORD_FORMAT) for index in range(count))
bundle = write_cards(records, LocalObjectStore(Path(sys.argv[2])))
assert bundle.record_count == count, bundle.record_count
sys.stderr.write(f"peak_kib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n")
"""


def write_users(path: Path, records: int) -> None:
    """Write `records` invented X API v2 users as JSON Lines."""
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


def run_child(arguments: list[str], environment: dict[str, str]) -> tuple[float, float]:
    """Run a child Python process; return its peak RSS in MiB and the seconds it took."""
    started = time.perf_counter()
    finished = subprocess.run(
        [sys.executable, "-c", *arguments],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        raise SystemExit(f"child process failed with exit code {finished.returncode}:\n{finished.stderr[-2000:]}")
    peak = next(line for line in finished.stderr.splitlines() if line.startswith("peak_kib="))
    return int(peak.removeprefix("peak_kib=")) / 1024, seconds


def measure_import(records: int, folder: Path) -> tuple[float, float]:
    path = folder / f"users-{records}.jsonl"
    write_users(path, records)
    with bench_database("sxe_bench_peak") as url:
        environment = {**os.environ, "SXE_DATABASE_URL": url, "SXE_STATE_DIR": str(folder / f"state-{records}")}
        result = run_child([IMPORT_CHILD, "import", str(path), "--no-progress", "--json"], environment)
    path.unlink()
    return result


def measure_bundle(cards: int, folder: Path) -> tuple[float, float]:
    store = folder / f"store-{cards}"
    return run_child([BUNDLE_CHILD, str(cards), str(store), str(BENCH)], dict(os.environ))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000, help="records of the small run (default 10,000)")
    parser.add_argument("--large", type=int, default=1_000_000, help="records of the large run (default 1,000,000)")
    parser.add_argument(
        "--import-large",
        type=int,
        default=None,
        help="records of the large import run when it must be smaller than --large (default: --large)",
    )
    parser.add_argument("--json", type=Path, help="write the figures, targets and notes to this JSON file")
    args = parser.parse_args()
    if not 0 < args.small < args.large:
        parser.error("--small must be at least 1 and below --large")
    import_large = args.import_large or args.large

    load_before = os.getloadavg()
    figures: dict[str, float] = {"small": args.small, "large": args.large, "import_large": import_large}
    with tempfile.TemporaryDirectory(prefix="sxe-bench-peak-") as scratch:
        folder = Path(scratch)
        for kind, measure, sizes in (
            ("import", measure_import, (args.small, import_large)),
            ("bundle", measure_bundle, (args.small, args.large)),
        ):
            peaks = []
            for size in sizes:
                peak_mib, seconds = measure(size, folder)
                peaks.append(peak_mib)
                figures[f"{kind}.peak_rss_mib.records_{size}"] = round(peak_mib, 1)
                figures[f"{kind}.seconds.records_{size}"] = round(seconds, 1)
                print(f"{kind} {size:>10,} records: peak RSS {peak_mib:6.1f} MiB in {seconds:6.1f} s", flush=True)
            figures[f"{kind}.rss_ratio"] = round(peaks[1] / peaks[0], 3)
            print(f"{kind} peak RSS ratio large/small: {figures[f'{kind}.rss_ratio']:.2f}")
    load_after = os.getloadavg()
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")

    if args.json:
        notes = [f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"]
        if import_large != args.large:
            notes.append(f"the large import ran at {import_large:,} records, not {args.large:,}")
        report = {
            "figures": figures,
            "targets": [
                {
                    "figure": f"{kind}.rss_ratio",
                    "at_most": TARGET_RATIO,
                    "target": f"≤ {TARGET_RATIO}× the {args.small:,}-record run",
                    **describe_ratio(
                        f"{kind}.peak_rss_mib.records_{large}",
                        "MiB",
                        f"{kind}.peak_rss_mib.records_{args.small}",
                        reference_label=f"{args.small:,}-record run",
                    ),
                }
                for kind, large in (("import", import_large), ("bundle", args.large))
            ],
            "notes": notes,
        }
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
