-- Compliance: the analyst's grants, the suppression list, bundle revocation, and the
-- DELETE grants that erasure and retention need. Runs as sxe_migrator, which owns everything.

-- analyst ------------------------------------------------------------------

-- Reads Tier 1 profiles and Tier 3 cards, and ops tables that hold only ids, counts and hashes.
-- Never contact, never a raw or quarantined payload, never a job payload.
GRANT USAGE ON SCHEMA social, execution, ops TO sxe_analyst;
GRANT SELECT ON social.ingest_batches, social.profiles, social.profile_observations TO sxe_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA execution TO sxe_analyst;
GRANT SELECT ON ops.bundles, ops.budgets, ops.circuit_breakers, ops.enrichment_decisions, ops.events, ops.audit_log
    TO sxe_analyst;
-- Tier 3 tables added later are readable by the analyst too; no other schema gets a default.
ALTER DEFAULT PRIVILEGES IN SCHEMA execution GRANT SELECT ON TABLES TO sxe_analyst;

-- Aggregates over tables whose rows the analyst may not read. A view runs with its
-- owner's privileges, so the analyst sees the counts and nothing else.
CREATE VIEW ops.job_counts AS
SELECT queue, state, count(*) AS jobs, min(created_at) AS oldest, max(updated_at) AS latest
  FROM ops.jobs
 GROUP BY queue, state;

CREATE VIEW ops.quarantine_counts AS
SELECT kind, format, count(*) AS records, max(created_at) AS latest
  FROM ops.quarantine
 GROUP BY kind, format;

GRANT SELECT ON ops.job_counts, ops.quarantine_counts TO sxe_analyst;

-- suppression --------------------------------------------------------------

-- HMAC-SHA256 (key SXE_SUPPRESSION_KEY) of each erased identifier: a handle, a platform
-- user id, an email address or a phone number, normalized first. The key stays outside
-- the database, so the list cannot be reversed by hashing guesses inside it.
CREATE TABLE ops.suppressions (
    identifier_hmac  text PRIMARY KEY CHECK (identifier_hmac ~ '^[0-9a-f]{64}$'),
    kind             text NOT NULL CHECK (kind IN ('handle', 'platform_user_id', 'email', 'phone')),
    request_id       uuid NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON ops.suppressions TO sxe_worker;
GRANT SELECT ON ops.suppressions TO sxe_api;

-- bundle revocation --------------------------------------------------------

-- ops.bundles.revoked_at and ops.bundle_cards, the index of which cards each bundle
-- holds, come with the handoff API migration; erasure reads them to revoke bundles.
GRANT SELECT ON ops.bundle_cards TO sxe_api, sxe_analyst;

-- erasure and retention ----------------------------------------------------

-- Both run as sxe_worker. The audit log stays out of reach: it takes INSERT only.
GRANT DELETE ON social.ingest_batches, social.raw_records, social.profiles, social.profile_observations TO sxe_worker;
GRANT DELETE ON execution.lead_cards, execution.card_profiles TO sxe_worker;
GRANT DELETE ON ops.jobs, ops.events, ops.quarantine, ops.lookup_memory, ops.idempotency_keys,
    ops.enrichment_decisions TO sxe_worker;

-- Retention scans these by age.
CREATE INDEX profiles_updated_at ON social.profiles (updated_at);
CREATE INDEX raw_records_received_at ON social.raw_records (received_at);
CREATE INDEX contact_points_last_seen_at ON contact.contact_points (last_seen_at);
CREATE INDEX lead_cards_updated_at ON execution.lead_cards (updated_at);
CREATE INDEX events_created_at ON ops.events (created_at);
CREATE INDEX jobs_finished_updated_at ON ops.jobs (updated_at) WHERE state IN ('succeeded', 'failed', 'dead', 'cancelled');
CREATE INDEX quarantine_created_at ON ops.quarantine (created_at);
CREATE INDEX enrichment_decisions_card ON ops.enrichment_decisions (card_id);
CREATE INDEX profile_observations_raw ON social.profile_observations (raw_record_id);
CREATE INDEX lead_cards_contact ON execution.lead_cards (contact_id) WHERE contact_id IS NOT NULL;

-- The audit export reads a period by time.
CREATE INDEX audit_log_at ON ops.audit_log (at);
