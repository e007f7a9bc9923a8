"""Token acquisitions per second on one hot provider bucket, against a bare single-row UPDATE loop.

--processes workers hammer one row. The bucket refills so fast that no call is
refused, so every figure is the cost of taking a token:

- `bare`: a one-row table and `UPDATE ... SET tokens = tokens - 1` in autocommit.
  This is the reference: no refill, no Retry-After block, no role.
- `sxe`: `controls.acquire_token_and_commit`, which sends SET LOCAL ROLE and the
  acquire as one message, built once per provider, that the server runs as one
  implicit transaction.
- `sxe_transaction`: `controls.try_acquire_token` inside `transaction(conn,
  role="sxe_worker")`, four round trips, as the enrichment worker calls it next to
  its breaker check.

Every variant runs in the same worker processes on the same connections, one
autocommit connection per process. A round gives each variant --seconds in slices of
--slice seconds, taken in turn by all processes at once and starting with a different
variant in each cycle, so a change in outside load reaches every variant alike. A
figure is the median of the rounds, and a ratio is the median of the per-round ratios.

    .venv/bin/python bench/token_throughput.py [--processes 8 --seconds 5 --rounds 3 --slice 0.5] [--json PATH]
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
from _report import describe_ratio, load_average, write_report

from sxe.db import connect, transaction
from sxe.orchestrator import controls

PROVIDER = "hot"
# Inline SQL for the reference only: it measures PostgreSQL, not SXE.
BARE_SCHEMA = "CREATE TABLE bench_bucket (provider text PRIMARY KEY, tokens double precision NOT NULL)"
BARE_FILL = "INSERT INTO bench_bucket VALUES (%s, 1e15)"
BARE_TAKE = "UPDATE bench_bucket SET tokens = tokens - 1 WHERE provider = %s"
WARM_UP_CALLS = 20
START_DELAY_SECONDS = 0.2


def bare_take(conn: psycopg.Connection[Any]) -> bool:
    conn.execute(BARE_TAKE, (PROVIDER,))
    return True


def sxe_take(conn: psycopg.Connection[Any]) -> bool:
    return controls.acquire_token_and_commit(conn, PROVIDER) == 0


def sxe_transaction_take(conn: psycopg.Connection[Any]) -> bool:
    with transaction(conn, role="sxe_worker"):
        wait = controls.try_acquire_token(conn, PROVIDER)
    return wait == 0


VARIANTS: dict[str, Callable[[psycopg.Connection[Any]], bool]] = {
    "bare": bare_take,
    "sxe": sxe_take,
    "sxe_transaction": sxe_transaction_take,
}


def schedule(names: list[str], slices_per_variant: int) -> list[str]:
    """Return the variant of each slice, cycling through `names` and starting each cycle one variant later."""
    order: list[str] = []
    for cycle in range(slices_per_variant):
        shift = cycle % len(names)
        order += names[shift:] + names[:shift]
    return order


def take_in_slices(
    conn: psycopg.Connection[Any], order: list[str], start: float, slice_seconds: float
) -> dict[str, int]:
    """Run each slice's variant from its start to its end, and return the tokens taken per variant."""
    tokens = dict.fromkeys(order, 0)
    for number, name in enumerate(order):
        begin = start + number * slice_seconds
        end = begin + slice_seconds
        time.sleep(max(begin - time.time(), 0))
        take = VARIANTS[name]
        while time.time() < end:
            tokens[name] += take(conn)
    return tokens


def worker(url: str, order: list[str], slice_seconds: float, ready: Any, start: Any, results: Any) -> None:
    with connect(url, autocommit=True) as conn:
        for name in dict.fromkeys(order):
            for _ in range(WARM_UP_CALLS):
                VARIANTS[name](conn)
        # After the first wait the parent sets the start time, and after the second every worker reads it.
        ready.wait()
        ready.wait()
        results.put(take_in_slices(conn, order, start.value, slice_seconds))


def measure_round(url: str, names: list[str], args: argparse.Namespace) -> dict[str, float]:
    """Run one round in `args.processes` new processes, and return acquisitions per second per variant."""
    slices_per_variant = max(1, round(args.seconds / args.slice))
    order = schedule(names, slices_per_variant)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = context.Value("d", 0.0)
    ready = context.Barrier(args.processes + 1)
    workers = [
        context.Process(target=worker, args=(url, order, args.slice, ready, start, results))
        for _ in range(args.processes)
    ]
    for process in workers:
        process.start()
    ready.wait()
    start.value = time.time() + START_DELAY_SECONDS
    ready.wait()
    wait_seconds = len(order) * args.slice + 120
    counts = [results.get(timeout=wait_seconds) for _ in workers]
    for process in workers:
        process.join()
    seconds_per_variant = slices_per_variant * args.slice
    return {name: sum(count[name] for count in counts) / seconds_per_variant for name in names}


def figures_of(rates: dict[str, list[float]]) -> dict[str, float]:
    figures: dict[str, float] = {}
    for name, values in rates.items():
        figures[f"acquisitions_per_second.{name}"] = round(statistics.median(values), 1)
    for name in ("sxe", "sxe_transaction"):
        pairs = [ours / bare for ours, bare in zip(rates[name], rates["bare"], strict=True) if bare]
        if pairs:
            figures[f"{name}_to_bare"] = round(statistics.median(pairs), 3)
    return figures


def print_table(rates: dict[str, list[float]], figures: dict[str, float], args: argparse.Namespace) -> None:
    print(
        f"{args.processes} processes, one hot row, {args.seconds:g} s per variant and round "
        f"in {args.slice:g} s slices, {args.rounds} rounds"
    )
    print("| variant | acquisitions/s (median) | rounds |")
    print("|---|---:|---|")
    for name, values in rates.items():
        per_round = ", ".join(f"{rate:,.0f}" for rate in values)
        print(f"| {name} | {statistics.median(values):,.0f} | {per_round} |")
    for name in ("sxe", "sxe_transaction"):
        if f"{name}_to_bare" in figures:
            print(f"{name}_to_bare: {figures[f'{name}_to_bare']:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8, help="competing worker processes (default 8)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per variant in each round (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each in new processes (default 3)")
    parser.add_argument("--slice", type=float, default=0.5, help="seconds of one variant before the next (default 0.5)")
    parser.add_argument("--json", type=Path, help="write figures, targets and notes to this file")
    args = parser.parse_args()
    if args.slice <= 0 or args.seconds < args.slice:
        parser.error(f"--slice must be above 0 and at most --seconds, got --slice {args.slice:g}")
    load_before = load_average()

    names = list(VARIANTS)
    rates: dict[str, list[float]] = {name: [] for name in names}
    with bench_database() as url:
        with connect(url, autocommit=True) as conn:
            conn.execute(BARE_SCHEMA)
            conn.execute(BARE_FILL, (PROVIDER,))
            with transaction(conn, role="sxe_worker"):
                controls.ensure_bucket(conn, PROVIDER, capacity=1e15, refill_per_second=1e12)
        for _ in range(args.rounds):
            for name, rate in measure_round(url, names, args).items():
                rates[name].append(rate)

    figures = figures_of(rates)
    print_table(rates, figures, args)
    targets = [
        {
            "figure": "sxe_to_bare",
            "at_least": 0.9,
            "target": "≥ 90 % of a bare single-row UPDATE",
            **describe_ratio(
                "acquisitions_per_second.sxe",
                "acquisitions/s",
                "acquisitions_per_second.bare",
                reference_label="bare UPDATE",
            ),
        }
    ]
    notes = [
        f"{args.processes} processes, {args.seconds:g} s per variant in {args.slice:g} s slices, {args.rounds} rounds",
        f"load average before {load_before}, after {load_average()}",
    ]
    write_report(args.json, figures, targets, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
