"""Token-bucket rate accuracy: 8 processes take tokens from one Postgres bucket as fast as it allows.

The bucket refills at --rate tokens per second with capacity --burst. Over
--seconds, the processes together should take about burst + rate * seconds
tokens, and no one-second window should exceed rate + burst.

    .venv/bin/python bench/token_bucket.py [--processes 8 --rate 50 --seconds 20 --burst 10]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from collections import Counter

from _database import bench_database

from sxe.db import connect, transaction
from sxe.orchestrator import controls

PROVIDER = "bench"


def take_tokens(url: str, until: float, results: multiprocessing.Queue[list[float]]) -> None:
    taken: list[float] = []
    with connect(url, autocommit=True) as conn:
        while time.time() < until:
            with transaction(conn, role="sxe_worker"):
                wait = controls.try_acquire_token(conn, PROVIDER)
            if wait == 0:
                taken.append(time.time())
            else:
                time.sleep(min(wait, max(until - time.time(), 0)))
    results.put(taken)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--rate", type=float, default=50.0, help="refill, tokens per second")
    parser.add_argument("--burst", type=float, default=10.0, help="bucket capacity, tokens")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()

    with bench_database() as url:
        with connect(url, autocommit=True) as conn, transaction(conn, role="sxe_worker"):
            controls.ensure_bucket(conn, PROVIDER, capacity=args.burst, refill_per_second=args.rate)

        start = time.time() + 1.0
        until = start + args.seconds
        results: multiprocessing.Queue[list[float]] = multiprocessing.Queue()
        processes = [
            multiprocessing.Process(target=take_tokens, args=(url, until, results)) for _ in range(args.processes)
        ]
        for process in processes:
            process.start()
        stamps = sorted(stamp for _ in processes for stamp in results.get())
        for process in processes:
            process.join()

    expected = args.burst + args.rate * (stamps[-1] - stamps[0]) if stamps else 0
    per_second = Counter(int(stamp - stamps[0]) for stamp in stamps)
    full_windows = [per_second[second] for second in range(1, int(args.seconds) - 1)]
    print(f"processes {args.processes}, rate {args.rate}/s, burst {args.burst}, {args.seconds} s")
    print(f"tokens taken: {len(stamps)} (allowed at most {expected:.0f})")
    print(f"achieved rate over the run: {len(stamps) / (stamps[-1] - stamps[0]):.2f}/s")
    print(f"per one-second window (after the first): min {min(full_windows)}, max {max(full_windows)}")


if __name__ == "__main__":
    main()
