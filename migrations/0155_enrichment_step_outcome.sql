-- The outcome of each enqueued lookup, kept on its decision when the lookup finishes:
-- matched, no_match, or why it bought nothing (budget_exhausted, already_paid, an error).
-- The lead-card record reads it there, so a step's outcome stays what it was when the
-- card is handed off again later. Decisions recorded before this column have none, and
-- the record falls back to the card's readiness reason for them.
ALTER TABLE ops.enrichment_decisions ADD COLUMN outcome text;

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
         WHERE decision.card_id = card.id) AS decisions
  FROM execution.lead_cards AS card;
