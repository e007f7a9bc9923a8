"""Fire project.yml's cron triggers locally, the way DigitalOcean's scheduler does.

A daemon thread wakes every `poll_seconds`, asks each trigger's 5-field cron
expression (UTC, evaluated by croniter) whether its next fire time has passed, and
runs the due ones on a small thread pool. A trigger whose previous run is still
going is skipped for that tick, so one slow run never stacks up behind itself, and
missed fire times while the process slept collapse into one run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from croniter import croniter  # type: ignore[import-untyped]

from sxe.logs import Event, log
from sxe.runtime.project import Function, Trigger

Invoke = Callable[[Function, Trigger], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Firing:
    """One completed trigger run: which trigger, when (epoch seconds on the scheduler's clock) and its status."""

    trigger: str
    function: str
    at: float
    status: int


class Scheduler:
    """Runs `invoke(function, trigger)` whenever a trigger's cron expression comes due on `clock`."""

    def __init__(
        self,
        triggers: list[tuple[Function, Trigger]],
        invoke: Invoke,
        *,
        clock: Callable[[], float] = time.time,
        poll_seconds: float = 1.0,
    ) -> None:
        self._triggers = triggers
        self._invoke = invoke
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(triggers)), thread_name_prefix="sxe-trigger")
        self.firings: list[Firing] = []
        start = self._clock()
        self._next = {trigger.name: _next_time(trigger.cron, start) for _, trigger in triggers}

    def start(self) -> None:
        """Start the scheduler thread; a no-op without triggers."""
        if not self._triggers or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="sxe-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop firing and wait for runs in progress to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._pool.shutdown(wait=True)

    def run_due(self) -> list[str]:
        """Submit every trigger that is due now and not already running; return their names."""
        now = self._clock()
        submitted = []
        for function, trigger in self._triggers:
            if self._next[trigger.name] > now:
                continue
            self._next[trigger.name] = _next_time(trigger.cron, now)
            with self._lock:
                if trigger.name in self._running:
                    log(
                        logging.WARNING,
                        Event.TRIGGER_FAILED,
                        f"trigger {trigger.name} skipped: previous run still going",
                        trigger=trigger.name,
                    )
                    continue
                self._running.add(trigger.name)
            self._pool.submit(self._fire, function, trigger, now)
            submitted.append(trigger.name)
        return submitted

    def _loop(self) -> None:
        while not self._stop.wait(self._poll_seconds):
            self.run_due()

    def _fire(self, function: Function, trigger: Trigger, at: float) -> None:
        try:
            result = self._invoke(function, trigger)
            status = int(result.get("statusCode", 200)) if isinstance(result, dict) else 200
        except Exception:
            logging.getLogger("sxe").exception("trigger %s failed", trigger.name)
            status = 500
        finally:
            with self._lock:
                self._running.discard(trigger.name)

        event = Event.TRIGGER_FIRED if status < 400 else Event.TRIGGER_FAILED
        level = logging.INFO if status < 400 else logging.ERROR
        log(level, event, f"trigger {trigger.name} ran {function.path}", trigger=trigger.name, status=status)
        with self._lock:
            self.firings.append(Firing(trigger.name, function.path, at, status))


def _next_time(cron: str, after: float) -> float:
    return float(croniter(cron, datetime.fromtimestamp(after, UTC)).get_next(float))
