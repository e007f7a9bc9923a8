"""Token-bucket accuracy: competing processes take tokens from one Postgres bucket as fast as it allows.

The bucket refills at --rate tokens per second up to --burst tokens and starts full.
--processes workers each loop over `controls.try_acquire_token` in a transaction as
the `sxe_worker` role, as the enrichment worker does, and sleep exactly the wait it
returns when no token is left. A token's time is the midpoint of the call that took it.

Figures:

- `rate_error_percent`: the rate achieved over the steady window, from one second
  after the start (the initial burst is long gone by then) to the end, against
  --rate, in percent (negative: slower than configured).
- `whole_run.rate_error_percent`: tokens taken over the whole run divided by
  --seconds, against --rate. It includes the initial burst, so a perfect bucket
  shows +100 * burst / (rate * seconds) percent.
- `whole_run.tokens_over_allowed`: tokens taken minus burst + rate * seconds; above 0
  means the bucket handed out more than it may.
- `max_tokens_in_one_second`: the most tokens in any one-second window, sliding over
  the token times; the bucket allows at most burst + rate.

    .venv/bin/python bench/token_bucket.py [--processes 8 --rate 50 --seconds 20 --burst 10] [--json PATH]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

from _database import bench_database
from _report import describe_ratio, load_average, write_report

from sxe.db import connect, transaction
from sxe.orchestrator import controls

PROVIDER = "bench"
STEADY_AFTER_SECONDS = 1.0


def take_tokens(url: str, seconds: float, ready: Any, results: Any) -> None:
    """Take tokens for `seconds` after every process is ready; put the list of token times on `results`."""
    taken: list[float] = []
    with connect(url, autocommit=True) as conn:
        ready.wait()
        until = time.time() + seconds
        while (before := time.time()) < until:
            with transaction(conn, role="sxe_worker"):
                wait = controls.try_acquire_token(conn, PROVIDER)
            after = time.time()
            if wait == 0:
                taken.append((before + after) / 2)
            else:
                time.sleep(min(wait, max(until - after, 0)))
    results.put(taken)


def max_in_window(stamps: list[float], seconds: float = 1.0) -> int:
    """Return the maximum number of sorted `stamps` in any half-open window [t, t + seconds)."""
    maximum, first = 0, 0
    for last, stamp in enumerate(stamps):
        while stamps[first] <= stamp - seconds:
            first += 1
        maximum = max(maximum, last - first + 1)
    return maximum


def figures_of(stamps: list[float], start: float, until: float, args: argparse.Namespace) -> dict[str, float]:
    seconds = until - start
    allowed = args.burst + args.rate * seconds
    steady_start = start + STEADY_AFTER_SECONDS
    steady = [stamp for stamp in stamps if steady_start <= stamp < until]
    steady_rate = len(steady) / (until - steady_start)
    whole_rate = len(stamps) / seconds
    return {
        "tokens_taken": len(stamps),
        "tokens_allowed": round(allowed, 1),
        "whole_run.tokens_over_allowed": round(len(stamps) - allowed, 1),
        "whole_run.achieved_rate_per_second": round(whole_rate, 3),
        "whole_run.rate_error_percent": round(100 * (whole_rate - args.rate) / args.rate, 3),
        "steady.achieved_rate_per_second": round(steady_rate, 3),
        "rate_error_percent": round(100 * (steady_rate - args.rate) / args.rate, 3),
        "rate_error_abs_percent": round(abs(100 * (steady_rate - args.rate) / args.rate), 3),
        "max_tokens_in_one_second": max_in_window(stamps),
        "steady.max_tokens_in_one_second": max_in_window(steady),
        "allowed_in_one_second": args.burst + args.rate,
        "configured_rate_per_second": args.rate,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8, help="competing worker processes (default 8)")
    parser.add_argument("--rate", type=float, default=50.0, help="refill, tokens per second (default 50)")
    parser.add_argument("--burst", type=float, default=10.0, help="bucket capacity, tokens (default 10)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the run (default 20)")
    parser.add_argument("--json", type=Path, help="write figures, targets and notes to this file")
    args = parser.parse_args()
    if args.seconds <= STEADY_AFTER_SECONDS + 1:
        parser.error(f"--seconds must be above {STEADY_AFTER_SECONDS + 1:g} to leave a steady window")
    load_before = load_average()

    with bench_database() as url:
        with connect(url, autocommit=True) as conn, transaction(conn, role="sxe_worker"):
            controls.ensure_bucket(conn, PROVIDER, capacity=args.burst, refill_per_second=args.rate)

        # Every process starts when all of them and this one have connected, however long starting took.
        context = multiprocessing.get_context("spawn")
        ready = context.Barrier(args.processes + 1)
        results = context.Queue()
        processes = [
            context.Process(target=take_tokens, args=(url, args.seconds, ready, results)) for _ in range(args.processes)
        ]
        for process in processes:
            process.start()
        ready.wait()
        start = time.time()
        until = start + args.seconds
        stamps = sorted(stamp for _ in processes for stamp in results.get(timeout=args.seconds + 60))
        for process in processes:
            process.join()

    figures = figures_of(stamps, start, until, args)
    print(f"processes {args.processes}, rate {args.rate:g}/s, burst {args.burst:g}, {args.seconds:g} s")
    print(f"tokens taken: {figures['tokens_taken']} (allowed at most {figures['tokens_allowed']:.0f})")
    print(
        f"steady rate from {STEADY_AFTER_SECONDS:g} s to the end: {figures['steady.achieved_rate_per_second']:.3f}/s, "
        f"rate_error_percent {figures['rate_error_percent']:+.2f}"
    )
    print(
        f"whole run: {figures['whole_run.achieved_rate_per_second']:.3f}/s, "
        f"whole_run.rate_error_percent {figures['whole_run.rate_error_percent']:+.2f} (burst included)"
    )
    print(
        f"max tokens in one second: {figures['max_tokens_in_one_second']} "
        f"(steady window {figures['steady.max_tokens_in_one_second']}; allowed {args.burst + args.rate:g})"
    )

    targets = [
        {
            "figure": "rate_error_abs_percent",
            "at_most": 1.0,
            "target": "steady rate within ±1 % of --rate",
            **describe_ratio(
                "steady.achieved_rate_per_second",
                "tokens/s",
                "configured_rate_per_second",
                reference_label="configured",
            ),
        },
        {
            "figure": "max_tokens_in_one_second",
            "at_most": args.burst + args.rate,
            "target": "no one-second window above burst + rate",
        },
    ]
    notes = [
        f"{args.processes} processes, rate {args.rate:g}/s, burst {args.burst:g}, {args.seconds:g} s",
        f"load average before {load_before}, after {load_average()}",
    ]
    write_report(args.json, figures, targets, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
