-- The four tiers. Everything here runs as sxe_migrator, which owns every object.

CREATE SCHEMA social;     -- Tier 1: public profile data, never an email or phone number
CREATE SCHEMA contact;    -- Tier 2: contact points, minimized
CREATE SCHEMA execution;  -- Tier 3: people, lead cards, labels; references Tier 2 by id only
CREATE SCHEMA ops;        -- jobs, budgets, breakers, quarantine, audit, bundles; no PII

-- Tier 1 -------------------------------------------------------------------

CREATE TABLE social.ingest_batches (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    run_id          uuid NOT NULL,
    source_name     text NOT NULL,
    source_file     text NOT NULL,
    format          text NOT NULL,
    collected_at    timestamptz NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    records         integer NOT NULL DEFAULT 0,
    accepted        integer NOT NULL DEFAULT 0,
    duplicates      integer NOT NULL DEFAULT 0,
    quarantined     integer NOT NULL DEFAULT 0
);

-- Raw records are stored with their contact points already redacted. The content
-- hash is taken over the record as received, so a redelivery is recognised.
CREATE TABLE social.raw_records (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    content_hash    text NOT NULL UNIQUE CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    batch_id        uuid NOT NULL REFERENCES social.ingest_batches (id),
    format          text NOT NULL,
    platform        text NOT NULL,
    location        text NOT NULL,
    payload         jsonb NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE social.profiles (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    platform          text NOT NULL CHECK (platform IN ('x', 'threads', 'tiktok')),
    identity_key      text NOT NULL,
    platform_user_id  text,
    handle            text,
    display_name      text,
    bio               text,
    profile_url       text,
    followers         bigint CHECK (followers >= 0),
    following         bigint CHECK (following >= 0),
    posts             bigint CHECK (posts >= 0),
    likes             bigint CHECK (likes >= 0),
    verified          boolean NOT NULL DEFAULT false,
    website_domain    text,
    language          text,
    bio_has_email     boolean NOT NULL DEFAULT false,
    bio_has_phone     boolean NOT NULL DEFAULT false,
    quality_flags     text[] NOT NULL DEFAULT '{}',
    source_format     text NOT NULL,
    source_file       text NOT NULL,
    collected_at      timestamptz NOT NULL,
    first_seen_at     timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, identity_key),
    -- A last guard behind the redaction step: Tier 1 text never holds an email address.
    CONSTRAINT profiles_no_email CHECK (
        coalesce(bio, '') || ' ' || coalesce(display_name, '') !~* '[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}'
    )
);

CREATE TABLE social.profile_observations (
    profile_id     uuid NOT NULL REFERENCES social.profiles (id) ON DELETE CASCADE,
    raw_record_id  bigint NOT NULL REFERENCES social.raw_records (id) ON DELETE CASCADE,
    observed_at    timestamptz NOT NULL,
    followers      bigint,
    following      bigint,
    posts          bigint,
    PRIMARY KEY (profile_id, raw_record_id)
);

-- Tier 2 -------------------------------------------------------------------

CREATE TABLE contact.contacts (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contact.contact_points (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id       uuid NOT NULL REFERENCES contact.contacts (id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('email', 'phone')),
    value            text NOT NULL,
    value_sha256     text NOT NULL,
    status           text,
    line_type        text,
    dnc_status       text,
    scrubbed_at      timestamptz,
    source           text NOT NULL,
    adapter_version  text NOT NULL,
    simulated        boolean NOT NULL,
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (contact_id, kind, value_sha256)
);

-- Tier 3 -------------------------------------------------------------------

-- An audience pool and its intent policy: which cards may be enriched, by whom, at what cost.
CREATE TABLE execution.pools (
    name        text PRIMARY KEY,
    intent      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE execution.lead_cards (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    pool               text NOT NULL REFERENCES execution.pools (name),
    readiness          text NOT NULL DEFAULT 'new'
                       CHECK (readiness IN ('new', 'tagged', 'enriched', 'ready', 'held')),
    readiness_reason   text,
    contact_id         uuid,
    ruleset_version    text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- One profile belongs to at most one card; a card may gather several profiles.
CREATE TABLE execution.card_profiles (
    card_id     uuid NOT NULL REFERENCES execution.lead_cards (id) ON DELETE CASCADE,
    profile_id  uuid NOT NULL UNIQUE,
    PRIMARY KEY (card_id, profile_id)
);

CREATE TABLE execution.card_labels (
    card_id          uuid NOT NULL REFERENCES execution.lead_cards (id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('persona', 'tribe', 'tier')),
    value            text NOT NULL,
    score            real NOT NULL CHECK (score BETWEEN 0 AND 1),
    rule_id          text NOT NULL,
    ruleset_version  text NOT NULL,
    evidence         jsonb NOT NULL,
    tagged_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (card_id, kind, value)
);

-- ops ----------------------------------------------------------------------

CREATE TABLE ops.quarantine (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id      uuid REFERENCES social.ingest_batches (id),
    source_file   text NOT NULL,
    location      text NOT NULL,
    format        text,
    kind          text NOT NULL,
    reason        text NOT NULL,
    content_hash  text NOT NULL,
    payload       jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (content_hash, kind)
);

CREATE TABLE ops.jobs (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue             text NOT NULL,
    payload           jsonb NOT NULL,
    dedupe_key        text,
    state             text NOT NULL DEFAULT 'queued'
                      CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled')),
    priority          integer NOT NULL DEFAULT 0,
    run_after         timestamptz NOT NULL DEFAULT now(),
    attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts      integer NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
    lease_token       uuid,
    lease_expires_at  timestamptz,
    last_error        jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (attempts <= max_attempts)
);

-- A second enqueue with the same dedupe key while one is queued or running is a no-op.
CREATE UNIQUE INDEX jobs_live_dedupe_key ON ops.jobs (dedupe_key)
    WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running');
CREATE INDEX jobs_claimable ON ops.jobs (queue, priority DESC, run_after, id) WHERE state = 'queued';

CREATE TABLE ops.provider_buckets (
    provider            text PRIMARY KEY,
    capacity            double precision NOT NULL CHECK (capacity > 0),
    refill_per_second   double precision NOT NULL CHECK (refill_per_second > 0),
    tokens              double precision NOT NULL,
    refilled_at         timestamptz NOT NULL DEFAULT now(),
    blocked_until       timestamptz
);

CREATE TABLE ops.circuit_breakers (
    provider              text PRIMARY KEY,
    state                 text NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'half_open')),
    consecutive_failures  integer NOT NULL DEFAULT 0,
    failure_threshold     integer NOT NULL DEFAULT 5,
    open_seconds          integer NOT NULL DEFAULT 60,
    opened_at             timestamptz,
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- Budgets in provider credits per scope ("provider:apollo", "pool:default") and period ("2026-12").
CREATE TABLE ops.budgets (
    scope             text NOT NULL,
    period            text NOT NULL,
    limit_credits     integer NOT NULL CHECK (limit_credits >= 0),
    reserved_credits  integer NOT NULL DEFAULT 0 CHECK (reserved_credits >= 0),
    spent_credits     integer NOT NULL DEFAULT 0 CHECK (spent_credits >= 0),
    PRIMARY KEY (scope, period),
    CHECK (reserved_credits + spent_credits <= limit_credits)
);

-- Cooldown and miss memory: one row per normalized request fingerprint.
CREATE TABLE ops.lookup_memory (
    fingerprint       text PRIMARY KEY,
    provider          text NOT NULL,
    outcome           text NOT NULL CHECK (outcome IN ('matched', 'no_match')),
    contact_id        uuid,
    remembered_until  timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- Recorded before a paid call, so a retried job never pays twice for one request.
CREATE TABLE ops.idempotency_keys (
    key           text PRIMARY KEY,
    provider      text NOT NULL,
    state         text NOT NULL CHECK (state IN ('started', 'completed', 'failed')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz
);

CREATE TABLE ops.enrichment_decisions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    card_id      uuid NOT NULL,
    provider     text NOT NULL,
    decision     text NOT NULL CHECK (decision IN ('enqueue', 'skip')),
    reason       text NOT NULL,
    fingerprint  text,
    job_id       bigint,
    decided_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ops.events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type        text NOT NULL,
    subject_id  text,
    data        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ops.bundles (
    id               uuid PRIMARY KEY,
    pool             text NOT NULL,
    schema_version   text NOT NULL,
    manifest_key     text NOT NULL,
    data_key         text NOT NULL,
    record_count     integer NOT NULL,
    sha256           text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz
);
