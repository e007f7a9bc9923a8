"""Job-table throughput against a bare SKIP LOCKED loop, pgqueuer and procrastinate, on one server.

For each worker count (--workers) and claim batch (--batches), every queue drains the
same number of no-op jobs (--jobs), so each figure is the queue's own cost:

- `bare`: a minimal table and two autocommit statements per batch, a
  `FOR UPDATE SKIP LOCKED` claim and one `UPDATE ... WHERE id = ANY(...)` to complete.
  This is the reference: no lease, no attempts, no dedupe key, no role.
- `sxe`: `sxe.jobs.complete_and_claim` in a loop: each round trip completes the
  batch just drained and claims the next in one transaction as the `sxe_worker` role,
  so it spends one commit per batch where `bare` spends two.
- `sxe_two_commits`: `claim_and_commit`, then `complete_and_commit`: two one-round-trip
  transactions per batch, the same commits as `bare`.
- `sxe_transaction`: `claim` and `complete_many`, each inside `transaction(conn,
  role="sxe_worker")`: four round trips per transaction, as the enrichment worker
  claims.
- `pgqueuer` and `procrastinate`: each library's own worker in drain mode, one per
  worker process. procrastinate fetches one job at a time, so it runs only at batch 1.

Each worker is a separate process with its own connection. The clock starts when all
workers of a measurement have connected and stops when the last one has drained the
queue, so library start-up and shutdown inside the worker loop count, process start
does not. Every queue gets its own database on the same server.

    .venv/bin/python bench/jobs_throughput.py [--jobs 1000] [--rounds 3] [--workers 1,4] [--batches 1,50] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
from _database import bench_database, bench_server
from _report import describe_ratio, load_average, write_report

from sxe import jobs
from sxe.db import connect, transaction

QUEUE = "bench"
PEERS = ("pgqueuer", "procrastinate")

# The reference: the least a SKIP LOCKED queue does. Inline SQL is allowed here because
# it measures PostgreSQL, not SXE.
BARE_SCHEMA = """
CREATE TABLE bench_jobs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state text NOT NULL DEFAULT 'queued',
    payload jsonb NOT NULL
);
CREATE INDEX bench_jobs_queued ON bench_jobs (id) WHERE state = 'queued';
"""
BARE_FILL = "INSERT INTO bench_jobs (payload) SELECT jsonb_build_object('n', n) FROM generate_series(1, %s) AS n"
BARE_CLAIM = """
UPDATE bench_jobs SET state = 'running'
 WHERE id IN (SELECT id FROM bench_jobs WHERE state = 'queued' ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)
RETURNING id
"""
BARE_COMPLETE = "UPDATE bench_jobs SET state = 'done' WHERE id = ANY(%s)"

SXE_FILL = """
INSERT INTO ops.jobs (queue, payload)
SELECT %s, jsonb_build_object('n', n) FROM generate_series(1, %s) AS n
"""


# Workers: each runs in its own process and returns (started, finished, jobs done). ---------


def bare_worker(url: str, batch: int, ready: Any) -> tuple[float, float, int]:
    done = 0
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        ready.wait()
        started = time.monotonic()
        while True:
            ids = [row[0] for row in conn.execute(BARE_CLAIM, (batch,))]
            if not ids:
                break
            conn.execute(BARE_COMPLETE, (ids,))
            done += len(ids)
    return started, time.monotonic(), done


def sxe_worker(url: str, batch: int, ready: Any) -> tuple[float, float, int]:
    done = 0
    with connect(url, autocommit=True) as conn:
        ready.wait()
        started = time.monotonic()
        claimed = jobs.claim_and_commit(conn, QUEUE, limit=batch, lease_seconds=60)
        while claimed:
            lost, following = jobs.complete_and_claim(conn, claimed, QUEUE, limit=batch, lease_seconds=60)
            done += len(claimed) - len(lost)
            claimed = following
    return started, time.monotonic(), done


def sxe_two_commits_worker(url: str, batch: int, ready: Any) -> tuple[float, float, int]:
    done = 0
    with connect(url, autocommit=True) as conn:
        ready.wait()
        started = time.monotonic()
        while True:
            claimed = jobs.claim_and_commit(conn, QUEUE, limit=batch, lease_seconds=60)
            if not claimed:
                break
            lost = jobs.complete_and_commit(conn, claimed)
            done += len(claimed) - len(lost)
    return started, time.monotonic(), done


def sxe_transaction_worker(url: str, batch: int, ready: Any) -> tuple[float, float, int]:
    done = 0
    with connect(url, autocommit=True) as conn:
        ready.wait()
        started = time.monotonic()
        while True:
            with transaction(conn, role="sxe_worker"):
                claimed = jobs.claim(conn, QUEUE, limit=batch, lease_seconds=60)
            if not claimed:
                break
            with transaction(conn, role="sxe_worker"):
                jobs.complete_many(conn, claimed)
            done += len(claimed)
    return started, time.monotonic(), done


def pgqueuer_worker(url: str, batch: int, ready: Any) -> tuple[float, float, int]:
    return asyncio.run(_pgqueuer_drain(url, batch, ready))


async def _pgqueuer_drain(url: str, batch: int, ready: Any) -> tuple[float, float, int]:
    from pgqueuer.db import PsycopgDriver
    from pgqueuer.qm import QueueManager
    from pgqueuer.queries import Queries
    from pgqueuer.types import QueueExecutionMode

    done = 0
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        manager = QueueManager(Queries(PsycopgDriver(conn)))

        @manager.entrypoint("noop")
        async def noop(job: object) -> None:
            nonlocal done
            done += 1

        await asyncio.to_thread(ready.wait)
        started = time.monotonic()
        await manager.run(batch_size=batch, mode=QueueExecutionMode.drain)
    return started, time.monotonic(), done


def procrastinate_worker(url: str, batch: int, ready: Any) -> tuple[float, float, int]:
    return asyncio.run(_procrastinate_drain(url, ready))


async def _procrastinate_drain(url: str, ready: Any) -> tuple[float, float, int]:
    import procrastinate

    done = 0
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))

    @app.task(name="noop")
    async def noop() -> None:
        nonlocal done
        done += 1

    async with app.open_async():
        await asyncio.to_thread(ready.wait)
        started = time.monotonic()
        # wait=False: stop once no job is left. Without LISTEN the worker polls, as behind a transaction pooler.
        await app.run_worker_async(wait=False, concurrency=1, listen_notify=False, install_signal_handlers=False)
    return started, time.monotonic(), done


def _run_worker(target: Callable[..., tuple[float, float, int]], url: str, batch: int, ready: Any, out: Any) -> None:
    try:
        out.put(target(url, batch, ready))
    except BaseException as error:  # reported to the parent, which prints it and records no figure
        ready.abort()
        out.put(f"{type(error).__name__}: {error}")


# Filling a queue before each measurement (not timed). ---------------------------------------


def fill_bare(url: str, count: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE bench_jobs")
        conn.execute(BARE_FILL, (count,))
        conn.execute("VACUUM ANALYZE bench_jobs")


def fill_sxe(url: str, count: int) -> None:
    with connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE ops.jobs")
        conn.execute(SXE_FILL, (QUEUE, count))
        conn.execute("VACUUM ANALYZE ops.jobs")


def fill_pgqueuer(url: str, count: int) -> None:
    async def fill() -> None:
        from pgqueuer.db import PsycopgDriver
        from pgqueuer.queries import Queries

        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            queries = Queries(PsycopgDriver(conn))
            await conn.execute("TRUNCATE pgqueuer, pgqueuer_log")
            await queries.enqueue(["noop"] * count, [None] * count, [0] * count)
            await conn.execute("VACUUM ANALYZE pgqueuer")

    asyncio.run(fill())


def fill_procrastinate(url: str, count: int) -> None:
    async def fill() -> None:
        import procrastinate

        app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))

        @app.task(name="noop")
        async def noop() -> None:
            return None

        async with app.open_async():
            await app.job_manager.delete_old_jobs(nb_hours=0, include_failed=True, include_cancelled=True)
            await noop.batch_defer_async(*[{} for _ in range(count)])

    asyncio.run(fill())
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE procrastinate_jobs")


def install_bare(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(BARE_SCHEMA)


def install_pgqueuer(url: str) -> None:
    async def install() -> None:
        from pgqueuer.db import PsycopgDriver
        from pgqueuer.queries import Queries

        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await Queries(PsycopgDriver(conn)).install()

    asyncio.run(install())


def install_procrastinate(url: str) -> None:
    import procrastinate

    app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=url))
    with app.open():
        app.schema_manager.apply_schema()


QUEUES: dict[str, tuple[Callable[[str], None] | None, Callable[[str, int], None], Callable[..., Any]]] = {
    "bare": (install_bare, fill_bare, bare_worker),
    "sxe": (None, fill_sxe, sxe_worker),
    "sxe_two_commits": (None, fill_sxe, sxe_two_commits_worker),
    "sxe_transaction": (None, fill_sxe, sxe_transaction_worker),
    "pgqueuer": (install_pgqueuer, fill_pgqueuer, pgqueuer_worker),
    "procrastinate": (install_procrastinate, fill_procrastinate, procrastinate_worker),
}


# Measuring. -----------------------------------------------------------------------------------


def measure(name: str, url: str, count: int, workers: int, batch: int, timeout: float) -> float | str:
    """Fill the queue, drain it with `workers` processes and return jobs per second, or why it failed."""
    _, fill, target = QUEUES[name]
    fill(url, count)

    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(workers)
    out = context.Queue()
    processes = [
        context.Process(target=_run_worker, args=(target, url, batch, ready, out), daemon=True) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    results: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        for _ in processes:
            results.append(out.get(timeout=max(deadline - time.monotonic(), 0.1)))
    except Exception:
        results.append(f"did not finish within {timeout:.0f} s")
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()

    failures = [result for result in results if isinstance(result, str)]
    if failures:
        return failures[0]
    done = sum(result[2] for result in results)
    if name in ("bare", "sxe", "sxe_two_commits", "sxe_transaction") and done != count:
        return f"drained {done} of {count} jobs"
    elapsed = max(result[1] for result in results) - min(result[0] for result in results)
    return count / elapsed


def available_peers() -> tuple[list[str], list[str]]:
    found, notes = [], []
    for peer in PEERS:
        try:
            module = __import__(peer)
        except ImportError:
            notes.append(f"{peer} is not installed; install the bench extra: pip install -e '.[bench]'")
            continue
        found.append(peer)
        notes.append(f"{peer} {getattr(module, '__version__', _distribution_version(peer))}")
    return found, notes


def _distribution_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown version"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="no-op jobs drained per measurement (default 1000)")
    parser.add_argument("--workers", default="1,4", help="comma-separated worker process counts (default 1,4)")
    parser.add_argument("--batches", default="1,50", help="comma-separated claim batch sizes (default 1,50)")
    parser.add_argument("--only", default="", help="comma-separated queues to measure (default all available)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each queue per setting (default 3)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds before one measurement is abandoned")
    parser.add_argument("--json", type=Path, help="write figures, targets and notes to this file")
    args = parser.parse_args()
    worker_counts = [int(value) for value in args.workers.split(",")]
    batches = [int(value) for value in args.batches.split(",")]

    peers, notes = available_peers()
    names = ["bare", "sxe", "sxe_two_commits", "sxe_transaction", *peers]
    if args.only:
        names = [name for name in names if name in args.only.split(",")]
    notes.append(f"load average at start {load_average()}")

    figures: dict[str, float] = {}
    with ExitStack() as stack:
        server = stack.enter_context(bench_server())
        urls: dict[str, str] = {}
        for name in names:
            urls[name] = stack.enter_context(bench_database(f"jobs_{name}", server=server))
            install = QUEUES[name][0]
            if install is not None:
                install(urls[name])

        print("| queue | workers | batch | jobs | jobs/s (median) | rounds |")
        print("|---|---:|---:|---:|---:|---|")
        for workers in worker_counts:
            for batch in batches:
                measure_setting(names, urls, args, workers, batch, figures, notes)

    targets = add_targets(figures, worker_counts, batches)
    for name, value in figures.items():
        if "_to_" in name:
            print(f"{name}: {value:.2f}")
    notes.append(f"load average at end {load_average()}")
    write_report(args.json, figures, targets, notes)
    return 0


def measure_setting(
    names: list[str],
    urls: dict[str, str],
    args: argparse.Namespace,
    workers: int,
    batch: int,
    figures: dict[str, float],
    notes: list[str],
) -> None:
    """Measure every queue at one setting in `args.rounds` rounds and record the medians and paired ratios.

    Each round measures every queue once, starting with a different one each time, so
    a burst of load from other processes on the machine hits all queues alike.
    """
    setting = f"workers_{workers}.batch_{batch}"
    queues = [name for name in names if name != "procrastinate" or batch == 1]
    # One entry per round, None where the round failed, so the ratios pair the same rounds.
    rates: dict[str, list[float | None]] = {name: [] for name in queues}
    for round_number in range(args.rounds):
        shift = round_number % len(queues)
        for name in queues[shift:] + queues[:shift]:
            rate = measure(name, urls[name], args.jobs, workers, batch, args.timeout)
            if isinstance(rate, str):
                notes.append(f"{name}.{setting} round {round_number + 1} failed: {rate}")
                rates[name].append(None)
            else:
                rates[name].append(rate)

    for name in queues:
        measured = [rate for rate in rates[name] if rate is not None]
        shown = ", ".join("failed" if rate is None else f"{rate:,.0f}" for rate in rates[name])
        median = statistics.median(measured) if measured else None
        if median is not None:
            figures[f"jobs_per_second.{name}.{setting}"] = round(median, 1)
        print(f"| {name} | {workers} | {batch} | {args.jobs} | {median or 0:,.0f} | {shown} |", flush=True)

    # A ratio pairs the two queues round by round, then takes the median of the rounds.
    for name in ("sxe", "sxe_two_commits", "sxe_transaction"):
        for reference in ("bare", "pgqueuer"):
            if name not in rates or reference not in rates:
                continue
            rounds = zip(rates[name], rates[reference], strict=True)
            pairs = [ours / theirs for ours, theirs in rounds if ours is not None and theirs]
            if pairs:
                figures[f"{name}_to_{reference}.{setting}"] = round(statistics.median(pairs), 3)


def add_targets(figures: dict[str, float], worker_counts: list[int], batches: list[int]) -> list[dict[str, Any]]:
    """Return the targets on SXE's ratios to bare SQL and to pgqueuer, for every setting measured."""
    targets: list[dict[str, Any]] = []
    for workers in worker_counts:
        for batch in batches:
            setting = f"workers_{workers}.batch_{batch}"
            for reference, bound, wording, label in (
                ("bare", 0.7, "≥ 70 % of bare SQL", "bare SQL"),
                ("pgqueuer", 2.0, "≥ 2× pgqueuer", "pgqueuer"),
            ):
                ratio = f"sxe_to_{reference}.{setting}"
                if ratio not in figures:
                    continue
                rates = describe_ratio(
                    f"jobs_per_second.sxe.{setting}",
                    "jobs/s",
                    f"jobs_per_second.{reference}.{setting}",
                    reference_label=label,
                )
                targets.append({"figure": ratio, "at_least": bound, "target": f"{wording}, {setting}", **rates})
    return targets


if __name__ == "__main__":
    sys.exit(main())
