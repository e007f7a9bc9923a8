-- Identity links that touch the card's profiles, in any state, with both accounts named.
SELECT link.signal, link.confidence, link.evidence, link.state, link.reason, link.updated_at,
       one.platform || ':' || coalesce(one.handle, one.identity_key) AS profile,
       other.platform || ':' || coalesce(other.handle, other.identity_key) AS other_profile
  FROM execution.identity_links AS link
  JOIN social.profiles AS one ON one.id = link.profile_id
  JOIN social.profiles AS other ON other.id = link.other_profile_id
 WHERE link.profile_id = ANY(%(profile_ids)s) OR link.other_profile_id = ANY(%(profile_ids)s)
 ORDER BY link.state, link.confidence DESC, link.signal, profile, other_profile;
