"""Profile an ingest worker's work per record with pyinstrument, and sum it up by step and by library.

The worker processes' share of ingest's CPU (`cpu_per_record.ingest.workers_us` of
bench/ingest_vs_copy.py) is reading each chunk, then hashing, parsing, normalizing
and redacting its records, then pickling the chunk for the calling process. This
script does the same work in one process, with `sxe.ingest.parallel.prepare_chunk`,
under pyinstrument's sampling profiler. Its input is generated records of which none
is stored yet, as in a first ingest. It prints the microseconds per record of each
step, and of each library the time was spent in.

Usage: python bench/profile_ingest.py [--records 20000] [--seed 7] [--html PATH] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import sysconfig
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pyinstrument import Profiler
from pyinstrument.frame import Frame

from sxe.ingest import read_items
from sxe.ingest.parallel import prepare_chunk
from sxe.ingest.store import chunks
from sxe.pipeline import collect_inputs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402

SAMPLE_SECONDS = 0.0005
STDLIB = sysconfig.get_paths()["stdlib"].replace("\\", "/") + "/"

# A frame whose function name and path end match one of these starts a step, and the
# step takes the frame's whole time. The first match down from the root counts.
STEPS: dict[tuple[str, str], str] = {
    ("chunks", "sxe/ingest/store.py"): "read and decode the file",
    ("digest", "sxe/ingest/__init__.py"): "hash each record's content",
    ("parse", "sxe/ingest/__init__.py"): "parse with the format's adapter",
    ("normalize", "sxe/normalize/profile.py"): "normalize (bio and name redaction included)",
    ("_redacted_url", "sxe/ingest/store.py"): "redact the profile URL",
    ("_profile_row", "sxe/ingest/store.py"): "build the profile row and its hash",
    ("find_sightings", "sxe/ingest/sightings.py"): "find the bio's sightings",
    ("redact_value", "sxe/pii.py"): "redact every string of the payload",
    ("_json", "sxe/ingest/store.py"): "write the redacted payload as JSON",
    ("canonical_json", "sxe/ingest/hashing.py"): "keep a repeated profile's payload unredacted",
    ("_pickled", "bench/profile_ingest.py"): "pickle the chunk for the calling process",
}
OTHER_STEP = "everything else"


def work(files: list[Path]) -> int:
    """Do a worker's work on every chunk of `files`, and return the records read."""
    records = 0
    for file_index, path in enumerate(files):
        for pending in chunks(read_items(path)):
            digests = [item.digest() for item in pending]
            _pickled(prepare_chunk(file_index, pending, digests, stored={}))
            records += len(pending)
    return records


def _pickled(chunk: Any) -> bytes:
    return pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)


def step_seconds(root: Frame) -> Counter[str]:
    """Return the time of each step in STEPS, and the time outside every step as OTHER_STEP."""
    seconds: Counter[str] = Counter()
    pending = [root]
    while pending:
        frame = pending.pop()
        step = _step_of(frame)
        if step is not None:
            seconds[step] += frame.time
            continue
        # A frame's own time is what its children, "[self]" ones included, do not cover.
        seconds[OTHER_STEP] += frame.time - sum(child.time for child in frame.children)
        pending.extend(frame.children)
    return seconds


def library_seconds(root: Frame) -> Counter[str]:
    """Return each frame's own time summed by the library or SXE module its code belongs to.

    Time in C code, such as a regular expression or orjson, counts for the Python code that called it.
    """
    seconds: Counter[str] = Counter()
    for frame in _frames(root):
        if not frame.is_synthetic:
            seconds[_library(frame)] += frame.total_self_time
    return seconds


def _step_of(frame: Frame) -> str | None:
    path = (frame.file_path or "").replace("\\", "/")
    for (function, path_end), step in STEPS.items():
        if frame.function == function and path.endswith(path_end):
            return step
    return None


def _frames(root: Frame) -> Iterator[Frame]:
    pending = [root]
    while pending:
        frame = pending.pop()
        yield frame
        pending.extend(frame.children)


def _library(frame: Frame) -> str:
    """Name the code of `frame`: an installed package, a module of SXE or of the standard library, or this script."""
    while frame.parent is not None and (frame.file_path or "<").startswith("<"):
        frame = frame.parent
    path = (frame.file_path or "").replace("\\", "/")
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/sxe/" in path:
        parts = path.rsplit("/sxe/", 1)[1].removesuffix(".py").split("/")
        return "sxe." + ".".join(parts[:2])
    if "/bench/" in path:
        return "this script"
    if path.startswith(STDLIB):
        return path.removeprefix(STDLIB).removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    return path or "unknown"


def print_table(title: str, seconds: Counter[str], records: int) -> dict[str, float]:
    """Print µs per record and share for each row of `seconds`, largest first, and return the µs per record."""
    total = sum(seconds.values())
    print(f"\n{title:<52} {'µs/record':>10} {'share':>7}")
    per_record: dict[str, float] = {}
    for name, value in seconds.most_common():
        per_record[name] = round(value / records * 1e6, 1)
        print(f"{name:<52} {per_record[name]:>10.1f} {value / total:>7.1%}")
    return per_record


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Profile an ingest worker's work per record with pyinstrument.")
    parser.add_argument("--records", type=int, default=20_000, help="records to generate (default 20000)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--html", type=Path, help="also write pyinstrument's interactive HTML profile here")
    parser.add_argument("--json", type=Path, help="write the figures here as the benchmark contract's JSON object")
    args = parser.parse_args()
    if args.records < 1:
        parser.error(f"--records must be at least 1, got {args.records}")
    return args


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="sxe-bench-profile-") as folder:
        generate(args.records, Path(folder), args.seed)
        files = collect_inputs([Path(folder)])
        profiler = Profiler(interval=SAMPLE_SECONDS, async_mode="disabled")
        with profiler:
            records = work(files)
    root = profiler.last_session.root_frame() if profiler.last_session else None
    if root is None:
        sys.exit("pyinstrument recorded no samples: raise --records")

    per_record = root.time / records * 1e6
    print(f"{records:,} records read, {root.time:.2f} s profiled in one process: {per_record:.0f} µs per record")
    steps = print_table("step", step_seconds(root), records)
    libraries = print_table("library or SXE module (own time)", library_seconds(root), records)
    if args.html is not None:
        args.html.write_text(profiler.output_html(), encoding="utf-8")
    if args.json is not None:
        result = {
            "figures": {"records": records, "us_per_record": round(per_record, 1)}
            | {f"step_us.{name}": value for name, value in steps.items()}
            | {f"library_us.{name}": value for name, value in libraries.items()},
            "targets": [],
            "notes": ["pyinstrument samples wall time in one process, every 0.5 ms; nothing was stored before."],
        }
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
