-- The identity bridge each enrichment decision used, and the contact points that
-- public bios show. Runs as sxe_migrator, which owns every object.

-- What the provider was asked to match on: "linkedin_url", "name_domain" or "profile".
-- NULL on a skip decided before any match key was derived.
ALTER TABLE ops.enrichment_decisions ADD COLUMN bridge text;

-- Tier 2: emails and phone numbers found in public bios during ingestion, before the
-- bio is redacted for Tier 1. Keyed by the profile's platform identity, not by card,
-- so a sighting outlives card rebuilds and merges. Only the public_bio provider reads
-- it, through the enrichment gate, and only when a pool's intent allows public_bio.
CREATE TABLE contact.bio_sightings (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform      text NOT NULL,
    identity_key  text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('email', 'phone')),
    value         text NOT NULL,
    value_sha256  text NOT NULL CHECK (value_sha256 ~ '^[0-9a-f]{64}$'),
    seen_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, identity_key, kind, value_sha256)
);

REVOKE ALL ON contact.bio_sightings FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON contact.bio_sightings TO sxe_worker;
