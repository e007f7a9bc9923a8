"""`sxe normalize`: normalize the webhook batches waiting now, as the scheduled `normalize` task does."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from sxe.commands import counted
from sxe.config import load_settings
from sxe.db import connect, database_url
from sxe.db.migrate import migrate
from sxe.pipeline import RunSummary, card_stage
from sxe.webhooks.normalize import normalize_waiting


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "normalize",
        help="normalize the webhook batches waiting now, instead of waiting for the ops/tick schedule",
        description="Store every webhook batch whose normalize job is due, build their lead cards, "
        "then tag the cards of their pools, as the scheduled normalize task does.",
    )
    parser.add_argument(
        "--pool", help="pool whose cards are tagged too, beside the batches' own (default SXE_POOL or 'default')"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    parser.set_defaults(handler=_normalize)


def _normalize(args: argparse.Namespace) -> int:
    settings = load_settings(option_names={"pool": "--pool"}, **({"pool": args.pool} if args.pool else {}))
    summary = RunSummary(run_id="normalize")
    with connect(database_url(settings), autocommit=True) as conn:
        migrate(conn)
        result = normalize_waiting(conn)
        tagged = {}
        for pool in sorted(result.pools | {settings.pool}):
            card_stage(conn, settings.model_copy(update={"pool": pool}), summary)
            tagged[pool] = summary.tagged

    counts = {**dataclasses.asdict(result), "pools": sorted(result.pools)}
    if args.json:
        print(json.dumps({**counts, "tagged": tagged}, indent=2))
        return 0
    print(
        f"Normalized {counted(result.batches, 'webhook batch', 'webhook batches')}: {result.accepted} stored, "
        f"{counted(result.duplicates, 'duplicate')}, {result.quarantined} quarantined, "
        f"{result.suppressed} withheld as suppressed"
    )
    if result.failed:
        print(
            f"  {counted(result.failed, 'batch', 'batches')} failed and will be retried later. The log names each job"
        )
    for pool, count in tagged.items():
        print(f"  pool {pool}: {counted(count, 'card')} tagged")
    return 0
