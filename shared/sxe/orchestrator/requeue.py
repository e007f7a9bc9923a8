"""Put dead jobs back to work, sending dead enrichment jobs' cards back to the gate instead.

A dead enrichment job left its card `enrichment_failed`, and `sxe run` then moves such a
card on to `ready` and hands it off without contact data. Running the job again could only
buy a lookup its card cannot take. So the card goes back to the gate instead: from
`enrichment_failed` to `qualified`, and from `ready` or `handed_off` along legal moves to
`tagged` (`sxe.cards.reopen`). The next sweep decides it again under today's budget,
cooldowns and intent, and enqueues a new job if allowed. A failed call left no lookup
memory and settled its budget reservation at 0, so the new decision is neither blocked
nor charged twice.

The dead job is then closed (`cancelled`). So is one whose card is already back at the
gate, or was decided again by the gate since the job was enqueued. A job whose card is
gone, suppressed (erased) or merged is closed as well, because no lookup can ever be
recorded for such a card. A job whose card is in a state that only a later decision can
reach stays dead.
Every other dead job goes back to its queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg

from sxe import jobs
from sxe.cards import Readiness, reopen, transition
from sxe.db import sql
from sxe.orchestrator.sweep import ENRICH_QUEUE

REOPEN_REASON = "dead job requeued"
# States in which a card waits for the gate, so its dead lookup job has nothing left to do.
AT_THE_GATE = frozenset({Readiness.NEW.value, Readiness.TAGGED.value, Readiness.QUALIFIED.value})
# States a run moves a card to after its lookup failed: `reopen` walks them back to tagged.
PASSED_ON = frozenset({Readiness.READY.value, Readiness.HANDED_OFF.value})
# States in which a card takes no lookup result ever again.
FINISHED = frozenset({Readiness.SUPPRESSED.value, Readiness.MERGED.value})


@dataclass(slots=True)
class RequeueResult:
    """The outcome of a requeue: jobs back in their queue, cards back at the gate, enrichment jobs closed or dead."""

    requeued: list[int] = field(default_factory=list)
    reopened_cards: list[UUID] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    # The reason each closed job was closed, keyed by job id.
    close_reasons: dict[int, str] = field(default_factory=dict)
    # The readiness of the card of each enrichment job left dead, keyed by job id.
    still_dead: dict[int, str] = field(default_factory=dict)

    def close(self, job_id: int, reason: str) -> None:
        self.closed.append(job_id)
        self.close_reasons[job_id] = reason


def requeue_dead_jobs(
    conn: psycopg.Connection[Any], *, ids: list[int] | None = None, queue: str | None = None
) -> RequeueResult:
    """Requeue the dead jobs `ids` or `queue` choose, in the caller's transaction (as sxe_worker)."""
    result = RequeueResult()
    params = {"ids": ids, "queue": queue, "enrich_queue": ENRICH_QUEUE}
    enrichment = conn.execute(sql("jobs_dead_enrich_cards"), params).fetchall()
    reopened: set[UUID] = set()
    for row in enrichment:
        _send_back_to_gate(conn, row, result, reopened)
    conn.execute(sql("jobs_close_dead"), {"ids": result.closed})

    moved = jobs.requeue_dead(conn, ids=ids, queue=queue, excluded=[row["id"] for row in enrichment])
    result.requeued = [row["id"] for row in moved]
    return result


def _send_back_to_gate(
    conn: psycopg.Connection[Any], row: dict[str, Any], result: RequeueResult, reopened: set[UUID]
) -> None:
    """Close one dead enrichment job, moving its card back to the gate first where needed.

    `reopened` contains the cards already moved by this requeue, because two dead jobs of one
    card (a provider each) must move it only once.
    """
    job_id, readiness, card_id = row["id"], row["readiness"], row["card_id"]
    reason = _reason_to_close_as_is(row, reopened)
    if reason is not None:
        result.close(job_id, reason)
        return

    if readiness == Readiness.ENRICHMENT_FAILED.value:
        transition(conn, card_id, Readiness.QUALIFIED, REOPEN_REASON)
    elif readiness in PASSED_ON:
        reopen(conn, card_id, Readiness(readiness), REOPEN_REASON)
    else:
        result.still_dead[job_id] = readiness
        return
    reopened.add(card_id)
    result.reopened_cards.append(card_id)
    result.close(job_id, f"its card went back to the gate from {readiness}")


def _reason_to_close_as_is(row: dict[str, Any], reopened: set[UUID]) -> str | None:
    """Return why the dead enrichment job can be closed without moving its card, or None when the card must move."""
    readiness = row["readiness"]
    if readiness is None:
        return "its card no longer exists, so no lookup can be recorded for it"
    if readiness in FINISHED:
        return f"its card is {readiness}, so no lookup can be recorded for it"
    if readiness in AT_THE_GATE:
        return f"its card is {readiness}, already back at the gate"
    if row["decided_since"]:
        return "the gate decided its card again after the job was enqueued"
    if row["card_id"] in reopened:
        return "another dead job of its card sent the card back to the gate"
    return None
