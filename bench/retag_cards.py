"""Time identity resolution, card building and the re-tag of N lead cards under a new ruleset version.

Usage: python bench/retag_cards.py [--cards 100000] [--json PATH]

Creates a migrated database on an embedded PostgreSQL (or SXE_DATABASE_URL's
server) and inserts N X profiles. Every fourth X profile also gets a Threads
profile with the same handle and the same own website, so identity resolution
has real links to find. Then it times, each in its own transaction as the pipeline
runs them: identity resolution alone (`resolve_people`), the card build (which
resolves again against the stored people and creates one card per person), and
after tagging with personas-v1, the re-tag with personas-v2: labels, bio
language, signals and readiness moves.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _database import bench_database  # noqa: E402

from sxe.cards import build_person_cards, ensure_pool  # noqa: E402
from sxe.db import connect, transaction  # noqa: E402
from sxe.identity.store import resolve_people  # noqa: E402
from sxe.intelligence import load_shipped_ruleset  # noqa: E402
from sxe.intelligence.store import tag_pending_cards  # noqa: E402

BIOS = [
    "Online strength coaching for busy moms. Book a free call",
    "Sourdough every Sunday. Home baker turned cookbook author #baking",
    "Founder building boring software for busy clinics. Ex-payments",
    "Viajes lentos y baratos. Consejos de viaje cada semana",
    "Corretora de imóveis no Rio de Janeiro. Apartamentos à venda",
    "京都の手作り陶器。毎月第一金曜日に再入荷します。",
    "Speedrunning and streaming every night #gaming",
    "Skincare and makeup tutorials. DM for collabs #skincare",
]
POOL = "bench"


LINKED_EVERY = 4


def insert_profiles(conn: Any, cards: int, rng: random.Random) -> int:
    """COPY `cards` X profiles, plus a linked Threads profile for every LINKED_EVERY-th; return the count."""
    profiles = 0
    with (
        conn.cursor() as cursor,
        cursor.copy(
            "COPY social.profiles (platform, identity_key, handle, display_name, bio, followers, website_domain,"
            " source_format, source_file, collected_at) FROM STDIN"
        ) as copy,
    ):
        for index in range(cards):
            linked = index % LINKED_EVERY == 0
            website = f"bench{index}.example" if linked else None
            bio = rng.choice(BIOS)
            followers = int(rng.lognormvariate(8, 2))
            copy.write_row(
                ("x", f"handle:bench_{index}", f"bench_{index}", f"Person {index}", bio, followers, website,
                 "bench", "bench", "2026-01-01T00:00:00Z")
            )  # fmt: skip
            profiles += 1
            if linked:
                copy.write_row(
                    ("threads", f"handle:bench_{index}", f"bench_{index}", f"Person {index}", bio, followers // 3,
                     website, "bench", "bench", "2026-01-01T00:00:00Z")
                )  # fmt: skip
                profiles += 1
    return profiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100_000, help="number of X profiles, about one card each")
    parser.add_argument("--json", type=Path, help="write the figures, targets and notes to this JSON file")
    args = parser.parse_args()

    rng = random.Random(7)
    load_before = os.getloadavg()
    figures: dict[str, float] = {}
    with bench_database("sxe_bench_retag") as url, connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        profiles = insert_profiles(conn, args.cards, rng)
        print(f"inserted {profiles} profiles in {time.perf_counter() - started:.1f} s")

        started, cpu_started = time.perf_counter(), time.process_time()
        with transaction(conn, role="sxe_worker"):
            people = resolve_people(conn)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        print(
            f"resolved {profiles} profiles into {people.people} people ({people.links_active} active links) "
            f"in {elapsed:.1f} s ({profiles / elapsed:,.0f} profiles/s, {profiles / cpu:,.0f} per CPU second)"
        )
        figures.update(
            {
                "identity.profiles": profiles,
                "identity.people": people.people,
                "identity.links_active": people.links_active,
                "identity.seconds": elapsed,
                "identity.profiles_per_second": profiles / elapsed,
                "identity.profiles_per_cpu_second": profiles / cpu,
            }
        )

        started = time.perf_counter()
        with transaction(conn, role="sxe_worker"):
            ensure_pool(conn, POOL)
            build = build_person_cards(conn, POOL)
        elapsed = time.perf_counter() - started
        print(f"resolved people again and built {build.created} cards in {elapsed:.1f} s")
        figures.update({"cards.built": build.created, "cards.build_seconds": elapsed})

        with transaction(conn, role="sxe_worker"):
            tag_pending_cards(conn, POOL, load_shipped_ruleset("personas-v1"))

        started, cpu_started = time.perf_counter(), time.process_time()
        with transaction(conn, role="sxe_worker"):
            retagged = tag_pending_cards(conn, POOL, load_shipped_ruleset("personas-v2"))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        print(f"re-tagged {retagged} cards with personas-v2 in {elapsed:.1f} s ({retagged / elapsed:,.0f} cards/s)")
        # On a shared machine the wall time includes waiting for a core. The CPU time of
        # this Python process (tagging, language detection, parameter building) does not.
        print(f"Python CPU time of the re-tag: {cpu:.1f} s ({retagged / cpu:,.0f} cards per CPU second)")
        figures.update(
            {
                "retag.cards": retagged,
                "retag.seconds": elapsed,
                "retag.cards_per_second": retagged / elapsed,
                "retag.cards_per_cpu_second": retagged / cpu,
            }
        )
    load_after = os.getloadavg()
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")

    if args.json:
        report = {
            "figures": figures,
            "targets": [],
            "notes": [
                f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after",
                "no target: tagging and identity resolution throughput are recorded only",
            ],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
