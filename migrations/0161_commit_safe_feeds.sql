-- The pull feeds page by the id of the transaction that last wrote each item (xid8)
-- instead of its time stamp. A stamp is taken before its transaction commits, so a
-- reader holding a later stamp passed over a transaction that committed late. A page
-- reads only items whose transaction id is below its snapshot's xmin: every such
-- transaction has ended, and every transaction still running or yet to start has an
-- id at or above it, so no item can later appear before a position already read.

ALTER TABLE execution.lead_cards ADD COLUMN updated_xid xid8;
ALTER TABLE ops.events ADD COLUMN created_xid xid8;

-- Existing rows were written before this transaction, so they get positions below its id,
-- in their old feed order: `rank` counts distinct time stamps from 1 to `ranks`. Rows that
-- share a stamp share a position, so they keep their old card_id order. When there are more
-- distinct stamps than ids below this transaction, neighbouring stamps share a position too.
CREATE FUNCTION pg_temp.position_below_this_transaction(rank bigint, ranks bigint) RETURNS xid8
LANGUAGE sql
AS $$
    SELECT (floor((rank - 1) * (pg_current_xact_id()::text::numeric - 1) / ranks) + 1)::text::xid8
$$;

WITH ranked AS (
    SELECT id, dense_rank() OVER (ORDER BY updated_at) AS rank FROM execution.lead_cards
)
UPDATE execution.lead_cards AS card
   SET updated_xid = pg_temp.position_below_this_transaction(ranked.rank, (SELECT max(rank) FROM ranked))
  FROM ranked
 WHERE card.id = ranked.id;

-- Only the events the erasures and merges feeds read get a position. Other events keep
-- NULL, which no feed reads.
WITH ranked AS (
    SELECT id, dense_rank() OVER (ORDER BY created_at) AS rank
      FROM ops.events
     WHERE type = 'card.erased'
        OR (type = 'card.readiness_changed' AND data ->> 'readiness' = 'merged')
)
UPDATE ops.events AS event
   SET created_xid = pg_temp.position_below_this_transaction(ranked.rank, (SELECT max(rank) FROM ranked))
  FROM ranked
 WHERE event.id = ranked.id;

DROP FUNCTION pg_temp.position_below_this_transaction(bigint, bigint);

ALTER TABLE execution.lead_cards ALTER COLUMN updated_xid SET NOT NULL;
ALTER TABLE ops.events ALTER COLUMN created_xid SET DEFAULT pg_current_xact_id();

-- A card takes the id of each transaction that changes a column the cards feed shows or
-- joins on. A subtransaction gets its top-level transaction's id, which is the one
-- snapshots list.
CREATE FUNCTION execution.lead_cards_stamp_xid() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;

CREATE TRIGGER lead_cards_stamp_xid_insert BEFORE INSERT ON execution.lead_cards
    FOR EACH ROW EXECUTE FUNCTION execution.lead_cards_stamp_xid();

CREATE TRIGGER lead_cards_stamp_xid_update BEFORE UPDATE ON execution.lead_cards
    FOR EACH ROW
    WHEN ((OLD.pool, OLD.readiness, OLD.readiness_reason, OLD.ruleset_version, OLD.contact_id, OLD.updated_at)
          IS DISTINCT FROM
          (NEW.pool, NEW.readiness, NEW.readiness_reason, NEW.ruleset_version, NEW.contact_id, NEW.updated_at))
    EXECUTE FUNCTION execution.lead_cards_stamp_xid();

-- The pages' keyset order. The time-stamp indexes stay: they find where a cursor issued
-- before this change resumes.
CREATE INDEX lead_cards_pool_updated_xid ON execution.lead_cards (pool, updated_xid, id)
    WHERE readiness IN ('ready', 'handed_off');
CREATE INDEX events_card_erased_xid ON ops.events (created_xid, subject_id) WHERE type = 'card.erased';
CREATE INDEX events_card_merged_xid ON ops.events (created_xid, subject_id)
    WHERE type = 'card.readiness_changed' AND data ->> 'readiness' = 'merged';

-- The view gains the cards' position as its last column, because CREATE OR REPLACE VIEW
-- only appends columns.
CREATE OR REPLACE VIEW contact.handoff_cards WITH (security_invoker = true) AS
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
                   'reason', decision.reason, 'simulated', decision.simulated, 'at', decision.decided_at,
                   'outcome', decision.outcome)
               ORDER BY decision.id), '[]'::jsonb)
          FROM ops.enrichment_decisions AS decision
         WHERE decision.card_id = card.id) AS decisions,
       card.updated_xid
  FROM execution.lead_cards AS card;
