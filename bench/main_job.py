"""Time the main job (`sxe.pipeline.run`) stage by stage on generated profiles.

One run writes `--records` invented records with bench/generate.py into a temporary
folder, starts a fresh embedded PostgreSQL in that folder, and runs the pipeline's
stages exactly as `sxe.pipeline.run` calls them, with a `time.perf_counter` reading
around each. It then runs the same files again, when every record is a duplicate.

The provider is the loopback simulator. Its token bucket is raised to 1000 calls
per second with a burst of 1000, and the pool budget to 1,000,000 credits. The
default rate (5 per second) and budget (500 credits) would otherwise set the
enrichment time, which for a few thousand lookups is minutes of waiting for tokens.

`--runs N` starts N runs, each in its own Python process with its own database,
and reports the median, minimum and maximum of every figure.

Usage: python bench/main_job.py [--records 5000] [--seed 7] [--runs 3] [--json results.json]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

import sxe
from sxe.config import Settings, load_settings
from sxe.db import connect, database_url
from sxe.db.migrate import migrate
from sxe.pipeline import (
    RunSummary,
    card_stage,
    collect_inputs,
    enrich_stage,
    handoff_stage,
    ingest_stage,
    provider_adapters,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402

BENCH_RATE_PER_SECOND = 1000.0
BENCH_BURST = 1000
BENCH_POOL_BUDGET_CREDITS = 1_000_000
STAGES = ("migrate", "ingest", "cards_tagging", "enrichment", "handoff")
NOTES = (
    f"enrichment ran with the provider token bucket at {BENCH_RATE_PER_SECOND:.0f}/s (burst {BENCH_BURST}) and a "
    f"pool budget of {BENCH_POOL_BUDGET_CREDITS} credits. With the default SXE_PROVIDER_RATE_PER_SECOND=5, "
    "enrichment time is set by the rate limit: about lookups / 5 seconds.",
    "peak RSS is the Python process only; the embedded PostgreSQL server runs in separate processes.",
)


class StageTimer:
    """Wall-clock seconds per named stage, read with `time.perf_counter`."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = time.perf_counter() - start


def bench_settings(state_dir: Path) -> Settings:
    """Build settings for an embedded database and the simulator, with rate and budget raised out of the way."""
    return load_settings(
        state_dir=state_dir,
        database_url=None,
        apollo_api_key=None,
        provider_rate_per_second=BENCH_RATE_PER_SECOND,
        provider_burst=BENCH_BURST,
        pool_budget_credits=BENCH_POOL_BUDGET_CREDITS,
    )


def timed_pass(url: str, files: list[Path], settings: Settings) -> tuple[dict[str, float], RunSummary]:
    """Run the stages of `sxe.pipeline.run` in its order and return the seconds of each and the summary."""
    timer = StageTimer()
    summary = RunSummary(run_id=str(uuid.uuid4()))
    with connect(url, autocommit=True) as conn:
        with timer.stage("migrate"):
            migrate(conn)
        with timer.stage("ingest"):
            ingest_stage(conn, files, None, summary, pool=settings.pool)
        with timer.stage("cards_tagging"):
            card_stage(conn, settings, summary)
        with timer.stage("enrichment"):
            run_enrichment(conn, settings, summary)
        with timer.stage("handoff"):
            handoff_stage(conn, settings, summary)
    timer.seconds["total"] = sum(timer.seconds.values())
    return timer.seconds, summary


def run_enrichment(conn: psycopg.Connection[Any], settings: Settings, summary: RunSummary) -> None:
    with provider_adapters(settings, summary) as providers:
        enrich_stage(conn, settings, providers, summary)


def pass_figures(seconds: dict[str, float], summary: RunSummary) -> dict[str, Any]:
    counts = summary.to_json()
    records = sum(result.records for result in summary.files)
    return {
        "seconds": seconds,
        "records": records,
        "ingest_records_per_second": records / seconds["ingest"],
        "counts": {
            key: counts[key]
            for key in (
                "ingested",
                "duplicates",
                "quarantined",
                "profiles",
                "new_profiles",
                "new_lead_cards",
                "tagged",
                "enrichment_enqueued",
                "lookups",
                "enriched",
                "credits_spent",
                "readiness",
                "enrichment_skipped",
            )
        },
        "bundle_records": counts["bundle"]["records"] if counts["bundle"] else 0,
    }


def run_once(records: int, seed: int, work_dir: Path) -> dict[str, Any]:
    """Generate the inputs, run the main job twice on a fresh database and return the figures."""
    inputs = work_dir / "inputs"
    start = time.perf_counter()
    generate(records, inputs, seed)
    generate_seconds = time.perf_counter() - start

    settings = bench_settings(work_dir / "state")
    files = collect_inputs([inputs])
    start = time.perf_counter()
    url = database_url(settings)
    database_start_seconds = time.perf_counter() - start

    load_before = os.getloadavg()
    first = pass_figures(*timed_pass(url, files, settings))
    rerun = pass_figures(*timed_pass(url, files, settings))
    return {
        # Load averages show whether other processes competed for the CPU during the run.
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "records_requested": records,
        "seed": seed,
        "input_files": len(files),
        "input_bytes": sum(path.stat().st_size for path in files),
        "generate_seconds": generate_seconds,
        "database_start_seconds": database_start_seconds,
        "first_run": first,
        "rerun": rerun,
        # ru_maxrss is in KiB on Linux. It covers this Python process only, not the PostgreSQL server processes.
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_in_children(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run `args.runs` single runs, each in a new Python process, and return their results."""
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="sxe-bench-results-") as folder:
        for number in range(1, args.runs + 1):
            path = Path(folder) / f"run-{number}.json"
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--records",
                str(args.records),
                "--seed",
                str(args.seed),
                "--runs",
                "1",
                "--json",
                str(path),
                "--quiet",
            ]
            print(f"run {number} of {args.runs} ...", file=sys.stderr, flush=True)
            subprocess.run(command, check=True)
            results.append(json.loads(path.read_text(encoding="utf-8"))["runs"][0])
    return results


def figure_keys() -> dict[str, tuple[str, ...]]:
    """Return each reported figure with its key path inside one run's result."""
    keys: dict[str, tuple[str, ...]] = {"database_start_seconds": ("database_start_seconds",)}
    for run_name in ("first_run", "rerun"):
        for stage in (*STAGES, "total"):
            keys[f"{run_name}.{stage}_seconds"] = (run_name, "seconds", stage)
        keys[f"{run_name}.ingest_records_per_second"] = (run_name, "ingest_records_per_second")
    keys["peak_rss_mib"] = ("peak_rss_mib",)
    return keys


def read_figure(run: dict[str, Any], path: tuple[str, ...]) -> float:
    value: Any = run
    for key in path:
        value = value[key]
    return float(value)


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Return the median, minimum and maximum of every figure over the runs."""
    summary: dict[str, dict[str, float]] = {}
    for name, path in figure_keys().items():
        values = [read_figure(run, path) for run in runs]
        summary[name] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    return summary


def machine() -> dict[str, Any]:
    cpu_model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sxe_package": str(Path(sxe.__file__).parent),
    }


def print_table(runs: list[dict[str, Any]], summary: dict[str, dict[str, float]]) -> None:
    first = runs[0]
    counts = first["first_run"]["counts"]
    print(
        f"SXE main job: {first['first_run']['records']} records in {first['input_files']} files "
        f"({first['input_bytes'] / 1024:.0f} KiB), {len(runs)} run(s), median (min-max)"
    )
    print(f"{'figure':<40} {'median':>10} {'min':>10} {'max':>10}")
    for name, values in summary.items():
        print(f"{name:<40} {values['median']:>10.2f} {values['min']:>10.2f} {values['max']:>10.2f}")
    print(
        f"first run counts: ingested {counts['ingested']}, quarantined {counts['quarantined']}, "
        f"profiles {counts['profiles']}, lookups {counts['lookups']}, enriched {counts['enriched']}, "
        f"bundle records {first['first_run']['bundle_records']}"
    )
    print(
        f"re-run counts: duplicates {first['rerun']['counts']['duplicates']}, "
        f"new profiles {first['rerun']['counts']['new_profiles']}, lookups {first['rerun']['counts']['lookups']}"
    )
    for note in NOTES:
        print(f"NOTE: {note}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time the SXE main job stage by stage on generated profiles.")
    parser.add_argument("--records", type=int, default=5000, help="records over five formats (default 5000)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--runs", type=int, default=1, help="independent runs, each in its own process (default 1)")
    parser.add_argument(
        "--json", type=Path, help="write the figures (benchmark contract), every run's results and the summary here"
    )
    parser.add_argument("--quiet", action="store_true", help="print no table")
    args = parser.parse_args(argv)
    if args.records < 1 or args.runs < 1:
        parser.error(f"--records and --runs must be at least 1, got {args.records} and {args.runs}")
    return args


def single_run(args: argparse.Namespace) -> list[dict[str, Any]]:
    work_dir = Path(tempfile.mkdtemp(prefix="sxe-bench-"))
    # atexit runs handlers last-in first-out: registered before the embedded server
    # starts, this removal runs after the server's own exit handler has stopped it.
    atexit.register(shutil.rmtree, work_dir, ignore_errors=True)
    return [run_once(args.records, args.seed, work_dir)]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    runs = single_run(args) if args.runs == 1 else run_in_children(args)
    summary = summarize(runs)
    if not args.quiet:
        print_table(runs, summary)
    if args.json is not None:
        # "figures", "targets" and "notes" are the benchmark contract read by bench/run_all.py.
        # With --runs above 1 the figures are the medians; "runs" keeps every run's values.
        notes = list(NOTES)
        if len(runs) > 1:
            notes.append(f"figures are medians of {len(runs)} runs in separate processes")
        result = {
            "figures": {name: round(values["median"], 4) for name, values in summary.items()},
            "targets": [],
            "notes": notes,
            "machine": machine(),
            "command": " ".join(["python", *sys.argv]),
            "settings": {
                "provider_rate_per_second": BENCH_RATE_PER_SECOND,
                "provider_burst": BENCH_BURST,
                "pool_budget_credits": BENCH_POOL_BUDGET_CREDITS,
            },
            "summary": summary,
            "runs": runs,
        }
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
