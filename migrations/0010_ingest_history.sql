-- Ingestion history: Instagram profiles, change detection, per-observation source
-- attribution and the hash of a quarantined record's raw bytes.

ALTER TABLE social.profiles DROP CONSTRAINT profiles_platform_check;
ALTER TABLE social.profiles ADD CONSTRAINT profiles_platform_check
    CHECK (platform IN ('x', 'threads', 'tiktok', 'instagram'));

-- SHA-256 of the normalized profile content. A record that normalizes to the same
-- hash changes nothing and stores nothing; NULL on rows written before this column.
ALTER TABLE social.profiles ADD COLUMN content_sha256 text
    CHECK (content_sha256 ~ '^[0-9a-f]{64}$');

-- One observation per change, so growth over time can be computed per profile.
ALTER TABLE social.profile_observations
    ADD COLUMN likes        bigint,
    ADD COLUMN source_name  text,
    ADD COLUMN run_id       uuid,
    ADD COLUMN collected_at timestamptz,
    ADD COLUMN source_url   text;

CREATE INDEX profile_observations_history ON social.profile_observations (profile_id, observed_at);

-- The SHA-256 of the bytes exactly as read (a JSONL line, an array element, a CSV
-- row), so a quarantined record can be matched against the source file later.
ALTER TABLE ops.quarantine ADD COLUMN raw_sha256 text CHECK (raw_sha256 ~ '^[0-9a-f]{64}$');

-- A profile can change back to content it had before, which points its new
-- observation at an already stored raw record, so (profile, raw record) is not a key.
ALTER TABLE social.profile_observations DROP CONSTRAINT profile_observations_pkey;
ALTER TABLE social.profile_observations ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
CREATE INDEX profile_observations_raw_record ON social.profile_observations (raw_record_id);
