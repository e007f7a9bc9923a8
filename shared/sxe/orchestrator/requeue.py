"""Put dead jobs back to work, sending dead enrichment jobs' cards back to the gate instead.

A dead enrichment job left its card `enrichment_failed`, and a run may have handed the
card off since. Running the job again could only buy a lookup its card cannot take.
So a card still `enrichment_failed` goes back to `qualified`, and the next sweep decides
it again under today's budget, cooldowns and intent, and enqueues a new job if allowed.
The dead job is then closed (`cancelled`), as it is when its card is already back at the
gate, so it stops counting as dead. A card in any other state keeps its dead job. Every
other dead job goes back to its queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg

from sxe import jobs
from sxe.cards import Readiness, transition
from sxe.db import sql
from sxe.orchestrator.sweep import ENRICH_QUEUE

REOPEN_REASON = "dead job requeued"
# States in which a card waits for the gate, so its dead lookup job has nothing left to do.
AT_THE_GATE = frozenset({Readiness.NEW.value, Readiness.TAGGED.value, Readiness.QUALIFIED.value})


@dataclass(slots=True)
class RequeueResult:
    """The outcome of a requeue: jobs back in their queue, cards back at the gate, enrichment jobs left dead."""

    requeued: list[int] = field(default_factory=list)
    reopened_cards: list[UUID] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    still_dead: dict[int, str] = field(default_factory=dict)


def requeue_dead_jobs(
    conn: psycopg.Connection[Any], *, ids: list[int] | None = None, queue: str | None = None
) -> RequeueResult:
    """Requeue the dead jobs `ids` or `queue` choose, in the caller's transaction (as sxe_worker)."""
    result = RequeueResult()
    params = {"ids": ids, "queue": queue, "enrich_queue": ENRICH_QUEUE}
    enrichment = conn.execute(sql("jobs_dead_enrich_cards"), params).fetchall()
    for row in enrichment:
        if row["readiness"] == Readiness.ENRICHMENT_FAILED.value:
            transition(conn, row["card_id"], Readiness.QUALIFIED, REOPEN_REASON)
            result.reopened_cards.append(row["card_id"])
            result.closed.append(row["id"])
        elif row["readiness"] in AT_THE_GATE:
            result.closed.append(row["id"])
        else:
            result.still_dead[row["id"]] = row["readiness"] or "deleted"
    conn.execute(sql("jobs_close_dead"), {"ids": result.closed})

    moved = jobs.requeue_dead(conn, ids=ids, queue=queue, excluded=[row["id"] for row in enrichment])
    result.requeued = [row["id"] for row in moved]
    return result
