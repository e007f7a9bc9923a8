-- Ready cards of a pool with everything a lead-card record needs. Contact points
-- are read from Tier 2 here, at export time, so a later erasure is honoured.
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
                   'scrubbed_at', point.scrubbed_at, 'source', point.source, 'simulated', point.simulated)
               ORDER BY point.kind, point.id), '[]'::jsonb)
          FROM contact.contact_points AS point
         WHERE point.contact_id = card.contact_id
           -- A phone whose DNC/TCPA scrub is missing or too old is withheld until it is scrubbed again.
           AND (point.kind <> 'phone'
                OR point.scrubbed_at >= clock_timestamp() - make_interval(days => %(dnc_scrub_max_days)s))
       ) AS contact_points,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'provider', decision.provider, 'decision', decision.decision,
                   'adapter_version', coalesce(nullif(split_part(decision.fingerprint, ':', 2), ''), 'none'),
                   'reason', decision.reason, 'simulated', decision.simulated, 'at', decision.decided_at)
               ORDER BY decision.id), '[]'::jsonb)
          FROM ops.enrichment_decisions AS decision
         WHERE decision.card_id = card.id) AS decisions
  FROM execution.lead_cards AS card
 WHERE card.pool = %(pool)s AND card.readiness = 'ready'
 ORDER BY card.id;
