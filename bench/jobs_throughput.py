"""Job-table throughput: jobs completed per second by 1 or 4 workers claiming 1 or 50 jobs at a time.

Each worker is a thread with its own connection. A job's work is empty, so the
figure is the table's own cost: claim, then complete each job in one transaction.

    .venv/bin/python bench/jobs_throughput.py [--jobs 5000]
"""

from __future__ import annotations

import argparse
import threading
import time

from _database import bench_database

from sxe import jobs
from sxe.db import connect, transaction

QUEUE = "bench"


def fill(url: str, count: int) -> None:
    with connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE ops.jobs")
    with connect(url, autocommit=True) as conn, transaction(conn, role="sxe_worker"):
        for number in range(count):
            jobs.enqueue(conn, QUEUE, {"n": number})


def drain(url: str, batch: int) -> None:
    with connect(url, autocommit=True) as conn:
        while True:
            with transaction(conn, role="sxe_worker"):
                claimed = jobs.claim(conn, QUEUE, limit=batch, lease_seconds=60)
            if not claimed:
                return
            with transaction(conn, role="sxe_worker"):
                for job in claimed:
                    jobs.complete(conn, job)


def measure(url: str, count: int, workers: int, batch: int) -> float:
    fill(url, count)
    threads = [threading.Thread(target=drain, args=(url, batch)) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    with connect(url, autocommit=True) as conn:
        done = jobs.counts(conn, QUEUE).get("succeeded", 0)
    assert done == count, f"expected {count} succeeded jobs, found {done}"
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000, help="jobs per measurement (default 5000)")
    args = parser.parse_args()
    with bench_database() as url:
        print("| workers | batch | jobs | jobs/s |")
        print("|---:|---:|---:|---:|")
        for workers in (1, 4):
            for batch in (1, 50):
                rate = measure(url, args.jobs, workers, batch)
                print(f"| {workers} | {batch} | {args.jobs} | {rate:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
