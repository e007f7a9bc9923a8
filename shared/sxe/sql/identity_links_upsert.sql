-- Record decided links; a link seen again gets its latest evidence, confidence and state.
INSERT INTO execution.identity_links (profile_id, other_profile_id, signal, confidence, evidence, state, reason)
SELECT * FROM unnest(
    %(profile_ids)s::uuid[], %(other_profile_ids)s::uuid[], %(signals)s::text[], %(confidences)s::real[],
    %(evidence)s::jsonb[], %(states)s::text[], %(reasons)s::text[]
)
ON CONFLICT (profile_id, other_profile_id, signal) DO UPDATE
   SET confidence = EXCLUDED.confidence,
       evidence = EXCLUDED.evidence,
       state = EXCLUDED.state,
       reason = EXCLUDED.reason,
       updated_at = clock_timestamp()
 WHERE (identity_links.confidence, identity_links.evidence, identity_links.state, identity_links.reason)
       IS DISTINCT FROM (EXCLUDED.confidence, EXCLUDED.evidence, EXCLUDED.state, EXCLUDED.reason);
