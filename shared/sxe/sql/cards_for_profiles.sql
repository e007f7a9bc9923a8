SELECT DISTINCT link.card_id
  FROM execution.card_profiles AS link
 WHERE link.profile_id = ANY(%(profile_ids)s);
