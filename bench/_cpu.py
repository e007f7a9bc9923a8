"""CPU time spent by each side of a measurement: this process, its child processes and the PostgreSQL server.

A rate alone cannot tell a slow program from a busy machine. Next to each rate the
ingest benchmark records how many CPU seconds each process group used and how busy
all cores were. A figure bound by the cores then shows it, because its CPU seconds add
up to nearly cores times wall time.

    with CpuMeter(url) as meter:
        ...
    meter.result  # CpuUse, or None parts where the machine cannot tell

The PostgreSQL share covers the postmaster and every process it started, including
those that exited during the measurement (their time moves to the postmaster's
children counters). It is read from /proc, so it is known only for a server on this
machine whose data directory the connection may read.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class CpuUse:
    """CPU seconds of each side over one measurement, and the share of all cores that were busy."""

    wall_seconds: float
    caller_seconds: float
    children_seconds: float
    postgres_seconds: float | None
    cores_busy: float | None

    def share_of_cores(self, cores: int) -> float | None:
        """Return the share of `cores` that the three sides kept busy, or None when the server's time is unknown."""
        if self.postgres_seconds is None or self.wall_seconds <= 0:
            return None
        used = self.caller_seconds + self.children_seconds + self.postgres_seconds
        return used / (cores * self.wall_seconds)

    def per_record(self, records: int) -> dict[str, float | None]:
        """Return microseconds of CPU per record for each side, and the busy share of the cores."""

        def micros(seconds: float | None) -> float | None:
            return None if seconds is None or not records else round(seconds / records * 1e6)

        return {
            "caller_us": micros(self.caller_seconds),
            "workers_us": micros(self.children_seconds),
            "postgres_us": micros(self.postgres_seconds),
            "cores_busy": None if self.cores_busy is None else round(self.cores_busy, 2),
        }


class CpuMeter:
    """Measure CpuUse between entering and leaving the block; see the module docstring."""

    def __init__(self, url: str) -> None:
        self._postmaster = _postmaster_pid(url)
        self.result: CpuUse | None = None

    def __enter__(self) -> CpuMeter:
        self._start = _snapshot(self._postmaster)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        end = _snapshot(self._postmaster)
        start = self._start
        busy = None
        if start.machine is not None and end.machine is not None:
            total, idle = (after - before for before, after in zip(start.machine, end.machine, strict=True))
            busy = 1 - idle / total if total else None
        postgres = None
        if start.postgres is not None and end.postgres is not None:
            postgres = end.postgres - start.postgres
        self.result = CpuUse(
            wall_seconds=end.wall - start.wall,
            caller_seconds=end.caller - start.caller,
            children_seconds=end.children - start.children,
            postgres_seconds=postgres,
            cores_busy=busy,
        )


@dataclass(frozen=True, slots=True)
class _Snapshot:
    wall: float
    caller: float
    children: float
    postgres: float | None
    machine: tuple[int, int] | None


def _snapshot(postmaster: int | None) -> _Snapshot:
    caller = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return _Snapshot(
        wall=time.perf_counter(),
        caller=caller.ru_utime + caller.ru_stime,
        children=children.ru_utime + children.ru_stime,
        postgres=None if postmaster is None else _server_seconds(postmaster),
        machine=_machine_ticks(),
    )


def _postmaster_pid(url: str) -> int | None:
    """Return the PID of the server behind `url` when it runs on this machine and its data directory is readable."""
    try:
        with psycopg.connect(url) as conn:
            row: Any = conn.execute("SHOW data_directory").fetchone()
        first_line = (Path(row[0]) / "postmaster.pid").read_text().split("\n", 1)[0]
        pid = int(first_line)
    except (psycopg.Error, OSError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def _server_seconds(postmaster: int) -> float | None:
    """Return the CPU seconds of the postmaster, its live children and its reaped children."""
    fields = _stat_fields(postmaster)
    if fields is None:
        return None
    # Fields 14 to 17 of /proc/PID/stat: utime, stime, cutime, cstime. The list starts at field 3.
    ticks = sum(int(value) for value in fields[11:15])
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        child = _stat_fields(int(entry.name))
        if child is not None and int(child[1]) == postmaster:
            ticks += int(child[11]) + int(child[12])
    return ticks / CLOCK_TICKS


def _stat_fields(pid: int) -> list[str] | None:
    """Return the fields of /proc/PID/stat after the command name, or None when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _machine_ticks() -> tuple[int, int] | None:
    """Return the machine's total and idle CPU ticks since boot, or None without /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    ticks = [int(value) for value in first[1:]]
    # The fourth and fifth values count idle and I/O wait time.
    return sum(ticks), ticks[3] + ticks[4]
