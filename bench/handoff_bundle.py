"""Benchmark: build a bundle of N lead cards and record peak memory as it grows.

Cards are generated in-process (no database) from one template row with a
different card id, handle and contact points each, rendered as lead-card.v2,
validated and streamed into the bundle writer with a local object store. The
script samples the process's resident set size (RSS) at fixed record counts, so
flat memory shows as a flat line, and reads the bundle back to check it against
its manifest.

    python bench/handoff_bundle.py --cards 1000000
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sxe.handoff.bundle import read_bundle, write_bundle
from sxe.handoff.records import RecordFormat, render_card
from sxe.handoff.store import LocalObjectStore

SAMPLES = 10


def rss_mib() -> float:
    """Return the current resident set size in MiB (Linux /proc), or the peak where /proc is missing."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def card_row(index: int) -> dict[str, Any]:
    """Return one `contact.handoff_cards`-shaped row, different per index."""
    return {
        "card_id": uuid.UUID(int=index + 1),
        "pool": "bench",
        "readiness": "ready",
        "readiness_reason": "matched",
        "ruleset_version": "personas-v1",
        "updated_at": datetime(2026, 12, 4, tzinfo=UTC) + timedelta(microseconds=index),
        "profiles": [
            {
                "platform": "x",
                "platform_user_id": str(10_000_000 + index),
                "handle": f"maker_{index}",
                "profile_url": f"https://x.com/maker_{index}",
                "display_name": f"Maker {index}",
                "followers": 1000 + index % 50_000,
                "following": 300,
                "posts": 1200,
                "verified": index % 17 == 0,
                "quality_flags": [],
                "website_domain": "example.com",
                "language": "en",
                "source_format": "x-api-v2",
                "source_file": "imports/x.jsonl",
                "collected_at": "2026-12-03T18:00:00+00:00",
            }
        ],
        "labels": [
            {
                "kind": "persona",
                "value": "founder",
                "score": 0.8,
                "rule_id": "persona.founder",
                "ruleset_version": "personas-v1",
                "evidence": {"matched_terms": ["founder"]},
            },
            {
                "kind": "tribe",
                "value": "indie-hackers",
                "score": 0.6,
                "rule_id": "tribe.indie",
                "ruleset_version": "personas-v1",
                "evidence": {"matched_terms": ["indie"]},
            },
        ],
        "contact_points": [
            {
                "kind": "email",
                "value": f"maker{index}@example.com",
                "status": "verified",
                "line_type": None,
                "dnc_status": None,
                "scrubbed_at": None,
                "source": "apollo",
                "simulated": True,
                "suppressed": False,
            },
            {
                "kind": "phone",
                "value": f"+1555{index % 10_000_000:07d}",
                "status": None,
                "line_type": "mobile",
                "dnc_status": "clear",
                "scrubbed_at": "2026-12-04T09:15:00+00:00",
                "source": "apollo",
                "simulated": True,
                "suppressed": index % 97 == 0,
            },
        ],
        "decisions": [
            {
                "provider": "apollo",
                "decision": "enqueue",
                "adapter_version": "1.0",
                "reason": "allowed",
                "simulated": True,
                "at": "2026-12-04T09:10:00+00:00",
            }
        ],
    }


def records(count: int, samples: list[tuple[int, float]]) -> Iterator[dict[str, Any]]:
    step = max(count // SAMPLES, 1)
    record_format = RecordFormat("lead-card.v2")
    for index in range(count):
        if index % step == 0:
            samples.append((index, rss_mib()))
        yield render_card(card_row(index), record_format)
    samples.append((count, rss_mib()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1_000_000, help="lead cards in the bundle (default 1,000,000)")
    parser.add_argument("--skip-read", action="store_true", help="do not read the bundle back")
    args = parser.parse_args()

    samples: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory(prefix="sxe-bench-") as folder:
        store = LocalObjectStore(Path(folder))
        started = time.perf_counter()
        bundle = write_bundle(
            records(args.cards, samples),
            store=store,
            bundle_id=uuid.uuid4(),
            prefix="exports/bench/2026-12-04",
            filters={"pool": "bench"},
            created_at=datetime.now(UTC),
            expires_at=None,
            record_schema=RecordFormat("lead-card.v2").schema_id,
        )
        write_seconds = time.perf_counter() - started
        after_write = rss_mib()

        read_seconds = None
        if not args.skip_read:
            started = time.perf_counter()
            _, read_back = read_bundle(store, bundle.manifest_key, validate_records=False)
            assert sum(1 for _ in read_back) == args.cards
            read_seconds = time.perf_counter() - started

    print(f"cards {bundle.record_count:,}; gzip {bundle.bytes / 2**20:.1f} MiB; write+validate {write_seconds:.0f} s")
    if read_seconds is not None:
        print(f"read back, verified against manifest: {read_seconds:.0f} s")
    print("RSS while writing (records written: MiB):")
    for written, mib in samples:
        print(f"  {written:>10,}: {mib:7.1f}")
    print(f"RSS after writing {after_write:.1f} MiB")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
