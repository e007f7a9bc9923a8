"""Alarms: thresholds from configuration, checked on a schedule, one event per episode.

Each check turns the health report into named measurements, compares each with
its threshold and keeps the outcome in `ops.alarm_states`. A measurement above its
threshold starts an episode: one `alarm.raised` event in `ops.events` and one ERROR
log line. Later checks of the same episode stay silent. When the measurement is back
at or under the threshold (or no longer measured), one `alarm.cleared` event and
an INFO line end it. The row lock on each alarm makes two concurrent checks agree
on which of them reports a change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from sxe.db import sql, transaction
from sxe.errors import ConfigError
from sxe.events import EventType, emit
from sxe.logs import Event, log
from sxe.runtime.health import HealthReport, OpenTransaction


class AlarmThresholds(BaseSettings):
    """Alarm thresholds, read from `SXE_ALARM_*` environment variables. An alarm fires above its threshold."""

    model_config = SettingsConfigDict(env_prefix="SXE_ALARM_", extra="ignore", frozen=True)

    queue_depth: int = Field(default=1000, ge=0, description="Queued jobs across all queues.")
    oldest_queued_seconds: float = Field(default=3600, ge=0, description="Age of the oldest due queued job.")
    dead_jobs: int = Field(default=0, ge=0, description="Jobs that used up their attempts.")
    adapter_error_rate: float = Field(default=0.5, ge=0, le=1, description="Provider errors per call.")
    adapter_min_calls: int = Field(default=10, ge=1, description="Calls in the window before the rate counts.")
    budget_used_ratio: float = Field(default=0.9, ge=0, le=1, description="Reserved plus spent credits per limit.")
    heartbeat_age_seconds: float = Field(default=1800, ge=0, description="Seconds since a function last beat.")
    invalid_webhook_batches: int = Field(
        default=0, ge=0, description="Signed webhook bodies quarantined as invalid batches in the last day."
    )
    feeds_held_back_seconds: float = Field(
        default=600, ge=0, description="Age of the oldest transaction with an id, which holds back the feeds."
    )


def load_thresholds(**overrides: Any) -> AlarmThresholds:
    """Read the thresholds; raise ConfigError naming the variable with a bad value."""
    try:
        return AlarmThresholds(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "SXE_ALARM_" + "_".join(str(part) for part in first["loc"]).upper()
        raise ConfigError(f"invalid {name}: {first['msg']}; fix the variable or unset it to use the default") from exc


@dataclass(frozen=True, slots=True)
class Measurement:
    alarm: str
    value: float | None
    threshold: float
    # The backend behind the value, logged when the alarm is raised; only feeds_held_back has one.
    pid: int | None = None

    @property
    def firing(self) -> bool:
        return self.value is not None and self.value > self.threshold


@dataclass(frozen=True, slots=True)
class Change:
    """An alarm that started or ended an episode in this check."""

    alarm: str
    state: str
    value: float | None
    threshold: float


def measure(health: HealthReport, thresholds: AlarmThresholds) -> list[Measurement]:
    """Turn a health report into one measurement per alarm."""
    measurements = [
        Measurement("queue_depth", health.queued_jobs, thresholds.queue_depth),
        Measurement("oldest_queued_age", health.oldest_queued_seconds, thresholds.oldest_queued_seconds),
        Measurement("dead_jobs", health.dead_jobs, thresholds.dead_jobs),
        Measurement("invalid_webhook_batches", health.invalid_webhook_batches, thresholds.invalid_webhook_batches),
        _feeds_held_back(health.open_transaction, thresholds.feeds_held_back_seconds),
    ]
    for provider in health.providers:
        # A handful of calls says little about a provider; the rate counts from adapter_min_calls on.
        rate = provider.error_rate if provider.calls >= thresholds.adapter_min_calls else None
        measurements.append(Measurement(f"adapter_error_rate:{provider.provider}", rate, thresholds.adapter_error_rate))
    for scope, ratio in health.budgets.items():
        measurements.append(Measurement(f"budget_used:{scope}", ratio, thresholds.budget_used_ratio))
    for worker, beat in health.heartbeats.items():
        measurements.append(
            Measurement(f"heartbeat_age:{worker}", beat["age_seconds"], thresholds.heartbeat_age_seconds)
        )
    return measurements


def _feeds_held_back(open_transaction: OpenTransaction | None, threshold: float) -> Measurement:
    if open_transaction is None:
        return Measurement("feeds_held_back", None, threshold)
    return Measurement("feeds_held_back", open_transaction.age_seconds, threshold, open_transaction.pid)


def check(conn: psycopg.Connection[Any], measurements: list[Measurement]) -> list[Change]:
    """Record each measurement's state and return the alarms that changed state, raising and clearing them."""
    changes = []
    measured = {measurement.alarm for measurement in measurements}
    with transaction(conn, role="sxe_worker"):
        firing_before = conn.execute(sql("alarms_firing")).fetchall()
    # A firing alarm that is no longer measured (a provider with no calls left) has cleared.
    vanished = [
        Measurement(row["alarm"], None, row["threshold"]) for row in firing_before if row["alarm"] not in measured
    ]

    for measurement in [*measurements, *vanished]:
        change = _record(conn, measurement)
        if change is not None:
            changes.append(change)
    return changes


def _record(conn: psycopg.Connection[Any], measurement: Measurement) -> Change | None:
    state = "firing" if measurement.firing else "ok"
    params = {
        "alarm": measurement.alarm,
        "state": state,
        "value": measurement.value,
        "threshold": measurement.threshold,
    }
    with transaction(conn, role="sxe_worker"):
        conn.execute(sql("alarms_ensure"), params)
        previous = conn.execute(sql("alarms_lock"), params).fetchone()
        conn.execute(sql("alarms_record"), params)
        # alarms_ensure made the row, so `previous` exists; a new alarm starts as ok.
        if previous is None or previous["state"] == state:
            return None
        event = EventType.ALARM_RAISED if state == "firing" else EventType.ALARM_CLEARED
        emit(conn, event, measurement.alarm, value=measurement.value, threshold=measurement.threshold)

    _log_change(measurement, state)
    return Change(measurement.alarm, state, measurement.value, measurement.threshold)


def _log_change(measurement: Measurement, state: str) -> None:
    keys: dict[str, Any] = {"alarm": measurement.alarm, "value": measurement.value, "threshold": measurement.threshold}
    if state == "firing":
        message = f"alarm {measurement.alarm} raised: {measurement.value:g} is above {measurement.threshold:g}"
        if measurement.pid is not None:
            message += f" (pid {measurement.pid})"
            keys["pid"] = measurement.pid
        log(logging.ERROR, Event.ALARM_RAISED, message, **keys)
        return
    log(logging.INFO, Event.ALARM_CLEARED, f"alarm {measurement.alarm} cleared", **keys)
