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
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from sxe import audit
from sxe.cards import (
    Readiness,
    build_person_cards,
    count_carded_elsewhere,
    create_pool_recorded,
    pool_names,
    readiness_counts,
    transition_pool,
)
from sxe.compliance.suppression import IngestScreen, suppression_key
from sxe.config import Settings
from sxe.db import connect, database_url, transaction
from sxe.db.migrate import migrate
from sxe.errors import UsageError
from sxe.handoff.export import HandoffMismatch, HandoffRequest, hand_off
from sxe.handoff.records import RecordFormat
from sxe.handoff.storage import build_store, download_url, signing_secret  # noqa: F401 - signing_secret is re-exported
from sxe.ingest.compressed import content_suffix
from sxe.ingest.formats import get_format
from sxe.ingest.parallel import Source, ingest_files
from sxe.ingest.reader import CSV_SUFFIXES, JSONL_SUFFIXES
from sxe.ingest.store import FileResult, QuarantinedRecord
from sxe.intelligence import load_default_ruleset
from sxe.intelligence.store import tag_pending_cards
from sxe.intelligence.tribes import refresh_tribes
from sxe.logs import Event, log
from sxe.models import Platform
from sxe.orchestrator import runner
from sxe.orchestrator.deadline import Deadline
from sxe.orchestrator.providers import Providers, open_providers
from sxe.orchestrator.sweep import SweepResult
from sxe.orchestrator.worker import WorkResult

HANDOFF_ATTEMPTS = 3
ACTOR = "sxe_worker:cli"
# The suffixes of the files taken from a folder: every suffix the reader has a layout for.
INPUT_SUFFIXES = frozenset({".json", *JSONL_SUFFIXES, *CSV_SUFFIXES})


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
    # The audience pool of the run, whether the run created it, and the pools other than it.
    pool: str = ""
    pool_created: bool = False
    other_pools: list[str] = field(default_factory=list)
    # Files in the input folders whose suffix the reader has no layout for.
    skipped_files: list[str] = field(default_factory=list)
    profiles: int = 0
    new_profiles: int = 0
    new_lead_cards: int = 0
    # Profiles ingested for the pool that sit on a card of another pool, so the pool never cards them.
    carded_in_other_pool: int = 0
    merged_cards: int = 0
    split_cards: int = 0
    tagged: int = 0
    readiness: dict[str, int] = field(default_factory=dict)
    sweep: SweepResult = field(default_factory=SweepResult)
    work: WorkResult = field(default_factory=WorkResult)
    simulated_provider: bool = True
    bundle: BundleSummary | None = None
    # Requests the simulator served and failures it injected; empty with a real provider.
    simulator: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def quarantined(self) -> list[tuple[str, QuarantinedRecord]]:
        return [(result.file, record) for result in self.files for record in result.quarantined]

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "pool": self.pool,
            "pool_created": self.pool_created,
            "other_pools": self.other_pools,
            "ingested": sum(result.accepted for result in self.files),
            "duplicates": sum(result.duplicates for result in self.files),
            "suppressed": sum(result.suppressed for result in self.files),
            "quarantined": sum(result.quarantined_total for result in self.files),
            "quarantine": [
                {"file": file, "location": record.location, "kind": record.kind, "reason": record.reason}
                for file, record in self.quarantined
            ],
            "files": [{"file": r.file, "format": r.format, "records": r.records} for r in self.files],
            # Faults that stopped reading a file, such as a damaged gzip stream: not records.
            "file_errors": [asdict(error) for result in self.files for error in result.file_errors],
            "skipped_files": self.skipped_files,
            "profiles": self.profiles,
            "new_profiles": self.new_profiles,
            "lead_cards": sum(self.readiness.values()),
            "new_lead_cards": self.new_lead_cards,
            "carded_in_other_pool": self.carded_in_other_pool,
            # Cards retired because their person joined another card, and kept cards that
            # gave some profiles to another person's card, in this run's identity resolution.
            "merged_cards": self.merged_cards,
            "split_cards": self.split_cards,
            "tagged": self.tagged,
            "readiness": self.readiness,
            "enrichment_enqueued": self.sweep.enqueued,
            "enrichment_skipped": dict(self.sweep.skipped),
            "lookups": self.work.lookups,
            # Cards that received contact data in this run: bought now, or remembered
            # from an earlier lookup of the same person.
            "enriched": self.work.matched + self.sweep.skipped.get("cooldown_matched", 0),
            "credits_spent": self.work.credits_spent,
            # Lookup jobs that used up their attempts or failed for good in this run.
            "dead_jobs": self.work.outcomes.get("dead", 0),
            "simulated_provider": self.simulated_provider,
            "simulator": self.simulator,
            "bundle": None if self.bundle is None else asdict(self.bundle),
        }


def collect_inputs(paths: Sequence[Path]) -> list[Path]:
    """Expand folders into their input files, as `find_inputs` does, and return the files to read."""
    files, _ = find_inputs(paths)
    return files


def find_inputs(paths: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """Return the files to read and the folder files skipped for their suffix; raise UsageError for a missing path.

    A folder gives its files, at any depth and sorted, whose suffix is in INPUT_SUFFIXES,
    also before a `.gz` suffix. A file named directly is read whatever its suffix.
    """
    files: list[Path] = []
    skipped: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file())
            inputs = [p for p in found if content_suffix(p.name) in INPUT_SUFFIXES]
            if not inputs:
                raise UsageError(
                    f"folder {path} contains no {', '.join(sorted(INPUT_SUFFIXES))} files, gzipped or not; "
                    "pass files or another folder"
                )
            files.extend(inputs)
            skipped.extend(p for p in found if content_suffix(p.name) not in INPUT_SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"input {path} does not exist; pass an existing file or folder")
    return files, skipped


def run(
    paths: Sequence[Path],
    settings: Settings,
    *,
    format_name: str | None = None,
    column_map: dict[str, str] | None = None,
    platform: Platform | None = None,
) -> RunSummary:
    """Run the whole pipeline over `paths`; raise UsageError before any work when an argument is unusable.

    `column_map` and `platform` apply to CSV files, as in `ingest_file`.
    """
    files, skipped = find_inputs(paths)
    if format_name is not None:
        get_format(format_name)

    summary = RunSummary(run_id=str(uuid.uuid4()), skipped_files=[str(path) for path in skipped])
    with connect(database_url(settings), autocommit=True) as conn, ExitStack() as stack:
        migrate(conn)
        skipped_note = f", {len(skipped)} skipped for their suffix" if skipped else ""
        log(logging.INFO, Event.RUN_STARTED, f"run started over {len(files)} files{skipped_note}", stage="run")
        ingest_stage(
            conn,
            files,
            format_name,
            summary,
            pool=settings.pool,
            screen=IngestScreen(lambda: suppression_key(settings)),
            jobs=settings.ingest_jobs,
            column_map=column_map,
            platform=platform,
        )
        card_stage(conn, settings, summary)
        providers = stack.enter_context(provider_adapters(settings, summary))
        enrich_stage(conn, settings, providers, summary)
        handoff_stage(conn, settings, summary)
        log(logging.INFO, Event.RUN_FINISHED, "run finished", stage="run")
    return summary


def ingest_stage(
    conn: psycopg.Connection[Any],
    files: list[Path],
    format_name: str | None,
    summary: RunSummary,
    *,
    pool: str,
    screen: IngestScreen | None = None,
    jobs: int = 1,
    column_map: dict[str, str] | None = None,
    platform: Platform | None = None,
) -> None:
    """Ingest and normalize each file in turn for the audience pool `pool`, adding its counts to `summary`.

    `screen` checks records against the suppression list; None keys it from the environment.
    `jobs` processes share the per-record work, and the results do not depend on it.
    `column_map` and `platform` apply to CSV files.
    """
    run_id = uuid.UUID(summary.run_id)
    touched: set[uuid.UUID] = set()
    results = ingest_files(
        conn,
        files,
        run_id=run_id,
        jobs=jobs,
        format_name=format_name,
        column_map=column_map,
        platform=platform,
        screen=screen,
        source=Source(pool=pool),
    )
    for result in results:
        path = Path(result.file)
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
    """Resolve people into one card each, tag the cards that need it and regroup the pool into tribes.

    `summary` also gets the count of the pool's profiles that other pools carded first.

    A pool that does not exist yet is created with the default intent policy, and
    `summary` records that, so the summary can show a mistyped pool name.
    """
    ruleset = load_default_ruleset()
    with transaction(conn, role="sxe_worker"):
        summary.pool = settings.pool
        detail = {"run_id": summary.run_id, "intent": "default"}
        summary.pool_created = create_pool_recorded(conn, settings.pool, actor=ACTOR, detail=detail)
        summary.other_pools = [name for name in pool_names(conn) if name != settings.pool]
        built = build_person_cards(conn, settings.pool)
        summary.carded_in_other_pool = count_carded_elsewhere(conn, settings.pool)
    summary.new_lead_cards = built.created
    summary.merged_cards = built.merged
    summary.split_cards = built.split
    with transaction(conn, role="sxe_worker"):
        summary.tagged = tag_pending_cards(conn, settings.pool, ruleset)
        refresh_tribes(conn, settings.pool)
    log(
        logging.INFO,
        Event.CARDS_TAGGED,
        "lead cards built and tagged",
        stage="cards",
        count=summary.tagged,
        pool=settings.pool,
    )


@contextmanager
def provider_adapters(settings: Settings, summary: RunSummary) -> Iterator[Providers]:
    """Yield the run's providers (see `sxe.orchestrator.providers`) and record in `summary` whether they are simulated.

    A simulated run also records the requests the simulator served and the faults it injected.
    """
    with open_providers(settings) as providers:
        summary.simulated_provider = providers.simulated
        try:
            yield providers
        finally:
            if providers.simulator is not None:
                simulator = providers.simulator
                summary.simulator = {"served": dict(simulator.served), "faults": dict(simulator.faults)}


def enrich_stage(conn: psycopg.Connection[Any], settings: Settings, providers: Providers, summary: RunSummary) -> None:
    """Sweep the pool's tagged cards and work the lookups they allow, riding out retries for a short while."""
    enrichment = prepare_enrichment(conn, settings, providers)
    swept, worked = runner.drain(conn, enrichment, deadline=Deadline.after(settings.enrich_drain_seconds))
    summary.sweep.enqueued += swept.enqueued
    summary.sweep.skipped.update(swept.skipped)
    _add_work(summary.work, worked)


def prepare_enrichment(conn: psycopg.Connection[Any], settings: Settings, providers: Providers) -> runner.Enrichment:
    """Set up the controls of every provider of the run and return the sweep and worker contexts."""
    return runner.prepare(
        conn,
        settings,
        providers.primary,
        actor=ACTOR,
        simulated=providers.simulated,
        fallbacks=providers.fallbacks,
        bulk=providers.bulk,
    )


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
        settings.pool,
        settings.environment,
        datetime.now(UTC),
        settings.bundle_retention_days,
        ACTOR,
        record_format=RecordFormat("lead-card.v1", phone_scrub_max_days=settings.dnc_scrub_max_days),
    )
    bundle = _hand_off_retrying(conn, store, request)

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
        audit_url_issued(conn, ACTOR, bundle.bundle_id, [bundle.data_key, bundle.manifest_key], expires_in)
        summary.readiness = readiness_counts(conn, settings.pool)
    log(
        logging.INFO,
        Event.BUNDLE_WRITTEN,
        "bundle written",
        stage="handoff",
        bundle_id=bundle.bundle_id,
        count=bundle.record_count,
    )


def _hand_off_retrying(conn: psycopg.Connection[Any], store: Any, request: HandoffRequest) -> Any:
    """Run the handoff, again when a concurrent card update broke its snapshot.

    The handoff reads and marks its cards in one REPEATABLE READ snapshot, so a worker
    changing one of them meanwhile fails it with a serialization error. Nothing was
    recorded then, and the next attempt takes a fresh snapshot.
    NOTE: the objects of the failed attempt stay in the store unrecorded; retention does
    not see them because they have no ops.bundles row.
    """
    for attempt in range(1, HANDOFF_ATTEMPTS):
        try:
            return hand_off(conn, store, request)
        except (psycopg.errors.SerializationFailure, HandoffMismatch) as exc:
            message = f"handoff retried after {type(exc).__name__}"
            log(logging.WARNING, Event.BUNDLE_WRITTEN, message, stage="handoff", attempt=attempt)
    return hand_off(conn, store, request)


def audit_url_issued(
    conn: psycopg.Connection[Any], actor: str, bundle_id: str, object_keys: list[str], expires_in: int
) -> None:
    """Record that signed download URLs were issued for `object_keys`; the URLs and signatures are never stored."""
    audit.append(
        conn,
        actor=actor,
        action="handoff.url_issued",
        subject=f"bundle:{bundle_id}",
        detail={"object_keys": object_keys, "expires_in_seconds": expires_in},
    )
    log(logging.INFO, Event.DOWNLOAD_URL_ISSUED, "signed download URLs issued", stage="handoff", bundle_id=bundle_id)
