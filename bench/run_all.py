"""Run every benchmark script at a small size and regenerate docs/benchmarks.json and the summary in docs/benchmarks.md.

Each script runs in its own process, one after the other, so they do not compete for
the CPU. Its figures are read from its JSON output where it writes one, else from the
lines it prints. The summary table between the `summary:start` and `summary:end`
markers of docs/benchmarks.md is replaced; everything else on that page is kept.
A script that fails is reported with its exit code and the tail of its output, and
the others still run. With --only, the other scripts keep their previous figures.

    .venv/bin/python bench/run_all.py
    .venv/bin/python bench/run_all.py --only ingest_vs_copy --size ingest_vs_copy=50000
    .venv/bin/python bench/run_all.py --scale 10     # every size ten times larger

At the default sizes the whole run takes about ten minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SUMMARY_START = "<!-- summary:start -->"
SUMMARY_END = "<!-- summary:end -->"

Figures = dict[str, Any]


@dataclass(frozen=True)
class Benchmark:
    """One script: its default size, the arguments for a size, and how to read its figures."""

    name: str
    default_size: int
    unit: str
    arguments: Callable[[int, Path], list[str]]
    figures: Callable[[str, Path], Figures]
    minimum_size: int = 1


def main() -> int:
    args = parse_args()
    selected = [benchmark for benchmark in BENCHMARKS if benchmark.name in args.only]
    sizes = {b.name: max(b.minimum_size, int(b.default_size * args.scale)) for b in selected}
    sizes.update(args.size)

    # Scripts left out by --only keep their figures from the previous report.
    previous = json.loads(args.json.read_text(encoding="utf-8"))["benchmarks"] if args.json.exists() else {}
    results: dict[str, Any] = {name: previous[name] for name in (b.name for b in BENCHMARKS) if name in previous}
    for benchmark in selected:
        results[benchmark.name] = run(benchmark, sizes[benchmark.name], args.timeout)
        print(f"{benchmark.name}: {results[benchmark.name]['status']} in {results[benchmark.name]['seconds']:.0f} s")

    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/run_all.py", *sys.argv[1:]]),
        "machine": machine(),
        "benchmarks": results,
    }
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    write_summary(args.markdown, report)
    print(f"wrote {args.json} and the summary in {args.markdown}")
    return 0 if all(result["status"] == "ok" for result in results.values()) else 1


def run(benchmark: Benchmark, size: int, timeout: float) -> dict[str, Any]:
    """Run one script at `size` and return its status, wall time and figures."""
    with tempfile.TemporaryDirectory(prefix=f"sxe-bench-{benchmark.name}-") as folder:
        scratch = Path(folder)
        command = [sys.executable, str(BENCH / f"{benchmark.name}.py"), *benchmark.arguments(size, scratch)]
        started = time.perf_counter()
        try:
            finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return _failed(benchmark, size, command, time.perf_counter() - started, f"timed out after {timeout:.0f} s")
        seconds = time.perf_counter() - started

        output = finished.stdout + finished.stderr
        if finished.returncode != 0:
            return _failed(benchmark, size, command, seconds, f"exit code {finished.returncode}", output)
        try:
            figures = benchmark.figures(finished.stdout, scratch)
        except (ValueError, KeyError, OSError) as error:
            return _failed(benchmark, size, command, seconds, f"output not understood: {error}", output)

    return {
        "status": "ok",
        "size": size,
        "unit": benchmark.unit,
        "command": _display(command),
        "seconds": round(seconds, 1),
        "figures": figures,
    }


def _failed(
    benchmark: Benchmark, size: int, command: list[str], seconds: float, reason: str, output: str = ""
) -> dict[str, Any]:
    return {
        "status": "failed",
        "reason": reason,
        "size": size,
        "unit": benchmark.unit,
        "command": _display(command),
        "seconds": round(seconds, 1),
        "output_tail": output.strip().splitlines()[-20:],
    }


def _display(command: list[str]) -> str:
    # The scratch folder differs on every run, so it is shown by name only.
    shown = ["python", str(Path(command[1]).relative_to(ROOT))]
    shown += [
        "<scratch>/" + Path(part).name if part.startswith(tempfile.gettempdir()) else part for part in command[2:]
    ]
    return " ".join(shown)


# Figures of each script ------------------------------------------------------


def _match(pattern: str, text: str) -> re.Match[str]:
    found = re.search(pattern, text, re.MULTILINE)
    if found is None:
        raise ValueError(f"no line matches {pattern!r}")
    return found


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def main_job_figures(stdout: str, scratch: Path) -> Figures:
    data = json.loads((scratch / "main_job.json").read_text(encoding="utf-8"))
    summary = data["summary"]
    wanted = (
        "first_run.ingest_records_per_second",
        "first_run.ingest_seconds",
        "first_run.cards_tagging_seconds",
        "first_run.enrichment_seconds",
        "first_run.handoff_seconds",
        "first_run.total_seconds",
        "rerun.total_seconds",
        "peak_rss_mib",
    )
    return {name: round(summary[name]["median"], 2) for name in wanted if name in summary}


def ingest_vs_copy_figures(stdout: str, scratch: Path) -> Figures:
    data = json.loads((scratch / "ingest_vs_copy.json").read_text(encoding="utf-8"))
    return dict(data["figures"])


def jobs_throughput_figures(stdout: str, scratch: Path) -> Figures:
    rows = re.findall(r"^\| (\d+) \| (\d+) \| \d+ \| ([\d,]+) \|$", stdout, re.MULTILINE)
    if not rows:
        raise ValueError("no result rows in the jobs table")
    return {f"jobs_per_second.workers_{w}.batch_{b}": _number(rate) for w, b, rate in rows}


def token_bucket_figures(stdout: str, scratch: Path) -> Figures:
    return {
        "tokens_taken": int(_match(r"^tokens taken: (\d+)", stdout)[1]),
        "tokens_allowed": int(_match(r"allowed at most (\d+)", stdout)[1]),
        "achieved_rate_per_second": _number(_match(r"^achieved rate over the run: ([\d.]+)/s", stdout)[1]),
        "max_tokens_in_one_second": int(_match(r"max (\d+)$", stdout)[1]),
    }


def handoff_bundle_figures(stdout: str, scratch: Path) -> Figures:
    found = _match(r"^cards ([\d,]+); gzip ([\d.]+) MiB; write\+validate (\d+) s", stdout)
    cards, seconds = _number(found[1]), _number(found[3])
    return {
        "cards": int(cards),
        "bundle_mib": _number(found[2]),
        "write_seconds": seconds,
        "cards_per_second": round(cards / seconds) if seconds else None,
        "peak_rss_mib": _number(_match(r"^peak RSS ([\d.]+) MiB", stdout)[1]),
    }


def retag_cards_figures(stdout: str, scratch: Path) -> Figures:
    found = _match(r"^re-tagged (\d+) cards .* in ([\d.]+) s \(([\d,]+) cards/s\)", stdout)
    return {"cards": int(found[1]), "seconds": _number(found[2]), "cards_per_second": _number(found[3])}


def import_memory_figures(stdout: str, scratch: Path) -> Figures:
    rows = re.findall(r"^\| ([\d,]+) \| [\d.]+ MiB \| (\d+) MiB \| (\d+) s \|$", stdout, re.MULTILINE)
    if not rows:
        raise ValueError("no result rows in the import table")
    figures: Figures = {}
    for records, peak, seconds in rows:
        count = int(_number(records))
        figures[f"peak_rss_mib.records_{count}"] = int(peak)
        figures[f"seconds.records_{count}"] = int(seconds)
    return figures


BENCHMARKS = [
    Benchmark(
        "main_job",
        2_000,
        "records",
        lambda size, scratch: [
            "--records",
            str(size),
            "--runs",
            "1",
            "--quiet",
            "--json",
            str(scratch / "main_job.json"),
        ],
        main_job_figures,
    ),
    Benchmark(
        "ingest_vs_copy",
        10_000,
        "records",
        lambda size, scratch: ["--records", str(size), "--json", str(scratch / "ingest_vs_copy.json")],
        ingest_vs_copy_figures,
    ),
    Benchmark("jobs_throughput", 2_000, "jobs", lambda size, scratch: ["--jobs", str(size)], jobs_throughput_figures),
    Benchmark(
        "token_bucket",
        10,
        "seconds",
        lambda size, scratch: ["--processes", "8", "--rate", "50", "--seconds", str(size)],
        token_bucket_figures,
        # The script compares whole one-second windows after the first, so it needs a few.
        minimum_size=5,
    ),
    Benchmark("handoff_bundle", 30_000, "cards", lambda size, scratch: ["--cards", str(size)], handoff_bundle_figures),
    Benchmark("retag_cards", 10_000, "cards", lambda size, scratch: ["--cards", str(size)], retag_cards_figures),
    Benchmark(
        "import_memory",
        10_000,
        "records",
        lambda size, scratch: [str(max(1, size // 10)), str(size)],
        import_memory_figures,
    ),
]
BENCHMARKS = [benchmark for benchmark in BENCHMARKS if (BENCH / f"{benchmark.name}.py").exists()]


# Machine and report ----------------------------------------------------------


def machine() -> dict[str, Any]:
    """Describe the machine: cores, CPU model, load, Python, PostgreSQL and the commit measured."""
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "postgresql": _postgres_version(),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain")),
    }


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _postgres_version() -> str:
    # The same server the scripts use: SXE_DATABASE_URL when set, else a short-lived embedded one.
    import psycopg

    from sxe.db.embedded import start_embedded

    with tempfile.TemporaryDirectory(prefix="sxe-bench-version-") as folder:
        url = os.environ.get("SXE_DATABASE_URL") or start_embedded(Path(folder) / "pgdata", at_exit="delete")
        with psycopg.connect(url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def _git(*arguments: str) -> str:
    finished = subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=False)
    return finished.stdout.strip() if finished.returncode == 0 else "unknown"


def write_summary(markdown: Path, report: dict[str, Any]) -> None:
    """Replace the summary between the markers of `markdown`, or insert it under the title without markers."""
    block = f"{SUMMARY_START}\n{summary_table(report)}\n{SUMMARY_END}"
    text = markdown.read_text(encoding="utf-8") if markdown.exists() else "# Benchmarks\n"
    if SUMMARY_START in text and SUMMARY_END in text:
        before, rest = text.split(SUMMARY_START, 1)
        after = rest.split(SUMMARY_END, 1)[1]
        text = before + block + after
    else:
        title, _, body = text.partition("\n")
        text = f"{title}\n\n{block}\n{body}"
    markdown.write_text(text, encoding="utf-8")


def summary_table(report: dict[str, Any]) -> str:
    host = report["machine"]
    lines = [
        f"Generated by `{report['command']}` at {report['generated_at']} on commit `{host['commit']}`"
        + (" with uncommitted changes" if host["uncommitted_changes"] else "")
        + f": {host['nproc']} cores ({host['cpu_model']}), load average {host['load_average'][0]} at the start,"
        f" Python {host['python']}, PostgreSQL {host['postgresql']}. One run per script at a small size,"
        " so single figures vary by several percent; the sections below describe each figure and its full-size runs."
        " Machine-readable figures: [benchmarks.json](benchmarks.json).",
        "",
        "| script | size | wall time | figures |",
        "|---|---:|---:|---|",
    ]
    for name, result in report["benchmarks"].items():
        if result["status"] == "ok":
            figures = ", ".join(f"{key} {_format(value)}" for key, value in result["figures"].items())
        else:
            figures = f"**failed**: {result['reason']}"
        lines.append(f"| `{name}` | {result['size']:,} {result['unit']} | {result['seconds']:.0f} s | {figures} |")
    return "\n".join(lines)


def _format(value: Any) -> str:
    if isinstance(value, float) and value < 10:
        return f"{value:.3g}"
    if isinstance(value, int | float):
        return f"{value:,.0f}"
    return str(value)


def _size(text: str) -> tuple[str, int]:
    name, _, value = text.partition("=")
    if name not in {benchmark.name for benchmark in BENCHMARKS} or not value.isdigit():
        names = ", ".join(benchmark.name for benchmark in BENCHMARKS)
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: expected NAME=INTEGER with NAME one of {names}")
    return name, int(value)


def parse_args() -> argparse.Namespace:
    names = [benchmark.name for benchmark in BENCHMARKS]
    defaults = ", ".join(f"{b.name}={b.default_size} {b.unit}" for b in BENCHMARKS)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", type=lambda text: text.split(","), default=names, help="comma-separated scripts to run (default all)"
    )
    parser.add_argument(
        "--size", type=_size, action="append", default=[], help=f"NAME=N sets one script's size; defaults: {defaults}"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every default size (default 1)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a script is stopped (default 1800)")
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "benchmarks.json", help="figures file to write")
    parser.add_argument(
        "--markdown", type=Path, default=ROOT / "docs" / "benchmarks.md", help="page whose summary is replaced"
    )
    args = parser.parse_args()

    unknown = sorted(set(args.only) - set(names))
    if unknown:
        parser.error(f"unknown script {', '.join(unknown)}; choose from {', '.join(names)}")
    args.size = dict(args.size)
    return args


if __name__ == "__main__":
    sys.exit(main())
