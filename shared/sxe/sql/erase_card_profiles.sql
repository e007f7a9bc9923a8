SELECT profile.id, profile.platform, profile.handle, profile.platform_user_id
  FROM execution.card_profiles AS link
  JOIN social.profiles AS profile ON profile.id = link.profile_id
 WHERE link.card_id = ANY(%(card_ids)s);
