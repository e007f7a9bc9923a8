"""SXE_SIMULATOR_FAULTS parsing and the seeded per-request fault draws."""

from __future__ import annotations

from collections import Counter

import pytest

from sxe.adapters.faults import FaultPlan
from sxe.errors import ConfigError


def test_parse_reads_each_rate() -> None:
    plan = FaultPlan.parse("429=0.2, 500=0.1,timeout=0.05", seed=3)

    assert plan.rates == {"429": 0.2, "500": 0.1, "timeout": 0.05}
    assert plan.seed == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("429", "expected STATUS=RATE"),
        ("abc=0.1", "expected STATUS=RATE"),
        ("200=0.1", "HTTP status from 400 to 599"),
        ("429=0.7,500=0.6", "above 1"),
    ],
)
def test_parse_rejects_bad_entries(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FaultPlan.parse(text)


def test_draws_repeat_for_same_seed() -> None:
    first = FaultPlan.parse("429=0.3,timeout=0.1", seed=5)
    second = FaultPlan.parse("429=0.3,timeout=0.1", seed=5)

    assert [first.draw("name=a", n) for n in range(50)] == [second.draw("name=a", n) for n in range(50)]


def test_draw_rates_match_configuration() -> None:
    plan = FaultPlan.parse("429=0.2,500=0.1,timeout=0.05", seed=1)

    drawn = Counter(plan.draw(f"name=person{i}", 0) for i in range(20_000))

    assert drawn["429"] / 20_000 == pytest.approx(0.2, abs=0.015)
    assert drawn["500"] / 20_000 == pytest.approx(0.1, abs=0.015)
    assert drawn["timeout"] / 20_000 == pytest.approx(0.05, abs=0.01)


def test_retried_request_gets_fresh_draw() -> None:
    plan = FaultPlan.parse("500=0.5", seed=2)

    outcomes = {plan.draw("name=same", seen) for seen in range(40)}

    assert outcomes == {"500", None}


def test_empty_plan_never_fails() -> None:
    assert FaultPlan.parse("").draw("name=x", 0) is None
