-- The card that holds a profile, given its platform and handle.
SELECT link.card_id
  FROM social.profiles AS profile
  JOIN execution.card_profiles AS link ON link.profile_id = profile.id
 WHERE profile.platform = %(platform)s AND profile.handle = %(handle)s
 ORDER BY profile.updated_at DESC
 LIMIT 1;
