"""`sxe jobs list|requeue`: read the job table and put dead jobs back in their queue."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sxe import audit, jobs
from sxe.arguments import whole_number
from sxe.config import load_settings
from sxe.connectors.poll import PULL_QUEUE
from sxe.db import connect, database_url, sql, transaction
from sxe.db.migrate import migrate
from sxe.db.rows import json_row
from sxe.errors import UsageError
from sxe.orchestrator.requeue import RequeueResult, requeue_dead_jobs
from sxe.orchestrator.sweep import ENRICH_QUEUE
from sxe.webhooks.handler import NORMALIZE_QUEUE

ACTOR = "sxe_worker:cli"
STATES = ("queued", "running", "succeeded", "failed", "dead", "cancelled")
DEFAULT_LIMIT = 50
MAX_LIMIT = 10_000
# The queues that the code enqueues to. A queue name found in ops.jobs is known as well.
QUEUES = (ENRICH_QUEUE, NORMALIZE_QUEUE, PULL_QUEUE)


def register(commands: Any) -> None:
    parser = commands.add_parser("jobs", help="list jobs, or put dead jobs back in their queue")
    actions = parser.add_subparsers(dest="action", required=True)

    listing = actions.add_parser("list", help="list jobs, most recently changed first, with their last error")
    listing.add_argument("--queue", help="only this queue, such as normalize, enrich or pull")
    listing.add_argument("--state", choices=STATES, help="only jobs in this state")
    listing.add_argument(
        "--limit",
        type=whole_number("--limit", 1, MAX_LIMIT),
        default=DEFAULT_LIMIT,
        help=f"jobs to list (default {DEFAULT_LIMIT})",
    )
    listing.add_argument("--json", action="store_true", help="print one JSON object instead of the listing")
    listing.set_defaults(handler=_list)

    requeue = actions.add_parser(
        "requeue",
        help="put dead jobs back in their queue, due now, with their attempts reset",
        description="Move dead jobs, named by id or all of one queue, back to queued with their attempts "
        "reset; their error history stays. Fix what made them fail first. A dead enrichment job is closed "
        "(cancelled) instead, and its card goes back to the gate: from enrichment_failed to qualified, and from "
        "ready or handed_off back to tagged. The next sxe run decides its lookups again under the budget, "
        "cooldowns and intent of that moment, and hands the card off again, with the contact data a new lookup "
        "finds; consumers get it again through the cards feed and the pull queue. A dead enrichment job whose "
        "card no longer exists, is suppressed (erased) or is merged is closed as well, because no lookup can be "
        "recorded for that card. The reason for each closed job is printed. Each requeue is audited.",
        epilog="Exit status: 0 when every id given was requeued or closed (with only --queue: when at least one "
        "job was), 1 when an id given was left alone (with only --queue: when no job was requeued or closed), "
        "2 for an unusable argument such as an unknown --queue, 3 when the database cannot be reached. The "
        "reason for each job left alone, or for a queue without dead jobs, is printed either way.",
    )
    requeue.add_argument("ids", nargs="*", type=int, metavar="ID", help="ids of dead jobs (see `sxe jobs list`)")
    requeue.add_argument(
        "--queue", help="every dead job of this queue, or only the ids given from it; such as normalize, enrich or pull"
    )
    requeue.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    requeue.set_defaults(handler=_requeue)


def _list(args: argparse.Namespace) -> int:
    with connect(database_url(load_settings()), autocommit=True) as conn:
        migrate(conn)
        with transaction(conn, role="sxe_worker"):
            rows = [json_row(row) for row in jobs.list_jobs(conn, queue=args.queue, state=args.state, limit=args.limit)]

    if args.json:
        print(json.dumps({"jobs": rows}, indent=2))
        return 0
    print(f"Jobs ({len(rows)}):" if rows else "No job matches.")
    for row in rows:
        error = row["last_error"] or {}
        failure = f"  last error {error.get('class')}: {error.get('message')}" if error else ""
        card = f"  card {row['card_id']}" if row["card_id"] else ""
        print(
            f"  {row['id']}  {row['queue']}  {row['state']}  attempts {row['attempts']}/{row['max_attempts']}  "
            f"changed {row['updated_at']}{card}{failure}"
        )
    return 0


def _requeue(args: argparse.Namespace) -> int:
    if not args.ids and args.queue is None:
        raise UsageError("name the dead jobs to requeue: give their ids, or --queue NAME for all of one queue")
    with connect(database_url(load_settings()), autocommit=True) as conn:
        migrate(conn)
        with transaction(conn, role="sxe_worker"):
            if args.queue is not None:
                check_queue(conn, args.queue)
            done = requeue_dead_jobs(conn, ids=args.ids or None, queue=args.queue)
            detail = {
                "requeued": done.requeued,
                "cards_back_to_gate": [str(card_id) for card_id in done.reopened_cards],
                "closed": done.closed,
                "close_reasons": {str(job_id): reason for job_id, reason in done.close_reasons.items()},
                "requested_ids": args.ids,
                "queue": args.queue,
            }
            audit.append(conn, actor=ACTOR, action="jobs.requeued", subject="jobs", detail=detail)
            left = _left_reasons(conn, args, done)
            queue_reason = None if args.ids else _queue_reason(conn, args.queue, done)

    still_dead = {str(job_id): state for job_id, state in done.still_dead.items()}
    if args.json:
        report = {**detail, "still_dead": still_dead, "not_requeued": left, "queue_reason": queue_reason}
        print(json.dumps(report, indent=2))
    else:
        print(render_requeue(done, left, queue_reason))
    return requeue_status(args, done, left)


def check_queue(conn: Any, queue: str) -> None:
    """Raise UsageError when `queue` is neither a queue the code enqueues to nor one found in ops.jobs."""
    if queue in QUEUES:
        return
    # NOTE: no index starts with the queue column, so this reads the whole job table. It runs
    # only for a name outside QUEUES, which is rare for an operator command.
    found = {row["queue"] for row in conn.execute(sql("jobs_queues"))}
    if queue in found:
        return
    known = ", ".join(sorted({*QUEUES, *found}))
    raise UsageError(f"queue {queue!r} is unknown: use one of {known} (`sxe jobs list` shows the jobs of each)")


def _queue_reason(conn: Any, queue: str | None, done: RequeueResult) -> str | None:
    """Return why a requeue by queue alone left dead jobs in `queue` or found none; None when nothing needs a reason."""
    if queue is None:
        return None
    blocked = jobs.counts(conn, queue).get("dead", 0) - len(done.still_dead)
    if blocked > 0:
        return f"dead jobs left in queue {queue}: {blocked}, because a queued or running job has the dedupe key of each"
    if not (done.requeued or done.closed or done.still_dead):
        return f"no dead job in queue {queue}"
    return None


def requeue_status(args: argparse.Namespace, done: RequeueResult, left: dict[str, str]) -> int:
    """Return 1 when an id given was left alone, or when only --queue was given and no job moved; else 0."""
    if args.ids:
        return 1 if left or done.still_dead else 0
    return 0 if done.requeued or done.closed else 1


def _left_reasons(conn: Any, args: argparse.Namespace, done: RequeueResult) -> dict[str, str]:
    """Return, for each requested id that the requeue left alone, the reason."""
    handled = {*done.requeued, *done.closed, *done.still_dead}
    unhandled = sorted(set(args.ids) - handled)
    found = {row["id"]: row for row in conn.execute(sql("jobs_states"), {"ids": unhandled})}
    reasons = {}
    for job_id in unhandled:
        row = found.get(job_id)
        if row is None:
            reasons[str(job_id)] = "no job has this id"
        elif row["state"] != "dead":
            reasons[str(job_id)] = f"the job is {row['state']}, not dead"
        elif args.queue is not None and row["queue"] != args.queue:
            reasons[str(job_id)] = f"the job is in queue {row['queue']}, not {args.queue}"
        else:
            reasons[str(job_id)] = "a queued or running job has its dedupe key"
    return reasons


def render_requeue(done: RequeueResult, left: dict[str, str], queue_reason: str | None = None) -> str:
    """Return the summary of a requeue: jobs moved, jobs closed, cards sent back to the gate, and jobs left and why."""
    lines = [f"{len(done.requeued)} dead jobs back in their queue" + _ids(done.requeued)]
    if queue_reason is not None:
        lines.append(f"  {queue_reason}")
    if done.closed:
        lines.append(f"{len(done.closed)} dead enrichment jobs closed" + _ids(done.closed))
    if done.reopened_cards:
        lines.append(
            f"{len(done.reopened_cards)} cards back at the gate: the next run decides them again, "
            "enqueues new lookups where allowed and hands them off again"
        )
    for job_id, reason in done.close_reasons.items():
        lines.append(f"  enrichment job {job_id} closed: {reason}")
    for job_id, state in done.still_dead.items():
        lines.append(f"  enrichment job {job_id} stays dead: its card is {state}, which a requeue does not move back")
    for left_id, reason in left.items():
        lines.append(f"  job {left_id} not requeued: {reason}")
    return "\n".join(lines)


def _ids(ids: list[int]) -> str:
    return f": {', '.join(map(str, ids))}" if ids else ""
