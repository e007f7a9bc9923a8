-- The handoff's outside edge: API consumers and their keys, the per-consumer pull
-- queue, idempotency records of mutating API calls, a suppression list for contact
-- points, bundle membership for revocation, and one view that shapes card rows.

-- An API consumer. Only the SHA-256 of its key is stored; the key is shown once.
-- The token bucket columns rate-limit its calls, refilled by elapsed time.
CREATE TABLE ops.api_consumers (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name             text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    key_sha256       text NOT NULL UNIQUE CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
    pools            text[] NOT NULL CHECK (cardinality(pools) > 0),
    -- The contact fields of a lead card this consumer may receive; others are emptied.
    contact_fields   text[] NOT NULL DEFAULT '{}' CHECK (contact_fields <@ ARRAY['emails', 'phones']),
    schema_version   text NOT NULL CHECK (schema_version IN ('lead-card.v1', 'lead-card.v2')),
    rate_capacity    double precision NOT NULL CHECK (rate_capacity >= 1),
    rate_per_second  double precision NOT NULL CHECK (rate_per_second > 0),
    tokens           double precision NOT NULL,
    refilled_at      timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz
);

-- One message per handed-off card and subscribed consumer. `visible_at` is when the
-- message may be delivered next: a pull moves it to the end of the lease, so an
-- unacknowledged message comes back once the lease has passed.
CREATE TABLE ops.handoff_messages (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    consumer_id  uuid NOT NULL REFERENCES ops.api_consumers (id),
    card_id      uuid NOT NULL,
    pool         text NOT NULL,
    bundle_id    uuid NOT NULL,
    enqueued_at  timestamptz NOT NULL DEFAULT now(),
    visible_at   timestamptz NOT NULL DEFAULT now(),
    deliveries   integer NOT NULL DEFAULT 0 CHECK (deliveries >= 0),
    acked_at     timestamptz,
    UNIQUE (consumer_id, bundle_id, card_id)
);
CREATE INDEX handoff_messages_pending ON ops.handoff_messages (consumer_id, visible_at, enqueued_at, id)
    WHERE acked_at IS NULL;

-- Responses of mutating API calls, keyed by the caller's Idempotency-Key. A `started`
-- row whose lock has passed belongs to a call that died, and a retry may take it over.
CREATE TABLE ops.api_idempotency (
    consumer_id     uuid NOT NULL REFERENCES ops.api_consumers (id),
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_sha256  text NOT NULL CHECK (request_sha256 ~ '^[0-9a-f]{64}$'),
    state           text NOT NULL CHECK (state IN ('started', 'completed')),
    status_code     integer,
    response_body   jsonb,
    locked_until    timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    PRIMARY KEY (consumer_id, key)
);

-- Contact points that must not be contacted, by the same SHA-256 as
-- contact.contact_points.value_sha256, so an entry outlives the erased value.
CREATE TABLE contact.suppressions (
    kind           text NOT NULL CHECK (kind IN ('email', 'phone')),
    value_sha256   text NOT NULL CHECK (value_sha256 ~ '^[0-9a-f]{64}$'),
    reason         text NOT NULL,
    suppressed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, value_sha256)
);

ALTER TABLE ops.bundles
    ADD COLUMN filters jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN contact_fields text[] NOT NULL DEFAULT ARRAY['emails', 'phones'],
    ADD COLUMN store text NOT NULL DEFAULT 'local' CHECK (store IN ('local', 's3')),
    ADD COLUMN revoked_at timestamptz,
    ADD COLUMN revoked_reason text;

-- Which cards each bundle holds, so erasing a person can revoke the bundles with them.
CREATE TABLE ops.bundle_cards (
    bundle_id  uuid NOT NULL REFERENCES ops.bundles (id),
    card_id    uuid NOT NULL,
    PRIMARY KEY (bundle_id, card_id)
);
CREATE INDEX bundle_cards_card ON ops.bundle_cards (card_id);

-- Keyset order of the pull API.
CREATE INDEX lead_cards_pool_updated ON execution.lead_cards (pool, updated_at, id);

-- Every column a lead-card record needs, one row per card. It lives in the contact
-- schema because it shows Tier 2 contact points, read when the view is read, so an erasure or suppression made since is honoured.
-- security_invoker makes the reader's own grants apply to the tables underneath.
CREATE VIEW contact.handoff_cards WITH (security_invoker = true) AS
SELECT card.id AS card_id,
       card.pool,
       card.readiness,
       card.readiness_reason,
       card.ruleset_version,
       card.updated_at,
       (SELECT jsonb_agg(jsonb_build_object(
                   'platform', profile.platform,
                   'platform_user_id', profile.platform_user_id,
                   'handle', profile.handle,
                   'profile_url', profile.profile_url,
                   'display_name', profile.display_name,
                   'followers', profile.followers,
                   'following', profile.following,
                   'posts', profile.posts,
                   'verified', profile.verified,
                   'quality_flags', to_jsonb(profile.quality_flags),
                   'website_domain', profile.website_domain,
                   'language', profile.language,
                   'source_format', profile.source_format,
                   'source_file', profile.source_file,
                   'collected_at', profile.collected_at)
               ORDER BY profile.followers DESC NULLS LAST, profile.id)
          FROM execution.card_profiles AS link
          JOIN social.profiles AS profile ON profile.id = link.profile_id
         WHERE link.card_id = card.id) AS profiles,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'kind', label.kind, 'value', label.value, 'score', label.score,
                   'rule_id', label.rule_id, 'ruleset_version', label.ruleset_version,
                   'evidence', label.evidence)
               ORDER BY label.kind, label.value), '[]'::jsonb)
          FROM execution.card_labels AS label
         WHERE label.card_id = card.id) AS labels,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'kind', point.kind, 'value', point.value, 'status', point.status,
                   'line_type', point.line_type, 'dnc_status', point.dnc_status,
                   'scrubbed_at', point.scrubbed_at, 'source', point.source, 'simulated', point.simulated,
                   'suppressed', suppression.reason IS NOT NULL)
               ORDER BY point.kind, point.id), '[]'::jsonb)
          FROM contact.contact_points AS point
          LEFT JOIN contact.suppressions AS suppression
                 ON suppression.kind = point.kind AND suppression.value_sha256 = point.value_sha256
         WHERE point.contact_id = card.contact_id) AS contact_points,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'provider', decision.provider, 'decision', decision.decision,
                   'adapter_version', coalesce(nullif(split_part(decision.fingerprint, ':', 2), ''), 'none'),
                   'reason', decision.reason, 'simulated', decision.simulated, 'at', decision.decided_at)
               ORDER BY decision.id), '[]'::jsonb)
          FROM ops.enrichment_decisions AS decision
         WHERE decision.card_id = card.id) AS decisions
  FROM execution.lead_cards AS card;

-- api: authenticate consumers, spend their rate tokens, run their queue and
-- idempotency records, read bundle rows. Card contents come through sxe_worker,
-- because they include Tier 2 contact points.
GRANT SELECT ON ops.api_consumers TO sxe_api;
GRANT UPDATE (tokens, refilled_at) ON ops.api_consumers TO sxe_api;
GRANT SELECT, UPDATE ON ops.handoff_messages TO sxe_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.api_idempotency TO sxe_api;

-- worker: create consumers, enqueue messages when it hands cards off, record bundle
-- membership, read and revoke bundles, read the card view and the suppression list.
GRANT SELECT, INSERT, UPDATE ON ops.api_consumers TO sxe_worker;
GRANT SELECT, INSERT ON ops.handoff_messages, ops.bundle_cards TO sxe_worker;
GRANT SELECT ON ops.api_idempotency TO sxe_worker;
GRANT SELECT, INSERT, UPDATE ON contact.suppressions TO sxe_worker;
GRANT SELECT ON contact.handoff_cards TO sxe_worker;
