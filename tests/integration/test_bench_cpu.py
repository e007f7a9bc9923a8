"""bench/_cpu.py: CPU time of the caller, its children and the embedded PostgreSQL server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from _cpu import CpuMeter, CpuUse  # noqa: E402

SERVER_WORK = "SELECT sum(sqrt(n)) FROM generate_series(1, 3000000) AS n"
CHILD_WORK = "sum(i * i for i in range(3_000_000))"


def test_meter_splits_cpu_by_process_group(server_url: str) -> None:
    with psycopg.connect(server_url) as conn, CpuMeter(server_url) as meter:
        conn.execute(SERVER_WORK).fetchone()
        subprocess.run([sys.executable, "-c", CHILD_WORK], check=True)
        sum(i * i for i in range(3_000_000))

    use = meter.result
    assert use is not None
    assert use.caller_seconds > 0.05
    assert use.children_seconds > 0.05
    assert use.postgres_seconds is not None and use.postgres_seconds > 0.05
    assert use.cores_busy is not None and 0 < use.cores_busy <= 1
    assert use.wall_seconds >= max(use.caller_seconds, use.children_seconds) / 2


def test_meter_without_reachable_server() -> None:
    with CpuMeter("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1") as meter:
        pass

    assert meter.result is not None
    assert meter.result.postgres_seconds is None


def test_per_record_converts_seconds_to_microseconds() -> None:
    use = CpuUse(wall_seconds=2.0, caller_seconds=0.5, children_seconds=1.0, postgres_seconds=None, cores_busy=0.754)

    assert use.per_record(1000) == {"caller_us": 500, "workers_us": 1000, "postgres_us": None, "cores_busy": 0.75}
    assert use.per_record(0)["caller_us"] is None


def test_share_of_cores_counts_every_side() -> None:
    use = CpuUse(wall_seconds=2.0, caller_seconds=0.5, children_seconds=1.0, postgres_seconds=0.5, cores_busy=0.9)

    assert use.share_of_cores(2) == 0.5
    assert use.share_of_cores(1) == 1.0


def test_share_of_cores_unknown_without_server_time() -> None:
    use = CpuUse(wall_seconds=2.0, caller_seconds=0.5, children_seconds=1.0, postgres_seconds=None, cores_busy=None)

    assert use.share_of_cores(2) is None
