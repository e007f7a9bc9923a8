"""The same drain measured on procrastinate and pgqueuer, for comparison with bench/jobs_throughput.py.

Each library gets a fresh database, N no-op jobs enqueued in bulk, and one worker
process running 4 jobs at a time until the queue is empty. The libraries are not
dependencies of SXE; install them in a separate virtual environment first:

    python3 -m venv /tmp/qbench && /tmp/qbench/bin/pip install procrastinate pgqueuer -e .
    cd bench && /tmp/qbench/bin/python queue_comparison.py [--jobs 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import timedelta

import procrastinate
import psycopg
from _database import bench_database
from pgqueuer import QueueManager
from pgqueuer.adapters.drivers.psycopg import PsycopgDriver
from pgqueuer.queries import Queries
from pgqueuer.types import QueueExecutionMode


async def procrastinate_rate(url: str, count: int, listen_notify: bool) -> float:
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))

    @app.task(name="noop")
    async def noop() -> None:
        return None

    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        await noop.batch_defer_async(*[{} for _ in range(count)])
        started = time.perf_counter()
        await app.run_worker_async(
            wait=False, concurrency=4, listen_notify=listen_notify, fetch_job_polling_interval=0.05
        )
        return count / (time.perf_counter() - started)


async def pgqueuer_rate(url: str, count: int, batch: int) -> float:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        driver = PsycopgDriver(conn)
        queries = Queries(driver)
        await queries.install()
        await queries.enqueue(["noop"] * count, [None] * count, [0] * count)

        manager = QueueManager(queries)

        @manager.entrypoint("noop", concurrency_limit=4)
        async def noop(job: object) -> None:
            return None

        started = time.perf_counter()
        await manager.run(batch_size=batch, mode=QueueExecutionMode.drain, dequeue_timeout=timedelta(seconds=1))
        return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3000)
    args = parser.parse_args()
    print("| library | setting | jobs | jobs/s |")
    print("|---|---|---:|---:|")
    for listen in (True, False):
        with bench_database("procrastinate") as url:
            rate = asyncio.run(procrastinate_rate(url, args.jobs, listen))
        print(f"| procrastinate {procrastinate.__version__} | listen_notify={listen} | {args.jobs} | {rate:,.0f} |")
    for batch in (1, 50):
        with bench_database("pgqueuer") as url:
            rate = asyncio.run(pgqueuer_rate(url, args.jobs, batch))
        print(f"| pgqueuer | batch_size={batch} | {args.jobs} | {rate:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
