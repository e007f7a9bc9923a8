"""Ingest throughput next to a plain COPY and a dlt load of the same records, in one run on one server.

All sides start from the same generated files and a new migrated database from
`bench_database()` (embedded PostgreSQL, or SXE_DATABASE_URL's server):

- COPY (the reference): read every record with SXE's reader, which hashes it, and
  COPY `(content_hash, payload)` into a bare table with a primary key. That is the
  least any ingest that stores and deduplicates raw records must do.
- SXE ingest: `sxe.ingest.parallel.ingest_files` with `--jobs` processes, as
  `sxe run` calls it: parse, hash, redact, store raw records with dedupe, normalize,
  upsert profiles, append observations, quarantine and bio sightings. Ingest and
  normalize are one pass in SXE, so that pass is reported under both names.
- SXE re-ingest: the same files again, where every record is a duplicate.
- dlt: `dlt.pipeline(...).run()` appending the same `(content_hash, payload)` rows
  to a new dataset on the same server, with the payload as a JSON column.
- The store floor (see _store_floor.py): on a second new database on the same
  server, ingest's writes alone, from chunks the workers' code finished before the
  clock started. It shows how fast ingest could be if its Python work cost nothing.

Every ratio is computed from figures measured in this run on this server.

    .venv/bin/python bench/ingest_vs_copy.py --records 200000 --json /tmp/ingest.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# dlt sends anonymous usage telemetry unless this is false, and nothing here may leave the machine.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

import orjson  # noqa: E402
import psycopg  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cpu import CpuMeter  # noqa: E402
from _database import bench_database, bench_server  # noqa: E402
from _report import describe_ratio  # noqa: E402
from _store_floor import prepare_files, store_prepared  # noqa: E402

from sxe.config import default_ingest_jobs  # noqa: E402
from sxe.db import connect  # noqa: E402
from sxe.ingest import read_profiles  # noqa: E402
from sxe.ingest.parallel import ingest_files  # noqa: E402
from sxe.pipeline import collect_inputs  # noqa: E402

BARE_TABLE = "CREATE TABLE bench_copy (content_hash text PRIMARY KEY, payload jsonb NOT NULL)"
COPY_RATE = "copy_rows_per_second"
TARGETS = [
    {
        "figure": "ingest_to_copy",
        "at_least": 0.5,
        "target": "≥ 50 % of COPY",
        **describe_ratio(
            "ingest_records_per_second", "records/s", COPY_RATE, reference_unit="rows/s", reference_label="COPY"
        ),
    },
    {
        "figure": "ingest_to_dlt",
        "at_least": 1.0,
        "target": "faster than dlt",
        **describe_ratio(
            "ingest_records_per_second",
            "records/s",
            "dlt_rows_per_second",
            reference_unit="rows/s",
            reference_label="dlt",
        ),
    },
    {
        "figure": "normalize_to_copy",
        "at_least": 0.25,
        "target": "≥ 25 % of COPY",
        **describe_ratio(
            "normalize_records_per_second", "records/s", COPY_RATE, reference_unit="rows/s", reference_label="COPY"
        ),
    },
    {
        "figure": "reingest_to_copy",
        "at_least": 1.0,
        "target": "≥ 100 % of COPY",
        **describe_ratio(
            "reingest_records_per_second", "records/s", COPY_RATE, reference_unit="rows/s", reference_label="COPY"
        ),
    },
]


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="sxe-bench-ingest-") as scratch:
        folder = Path(scratch)
        files = generate_input(args.records, folder / "input", args.seed)
        with bench_server() as server:
            with bench_database("sxe_bench_ingest", server=server) as url:
                figures = measure(url, files, args.jobs, folder / "dlt")
            with bench_database("sxe_bench_floor", server=server) as url:
                figures.update(measure_floor(url, files, args.jobs, figures["copy_rows_per_second"]))

    figures["records_requested"] = args.records
    figures["jobs"] = args.jobs
    report = {"figures": figures, "targets": TARGETS, "notes": notes(args.jobs)}
    print_report(figures)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def generate_input(records: int, folder: Path, seed: int) -> list[Path]:
    """Write the input with bench/generate.py in a child process, so its memory stays out of peak_rss_mib."""
    script = Path(__file__).resolve().parent / "generate.py"
    command = [sys.executable, str(script), "--records", str(records), "--out", str(folder), "--seed", str(seed)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return collect_inputs([folder])


def measure(url: str, files: list[Path], jobs: int, dlt_folder: Path) -> dict[str, Any]:
    """Run COPY, SXE ingest, SXE re-ingest and dlt in that order; return rates, ratios and CPU use."""
    cpu: dict[str, Any] = {}
    with connect(url, autocommit=True) as conn:
        with CpuMeter(url) as meter:
            copy_seconds, copied = time_copy(conn, files)
        cpu["copy"] = _cpu_per_record(meter, copied)
        with CpuMeter(url) as ingest_meter:
            ingest_seconds, stored, read = time_ingest(conn, files, jobs, count="accepted")
        cpu["ingest"] = _cpu_per_record(ingest_meter, read)
        with CpuMeter(url) as meter:
            reingest_seconds, duplicates, read = time_ingest(conn, files, jobs, count="duplicates")
        cpu["reingest"] = _cpu_per_record(meter, read)
    # Measured before dlt runs in this process, so it covers SXE alone.
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    dlt_seconds, loaded = time_dlt(url, files, dlt_folder)

    copy_rate = copied / copy_seconds
    ingest_rate = stored / ingest_seconds
    reingest_rate = duplicates / reingest_seconds
    dlt_rate = loaded / dlt_seconds
    return {
        "copy_rows": copied,
        "copy_seconds": round(copy_seconds, 2),
        "copy_rows_per_second": round(copy_rate),
        "ingest_records": stored,
        "ingest_seconds": round(ingest_seconds, 2),
        "ingest_records_per_second": round(ingest_rate),
        "ingest_to_copy": round(ingest_rate / copy_rate, 3),
        "normalize_records_per_second": round(ingest_rate),
        "normalize_to_copy": round(ingest_rate / copy_rate, 3),
        "reingest_records": duplicates,
        "reingest_seconds": round(reingest_seconds, 2),
        "reingest_records_per_second": round(reingest_rate),
        "reingest_to_copy": round(reingest_rate / copy_rate, 3),
        "dlt_rows": loaded,
        "dlt_seconds": round(dlt_seconds, 2),
        "dlt_rows_per_second": round(dlt_rate),
        "ingest_to_dlt": round(ingest_rate / dlt_rate, 3),
        **{f"cpu_per_record.{side}.{key}": value for side, use in cpu.items() for key, value in use.items()},
        **_ceiling(ingest_meter, ingest_rate / copy_rate),
        "peak_rss_mib": round(peak_rss_mib, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def measure_floor(url: str, files: list[Path], jobs: int, copy_rate: float) -> dict[str, Any]:
    """Time ingest's writes alone, from chunks prepared before the clock started; return rate, ratio and CPU use."""
    prepared = prepare_files(files, jobs)
    with connect(url, autocommit=True) as conn, CpuMeter(url) as meter:
        start = time.perf_counter()
        read, accepted = store_prepared(conn, files, prepared)
        seconds = time.perf_counter() - start
    rate = accepted / seconds
    use = _cpu_per_record(meter, read)
    figures: dict[str, Any] = {
        "store_floor_records": accepted,
        "store_floor_seconds": round(seconds, 2),
        "store_floor_records_per_second": round(rate),
        "store_floor_to_copy": round(rate / copy_rate, 3),
        **{f"cpu_per_record.store_floor.{key}": value for key, value in use.items()},
    }
    figures["store_floor_cpu_ceiling_to_copy"] = _floor_ceiling(use, read, accepted, copy_rate)
    return figures


def _floor_ceiling(use: dict[str, float | None], read: int, accepted: int, copy_rate: float) -> float | None:
    """Return the share of COPY that the store floor's CPU per record allows with every core busy, or None.

    The calling process's and the server's CPU per record read, spread over every core,
    caps the records read per second. The accepted records are a share of those.
    """
    caller, server = use["caller_us"], use["postgres_us"]
    if caller is None or server is None or not read:
        return None
    cores = len(os.sched_getaffinity(0))
    records_per_second = cores * 1e6 / (caller + server) * accepted / read
    return round(records_per_second / copy_rate, 3)


def _cpu_per_record(meter: CpuMeter, records: int) -> dict[str, float | None]:
    assert meter.result is not None, "the meter's block has ended"
    return meter.result.per_record(records)


def _ceiling(meter: CpuMeter, ingest_to_copy: float) -> dict[str, float | None]:
    """Return the share of all cores ingest's processes used, and the ratio to COPY ingest would reach using them all.

    Both are None when the server's CPU time is unknown (a server on another machine).
    """
    assert meter.result is not None, "the meter's block has ended"
    share = meter.result.share_of_cores(len(os.sched_getaffinity(0)))
    if not share:
        return {"ingest_cores_used": None, "ingest_cpu_ceiling_to_copy": None}
    return {"ingest_cores_used": round(share, 2), "ingest_cpu_ceiling_to_copy": round(ingest_to_copy / share, 3)}


def time_copy(conn: psycopg.Connection[Any], files: list[Path]) -> tuple[float, int]:
    """COPY every parsed record's hash and payload into a bare table; return seconds and rows."""
    conn.execute(BARE_TABLE)
    start = time.perf_counter()
    rows = 0
    with conn.transaction(), conn.cursor().copy("COPY bench_copy (content_hash, payload) FROM STDIN") as copy:
        for content_hash, payload in parsed_rows(files):
            copy.write_row((content_hash, orjson.dumps(payload).decode()))
            rows += 1
    return time.perf_counter() - start, rows


def parsed_rows(files: list[Path]) -> Iterator[tuple[str, Any]]:
    """Yield (content hash, payload) of every decoded record once, in file order."""
    seen: set[str] = set()
    for path in files:
        for record in read_profiles(path):
            if record.content_hash and record.payload is not None and record.content_hash not in seen:
                seen.add(record.content_hash)
                yield record.content_hash, record.payload


def time_ingest(conn: psycopg.Connection[Any], files: list[Path], jobs: int, count: str) -> tuple[float, int, int]:
    """Ingest every file as `sxe run` does; return seconds, the accepted (or duplicate) records and all records read."""
    start = time.perf_counter()
    counted = read = 0
    for result in ingest_files(conn, files, run_id=uuid.uuid4(), jobs=jobs):
        counted += result.accepted if count == "accepted" else result.duplicates
        read += result.records
    return time.perf_counter() - start, counted, read


def time_dlt(url: str, files: list[Path], folder: Path) -> tuple[float, int]:
    """Load the COPY rows with dlt into a new dataset on the same server; return seconds and rows."""
    import dlt

    name = f"sxe_bench_{uuid.uuid4().hex[:10]}"
    pipeline = dlt.pipeline(
        pipeline_name=name,
        pipelines_dir=str(folder),
        destination=dlt.destinations.postgres(credentials=dlt_credentials(url)),
        dataset_name=name,
    )
    rows = 0

    @dlt.resource(name="bench_copy", write_disposition="append", columns={"payload": {"data_type": "json"}})
    def records() -> Iterator[dict[str, Any]]:
        nonlocal rows
        for content_hash, payload in parsed_rows(files):
            rows += 1
            yield {"content_hash": content_hash, "payload": payload}

    start = time.perf_counter()
    pipeline.run(records())
    return time.perf_counter() - start, rows


def dlt_credentials(url: str) -> str:
    """Return a URL for dlt's postgres destination that reaches the server of `url`.

    dlt puts the host into the URL's authority, where a Unix socket folder does not
    fit, so the folder goes in the `host` query parameter, which libpq prefers.
    """
    with psycopg.connect(url) as conn:
        info = conn.info
        host, port, user, password, database = info.host, info.port, info.user, info.password, info.dbname
    if host.startswith("/"):
        return f"postgresql://{user}:{password or ''}@localhost:{port}/{database}?host={host}"
    return f"postgresql://{user}:{password or ''}@{host}:{port}/{database}"


def notes(jobs: int) -> list[str]:
    return [
        "SXE ingests and normalizes in one pass, so normalize_* repeats the ingest_* figures.",
        f"SXE used {jobs} worker process(es) for reading, hashing, normalizing and redacting;"
        " the main process ran the SQL.",
        "COPY and dlt load (content_hash, payload) of the same parsed records; their times include SXE's reader.",
        "peak_rss_mib is the bench process before dlt ran, without the input generator and the ingest workers.",
        "cpu_per_record gives, per record read, the CPU microseconds of the calling process, of its worker"
        " processes and of the PostgreSQL server, and the share of all cores that were busy.",
        "ingest_cores_used is the share of all cores that ingest's processes and the server used during ingest.",
        "ingest_cpu_ceiling_to_copy is ingest_to_copy divided by ingest_cores_used: the share of COPY that ingest"
        " would reach with every core busy at its measured CPU cost per record.",
        "store_floor_* is ingest's calling process storing chunks that the workers' code finished before the clock"
        " started, on a second database of the same server: ingest's rate if its Python work per record cost nothing.",
        "store_floor_cpu_ceiling_to_copy is the share of COPY that the floor's CPU per record read, in the calling"
        " process and the server, would allow with every core busy, however the writes were spread.",
    ]


def print_report(figures: dict[str, Any]) -> None:
    print(f"{'side':<12}{'rows':>10}{'seconds':>10}{'rows/s':>10}")
    for side, rows in (("copy", "copy_rows"), ("ingest", "ingest_records"), ("reingest", "reingest_records")):
        rate = figures[f"{side}_{'rows' if side == 'copy' else 'records'}_per_second"]
        print(f"{side:<12}{figures[rows]:>10}{figures[f'{side}_seconds']:>10.2f}{rate:>10}")
    print(f"{'dlt':<12}{figures['dlt_rows']:>10}{figures['dlt_seconds']:>10.2f}{figures['dlt_rows_per_second']:>10}")
    for target in TARGETS:
        value = figures[target["figure"]]
        met = "met" if value >= target["at_least"] else "missed"
        print(f"{target['figure']:<20}{value:>8.3f}  target {target['target']}: {met}")
    print("CPU per record (us): caller, workers, PostgreSQL; share of cores busy")
    for side in ("copy", "ingest", "reingest"):
        use = [figures[f"cpu_per_record.{side}.{key}"] for key in ("caller_us", "workers_us", "postgres_us")]
        print(f"  {side:<10}{use[0]}, {use[1]}, {use[2]}; {figures[f'cpu_per_record.{side}.cores_busy']}")
    print(f"ingest used {figures['ingest_cores_used']} of the cores")
    print(f"ingest CPU ceiling: {figures['ingest_cpu_ceiling_to_copy']} of COPY")
    print(
        f"store floor: {figures['store_floor_records_per_second']} records/s, {figures['store_floor_to_copy']} of COPY;"
        f" CPU per record {figures['cpu_per_record.store_floor.caller_us']} us caller,"
        f" {figures['cpu_per_record.store_floor.postgres_us']} us PostgreSQL;"
        f" ceiling with every core busy {figures['store_floor_cpu_ceiling_to_copy']} of COPY"
    )
    print(f"peak RSS {figures['peak_rss_mib']} MiB (bench process, before dlt)")
    print(f"load average (1 min) at the end: {figures['load_average_1m']}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000, help="records over five formats (default 200000)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument(
        "--jobs", type=int, default=default_ingest_jobs(), help="SXE ingest processes (default: cores, at most 4)"
    )
    parser.add_argument("--json", type=Path, help="write the figures, targets and notes to this file")
    args = parser.parse_args()
    if args.records < 1 or args.jobs < 1:
        parser.error(f"--records and --jobs must be at least 1, got {args.records} and {args.jobs}")
    return args


if __name__ == "__main__":
    sys.exit(main())
