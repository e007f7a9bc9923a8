"""Token acquisitions per second on one hot provider bucket, against a bare single-row UPDATE loop.

--processes workers hammer one row for --seconds each measurement. The bucket refills
so fast that no call is refused, so every figure is the cost of taking a token:

- `bare`: a one-row table and `UPDATE ... SET tokens = tokens - 1` in autocommit.
  This is the reference: no refill, no Retry-After block, no role.
- `sxe`: `controls.acquire_token_and_commit`, which sends BEGIN, SET LOCAL ROLE, the
  acquire and COMMIT as one message.
- `sxe_transaction`: `controls.try_acquire_token` inside `transaction(conn,
  role="sxe_worker")`, four round trips, as the enrichment worker calls it next to
  its breaker check.

Each measurement is repeated --rounds times, starting with a different variant each
round. A figure is the median of the rounds, and a ratio is the median of the
per-round ratios.

    .venv/bin/python bench/token_throughput.py [--processes 8 --seconds 5 --rounds 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from _database import bench_database
from _report import load_average, write_report

from sxe.db import connect, transaction
from sxe.orchestrator import controls

PROVIDER = "hot"
# Inline SQL for the reference only: it measures PostgreSQL, not SXE.
BARE_SCHEMA = "CREATE TABLE bench_bucket (provider text PRIMARY KEY, tokens double precision NOT NULL)"
BARE_FILL = "INSERT INTO bench_bucket VALUES (%s, 1e15)"
BARE_TAKE = "UPDATE bench_bucket SET tokens = tokens - 1 WHERE provider = %s"


def bare_loop(conn: psycopg.Connection[Any], until: float) -> int:
    taken = 0
    while time.time() < until:
        conn.execute(BARE_TAKE, (PROVIDER,))
        taken += 1
    return taken


def sxe_loop(conn: psycopg.Connection[Any], until: float) -> int:
    taken = 0
    while time.time() < until:
        if controls.acquire_token_and_commit(conn, PROVIDER) == 0:
            taken += 1
    return taken


def sxe_transaction_loop(conn: psycopg.Connection[Any], until: float) -> int:
    taken = 0
    while time.time() < until:
        with transaction(conn, role="sxe_worker"):
            wait = controls.try_acquire_token(conn, PROVIDER)
        if wait == 0:
            taken += 1
    return taken


VARIANTS: dict[str, Callable[[psycopg.Connection[Any], float], int]] = {
    "bare": bare_loop,
    "sxe": sxe_loop,
    "sxe_transaction": sxe_transaction_loop,
}


def worker(name: str, url: str, seconds: float, ready: Any, results: Any) -> None:
    with connect(url, autocommit=True) as conn:
        ready.wait()
        results.put(VARIANTS[name](conn, time.time() + seconds))


def measure(name: str, url: str, processes: int, seconds: float) -> float:
    """Run `processes` workers of one variant for `seconds`; return acquisitions per second."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    # The clock starts when every worker has connected, however long the processes took to start.
    ready = context.Barrier(processes)
    workers = [context.Process(target=worker, args=(name, url, seconds, ready, results)) for _ in range(processes)]
    for process in workers:
        process.start()
    taken = sum(results.get(timeout=seconds + 60) for _ in workers)
    for process in workers:
        process.join()
    return taken / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8, help="competing worker processes (default 8)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one measurement (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each variant (default 3)")
    parser.add_argument("--json", type=Path, help="write figures, targets and notes to this file")
    args = parser.parse_args()
    load_before = load_average()

    names = list(VARIANTS)
    rates: dict[str, list[float]] = {name: [] for name in names}
    with bench_database() as url:
        with connect(url, autocommit=True) as conn:
            conn.execute(BARE_SCHEMA)
            conn.execute(BARE_FILL, (PROVIDER,))
            with transaction(conn, role="sxe_worker"):
                controls.ensure_bucket(conn, PROVIDER, capacity=1e15, refill_per_second=1e12)
        for round_number in range(args.rounds):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                rates[name].append(measure(name, url, args.processes, args.seconds))

    figures: dict[str, float] = {}
    print(f"{args.processes} processes, one hot row, {args.seconds:g} s per measurement, {args.rounds} rounds")
    print("| variant | acquisitions/s (median) | rounds |")
    print("|---|---:|---|")
    for name in names:
        figures[f"acquisitions_per_second.{name}"] = round(statistics.median(rates[name]), 1)
        shown = ", ".join(f"{rate:,.0f}" for rate in rates[name])
        print(f"| {name} | {statistics.median(rates[name]):,.0f} | {shown} |")
    for name in ("sxe", "sxe_transaction"):
        pairs = [ours / bare for ours, bare in zip(rates[name], rates["bare"], strict=True) if bare]
        if pairs:
            figures[f"{name}_to_bare"] = round(statistics.median(pairs), 3)
            print(f"{name}_to_bare: {figures[f'{name}_to_bare']:.3f}")

    targets = [{"figure": "sxe_to_bare", "at_least": 0.9, "target": "≥ 90 % of a bare single-row UPDATE"}]
    notes = [
        f"{args.processes} processes, {args.seconds:g} s per measurement, {args.rounds} rounds",
        f"load average before {load_before}, after {load_average()}",
    ]
    write_report(args.json, figures, targets, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
