"""Capped exponential backoff with equal jitter for job retries."""

from __future__ import annotations

import random

import pytest

from sxe.jobs import Backoff


@pytest.mark.parametrize(("attempt", "ceiling"), [(1, 5.0), (2, 10.0), (3, 20.0), (4, 40.0), (8, 600.0), (30, 600.0)])
def test_backoff_stays_within_jitter_band(attempt: int, ceiling: float) -> None:
    backoff = Backoff(base_seconds=5.0, cap_seconds=600.0)
    rng = random.Random(attempt)

    delays = [backoff.delay(attempt, rng=rng) for _ in range(500)]

    assert min(delays) >= ceiling / 2
    assert max(delays) <= ceiling


def test_backoff_jitter_spreads_retries() -> None:
    backoff = Backoff(base_seconds=5.0, cap_seconds=600.0)
    rng = random.Random(7)

    delays = {round(backoff.delay(3, rng=rng), 3) for _ in range(100)}

    assert len(delays) > 90


def test_backoff_rejects_base_above_cap() -> None:
    with pytest.raises(ValueError, match="base_seconds <= cap_seconds"):
        Backoff(base_seconds=10.0, cap_seconds=1.0)
