"""`sxe quote`: estimate the credits and matches of enriching a pool before anything is spent."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sxe.config import load_settings
from sxe.db import connect, database_url
from sxe.db.migrate import migrate
from sxe.orchestrator.quote import Quote, quote_pool
from sxe.pipeline import RunSummary, provider_adapters


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "quote", help="estimate the credits and expected matches of enriching a pool; spends and writes nothing"
    )
    parser.add_argument("pool", metavar="POOL", help="audience pool name")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(handler=_quote)


def _quote(args: argparse.Namespace) -> int:
    settings = load_settings(option_names={"pool": "POOL"}, pool=args.pool)
    with connect(database_url(settings), autocommit=True) as conn:
        migrate(conn)
        with provider_adapters(settings, RunSummary(run_id="quote")) as providers:
            estimate = quote_pool(conn, settings, providers.primary, fallbacks=providers.fallbacks)
    print(json.dumps(estimate.as_dict(), indent=2) if args.json else render(estimate))
    return 0


def render(estimate: Quote) -> str:
    """Format a quote for people: totals, then one line per provider of the waterfall."""
    data = estimate.as_dict()
    lines = [
        f"Quote for pool {data['pool']}: {data['cards']} cards waiting, {data['lookups']} would be looked up",
        f"  credits   {data['expected_credits']} expected, {data['max_credits']} at most",
        f"  matches   {data['expected_matches']} expected",
    ]
    if data["skipped"]:
        lines.append("  skipped   " + ", ".join(f"{reason} {count}" for reason, count in data["skipped"].items()))
    lines += ["", "  provider        calls  credits  matches  match rate       budget left"]
    for item in data["providers"]:
        rate = f"{item['match_rate']:.0%} ({item['match_rate_source']})"
        lines.append(
            f"  {item['provider']:<14}{item['expected_calls']:>7}{item['expected_credits']:>9}"
            f"{item['expected_matches']:>9}  {rate:<17}{item['budget_remaining']:>7}"
        )
    return "\n".join(lines)
