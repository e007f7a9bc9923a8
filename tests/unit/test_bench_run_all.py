"""bench/run_all.py: statistics, target judging, the markdown page and the runner on fake scripts.

No benchmark runs here. The end-to-end tests give the runner a registry of tiny scripts
in a temporary folder that write the benchmark contract's JSON and exit at once.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load_run_all() -> Any:
    spec = importlib.util.spec_from_file_location("bench_run_all", BENCH / "run_all.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


run_all = _load_run_all()

MACHINE = {
    "cores": 2,
    "cores_available": 2,
    "cpu_model": "Test CPU",
    "memory_gib": 4.0,
    "os": "Test OS",
    "platform": "test",
    "python": "3.11.0",
    "libraries": {"psycopg": "3.2.0", "dlt": "not installed"},
    "postgresql": {"version": "18.6", "server": "embedded", "settings": {"shared_buffers": "128MB"}},
    "commit": "abc1234",
    "uncommitted_changes": False,
}


def fixed_machine() -> dict[str, Any]:
    return dict(MACHINE)


# Statistics and targets -------------------------------------------------------


def test_summarize_median_min_max_odd() -> None:
    stats = run_all.summarize([3.0, 1.0, 2.0])

    assert stats["median"] == 2.0
    assert stats["min"] == 1.0
    assert stats["max"] == 3.0
    assert stats["values"] == [3.0, 1.0, 2.0]


def test_summarize_median_of_even_count() -> None:
    assert run_all.summarize([1, 2, 3, 10])["median"] == 2.5


def test_summarize_rejects_no_values() -> None:
    with pytest.raises(ValueError, match="no values"):
        run_all.summarize([])


@pytest.mark.parametrize(
    ("target", "median", "met"),
    [
        ({"figure": "ratio", "at_least": 0.5}, 0.5, True),
        ({"figure": "ratio", "at_least": 0.5}, 0.49, False),
        ({"figure": "ratio", "at_most": 1.2}, 1.2, True),
        ({"figure": "ratio", "at_most": 1.2}, 1.21, False),
        ({"figure": "ratio", "at_least": 0.5}, None, None),
    ],
)
def test_target_met_on_median(target: dict[str, Any], median: float | None, met: bool | None) -> None:
    assert run_all.target_met(target, median) is met


def test_aggregate_judges_targets_on_median() -> None:
    target = {"figure": "ingest_to_copy", "at_least": 0.5, "target": "≥ 50 % of COPY"}
    runs = [
        {"figures": {"ingest_to_copy": value, "rows": 10}, "targets": [target], "notes": []}
        for value in (0.4, 0.6, 0.55)
    ]

    combined = run_all.aggregate(runs)

    assert combined["figures"]["ingest_to_copy"]["median"] == 0.55
    assert combined["figures"]["ingest_to_copy"]["min"] == 0.4
    assert combined["targets"][0]["met"] is True


def test_aggregate_marks_missing_target_figure_not_measured() -> None:
    runs = [{"figures": {"rows": 1}, "targets": [{"figure": "absent", "at_most": 1}], "notes": []}]

    combined = run_all.aggregate(runs)

    assert combined["targets"][0]["median"] is None
    assert combined["targets"][0]["met"] is None


# Contract JSON ------------------------------------------------------------------


def test_read_contract_skips_null_figures(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_text(json.dumps({"figures": {"a": 1, "b": None}, "targets": [], "notes": ["n"]}), encoding="utf-8")

    contract = run_all.read_contract(path)

    assert contract["figures"] == {"a": 1}
    assert contract["notes"] == ["n"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"targets": []}, "'figures' object"),
        ({"figures": {"a": "fast"}}, "expected a finite number"),
        ({"figures": {"a": True}}, "expected a finite number"),
        ({"figures": {}, "targets": [{"figure": "a"}]}, "exactly one of"),
        ({"figures": {}, "targets": [{"figure": "a", "at_least": 1, "at_most": 2}]}, "exactly one of"),
        ({"figures": {}, "targets": [{"at_least": 1}]}, "no 'figure' name"),
        ({"figures": {}, "notes": "text"}, "list of strings"),
    ],
)
def test_read_contract_rejects_invalid_json(tmp_path: Path, data: dict[str, Any], message: str) -> None:
    path = tmp_path / "out.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(ValueError, match=message):
        run_all.read_contract(path)


# Sizes and registry -------------------------------------------------------------


def test_arguments_scale_every_size() -> None:
    script = run_all.Script("peak", {"--large": 1_000_000, "--small": 10_000})

    assert script.arguments(0.1) == ["--large", "100000", "--small", "1000"]


def test_arguments_size_sets_first_and_scales_others() -> None:
    script = run_all.Script("peak", {"--large": 1_000_000, "--small": 10_000})

    assert script.arguments(size=500_000) == ["--large", "500000", "--small", "5000"]


def test_arguments_keep_minimum_and_fixed_options() -> None:
    script = run_all.Script("bucket", {"--seconds": 20}, fixed=("--rate", "50"), minimum=5)

    assert script.arguments(0.01) == ["--seconds", "5", "--rate", "50"]


def test_registry_names_every_bench_script() -> None:
    unregistered = run_all.unregistered_scripts(BENCH, run_all.SCRIPTS)

    assert unregistered == [], "add each script to SCRIPTS in bench/run_all.py"


def test_unregistered_scripts_skip_helpers(tmp_path: Path) -> None:
    for name in ("_database.py", "generate.py", "run_all.py", "fake_ok.py", "new_bench.py", "notes.txt"):
        (tmp_path / name).write_text("", encoding="utf-8")

    unregistered = run_all.unregistered_scripts(tmp_path, (run_all.Script("fake_ok", {"--rows": 1}),))

    assert unregistered == ["new_bench.py"]


def test_registry_has_unique_names() -> None:
    names = [script.name for script in run_all.SCRIPTS]

    assert len(names) == len(set(names))


def test_registry_default_sizes() -> None:
    arguments = {script.name: script.arguments() for script in run_all.SCRIPTS}

    assert arguments["ingest_vs_copy"] == ["--records", "200000"]
    assert arguments["token_bucket"] == ["--seconds", "20", "--processes", "8", "--rate", "50"]
    assert arguments["peak_memory"] == ["--large", "1000000", "--small", "10000"]
    assert arguments["main_job"] == ["--records", "5000"]


# Markdown -----------------------------------------------------------------------


def _report(scripts: dict[str, Any]) -> dict[str, Any]:
    return {
        "generated_at": "2026-01-01T00:00:00+00:00",
        "command": "python bench/run_all.py",
        "runs": 3,
        "machine": MACHINE,
        "scripts": scripts,
    }


def _ok_result(figures: dict[str, list[float]], targets: list[dict[str, Any]]) -> dict[str, Any]:
    runs = [
        {"figures": {name: values[i] for name, values in figures.items()}, "targets": targets, "notes": ["a note"]}
        for i in range(3)
    ]
    records = [
        {
            "run": i + 1,
            "status": "ok",
            "seconds": 10.0 + i,
            "load_average_start": [1.0, 1, 1],
            "load_average_end": [2.0, 1, 1],
        }
        for i in range(3)
    ]
    return {
        "status": "ok",
        "arguments": ["--records", "100"],
        "measured_at": "2026-01-01T00:00:00+00:00",
        "commit": "abc1234",
        "runs": records,
        **run_all.aggregate(runs),
    }


@pytest.mark.parametrize(
    ("units", "measured_cell", "reference_cell"),
    [
        ({}, "25,000 (20,000–30,000)", "55,000"),
        (
            {"measured_unit": "records/s", "reference_unit": "rows/s", "reference_label": "COPY"},
            "25,000 records/s (20,000–30,000)",
            "COPY 55,000 rows/s",
        ),
        (
            {"measured_unit": "records/s", "reference_unit": "rows/s"},
            "25,000 records/s (20,000–30,000)",
            "55,000 rows/s",
        ),
    ],
)
def test_render_targets_row_with_reference_and_ratio(
    units: dict[str, str], measured_cell: str, reference_cell: str
) -> None:
    target = {
        "figure": "ingest_to_copy",
        "measured": "ingest_rows_per_second",
        "reference": "copy_rows_per_second",
        "at_least": 0.5,
        "target": "≥ 50 % of COPY",
        **units,
    }
    result = _ok_result(
        {
            "ingest_rows_per_second": [20_000, 25_000, 30_000],
            "copy_rows_per_second": [50_000, 55_000, 60_000],
            "ingest_to_copy": [0.4, 0.45, 0.5],
            "peak_rss_mib": [80, 81, 82],
        },
        [target],
    )

    page = run_all.render_generated(_report({"ingest_vs_copy": result}))

    row = (
        f"| `ingest_vs_copy.ingest_rows_per_second` | {measured_cell} | {reference_cell} | 0.45 (0.4–0.5) "
        "| ≥ 50 % of COPY | **no** |"
    )
    assert row in page.splitlines()


def test_render_error_percent_target_shows_its_unit() -> None:
    target = {
        "figure": "rate_error_abs_percent",
        "measured": "achieved_rate_per_second",
        "reference": "configured_rate_per_second",
        "at_most": 1.0,
        "target": "within ±1 %",
    }
    result = _ok_result(
        {
            "achieved_rate_per_second": [49.9, 50.0, 50.1],
            "configured_rate_per_second": [50, 50, 50],
            "rate_error_abs_percent": [0.2, 0.0, 0.2],
        },
        [target],
    )

    page = run_all.render_generated(_report({"token_bucket": result}))

    assert "| 0.2 % error (0–0.2) | within ±1 % | yes |" in page


def test_render_reference_not_measured_shows_dash() -> None:
    target = {
        "figure": "ingest_to_dlt",
        "measured": "ingest_records_per_second",
        "measured_unit": "records/s",
        "reference": "dlt_rows_per_second",
        "reference_unit": "rows/s",
        "at_least": 1.0,
        "target": "faster than dlt",
    }
    result = _ok_result({"ingest_records_per_second": [2_400, 2_400, 2_400]}, [target])

    page = run_all.render_generated(_report({"ingest_vs_copy": result}))

    row = "| `ingest_vs_copy.ingest_records_per_second` | 2,400 records/s (2,400–2,400) | — | not measured "
    assert any(line.startswith(row) for line in page.splitlines())


def test_render_puts_untargeted_figures_in_other_table() -> None:
    target = {"figure": "rss_ratio", "at_most": 1.2, "target": "≤ 1.2× the small run"}
    result = _ok_result({"rss_ratio": [1.0, 1.1, 1.05], "large_rss_mib": [100, 110, 105]}, [target])

    page = run_all.render_generated(_report({"peak_memory": result}))
    targets, others = page.split("## Other figures")

    assert "| `peak_memory.rss_ratio` | 1.05 (1–1.1) | — | — | ≤ 1.2× the small run | yes |" in targets
    assert "| `peak_memory.large_rss_mib` | 105 (100–110) |" in others
    assert "`peak_memory.rss_ratio`" not in others


def test_render_machine_section_and_load() -> None:
    result = _ok_result({"rows": [1, 2, 3]}, [])

    page = run_all.render_generated(_report({"main_job": result}))

    assert "| PostgreSQL | 18.6 (embedded) |" in page
    assert "| server settings | `shared_buffers` 128MB |" in page
    assert "| `main_job` | `--records 100` | 3 of 3 ok | 11 s | 1.00 | 2.00 |" in page
    assert "- `main_job`: a note" in page


def test_render_failure_with_exit_code_and_tail() -> None:
    failed = {
        "status": "failed",
        "arguments": ["--cards", "10"],
        "measured_at": "2026-01-01T00:00:00+00:00",
        "commit": "abc1234",
        "runs": [
            {"run": 1, "status": "failed", "seconds": 1.0, "load_average_start": [1.0], "load_average_end": [1.0]}
        ],
        "failure": {"run": 1, "exit_code": 2, "reason": "exit code 2", "output_tail": ["usage: bad option"]},
    }

    page = run_all.render_generated(_report({"handoff_bundle": failed}))

    assert "`handoff_bundle` run 1: exit code 2." in page
    assert "usage: bad option" in page
    assert "| `handoff_bundle` | `--cards 10` | 0 of 1 ok |" in page


def test_replace_generated_keeps_hand_written_text() -> None:
    page = f"# Title\n\nbefore\n\n{run_all.GENERATED_START}\nold\n{run_all.GENERATED_END}\n\nafter\n"

    replaced = run_all.replace_generated(page, f"{run_all.GENERATED_START}\nnew\n{run_all.GENERATED_END}")

    assert replaced == f"# Title\n\nbefore\n\n{run_all.GENERATED_START}\nnew\n{run_all.GENERATED_END}\n\nafter\n"


def test_replace_generated_appends_without_markers() -> None:
    replaced = run_all.replace_generated("# Title\n\ntext\n", "BLOCK")

    assert replaced == "# Title\n\ntext\n\nBLOCK\n"


def test_format_number() -> None:
    assert run_all.format_number(57_123.4) == "57,123"
    assert run_all.format_number(12.345) == "12.3"
    assert run_all.format_number(0.5123) == "0.512"
    assert run_all.format_number(7) == "7"


# The runner, end to end on fake scripts ---------------------------------------------

FAKE_OK = """
    import argparse, json
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int)
    parser.add_argument("--json")
    args = parser.parse_args()
    print("measured", args.rows)
    with open(args.json, "w") as out:
        json.dump({"figures": {"rows": args.rows, "ratio": 0.75},
                   "targets": [{"figure": "ratio", "at_least": 0.5, "target": "≥ 50 %"}],
                   "notes": ["fake"]}, out)
"""

FAKE_FAIL = """
    import sys
    print("connecting to the server")
    print("error: the server is not reachable", file=sys.stderr)
    sys.exit(3)
"""


FAKE_SLOW = """
    import subprocess, sys, time
    # The child does not hold the output pipes, so the run ends at the timeout and only the group kill stops it.
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    print("child", child.pid, flush=True)
    time.sleep(60)
"""


@pytest.fixture()
def fake_bench(tmp_path: Path) -> tuple[Path, tuple[Any, ...]]:
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "fake_ok.py").write_text(textwrap.dedent(FAKE_OK), encoding="utf-8")
    (bench / "fake_fail.py").write_text(textwrap.dedent(FAKE_FAIL), encoding="utf-8")
    scripts = (
        run_all.Script("fake_fail", {"--cards": 10}),
        run_all.Script("fake_ok", {"--rows": 100}),
        run_all.Script("fake_missing", {"--rows": 1}),
    )
    return bench, scripts


def _main(bench: Path, scripts: tuple[Any, ...], *argv: str) -> int:
    out = bench.parent
    arguments = [*argv, "--json", str(out / "report.json"), "--markdown", str(out / "page.md")]
    code: int = run_all.main(arguments, scripts=scripts, bench_dir=bench, describe=fixed_machine)
    return code


def test_main_runs_every_script_and_reports_failure(fake_bench: tuple[Path, tuple[Any, ...]]) -> None:
    bench, scripts = fake_bench
    (bench.parent / "page.md").write_text("# Benchmarks\n\nhand-written\n", encoding="utf-8")

    code = _main(bench, scripts, "--runs", "2", "--scale", "0.5")

    report = json.loads((bench.parent / "report.json").read_text(encoding="utf-8"))
    scripts_run = report["scripts"]
    ok, failed, missing = scripts_run["fake_ok"], scripts_run["fake_fail"], scripts_run["fake_missing"]
    assert code == 1
    assert ok["status"] == "ok"
    assert len(ok["runs"]) == 2
    assert ok["figures"]["rows"]["median"] == 50
    assert ok["targets"][0]["met"] is True
    assert failed["failure"]["exit_code"] == 3
    assert failed["failure"]["output_tail"] == ["connecting to the server", "error: the server is not reachable"]
    assert len(failed["runs"]) == 1
    assert missing["failure"]["reason"].startswith("script not found")
    page = (bench.parent / "page.md").read_text(encoding="utf-8")
    assert page.startswith("# Benchmarks\n\nhand-written\n")
    assert "| `fake_ok.ratio` | 0.75 (0.75–0.75) | — | — | ≥ 50 % | yes |" in page


def test_main_only_keeps_previous_figures(fake_bench: tuple[Path, tuple[Any, ...]]) -> None:
    bench, scripts = fake_bench
    _main(bench, scripts, "--runs", "1", "--only", "fake_ok")

    code = _main(bench, scripts, "--runs", "1", "--only", "fake_fail")

    report = json.loads((bench.parent / "report.json").read_text(encoding="utf-8"))
    assert code == 1
    assert list(report["scripts"]) == ["fake_fail", "fake_ok"]
    assert report["scripts"]["fake_ok"]["figures"]["rows"]["median"] == 100
    assert "fake_missing" not in report["scripts"]


def test_main_size_overrides_one_script(fake_bench: tuple[Path, tuple[Any, ...]]) -> None:
    bench, scripts = fake_bench

    code = _main(bench, scripts, "--runs", "1", "--only", "fake_ok", "--size", "fake_ok=7")

    report = json.loads((bench.parent / "report.json").read_text(encoding="utf-8"))
    assert code == 0
    assert report["scripts"]["fake_ok"]["arguments"] == ["--rows", "7"]
    assert report["scripts"]["fake_ok"]["figures"]["rows"]["values"] == [7]


def test_main_rejects_unknown_script(fake_bench: tuple[Path, tuple[Any, ...]]) -> None:
    bench, scripts = fake_bench

    with pytest.raises(SystemExit):
        _main(bench, scripts, "--only", "nonexistent")


def test_main_timeout_stops_script_and_children(tmp_path: Path) -> None:
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "fake_slow.py").write_text(textwrap.dedent(FAKE_SLOW), encoding="utf-8")
    scripts = (run_all.Script("fake_slow", {"--rows": 1}),)

    code = _main(bench, scripts, "--runs", "2", "--timeout", "2")

    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    failure = report["scripts"]["fake_slow"]["failure"]
    child_pid = int(failure["output_tail"][0].split()[1])
    assert code == 1
    assert failure["reason"] == "timed out after 2 s"
    assert failure["exit_code"] is None
    assert len(report["scripts"]["fake_slow"]["runs"]) == 1
    assert _stopped(child_pid)


def _stopped(pid: int) -> bool:
    """Return whether `pid` has exited, waiting up to 5 s. A zombie left for init to reap counts as exited."""
    for _ in range(50):
        try:
            state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False
