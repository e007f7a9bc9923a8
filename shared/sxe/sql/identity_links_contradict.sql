-- Links that this resolution did not find again: the latest profile data no longer
-- shows their evidence. They stay, marked, so the split can be explained.
UPDATE execution.identity_links AS link
   SET state = 'contradicted',
       reason = %(reason)s,
       updated_at = clock_timestamp()
 WHERE link.state <> 'contradicted'
   AND NOT EXISTS (
        SELECT 1
          FROM unnest(%(profile_ids)s::uuid[], %(other_profile_ids)s::uuid[], %(signals)s::text[])
               AS kept (profile_id, other_profile_id, signal)
         WHERE kept.profile_id = link.profile_id
           AND kept.other_profile_id = link.other_profile_id
           AND kept.signal = link.signal
   )
RETURNING link.profile_id, link.other_profile_id;
