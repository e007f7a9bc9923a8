"""The text view of a card's enrichment section in `sxe explain`."""

from __future__ import annotations

from typing import Any

from sxe.orchestrator.explain import render_enrichment
from sxe.orchestrator.gate import SKIP_DESCRIPTIONS, SkipReason


def section(**parts: Any) -> dict[str, Any]:
    return {"decisions": [], "jobs": [], "breakers": [], "breaker_was_open": False, "breaker_open_for": [], **parts}


def decision(decision: str, reason: str) -> dict[str, Any]:
    return {"provider": "apollo", "decision": decision, "reason": reason, "at": "2026-12-05T10:40:38.123456+00:00"}


def test_every_skip_reason_has_a_description() -> None:
    assert set(SKIP_DESCRIPTIONS) == set(SkipReason)


def test_skip_reason_explained_in_words() -> None:
    lines = render_enrichment(section(decisions=[decision("skip", "no_match_key")]))

    expected = f"  2026-12-05T10:40:38+00:00  apollo  skip  no_match_key ({SKIP_DESCRIPTIONS['no_match_key']})"
    assert lines[1] == expected


def test_other_reasons_stay_as_recorded() -> None:
    decisions = [decision("enqueue", "allowed by intent, cooldown, budget and breaker"), decision("skip", "retired")]

    lines = render_enrichment(section(decisions=decisions))

    assert lines[1].endswith("  apollo  enqueue  allowed by intent, cooldown, budget and breaker")
    assert lines[2].endswith("  apollo  skip  retired")


def test_times_shown_to_the_second() -> None:
    job = {
        "job_id": 7, "provider": "apollo", "state": "queued", "attempts": 1, "max_attempts": 5,
        "last_error_class": None, "last_error_status_code": None, "cancel_reason": None,
        "next_run_at": "2026-12-05T11:00:00.999999+00:00",
    }  # fmt: skip
    breaker = {
        "provider": "apollo", "state": "open", "consecutive_failures": 3, "opened_at": "2026-12-05T10:59:01.5+00:00",
    }  # fmt: skip

    text = "\n".join(render_enrichment(section(jobs=[job], breakers=[breaker])))

    assert "next run 2026-12-05T11:00:00+00:00" in text
    assert "opened 2026-12-05T10:59:01+00:00" in text
    assert ".999999" not in text


def test_cancelled_job_shows_its_reason() -> None:
    reason = "budget pool:default has 4 credits left in period 2030-01, below the quote of 9"
    job = {
        "job_id": 7, "provider": "apollo", "state": "cancelled", "attempts": 0, "max_attempts": 5,
        "last_error_class": "BudgetExhausted", "last_error_status_code": None, "cancel_reason": reason,
        "next_run_at": None,
    }  # fmt: skip

    lines = render_enrichment(section(jobs=[job]))

    assert lines[4] == f"  job 7  apollo  cancelled  attempts 0/5, not bought, BudgetExhausted: {reason}"
