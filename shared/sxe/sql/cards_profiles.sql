SELECT link.card_id, profile.*
  FROM execution.card_profiles AS link
  JOIN social.profiles AS profile ON profile.id = link.profile_id
 WHERE link.card_id = ANY(%(card_ids)b::uuid[])
 ORDER BY link.card_id, profile.platform, profile.identity_key;
