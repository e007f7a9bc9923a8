"""The main job: files in, a signed handoff bundle out, every stage in one process.

ingest → normalize → lead cards → tags → enrichment (sweep and worker) →
readiness → handoff. Each stage commits its own work, so a crash part-way keeps
what finished and a re-run picks up from there: stored records are recognised
as duplicates, cards are not rebuilt, and remembered lookups are not bought again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from sxe.adapters.apollo import ApolloPeopleMatch
from sxe.adapters.base import ProviderAdapter
from sxe.adapters.simulator import ProviderSimulator
from sxe.cards import Readiness, build_cards, ensure_pool, readiness_counts, transition_pool
from sxe.config import Settings
from sxe.db import connect, database_url, transaction
from sxe.db.migrate import migrate
from sxe.errors import UsageError
from sxe.handoff.export import HandoffRequest, hand_off
from sxe.handoff.storage import build_store, download_url, signing_secret  # noqa: F401 - signing_secret is re-exported
from sxe.ingest.formats import get_format
from sxe.ingest.store import FileResult, QuarantinedRecord, ingest_file
from sxe.intelligence import load_default_ruleset
from sxe.intelligence.store import tag_pending_cards
from sxe.logs import Event, log
from sxe.orchestrator import controls
from sxe.orchestrator.sweep import SweepContext, SweepResult, sweep
from sxe.orchestrator.worker import WorkerContext, WorkResult, work

ACTOR = "sxe_worker:cli"
INPUT_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson"})
MAX_ENRICH_ROUNDS = 3
PROVIDER_MONTHLY_CREDITS = 10_000


@dataclass(slots=True)
class BundleSummary:
    id: str
    path: str
    url: str
    manifest_url: str
    records: int


@dataclass(slots=True)
class RunSummary:
    """Counts and results of one run; `to_json()` is the `--json` output."""

    run_id: str
    files: list[FileResult] = field(default_factory=list)
    profiles: int = 0
    new_profiles: int = 0
    new_lead_cards: int = 0
    tagged: int = 0
    readiness: dict[str, int] = field(default_factory=dict)
    sweep: SweepResult = field(default_factory=SweepResult)
    work: WorkResult = field(default_factory=WorkResult)
    simulated_provider: bool = True
    bundle: BundleSummary | None = None

    @property
    def quarantined(self) -> list[tuple[str, QuarantinedRecord]]:
        return [(result.file, record) for result in self.files for record in result.quarantined]

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "ingested": sum(result.accepted for result in self.files),
            "duplicates": sum(result.duplicates for result in self.files),
            "quarantined": len(self.quarantined),
            "quarantine": [
                {"file": file, "location": record.location, "kind": record.kind, "reason": record.reason}
                for file, record in self.quarantined
            ],
            "files": [{"file": r.file, "format": r.format, "records": r.records} for r in self.files],
            "profiles": self.profiles,
            "new_profiles": self.new_profiles,
            "lead_cards": sum(self.readiness.values()),
            "new_lead_cards": self.new_lead_cards,
            "tagged": self.tagged,
            "readiness": self.readiness,
            "enrichment_enqueued": self.sweep.enqueued,
            "enrichment_skipped": dict(self.sweep.skipped),
            "lookups": self.work.lookups,
            "enriched": self.work.matched + self.work.outcomes.get("reused_matched", 0),
            "credits_spent": self.work.credits_spent,
            "simulated_provider": self.simulated_provider,
            "bundle": None
            if self.bundle is None
            else {
                "id": self.bundle.id,
                "path": self.bundle.path,
                "url": self.bundle.url,
                "manifest_url": self.bundle.manifest_url,
                "records": self.bundle.records,
            },
        }


def collect_inputs(paths: Sequence[Path]) -> list[Path]:
    """Expand folders into their .json/.jsonl/.ndjson files (sorted); raise UsageError for a missing path."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
            if not found:
                raise UsageError(
                    f"folder {path} contains no .json, .jsonl or .ndjson files; pass files or another folder"
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"input {path} does not exist; pass an existing file or folder")
    return files


def run(paths: Sequence[Path], settings: Settings, *, format_name: str | None = None) -> RunSummary:
    """Run the whole pipeline over `paths`; raise UsageError before any work when an argument is unusable."""
    files = collect_inputs(paths)
    if format_name is not None:
        get_format(format_name)

    summary = RunSummary(run_id=str(uuid.uuid4()))
    with connect(database_url(settings), autocommit=True) as conn, ExitStack() as stack:
        migrate(conn)
        log(logging.INFO, Event.RUN_STARTED, f"run started over {len(files)} files", stage="run")
        ingest_stage(conn, files, format_name, summary)
        card_stage(conn, settings, summary)
        adapter = stack.enter_context(provider_adapter(settings, summary))
        enrich_stage(conn, settings, adapter, summary)
        handoff_stage(conn, settings, summary)
        log(logging.INFO, Event.RUN_FINISHED, "run finished", stage="run")
    return summary


def ingest_stage(
    conn: psycopg.Connection[Any], files: list[Path], format_name: str | None, summary: RunSummary
) -> None:
    """Ingest and normalize each file in turn, adding its counts to `summary`."""
    run_id = uuid.UUID(summary.run_id)
    touched: set[uuid.UUID] = set()
    for path in files:
        result = ingest_file(conn, path, run_id=run_id, format_name=format_name)
        summary.files.append(result)
        touched |= result.profile_ids
        summary.new_profiles += result.new_profiles
        log(
            logging.INFO,
            Event.FILE_INGESTED,
            f"ingested {path.name}",
            stage="ingest",
            batch_id=str(result.batch_id),
            count=result.records,
        )
    summary.profiles = len(touched)


def card_stage(conn: psycopg.Connection[Any], settings: Settings, summary: RunSummary) -> None:
    """Give every new profile a lead card, then tag the cards that need it and hold all-private ones."""
    ruleset = load_default_ruleset()
    with transaction(conn, role="sxe_worker"):
        ensure_pool(conn, settings.pool)
        summary.new_lead_cards = build_cards(conn, settings.pool)
    with transaction(conn, role="sxe_worker"):
        summary.tagged = tag_pending_cards(conn, settings.pool, ruleset)
    log(logging.INFO, Event.CARDS_TAGGED, "lead cards built and tagged", stage="cards", count=summary.tagged)


@contextmanager
def provider_adapter(settings: Settings, summary: RunSummary) -> Iterator[ProviderAdapter]:
    """Yield the Apollo adapter, or the simulator-backed one when no Apollo key is configured."""
    timeout = settings.provider_timeout_seconds
    if settings.apollo_api_key is not None:
        summary.simulated_provider = False
        with ApolloPeopleMatch(
            settings.apollo_api_key.get_secret_value(), base_url=settings.apollo_base_url, read_timeout_seconds=timeout
        ) as adapter:
            yield adapter
        return

    with (
        ProviderSimulator() as simulator,
        ApolloPeopleMatch(
            simulator.api_key,
            base_url=simulator.base_url,
            simulated=True,
            read_timeout_seconds=timeout,
            reveal_phone_number=True,
        ) as adapter,
    ):
        yield adapter


def enrich_stage(
    conn: psycopg.Connection[Any], settings: Settings, adapter: ProviderAdapter, summary: RunSummary
) -> None:
    """Sweep the pool's tagged cards and work the lookups they allow, in rounds until nothing is left."""
    scopes = controls.BudgetScopes(provider=adapter.name, pool=settings.pool)
    period = controls.budget_period()
    with transaction(conn, role="sxe_worker"):
        intent = ensure_pool(conn, settings.pool)
        controls.ensure_budgets(
            conn,
            scopes,
            provider_limit=PROVIDER_MONTHLY_CREDITS,
            pool_limit=settings.pool_budget_credits,
            period=period,
        )
        controls.ensure_bucket(
            conn, adapter.name, capacity=settings.provider_burst, refill_per_second=settings.provider_rate_per_second
        )
        controls.ensure_breaker(conn, adapter.name)

    sweep_context = SweepContext(settings.pool, intent, adapter, scopes, period, ACTOR, summary.simulated_provider)
    worker_context = WorkerContext(
        adapter, scopes, period, settings.cooldown_hit_days, settings.cooldown_miss_days, ACTOR
    )
    # A lookup shared by two cards runs once; the second round hands its remembered
    # result to the cards that waited on it.
    for _ in range(MAX_ENRICH_ROUNDS):
        decided = sweep(conn, sweep_context)
        summary.sweep.enqueued += decided.enqueued
        summary.sweep.skipped.update(decided.skipped)
        done = work(conn, worker_context)
        _add_work(summary.work, done)
        if decided.enqueued == 0 and not done.outcomes:
            break


def _add_work(total: WorkResult, part: WorkResult) -> None:
    total.lookups += part.lookups
    total.matched += part.matched
    total.credits_spent += part.credits_spent
    total.outcomes.update(part.outcomes)


def handoff_stage(conn: psycopg.Connection[Any], settings: Settings, summary: RunSummary) -> None:
    """Promote finished cards to ready, bundle the pool's ready cards and sign the download URLs.

    A bundle holds the cards that became ready since the last handoff: each card
    goes out once, and a run with nothing new writes an empty bundle.
    """
    with transaction(conn, role="sxe_worker"):
        finished = [Readiness.ENRICHED, Readiness.NO_MATCH, Readiness.ENRICHMENT_FAILED]
        transition_pool(conn, settings.pool, finished, Readiness.READY)

    store = build_store(settings)
    request = HandoffRequest(
        settings.pool, settings.environment, datetime.now(UTC), settings.bundle_retention_days, ACTOR
    )
    bundle = hand_off(conn, store, request)

    expires_in = settings.signed_url_seconds
    local_path = store.local_path(bundle.data_key)
    summary.bundle = BundleSummary(
        id=bundle.bundle_id,
        path=str(local_path.parent) if local_path else bundle.data_key,
        url=download_url(settings, store, bundle.data_key, expires_in),
        manifest_url=download_url(settings, store, bundle.manifest_key, expires_in),
        records=bundle.record_count,
    )
    with transaction(conn, role="sxe_worker"):
        summary.readiness = readiness_counts(conn, settings.pool)
    log(
        logging.INFO,
        Event.BUNDLE_WRITTEN,
        "bundle written",
        stage="handoff",
        bundle_id=bundle.bundle_id,
        count=bundle.record_count,
    )
