"""render_card output over varied rows, compared with a stored fixture, so a faster renderer keeps every value."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sxe.handoff.records import RecordFormat, render_card

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "rendered_cards.json"
# Scrub dates that stay on one side of the 31-day limit for decades: one in the future
# (released) and one long past (withheld).
FRESH_SCRUB = "2099-01-01T00:00:00+00:00"
STALE_SCRUB = "2020-01-01T00:00:00+00:00"
FORMATS = [
    RecordFormat(version, frozenset(fields))
    for version in ("lead-card.v1", "lead-card.v2")
    for fields in ((), ("emails",), ("phones",), ("emails", "phones"))
]


def profile(platform: str, index: int, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "platform": platform,
        "platform_user_id": str(9000 + index),
        "handle": f"{platform}_user_{index}",
        "profile_url": f"https://{platform}.example/{index}",
        "display_name": f"User {index}",
        "followers": 10 * index,
        "following": None,
        "posts": 3,
        "verified": index % 2 == 0,
        "quality_flags": ["low_posts"] if index % 3 == 0 else [],
        "website_domain": None if index % 2 else "example.org",
        "language": "de" if index % 4 == 1 else None,
        "source_format": f"{platform}-export",
        "source_file": f"imports/{platform}.jsonl",
        "collected_at": "2026-11-30T08:00:00+00:00",
    }
    base.update(changes)
    return base


def point(kind: str, value: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": kind,
        "value": value,
        "status": "verified" if kind == "email" else None,
        "line_type": None if kind == "email" else "mobile",
        "dnc_status": None if kind == "email" else "clear",
        "scrubbed_at": None if kind == "email" else FRESH_SCRUB,
        "source": "apollo",
        "simulated": True,
        "suppressed": False,
    }
    base.update(changes)
    return base


def varied_rows() -> list[dict[str, Any]]:
    """Return rows that between them reach every branch of render_card."""
    profile_sets = [
        [profile("x", 1)],
        [profile("instagram", 2), profile("threads", 3, website_domain=None), profile("tiktok", 4)],
        [profile("x", 5, display_name=None, handle=None, language="en")],
        [],
    ]
    point_sets = [
        [point("email", "ada@example.com"), point("phone", "+15555550100")],
        [
            point("email", "bo@example.com", suppressed=True, status="bounced"),
            point("phone", "+15555550101", scrubbed_at=STALE_SCRUB),
            point("phone", "+15555550102", scrubbed_at=None),
            point("phone", "+15555550103", scrubbed_at=STALE_SCRUB, suppressed=True, dnc_status="DNC"),
            point("phone", "+15555550104", line_type="Landline ", dnc_status=" listed"),
            point("phone", "+15555550105", line_type=None, dnc_status="maybe"),
        ],
        [],
    ]
    label_sets = [
        [],
        [
            {
                "kind": "persona",
                "value": "founder",
                "score": 0.8,
                "rule_id": "p.f",
                "ruleset_version": "1",
                "evidence": {},
            },
            {"kind": "tribe", "value": "b", "score": 0.5, "rule_id": "t.b", "ruleset_version": "1", "evidence": {}},
            {"kind": "tribe", "value": "a", "score": 0.5, "rule_id": "t.a", "ruleset_version": "1", "evidence": {}},
            {
                "kind": "tribe",
                "value": "c",
                "score": 0.9,
                "rule_id": "t.c",
                "ruleset_version": "1",
                "evidence": {"n": 1},
            },
        ],
    ]
    decision_sets = [
        [],
        [
            {"provider": "apollo", "decision": "skip", "adapter_version": "1.0", "reason": "no_domain",
             "simulated": True, "at": "2026-12-01T10:00:00+00:00"},
            {"provider": "dealmachine", "decision": "enqueue", "adapter_version": "2.1", "reason": "allowed",
             "simulated": False, "at": "2026-12-01T10:05:00+00:00"},
        ],
    ]  # fmt: skip
    reasons = ["matched", "cooldown_no_match", "budget_exhausted", None]

    rows = []
    for index in range(12):
        rows.append(
            {
                "card_id": uuid.UUID(int=index + 1) if index % 2 else str(uuid.UUID(int=index + 1)),
                "pool": "makers",
                "readiness": "ready" if index % 3 else "handed_off",
                "readiness_reason": reasons[index // 3 % len(reasons)],
                "ruleset_version": "personas-v1",
                "updated_at": datetime(2026, 12, 4, 12, 0, tzinfo=UTC) + timedelta(microseconds=index),
                "profiles": profile_sets[index % len(profile_sets)] or (None if index % 8 == 3 else []),
                "labels": label_sets[index % len(label_sets)],
                "contact_points": point_sets[index % len(point_sets)],
                "decisions": decision_sets[index // 2 % len(decision_sets)],
            }
        )
    return rows


def render_all() -> list[dict[str, Any]]:
    return [render_card(row, record_format) for row in varied_rows() for record_format in FORMATS]


def test_rendered_cards_match_fixture() -> None:
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    rendered = render_all()

    assert len(rendered) == len(expected)
    for index, (record, wanted) in enumerate(zip(rendered, expected, strict=True)):
        assert record == wanted, f"card {index} differs from the fixture"


def test_rendered_key_order_matches_fixture() -> None:
    # The pull API returns records as rendered, so key order is visible there.
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    rendered = json.loads(json.dumps(render_all()))

    assert json.dumps(rendered) == json.dumps(expected)


if __name__ == "__main__":
    # Rewrites the fixture from the current render_card; review the diff before committing.
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    lines = ",\n".join(json.dumps(record, ensure_ascii=False) for record in render_all())
    FIXTURE.write_text(f"[\n{lines}\n]\n", encoding="utf-8")
